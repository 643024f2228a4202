"""gankit.tables.read: a mixed-type table in, its column kinds, the column space, and back out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gankit.errors import GankitError
from gankit.tables.read import MISSING, describe, infer_schema, read_frame, to_frame, to_values, write_csv

N = 25  # rows of the small tables: enough for the "nearly all distinct" rules (20 cells)


def write(tmp_path, text: str, name: str = "t.csv", encoding: str = "utf-8") -> str:
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return str(p)


def mixed_csv(tmp_path) -> str:
    """Every kind, adult-style: leading spaces, " ?" for missing."""
    rows = ["id,age,score,rating,smoker,flag,city,when,note,charges"]
    cities = [" Paris", " Berlin", " ?", " Zürich"]
    for i in range(N):
        age = "" if i == 3 else str(20 + 3 * i)
        rows.append(f"{i + 1},{age},{i * 1.25:.2f},{i % 5 + 1},{'yes' if i % 3 else 'no'},{i % 2},"
                    f"{cities[i % 4]},2020-01-{i + 1:02d},note {i} here,{1000 + i * 37.123:.3f}")
    return write(tmp_path, "\n".join(rows) + "\n")


def test_each_kind_is_inferred_from_a_csv(tmp_path):
    frame = read_frame(mixed_csv(tmp_path))
    schema = infer_schema(frame)
    kinds = {c.name: c.kind for c in schema.columns}
    assert kinds == {"id": "ignore", "age": "integer", "score": "continuous", "rating": "categorical",
                     "smoker": "boolean", "flag": "boolean", "city": "categorical", "when": "datetime",
                     "note": "ignore", "charges": "continuous"}
    city, score, rating = schema.column("city"), schema.column("score"), schema.column("rating")
    assert city.categories == [" Berlin", " Paris", " Zürich"]  # as spelled, sorted on the stripped text
    assert city.missing_text == " ?" and city.missing == pytest.approx(6 / N)
    assert score.decimals == 2 and (score.low, score.high) == (0.0, 30.0)
    assert rating.reason == "5 distinct numbers" and rating.categories == ["1", "2", "3", "4", "5"]
    assert schema.column("age").missing_text == "" and schema.column("when").fmt == "%Y-%m-%d"
    assert schema.column("charges").decimals == 3
    assert "data.columns={id: integer}" in schema.column("id").reason
    assert schema.column("smoker").categories == ["no", "yes"]
    assert [c.position for c in schema.columns] == list(range(10))


def test_missing_texts_and_nan_are_missing():
    assert {"", "NA", "?", "null", "-", "#N/A"} <= MISSING
    frame = pd.DataFrame({"a": ["x", " NA ", None, "y", "n/a", "x"], "b": [1.0, 2.0, np.nan, 4.0, 5.0, 6.0]})
    schema = infer_schema(frame)
    x = to_values(frame, schema)
    assert np.isnan(x[[1, 2, 4], 0]).all() and np.isnan(x[2, 1])
    assert schema.column("a").missing == pytest.approx(0.5)


def test_dataframe_dtypes_are_respected_and_come_back():
    n = 30
    frame = pd.DataFrame({
        "flag": np.arange(n) % 3 == 0,
        "count": [float(i * 7) if i % 5 else np.nan for i in range(n)],  # whole floats with gaps: integer
        "size": np.arange(n, dtype=np.float32) * 0.5 + 0.25,
        "day": pd.date_range("2021-03-01", periods=n, freq="D"),
        "stamp": pd.date_range("2021-03-01 10:00:05", periods=n, freq="37min"),
        "grade": pd.Series(np.arange(n) % 4, dtype="int16"),
    })
    schema = infer_schema(frame)
    kinds = {c.name: (c.kind, c.dtype) for c in schema.columns}
    stamps = str(frame["day"].dtype)  # datetime64[us] in pandas 3, [ns] before
    assert kinds == {"flag": ("boolean", "bool"), "count": ("integer", "float64"),
                     "size": ("continuous", "float32"), "day": ("datetime", stamps),
                     "stamp": ("datetime", stamps), "grade": ("categorical", "int16")}
    assert schema.column("size").decimals == 2 and schema.column("day").fmt == "%Y-%m-%d"
    back = to_frame(to_values(frame, schema), schema)
    assert back["flag"].dtype == bool and back["flag"].tolist() == frame["flag"].tolist()
    assert back["grade"].dtype == "int16" and back["grade"].tolist() == frame["grade"].tolist()
    assert back["size"].dtype == np.float32
    assert str(back["day"].dtype) == stamps and back["day"].tolist() == frame["day"].tolist() and back["stamp"].tolist() == frame["stamp"].tolist()
    assert back["count"].isna().sum() == 6


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_delimiters_are_sniffed(tmp_path, sep):
    lines = [sep.join(["a", "b", "c"])] + [sep.join([str(i), f"{i / 4:.2f}", "xy"[i % 2]]) for i in range(N)]
    frame = read_frame(write(tmp_path, "\n".join(lines), "t.tsv" if sep == "\t" else "t.csv"))
    assert list(frame.columns) == ["a", "b", "c"] and frame.shape == (N, 3)


def test_quoted_cells_bom_and_crlf(tmp_path):
    text = '\ufeffname,words,n\r\n"Smith, J.","two\r\nlines",1\r\nÅsa,"say ""hi""",2\r\nRenée,plain,3\r\n'
    frame = read_frame(write(tmp_path, text))
    assert list(frame.columns) == ["name", "words", "n"]
    assert frame["name"].tolist() == ["Smith, J.", "Åsa", "Renée"]
    assert frame["words"].iloc[0].replace("\r", "") == "two\nlines" and frame["words"].iloc[1] == 'say "hi"'


