"""gankit augment on tables: a CSV with the real rows as written and marked synthetic rows of the asked class,
a gankit run on the output, the held-out rows never in a classifier's training rows, and a numeric table."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import gankit
from augmentation.helpers import TABLE_QUICK, table
from augmentation.test_images import Spy
from conftest import pictures_off
from gankit.data.split import holdout_indices


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    base = tmp_path_factory.mktemp("augment-table")
    table().to_csv(base / "t.csv", index=False)
    Spy.seen = []
    with pictures_off():
        doc = gankit.augment("table", f"data.path={base / 't.csv'}", "data.label_column=label", *TABLE_QUICK,
                             out=base / "out", balance=True, measure=True, seeds=2, classifier=Spy())
    return base, doc, list(Spy.seen)


def test_the_augmented_table_keeps_the_real_rows_and_marks_the_synthetic_ones(made):
    base, doc, _ = made
    src = pd.read_csv(base / "t.csv", dtype=str, keep_default_na=False)
    out = pd.read_csv(base / "out" / "data.csv", dtype=str, keep_default_na=False)
    assert list(out.columns) == [*src.columns, "synthetic"]
    keep, held, _ = holdout_indices(len(src), 0.2, 0)  # the table preset's data.holdout=0.2
    real, fake = out[out["synthetic"] == "0"], out[out["synthetic"] == "1"]
    pd.testing.assert_frame_equal(real.drop(columns="synthetic").reset_index(drop=True),
                                  src.iloc[keep].reset_index(drop=True))  # as the file wrote them, in order
    counts = src.iloc[keep]["label"].value_counts()
    assert len(fake) == counts["no"] - counts["yes"] and set(fake["label"]) == {"yes"}  # --balance: the minority
    assert set(fake["job"]) <= set(src["job"]) and fake["age"].str.fullmatch(r"-?\d+").all()  # integers stay whole
    held_csv = pd.read_csv(base / "out" / "holdout.csv", dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(held_csv, src.iloc[held].reset_index(drop=True))
    assert doc["synthetic_per_class"] == [0, int(counts["no"] - counts["yes"])]


def test_no_classifier_trains_on_a_held_out_row(made):
    base, doc, seen = made
    src = pd.read_csv(base / "t.csv")
    keep, held, _ = holdout_indices(len(src), 0.2, 0)
    score = list(doc["gain"]["classifiers"])  # the spy alone
    assert score == ["Spy"] and len(seen) == 2 * 3  # 2 seeds x (real, gan, baseline)
    held_scores, kept_scores = set(src["score"].iloc[held].round(6)), set(src["score"].iloc[keep].round(6))
    for x in seen:
        column = set(np.round(x[:, 2], 6))  # features: age, job, score (label taken out)
        assert not column & held_scores and kept_scores <= column
    run = json.loads((base / "out" / "run" / "run.json").read_text())
    assert run["data"]["items"] == len(keep)


def test_gankit_trains_on_the_augmented_table(made):
    base, _, _ = made
    with pictures_off():
        run = gankit.train("table", f"data.path={base / 'out' / 'data.csv'}", "data.label_column=label",
                           *TABLE_QUICK, out=base / "again", quiet=True)
    rows = gankit.load(run).sample(20, seed=0)
    assert list(rows.columns) == ["age", "job", "score", "label", "synthetic"]


def test_a_numeric_table_with_a_label_column(tmp_path):
    table()[["age", "score", "label"]].to_csv(tmp_path / "n.csv", index=False)
    with pictures_off():
        doc = gankit.augment("digits", f"data.path={tmp_path / 'n.csv'}", "data.label_column=label",
                             "train.steps=2", "train.threads=1", out=tmp_path / "out", per_class=5, measure=True,
                             seeds=2, classifier="logistic")
    out = pd.read_csv(tmp_path / "out" / "data.csv")
    assert list(out.columns) == ["age", "score", "label", "synthetic"]
    assert out["synthetic"].sum() == 10 and (out[out["synthetic"] == 1]["label"].value_counts() == 5).all()
    assert doc["gain"]["baseline"] == "SMOTE" and list(doc["gain"]["classifiers"]) == ["logistic"]
