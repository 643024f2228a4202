"""Numeric tables: CSV (with/without header, sniffed delimiter), NPY, NPZ, and every refusal."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gankit.config import DataConfig
from gankit.data import guess_name, load_data
from gankit.data.tabular import table
from gankit.errors import GankitError


def load(path: Path):
    return table(DataConfig(name="table", path=str(path)), 0)


def refused(path: Path, pattern: str) -> str:
    with pytest.raises(GankitError, match=pattern) as e:
        load(path)
    msg = str(e.value)
    assert "\n" not in msg and str(path) in msg
    return msg


# ----------------------------------------------------------------------------- good files


def test_csv_with_header(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("height, weight,age\n1.5,60,30\n1.75, 80.25,41\n\n2e0,-1e2,0\n")
    raw = load(p)
    assert raw.kind == "table" and raw.columns == ["height", "weight", "age"]
    np.testing.assert_array_equal(raw.x, [[1.5, 60, 30], [1.75, 80.25, 41], [2, -100, 0]])
    assert raw.x.dtype == np.float64  # full precision until prepare() standardises


def test_csv_without_header(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("1,2\n3,4\n5,6\n")
    raw = load(p)
    assert raw.columns == ["x0", "x1"]
    np.testing.assert_array_equal(raw.x, [[1, 2], [3, 4], [5, 6]])


@pytest.mark.parametrize("sep", [";", "\t", " "])
def test_csv_other_delimiters(tmp_path, sep):
    p = tmp_path / ("t.tsv" if sep == "\t" else "t.csv")
    p.write_text(f"a{sep}b\n1.5{sep}2\n3{sep}4.5\n")
    raw = load(p)
    assert raw.columns == ["a", "b"]
    np.testing.assert_array_equal(raw.x, [[1.5, 2], [3, 4.5]])


def test_single_column_csv_and_bom(tmp_path):
    p = tmp_path / "t.csv"
    p.write_bytes("\ufeffvalue\n1\n2\n3\n".encode("utf-8"))
    raw = load(p)
    assert raw.columns == ["value"] and raw.x.ravel().tolist() == [1, 2, 3]


def test_npy_2d_and_1d(tmp_path):
    a = np.arange(12, dtype=np.int32).reshape(4, 3)
    np.save(tmp_path / "a.npy", a)
    raw = load(tmp_path / "a.npy")
    np.testing.assert_array_equal(raw.x, a)
    assert raw.columns == ["x0", "x1", "x2"]
    np.save(tmp_path / "b.npy", np.array([1.5, 2.5, 3.5], np.float32))
    assert load(tmp_path / "b.npy").x.shape == (3, 1)


def test_npz_key_x_or_single_array(tmp_path):
    a = np.random.default_rng(0).normal(size=(5, 2))
    np.savez(tmp_path / "one.npz", a)  # stored as arr_0
    np.testing.assert_array_equal(load(tmp_path / "one.npz").x, a)
    np.savez(tmp_path / "many.npz", y=np.zeros(5), x=a)
    np.testing.assert_array_equal(load(tmp_path / "many.npz").x, a)
    np.savez(tmp_path / "ambiguous.npz", a=a, b=a)
    refused(tmp_path / "ambiguous.npz", r"several arrays \(a, b\); name the data 'x'")


def test_guess_table(tmp_path):
    for name in ("a.csv", "a.npy", "a.npz"):
        assert guess_name(DataConfig(path=str(tmp_path / name))) == "table"


# ----------------------------------------------------------------------------- refusals


def test_text_cell(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("a,b\n1,2\n3,abc\n")
    msg = refused(p, r"line 3, column b: 'abc', not a number")
    assert "numeric" in msg


def test_text_in_first_row_is_not_taken_for_a_header(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("1,oops\n3,4\n")
    refused(p, r"line 1, column 2: 'oops', not a number")


def test_empty_cell(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("a,b\n1,2\n3,\n")
    refused(p, r"line 3, column b: an empty cell")


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-Infinity"])
def test_non_finite_cell(tmp_path, value):
    p = tmp_path / "t.csv"
    p.write_text(f"a,b\n1,2\n{value},4\n")
    refused(p, rf"line 3, column a: {value} is not finite")


def test_ragged_rows(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("a,b\n1,2\n3,4,5\n")
    refused(p, r"line 3 has 3 cells, expected 2 \(ragged rows\)")
    p.write_text("1,2\n3,4\n5\n")
    refused(p, r"line 3 has 1 cells, expected 2")


def test_empty_and_header_only(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("")
    refused(p, "the CSV file is empty")
    p.write_text("\n  \n")
    refused(p, "the CSV file is empty")
    p.write_text("a,b\n")
    refused(p, "has a header but no data rows")


def test_binary_file_named_csv(tmp_path):
    p = tmp_path / "t.csv"
    np.save(tmp_path / "t.npy", np.zeros((3, 3)))
    p.write_bytes((tmp_path / "t.npy").read_bytes())
    refused(p, "not a text CSV")


def test_npy_refusals(tmp_path):
    np.save(tmp_path / "cube.npy", np.zeros((2, 3, 4)))
    refused(tmp_path / "cube.npy", r"expected a 2-D \(rows, columns\) array, got shape \(2, 3, 4\)")
    a = np.ones((3, 2))
    a[1, 1] = np.nan
    np.save(tmp_path / "nan.npy", a)
    refused(tmp_path / "nan.npy", r"row 1, column 1 is nan")
    a[1, 1] = -np.inf
    np.save(tmp_path / "inf.npy", a)
    refused(tmp_path / "inf.npy", r"row 1, column 1 is -inf")
    np.save(tmp_path / "empty.npy", np.zeros((0, 3)))
    refused(tmp_path / "empty.npy", "the array is empty")
    np.save(tmp_path / "str.npy", np.array([["a", "b"]]))
    refused(tmp_path / "str.npy", "is not real numeric")
    np.save(tmp_path / "bool.npy", np.ones((2, 2), bool))
    refused(tmp_path / "bool.npy", "dtype bool is not real numeric")
    (tmp_path / "junk.npy").write_bytes(b"\x93NUMPY garbage")
    refused(tmp_path / "junk.npy", r"not a valid \.npy file")


class Boom:
    """Unpickling this would run code: the loader must never do it."""

    def __reduce__(self):
        return (Path("/nonexistent-gankit-test").mkdir, ())


def test_pickled_object_arrays_are_never_loaded(tmp_path):
    obj = np.empty((2, 2), dtype=object)
    obj[:] = [[1, 2], [3, Boom()]]
    np.save(tmp_path / "obj.npy", obj, allow_pickle=True)
    refused(tmp_path / "obj.npy", r"holds Python objects \(pickled\)")
    np.savez(tmp_path / "obj.npz", x=obj)
    refused(tmp_path / "obj.npz", r"holds Python objects \(pickled\)")
    import pickle

    (tmp_path / "raw.npy").write_bytes(pickle.dumps(obj))
    refused(tmp_path / "raw.npy", r"pickled")
    assert not Path("/nonexistent-gankit-test").exists()


def test_wrong_extension_missing_file_and_folder(tmp_path):
    p = tmp_path / "t.xlsx"
    p.write_bytes(b"PK")
    refused(p, r"unknown table format '.xlsx'; use .csv, .npy, .npz or .parquet")
    with pytest.raises(GankitError, match="no such file"):
        load(tmp_path / "missing.csv")
    with pytest.raises(GankitError, match="is a folder"):
        load(tmp_path)
    with pytest.raises(GankitError, match="needs data.path"):
        table(DataConfig(name="table"), 0)


def test_large_csv_fast_path(tmp_path):
    a = np.random.default_rng(0).normal(size=(20000, 4)).round(6)
    p = tmp_path / "big.csv"
    np.savetxt(p, a, delimiter=",", header="a,b,c,d", comments="", fmt="%.6f")
    d = load_data(DataConfig(path=str(p)), output="none")
    assert d.name == "table" and d.shape == (4,) and d.columns == ["a", "b", "c", "d"]
    np.testing.assert_allclose((d.x * d.scale + d.offset).numpy(), a, atol=1e-5)


# ----------------------------------------------------------------------------- a label column (issue 3)


def load_labelled(path: Path, column: str):
    return table(DataConfig(name="table", path=str(path), label_column=column), 0)


def test_csv_label_column_by_name_holds_words(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("a,species,b\n1,rose,2\n3,iris,4\n5,rose,6\n")
    raw = load_labelled(p, "species")
    np.testing.assert_array_equal(raw.x, [[1, 2], [3, 4], [5, 6]])
    assert raw.columns == ["a", "b"] and raw.label_name == "species"
    assert raw.classes == ["iris", "rose"] and raw.labels.tolist() == [1, 0, 1]


def test_label_column_by_index_numbers_in_numeric_order(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("1,10\n2,9\n3,10\n4,2\n")
    raw = load_labelled(p, "-1")  # the last column; without a header an index is the only way
    assert raw.classes == ["2", "9", "10"] and raw.labels.tolist() == [2, 1, 2, 0]
    assert raw.columns == ["x0"] and raw.label_name == "label"
    a = tmp_path / "t.npy"
    np.save(a, np.array([[0.5, 3.0, 1], [0.25, 1.0, 2], [0.0, 3.0, 3]]))
    raw = load_labelled(a, "1")
    np.testing.assert_array_equal(raw.x, [[0.5, 1], [0.25, 2], [0.0, 3]])
    assert raw.classes == ["1", "3"] and raw.labels.tolist() == [1, 0, 1]


def test_label_column_refusals(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("a,kind\n1,x\n2,\n")
    with pytest.raises(GankitError, match="data row 2 has an empty label"):
        load_labelled(p, "kind")
    with pytest.raises(GankitError, match="'colour' is not a column; the columns are: a, kind"):
        load_labelled(p, "colour")
    with pytest.raises(GankitError, match="data.label_column=5 is out of range; the table has 2 columns"):
        load_labelled(p, "5")
    p.write_text("kind\nx\ny\n")
    with pytest.raises(GankitError, match="the label column is the only column"):
        load_labelled(p, "kind")
    p.write_text("v,id\n" + "".join(f"{i / 7},{i}\n" for i in range(1200)))
    with pytest.raises(GankitError, match="1200 different values.*Is it a measurement"):
        load_labelled(p, "id")


def test_a_word_column_suggests_label_column(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("a,species\n1,rose\n")
    refused(p, r"column species: 'rose', not a number; tables must be all numeric; if it holds classes, "
               r"set data.label_column=species")


def test_label_column_is_only_for_tables():
    with pytest.raises(GankitError, match="data.label_column is for tables"):
        load_data(DataConfig(name="digits", label_column="y"))


def test_a_number_is_one_class_however_written(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("v,grade\n0.5,1\n0.25,1.0\n0.0,2\n1.5,1e0\n")
    raw = load_labelled(p, "grade")
    assert raw.classes == ["1", "2"] and raw.labels.tolist() == [0, 0, 1, 0]
    a = tmp_path / "t.npy"
    np.save(a, np.array([[1.0, 0.1], [2.0, 0.2]], np.float32))  # float32 labels read back as "0.1", "0.2"
    assert load_labelled(a, "1").classes == ["0.1", "0.2"]


@pytest.mark.parametrize("bad", ["nan", "inf"])
def test_non_finite_labels_are_refused(tmp_path, bad):
    """NaN would also make the class order depend on the process's hash seed."""
    p = tmp_path / "t.csv"
    p.write_text(f"v,label\n1,0\n2,{bad}\n")
    with pytest.raises(GankitError, match=f"data row 2 has the label '{bad}', which is not a class"):
        load_labelled(p, "label")