def round_trip(path: str, out) -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = read_frame(path)
    schema = infer_schema(frame)
    write_csv(to_frame(to_values(frame, schema), schema), schema, out)
    return frame, read_frame(out)


def test_unicode_missing_and_spelling_round_trip(tmp_path):
    rows = ["ville,température,n,jour"]
    towns = [" Zürich", " São Paulo", " ?", " Kraków", " Zürich"]
    for i in range(N):
        temp = "" if i % 7 == 0 else f"{-3.5 + i * 0.75:g}"  # numbers come back in their shortest form
        rows.append(f"{towns[i % 5]},{temp},{i * 3 if i % 4 else ''},2021-02-{i + 1:02d}")
    frame, again = round_trip(write(tmp_path, "\n".join(rows) + "\n"), tmp_path / "out.csv")
    pd.testing.assert_frame_equal(frame, again)


def test_integer_with_missing_comes_back_as_Int64(tmp_path):
    frame = read_frame(write(tmp_path, "a,b\n" + "".join(f"{i * 11 if i % 3 else ''},{i % 2}\n" for i in range(N))))
    schema = infer_schema(frame)
    out = to_frame(to_values(frame, schema), schema)
    assert str(out["a"].dtype) == "Int64" and out["a"].isna().sum() == 9
    complete = to_frame(np.array([[5.4, 0.0], [16.6, 1.0]]), schema)
    assert complete["a"].dtype == np.int64 and complete["a"].tolist() == [11, 17]  # clipped up to low=11


def test_decimals_and_range_are_kept_in_samples(tmp_path):
    frame = read_frame(write(tmp_path, "v,w\n" + "".join(f"{1 + i * 0.35:.2f},{i * i}\n" for i in range(N))))
    schema = infer_schema(frame)
    values = np.array([[3.14159265, 4], [-100.0, 7], [1e6, 12.6]])
    out = to_frame(values, schema)
    assert out["v"].tolist() == [3.14, 1.0, schema.column("v").high]
    write_csv(out, schema, tmp_path / "o.csv")
    assert (tmp_path / "o.csv").read_text().splitlines() == ["v,w", "3.14,4", "1,7", "9.4,13"]


def test_rare_categories_are_pooled(tmp_path):
    words = ["a"] * 10 + ["b"] * 8 + ["c"] * 5 + ["d"] * 2 + ["e"] * 1
    frame = pd.DataFrame({"w": words, "x": np.arange(len(words)) * 1.5})
    col = infer_schema(frame, max_categories=3).column("w")
    assert col.categories == ["a", "b", "(other)"] and col.counts == [10, 8, 8]
    assert col.pooled == {"c": 5, "d": 2, "e": 1}
    schema = infer_schema(frame, max_categories=3)
    x = to_values(frame, schema)
    assert x[:, 0].tolist() == [0] * 10 + [1] * 8 + [2] * 8
    drawn = to_frame(np.column_stack([np.full(400, 2.0), np.zeros(400)]), schema, rng=np.random.default_rng(1))
    assert set(drawn["w"]) == {"c", "d", "e"} and (drawn["w"] == "c").sum() > (drawn["w"] == "e").sum()


