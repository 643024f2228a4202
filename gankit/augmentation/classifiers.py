"""The downstream classifiers whose gain is measured, and their scores.

Built in:

* ``cnn`` (images): the small CNN of gankit's domain classifier (:class:`gankit.metrics.classifier.
  DomainClassifier`: three 3x3 conv layers, 128 features, dropout 0.3), trained from scratch with Adam
  (2e-3, decayed to 0 on a cosine: on 1,000 MNIST images it halved the seed-to-seed spread of the
  test accuracy, 0.7% -> 0.3%) for a fixed number of steps of 64 items drawn at random — the *same*
  number for every arm, so that adding items does not also mean training longer (one fixed recipe, as
  the Classification Accuracy Score of Ravuri & Vinyals 2019 fixes its classifier's);
* ``gradient_boosting`` and ``logistic`` (tables): scikit-learn's HistGradientBoostingClassifier with
  category columns as native categories, and LogisticRegression on one-hot categories and standardised,
  median-imputed numbers — the models of gankit's train-on-synthetic utility score
  (:mod:`gankit.metrics.table_utility`; CTGAN's machine-learning efficacy, Xu et al. 2019);
* any scikit-learn estimator from Python (``classifier=RandomForestClassifier()``): cloned for every
  fit, its ``random_state`` set to the seed when it has one; it gets images flattened to (N, C*H*W),
  tables as gankit's column space (numbers, category indices, NaN when missing).

Scores on the held-out items: accuracy, macro-F1 (over the classes the holdout has) and the recall
of every class (the minority classes are where augmentation is supposed to help).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from gankit.augmentation.options import IMAGE_CLASSIFIERS, TABLE_CLASSIFIERS
from gankit.augmentation.sets import Split
from gankit.errors import GankitError, arg

CNN_BATCH, CNN_LR = 64, 2e-3


@dataclass
class Fitted:
    """A trained classifier: ``proba(x)`` -> (N, K) probabilities over all of the split's classes."""

    name: str
    proba: Callable[[np.ndarray], np.ndarray]


def specs(classifier: Any, kind: str) -> list[tuple[str, Any]]:
    """[(name, what fits)] of ``classifier``: None -> the built-in ones for the data, a comma list of
    built-in names, or a scikit-learn estimator (anything with ``fit``)."""
    if classifier is not None and hasattr(classifier, "fit"):
        return [(type(classifier).__name__, classifier)]
    builtin = IMAGE_CLASSIFIERS if kind == "image" else TABLE_CLASSIFIERS
    names = list(builtin) if classifier is None else [c.strip() for c in str(classifier).split(",") if c.strip()]
    for name in names:
        if name not in builtin:
            other = TABLE_CLASSIFIERS if kind == "image" else IMAGE_CLASSIFIERS
            why = f" ({name} is for {'tables' if kind == 'image' else 'images'})" if name in other else ""
            raise GankitError(f"{arg('classifier', classifier)}: unknown classifier {name!r} for this data{why}; "
                              f"built in: {', '.join(builtin)} (from Python, any scikit-learn estimator)")
    return [(n, n) for n in names] or [(n, n) for n in builtin]


def fit(spec: Any, x: np.ndarray, y: np.ndarray, split: Split, seed: int, *, cnn_steps: int = 1000,
        device: str = "cpu") -> Fitted:
    """Train the classifier ``spec`` (a built-in name or an estimator) on (x, y) with ``seed``."""
    k = len(split.classes)
    if isinstance(spec, str) and spec == "cnn":
        return _fit_cnn(x, y, k, seed, cnn_steps, device)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):  # scikit-learn's OpenMP threads spin on a busy machine (gankit/metrics)
        if isinstance(spec, str):
            return _fit_table(spec, x, y, split, seed)
        return _fit_estimator(spec, x, y, k, seed)


def _fit_cnn(x: np.ndarray, y: np.ndarray, k: int, seed: int, steps: int, device: str) -> Fitted:
    import math

    import torch
    import torch.nn.functional as F

    from gankit.metrics.classifier import DomainClassifier

    X, Y = torch.from_numpy(np.ascontiguousarray(x, np.float32)).to(device), torch.from_numpy(y).to(device)
    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):  # seeded weights and dropout, the caller's RNG untouched
        torch.manual_seed(seed)
        model = DomainClassifier(tuple(x.shape[1:]), k).to(device)
        opt = torch.optim.Adam(model.parameters(), lr=CNN_LR)
        model.train()
        for step in range(steps):
            for group in opt.param_groups:  # cosine decay to 0: the last weights settle (less seed-to-seed noise)
                group["lr"] = CNN_LR * 0.5 * (1 + math.cos(math.pi * step / steps))
            idx = torch.randint(len(X), (min(CNN_BATCH, len(X)),), generator=gen).to(device)
            loss = F.cross_entropy(model(X[idx]), Y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    model.eval()

    def proba(items: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            t = torch.from_numpy(np.ascontiguousarray(items, np.float32))
            return torch.cat([F.softmax(model(b.to(device)), 1).cpu() for b in t.split(1000)]).numpy() \
                if len(t) else np.zeros((0, k))

    return Fitted("cnn", proba)


def _fit_table(name: str, x: np.ndarray, y: np.ndarray, split: Split, seed: int) -> Fitted:
    from sklearn.dummy import DummyClassifier

    from gankit.metrics.table_utility import make_model

    info = split.table
    if len(np.unique(y)) < 2:
        model = DummyClassifier(strategy="most_frequent").fit(x, y)
    else:
        model = make_model("linear" if name == "logistic" else name, True, info.numeric, info.sizes, seed).fit(x, y)
    return Fitted(name, _all_classes(model, len(split.classes), lambda m, z: m.predict_proba(z)))


def _fit_estimator(estimator: Any, x: np.ndarray, y: np.ndarray, k: int, seed: int) -> Fitted:
    from sklearn.base import clone

    model = clone(estimator)
    if "random_state" in model.get_params():
        model.set_params(random_state=seed)
    model.fit(x.reshape(len(x), -1), y)
    if hasattr(model, "predict_proba"):
        def read(m, z):
            return m.predict_proba(z.reshape(len(z), -1))
    else:  # a classifier without probabilities: its prediction with probability 1
        def read(m, z):
            pred = np.asarray(m.predict(z.reshape(len(z), -1)))
            return (pred[:, None] == m.classes_[None, :]).astype(float)
    return Fitted(type(estimator).__name__, _all_classes(model, k, read))


def _all_classes(model, k: int, read) -> Callable[[np.ndarray], np.ndarray]:
    """(N, k) probabilities over every class, 0 for a class the model never saw."""
    columns = np.asarray(model.classes_).astype(np.int64)

    def proba(items: np.ndarray) -> np.ndarray:
        out = np.zeros((len(items), k))
        if len(items):
            out[:, columns] = read(model, items)
        return out

    return proba


def scores(y: np.ndarray, proba: np.ndarray, k: int) -> dict:
    """Accuracy, macro-F1 over the classes ``y`` has, and the recall of each class (None: not in ``y``)."""
    from sklearn.metrics import f1_score, recall_score

    pred = proba.argmax(axis=1)
    present = np.unique(y)
    recall = recall_score(y, pred, labels=np.arange(k), average=None, zero_division=0)
    return {"accuracy": float((pred == y).mean()),
            "macro_f1": float(f1_score(y, pred, labels=present, average="macro", zero_division=0)),
            "recall": [float(r) if c in present else None for c, r in enumerate(recall)]}
