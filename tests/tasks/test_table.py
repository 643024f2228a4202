"""The table task end to end, on small tables the tests write: train from a CSV (Unicode words, missing
cells, integers, decimals, dates) and from a DataFrame; sample DataFrames and CSVs that keep every
column's kind; exact conditions on every discrete column; seeds; resume; evaluation; bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import gankit
from gankit.cli import main
from gankit.errors import GankitError

#: narrow networks and short runs: the tests check behaviour, not quality
SMALL = ("generator.hidden=[32]", "discriminator.hidden=[32]", "generator.latent_dim=8", "train.batch_size=50",
         "discriminator.pac=5", "log.every=10", "train.threads=1")


def people(n: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    city = rng.choice(["Zürich", "São Paulo", "東京"], n, p=[0.5, 0.3, 0.2])
    country = np.array([{"Zürich": "CH", "São Paulo": "BR", "東京": "JP"}[c] for c in city])  # a function of city
    income = np.round(np.where(city == "Zürich", rng.normal(90, 10, n), rng.normal(40, 5, n)), 2)
    df = pd.DataFrame({"id": np.arange(1000, 1000 + n), "age": rng.integers(18, 80, n), "city": city,
                       "country": country, "smoker": rng.choice(["yes", "no"], n), "income": income,
                       "joined": pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 900, n), unit="D")})
    df["income"] = df["income"].astype(object)
    df.loc[rng.random(n) < 0.1, "income"] = None  # missing cells, 10%
    return df


@pytest.fixture(scope="module")
def csv_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("table")
    path = tmp / "people.csv"
    df = people()
    df["joined"] = df["joined"].dt.strftime("%d/%m/%Y")
    df.to_csv(path, index=False, encoding="utf-8")
    run = gankit.train("table", f"data.path={path}", "train.steps=40", "eval.target=smoker", *SMALL,
                       out=tmp / "run", quiet=True)
    return run, path


def test_samples_keep_every_column_kind(csv_run):
    run, path = csv_run
    g = gankit.load(run)
    df = g.sample(400, seed=0)
    # the file's columns in their order; the ID column is left out (reported by --dry-run)
    assert list(df.columns) == ["age", "city", "country", "smoker", "income", "joined"]
    assert df["age"].dtype.kind == "i" and df["age"].between(18, 79).all()
    assert set(df["city"]) <= {"Zürich", "São Paulo", "東京"} and set(df["smoker"]) <= {"yes", "no"}
    real = pd.read_csv(path)
    income = df["income"].dropna()
    assert income.between(real["income"].min(), real["income"].max()).all()
    assert (income.round(2) == income).all()
    assert 0 < df["income"].isna().mean() < 0.5  # missing cells are learnt, not dropped
    assert pd.api.types.is_datetime64_any_dtype(df["joined"])
    assert df.equals(g.sample(400, seed=0)) and not df.equals(g.sample(400, seed=1))


def test_sampled_csv_is_written_as_the_source_wrote_it(csv_run, tmp_path):
    run, path = csv_run
    out = tmp_path / "synth.csv"
    assert main(["sample", str(run), "--n", "50", "--seed", "3", "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    head, *rows = text.splitlines()
    assert head == "age,city,country,smoker,income,joined"
    back = pd.read_csv(out, keep_default_na=False)
    assert len(back) == 50 and set(back["city"]) <= {"Zürich", "São Paulo", "東京"}
    assert all(len(d.split("/")) == 3 and len(d) == 10 for d in back["joined"])  # dd/mm/yyyy as in the file
    assert all(c == "" or len(c.split(".")[-1]) <= 2 for c in back["income"].astype(str))


@pytest.mark.parametrize("where", [{"city": "東京"}, {"country": "BR"}, {"smoker": "no"},
                                   {"city": "Zürich", "smoker": "yes"}])
def test_where_gives_exactly_the_asked_values_on_every_discrete_column(csv_run, where):
    g = gankit.load(csv_run[0])
    df = g.sample(200, seed=0, where=where)
    for column, value in where.items():
        assert (df[column] == value).all()


def test_where_from_the_command_line_and_its_errors(csv_run, tmp_path, capsys):
    run = str(csv_run[0])
    out = tmp_path / "tokyo.csv"
    assert main(["sample", run, "--n", "20", "--where", "city=東京", "--out", str(out)]) == 0
    assert set(pd.read_csv(out)["city"]) == {"東京"}
    for bad, says in ((["--where", "planet=Mars"], "unknown column 'planet'"),
                      (["--where", "city=Paris"], "never occurs"),
                      (["--where", "age=30"], "integer column"),
                      (["--where", "city"], "COLUMN=VALUE"),
                      (["--label", "x"], "no label column")):
        capsys.readouterr()
        assert main(["sample", run, "--n", "5", "--out", str(tmp_path / "x.csv"), *bad]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and says in err[0], err
    capsys.readouterr()
    assert main(["sample", run, "--n", "5", "--where", "city=Paris", "--out", str(tmp_path / "x.csv")]) == 2
    assert "Zürich" in capsys.readouterr().err  # the valid values are listed


def test_dry_run_shows_the_column_table(csv_run, capsys):
    _, path = csv_run
    assert main(["train", "table", f"data.path={path}", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "task: table" in out
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ")}
    assert "ignored" in lines["id"].lower() and "integer" in lines["age"] and "datetime" in lines["joined"]
    assert "categorical" in lines["city"] and "continuous" in lines["income"]


def test_evaluation_scores_fidelity_utility_and_privacy(csv_run):
    run, _ = csv_run
    doc = gankit.evaluate(run, n=200, write=False)
    s = doc["scores"]
    assert 0 <= s["quality"]["value"] <= 1 and s["quality"]["real_vs_real"]["value"] > s["quality"]["value"] - 0.5
    assert s["utility"]["target"] == "smoker" and "train_on_real" in s["utility"]
    assert s["exact_copies"]["value"] >= 0 and "dcr_synthetic" in s


def test_a_dataframe_trains_and_resumes_exactly(tmp_path):
    df = people(200, seed=1)
    one = gankit.train("table", "train.steps=12", "log.checkpoint_every=6", *SMALL, out=tmp_path / "one",
                       quiet=True, data=df)
    two = gankit.train("table", "train.steps=6", "log.checkpoint_every=6", *SMALL, out=tmp_path / "two",
                       quiet=True, data=df)
    gankit.train(None, "train.steps=12", resume=two, quiet=True, data=df)
    a, b = gankit.load(one).sample(100, seed=0), gankit.load(two).sample(100, seed=0)
    pd.testing.assert_frame_equal(a, b)
    assert json.loads((one / "run.json").read_text())["status"] == "complete"
    with pytest.raises(GankitError, match="DataFrame"):
        gankit.evaluate(one)


@pytest.mark.parametrize("columns, says", [
    ("data.columns={planet: integer}", "planet"),
    ("data.columns={age: colour}", "colour"),
])
def test_bad_column_settings_exit_2_naming_them(csv_run, columns, says, capsys):
    _, path = csv_run
    capsys.readouterr()
    assert main(["train", "table", f"data.path={path}", columns, "--dry-run"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0], err


def test_conditioning_learns_a_column_that_follows_another(tmp_path):
    """country is a function of city: rows asked for a city must mostly carry its country."""
    df = people(600, seed=2)[["city", "country", "age"]]
    run = gankit.train("table", "train.steps=800", "generator.hidden=[128]", "discriminator.hidden=[128]",
                       "discriminator.pac=5", "generator.latent_dim=16", "train.batch_size=100", "log.every=100",
                       "train.threads=1", "generator.lr=1e-3", "discriminator.lr=1e-3", out=tmp_path / "run",
                       quiet=True, data=df)
    g = gankit.load(run)
    for city, country in (("Zürich", "CH"), ("São Paulo", "BR"), ("東京", "JP")):
        rows = g.sample(300, seed=0, where={"city": city})
        assert (rows["country"] == country).mean() >= 0.9, (city, rows["country"].value_counts().to_dict())


@pytest.mark.parametrize("text, says", [
    ("a,b\n1,x\n", "row"),                                   # one row
    ("a\n1\n2\n3\n", "column"),                              # one column
    ("a,b,c\n1,,x\n2,,y\n3,,x\n", "empty"),                  # a column empty in every row
    ("d,b\n2020-01-02,x\n02/01/2020,y\n2020-03-04,x\n", "format"),  # dates in mixed formats
])
def test_bad_tables_exit_2_with_one_line(tmp_path, text, says, capsys):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    assert main(["train", "table", f"data.path={path}", "train.steps=1", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0].lower(), err
    assert not (tmp_path / "run").exists()


def test_a_file_that_is_not_a_table_exits_2(tmp_path, capsys):
    path = tmp_path / "x.csv"
    path.write_bytes(bytes(range(256)) * 4)
    assert main(["train", "table", f"data.path={path}", "--dry-run"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "x.csv" in err[0], err


def test_label_column_and_test_path(tmp_path, capsys):
    """data.label_column names a column --label conditions on; data.test_path rows are read with the
    training columns' kinds and scored as the held-out part."""
    df = people(200, seed=3).drop(columns=["id", "joined"])
    train, test = tmp_path / "train.csv", tmp_path / "test.csv"
    df[:150].to_csv(train, index=False)
    df[150:].to_csv(test, index=False)
    run = tmp_path / "run"
    assert main(["train", "table", f"data.path={train}", f"data.test_path={test}", "data.holdout=0",
                 "data.label_column=smoker", "train.steps=10", *SMALL, "--quiet", "--out", str(run)]) == 0
    out = tmp_path / "smokers.csv"
    assert main(["sample", str(run), "--n", "30", "--label", "yes", "--out", str(out)]) == 0
    assert set(pd.read_csv(out)["smoker"]) == {"yes"}
    capsys.readouterr()
    assert main(["eval", str(run), "--n", "100", "--metrics", "fidelity,privacy"]) == 0
    doc = json.loads((run / "eval.json").read_text())
    assert doc["scores"]["dcr_holdout"]["value"] > 0  # the test rows are the held-out part


def test_a_pooled_rare_category_can_be_asked_for(tmp_path):
    rng = np.random.default_rng(4)
    df = pd.DataFrame({"fruit": rng.choice(["apple", "pear", "plum", "fig", "kiwi"], 200, p=[.5, .3, .1, .05, .05]),
                       "x": rng.normal(0, 1, 200)})
    run = gankit.train("table", "data.max_categories=3", "train.steps=4", *SMALL, out=tmp_path / "run", quiet=True,
                       data=df)
    g = gankit.load(run)
    assert set(g.sample(300, seed=0)["fruit"]) <= {"apple", "pear", "plum", "fig", "kiwi"}
    assert set(g.sample(20, seed=0, where={"fruit": "fig"})["fruit"]) == {"fig"}