def test_overrides_win_and_refuse_bad_requests(tmp_path):
    path = write(tmp_path, "id,zip,w,v\n" + "".join(f"{i},{10000 + i * 3},{'word' if i == 4 else i % 6},{i * 2}\n"
                                                     for i in range(N)))
    frame = read_frame(path)
    schema = infer_schema(frame, overrides={"id": "integer", "zip": "categorical", "v": "ignore"})
    assert [(c.kind, c.reason) for c in schema.columns] == [
        ("integer", "data.columns"), ("categorical", "data.columns"), ("categorical", "numbers and words"),
        ("ignore", "data.columns")]
    with pytest.raises(GankitError, match="'nope', which is not a column; the columns are: id, zip, w, v"):
        infer_schema(frame, overrides={"nope": "integer"})
    with pytest.raises(GankitError, match="unknown kind 'number'; use one of: continuous, integer"):
        infer_schema(frame, overrides={"w": "number"})
    with pytest.raises(GankitError, match=r"column w is set to integer but line 6 holds 'word', not a number"):
        infer_schema(frame, overrides={"w": "integer"})
    with pytest.raises(GankitError, match="column w is set to datetime but line 2 holds '0', not a date"):
        infer_schema(frame, overrides={"w": "datetime"})


def test_dates_in_mixed_formats_are_refused(tmp_path):
    frame = pd.DataFrame({"d": ["2020-01-02", "02/01/2020", "2020-03-04"], "x": [1, 2, 3]})
    with pytest.raises(GankitError, match=r"column d: dates in mixed formats \(e.g. '2020-01-02' and '02/01/2020'\)"
                                          r".*data.columns=\{d: categorical\}"):
        infer_schema(frame)
    times = pd.DataFrame({"d": ["03/02/2020 10:00", "13/02/2020 11:30"], "x": [1, 2]})
    col = infer_schema(times).column("d")
    assert col.fmt == "%d/%m/%Y %H:%M" and col.high - col.low == pytest.approx(10 * 86400 + 5400)


def test_bad_tables_are_refused_with_one_line():
    with pytest.raises(GankitError, match="at least 2 rows to learn from; it has 1"):
        infer_schema(pd.DataFrame({"a": [1], "b": [2]}))
    with pytest.raises(GankitError, match=r"at least 2 columns .* it has 1 \(a\)"):
        infer_schema(pd.DataFrame({"a": [1, 2]}))
    with pytest.raises(GankitError, match=r"column b is empty in every row; remove it or set data.columns=\{b: ignore"):
        infer_schema(pd.DataFrame({"a": [1, 2], "b": ["", " ?"], "c": [3, 4]}))
    with pytest.raises(GankitError, match=r"1 left after ignoring b \(data.columns\)"):
        infer_schema(pd.DataFrame({"a": [1, 2], "b": [3, 4]}), overrides={"b": "ignore"})
    with pytest.raises(GankitError, match="'a' appears more than once"):
        infer_schema(pd.DataFrame([[1, 2], [3, 4]], columns=["a", "a"]))
    with pytest.raises(GankitError, match="data.label_column='z' is not a column; the columns are: a, b"):
        infer_schema(pd.DataFrame({"a": [1, 2], "b": [3, 4]}), label_column="z")


def test_label_column_by_name_or_index():
    frame = pd.DataFrame({"x": np.arange(30) * 0.5, "y": np.arange(30) % 2 == 0, "z": np.arange(30) * 3.25})
    schema = infer_schema(frame, label_column="2")
    assert schema.label == "z" and schema.column("z").kind == "categorical"
    assert infer_schema(frame, label_column="y").column("y").kind == "boolean"
    assert "label column: z" in describe(schema, 30)


def test_unseen_category_in_a_held_out_table(tmp_path):
    train = pd.DataFrame({"c": ["a", "b", "a", "b"], "n": ["1", "2", "1.0", "3"]})
    schema = infer_schema(train)
    assert schema.column("n").categories == ["1", "2", "3"] and schema.column("n").counts == [2, 1, 1]
    test = read_frame(write(tmp_path, "c,n\na,1\nzz,2.0\n"))
    with pytest.raises(GankitError, match="column c: line 3 holds 'zz', a category the training data never had"):
        to_values(test, schema)
    x = to_values(test, schema, unseen="missing")
    assert np.isnan(x[1, 0]) and x[:, 1].tolist() == [0, 1]
    with pytest.raises(GankitError, match="lacks the column"):
        to_values(test[["c"]], schema)


