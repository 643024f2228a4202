"""Machine-learning utility of synthetic tables: train on synthetic, test on real (TSTR).

The protocol of Xu et al. 2019 (CTGAN, "Modeling Tabular Data using Conditional GAN", section 5:
machine-learning efficacy) and Esteban et al. 2017 (TSTR): each model is fitted once on the
synthetic rows and once on the real training rows, and both are scored on real held-out rows; the
train-on-real score is the yardstick. Models (scikit-learn, fixed ``random_state``):

* ``gradient_boosting``: HistGradientBoostingClassifier / -Regressor, category columns as native
  categories, missing cells as they are;
* ``linear``: LogisticRegression / LinearRegression in a Pipeline: categories one-hot (a missing
  one as a category of its own, unseen ones ignored), numbers median-imputed and standardised.

A categorical (or boolean) target is scored by the F1 of its *minority class* (the rarest class in
the real training rows), ROC-AUC (binary: of the minority class; more classes: macro one-vs-rest,
over the classes the holdout has) and accuracy; a number target by R². Rows whose target is missing
are left out. A synthetic set with a single class of the target is scored with a constant
prediction (DummyClassifier), one missing some classes never predicts them.
"""

from __future__ import annotations

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, r2_score, roc_auc_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from gankit.metrics.tables import numeric_columns
from gankit.tables.schema import TableSchema

MODELS = ("gradient_boosting", "linear")
HGB_MAX_CATEGORIES = 255  # HistGradientBoosting's native categories need fewer than max_bins values


def _linear_features(numeric: list[bool]) -> ColumnTransformer:
    nums = [j for j, n in enumerate(numeric) if n]
    cats = [j for j, n in enumerate(numeric) if not n]
    return ColumnTransformer([
        ("numbers", make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler()),
         nums),
        ("categories", make_pipeline(SimpleImputer(strategy="constant", fill_value=-1),
                                     OneHotEncoder(handle_unknown="ignore")), cats),
    ])


def make_model(name: str, classify: bool, numeric: list[bool], sizes: list[int], seed: int):
    """An unfitted scikit-learn model for feature columns of these kinds (``sizes``: categories per column)."""
    if name == "gradient_boosting":
        native = [not n and k <= HGB_MAX_CATEGORIES for n, k in zip(numeric, sizes)]
        cls = HistGradientBoostingClassifier if classify else HistGradientBoostingRegressor
        return cls(categorical_features=np.array(native, dtype=bool) if any(native) else None, random_state=seed)
    head = LogisticRegression(max_iter=1000, random_state=seed) if classify else LinearRegression()
    return Pipeline([("features", _linear_features(numeric)), ("model", head)])


def _fit(name: str, x: np.ndarray, y: np.ndarray, classify: bool, numeric: list[bool], sizes: list[int],
         seed: int):
    if classify and len(np.unique(y)) < 2:
        return DummyClassifier(strategy="most_frequent").fit(x, y)
    return make_model(name, classify, numeric, sizes, seed).fit(x, y)


def _probs(model, x: np.ndarray, n_classes: int) -> np.ndarray:
    """(N, n_classes) class probabilities over every class, 0 for those the model never saw."""
    p = np.zeros((len(x), n_classes))
    p[:, model.classes_.astype(np.int64)] = model.predict_proba(x)
    return p


def classification_scores(y: np.ndarray, probs: np.ndarray, minority: int) -> dict:
    """F1 of the minority class, ROC-AUC (binary: of the minority; else macro one-vs-rest), accuracy."""
    pred = probs.argmax(axis=1)
    present = np.unique(y)
    if len(present) < 2:
        auc = float("nan")
    elif len(present) == 2:
        auc = float(roc_auc_score(y == minority if minority in present else y == present[0],
                                  probs[:, minority if minority in present else present[0]]))
    else:
        p = probs[:, present]
        p = p / np.clip(p.sum(axis=1, keepdims=True), 1e-12, None)
        p[p.sum(axis=1) < 0.5] = 1.0 / len(present)  # no probability on any holdout class: uniform
        auc = float(roc_auc_score(y, p, multi_class="ovr", average="macro", labels=present))
    return {"f1": float(f1_score(y, pred, labels=[minority], average="macro", zero_division=0)),
            "auc": auc, "accuracy": float(accuracy_score(y, pred))}


def _split(x: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray]:
    """Features and target of the rows whose target is present."""
    keep = ~np.isnan(x[:, t])
    return np.delete(x[keep], t, axis=1), x[keep, t]


def _score_model(name: str, sets: dict, classify: bool, numeric: list[bool], sizes: list[int],
                 n_classes: int, minority: int, seed: int) -> dict:
    """{"synthetic": scores, "real": scores} of one model fitted on each training set."""
    xh, yh = sets["holdout"]
    out = {}
    for which in ("synthetic", "real"):
        model = _fit(name, *sets[which], classify, numeric, sizes, seed)
        if classify:
            out[which] = classification_scores(yh.astype(np.int64), _probs(model, xh, n_classes), minority)
        else:
            out[which] = {"r2": float(r2_score(yh, model.predict(xh)))}
    return out


def utility(fake: np.ndarray, train: np.ndarray, holdout: np.ndarray, schema: TableSchema, target: str,
            seed: int = 0) -> dict:
    """Train-on-synthetic / train-on-real scores of every model in :data:`MODELS` on ``holdout``.

    Returns ``{"task", "target", "minority" (classification), "models": {model: {"synthetic": {...},
    "real": {...}}}, "synthetic": {...}, "real": {...}}``, the last two the means over the models.

    The models fit on one thread: scikit-learn's OpenMP threads spin for cores that training (or
    anything else) holds, which made a 5-second fit take minutes on a busy 2-core machine."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return _utility(fake, train, holdout, schema, target, seed)


def _utility(fake: np.ndarray, train: np.ndarray, holdout: np.ndarray, schema: TableSchema, target: str,
             seed: int) -> dict:
    t = schema.index(target)
    col = schema.used[t]
    classify = not numeric_columns(schema)[t]
    numeric = [n for j, n in enumerate(numeric_columns(schema)) if j != t]
    sizes = [len(c.categories) for j, c in enumerate(schema.used) if j != t]
    sets = {"synthetic": _split(fake, t), "real": _split(train, t), "holdout": _split(holdout, t)}
    n_classes = len(col.categories) if classify else 0
    minority = 0
    if classify:
        y = sets["real"][1].astype(np.int64)
        counts = np.bincount(y, minlength=n_classes).astype(float)
        counts[counts == 0] = np.inf  # the rarest class that the real training rows have
        minority = int(np.argmin(counts))
    models = {m: _score_model(m, sets, classify, numeric, sizes, n_classes, minority, seed) for m in MODELS}
    mean = {w: {k: float(np.mean([models[m][w][k] for m in MODELS])) for k in models[MODELS[0]][w]}
            for w in ("synthetic", "real")}
    out = {"task": "classification" if classify else "regression", "target": target, "models": models, **mean}
    if classify:
        out["minority"] = col.categories[minority] if minority < len(col.categories) else str(minority)
    return out