def test_id_column_ignored_but_distinct_floats_kept():
    frame = pd.DataFrame({"row": np.arange(100, 140), "charges": np.round(np.linspace(1000, 9000, 40) ** 1.01, 3),
                          "age": np.arange(40) % 30 + 18})
    schema = infer_schema(frame)
    assert schema.column("row").kind == "ignore" and "ID" in schema.column("row").reason
    assert schema.column("charges").kind == "continuous" and schema.column("age").kind == "integer"
    table = describe(schema, 40)
    assert "IGNORED" in table and "data.columns={name: kind}" in table


@pytest.mark.parametrize("content, name, message", [
    (None, "none.csv", "no such file"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "pic.csv", "binary content"),
    (b"\x93NUMPY", "a.npy", "not a table this reader takes; use a CSV or Parquet file"),
    (b"", "e.csv", "the file is empty"),
    (b"a,b,c\n", "h.csv", "header but no rows"),
    (b"a,b\n1,2\n3,4,5\n", "r.csv", "line 3 has 3 cells, expected 2"),
    (b"a,b,a\n1,2,3\n", "d.csv", "'a' appears more than once"),
])
def test_read_frame_refuses_what_is_not_a_table(tmp_path, content, name, message):
    if content is not None:
        (tmp_path / name).write_bytes(content)
    with pytest.raises(GankitError, match=message) as e:
        read_frame(tmp_path / name)
    assert name in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(GankitError, match="is a folder"):
        read_frame(tmp_path)


def test_parquet_keeps_its_types(tmp_path):
    pytest.importorskip("pyarrow")
    frame = pd.DataFrame({"a": [i * 1.5 if i else np.nan for i in range(12)], "b": list("xyz" * 4)})
    frame.to_parquet(tmp_path / "t.parquet")
    schema = infer_schema(read_frame(tmp_path / "t.parquet"))
    assert schema.source.endswith("t.parquet") and [c.kind for c in schema.columns] == ["continuous", "categorical"]
    assert schema.column("a").dtype == "float64" and schema.column("a").decimals == 1


words = st.sampled_from([" Ünïcode", " plain", "with, comma", "", " ?", "Ω"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ints=st.lists(st.integers(-50, 10**6) | st.none(), min_size=12, max_size=12),
       reals=st.lists(st.floats(-1e4, 1e4).map(lambda v: round(v, 3)), min_size=12, max_size=12),
       cats=st.lists(words, min_size=12, max_size=12))
def test_csv_round_trip_is_exact(tmp_path, ints, reals, cats):
    """read -> to_values -> to_frame -> write_csv -> read gives the same cells (numbers by value)."""
    pd.DataFrame({"i": ["" if v is None else str(v) for v in ints], "r": [f"{v:.3f}" for v in reals],
                  "c": cats}).to_csv(tmp_path / "in.csv", index=False)
    frame = read_frame(tmp_path / "in.csv")
    try:
        schema = infer_schema(frame)
    except GankitError as e:
        assert "empty in every row" in str(e) or "mixed formats" in str(e)
        return
    again = read_frame(write_and_path(frame, schema, tmp_path))
    assert np.array_equal(to_values(frame, schema), to_values(again, schema), equal_nan=True)
    if schema.column("c").used:  # words come back as spelled, missing cells as the commonest missing spelling
        missing = frame["c"].str.strip().isin(MISSING)
        assert (frame["c"][~missing] == again["c"][~missing]).all()
        assert (again["c"][missing] == schema.column("c").missing_text).all()


def write_and_path(frame: pd.DataFrame, schema, tmp_path) -> str:
    out = tmp_path / "out.csv"
    write_csv(to_frame(to_values(frame, schema), schema), schema, out)
    return str(out)


def test_time_zone_and_nullable_dtypes_come_back():
    frame = pd.DataFrame({"tz": pd.date_range("2020-01-01", periods=12, freq="h", tz="Europe/Paris"),
                          "flag": pd.Series([True, False, pd.NA] * 4, dtype="boolean"),
                          "cat": pd.Series(list("abc") * 4, dtype="category")})
    schema = infer_schema(frame)
    back = to_frame(to_values(frame, schema), schema)
    assert back["tz"].tolist() == frame["tz"].tolist()
    assert str(back["flag"].dtype) == "boolean" and back["flag"].isna().sum() == 4
    assert str(back["cat"].dtype) == "category" and back["cat"].tolist() == frame["cat"].tolist()
