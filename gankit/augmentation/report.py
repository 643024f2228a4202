"""The measurement's verdict, said plainly: JSON for programs, a short markdown table for people.

Every arm's gain over ``real`` is the paired difference of its macro-F1 (the score that weighs every
class alike, so minority classes count) at each seed; its mean and sample standard deviation over
the seeds decide the verdict:

* ``gain``: mean - spread > 0 (the arm is better by more than its seed-to-seed noise);
* ``loss``: mean + spread < 0;
* ``no measurable gain``: anything else — including small positive means within the noise.

With one seed there is no spread, and the verdict says so. The positive control (extra real items)
is read first: when even real items give no measurable gain, the classifier is saturated or the
holdout too small, and no augmentation could show a gain here.
"""

from __future__ import annotations

import numpy as np

from gankit.augmentation.gain import ARMS

GAIN, LOSS, NONE = "gain", "loss", "no measurable gain"


def _stats(values: list) -> dict:
    v = np.array([np.nan if x is None else x for x in values], np.float64)
    ok = v[~np.isnan(v)]
    if not len(ok):
        return {"mean": None, "std": None, "values": []}
    std = float(ok.std(ddof=1)) if len(ok) > 1 else 0.0
    return {"mean": round(float(ok.mean()), 6), "std": round(std, 6), "values": [round(float(x), 6) for x in ok]}


def verdict(gain: dict) -> str:
    """``gain``, ``loss`` or ``no measurable gain`` from a paired difference's mean and spread."""
    m, s = gain["mean"], gain["std"]
    if m is None:
        return NONE
    return GAIN if m - s > 0 else LOSS if m + s < 0 else NONE


def _arm(runs: list[dict], real: list[dict]) -> dict:
    """Mean and spread of an arm's scores, and of its paired gain over ``real`` (when it is not real)."""
    out = {"accuracy": _stats([r["accuracy"] for r in runs]), "macro_f1": _stats([r["macro_f1"] for r in runs]),
           "recall": [_stats(list(c)) for c in zip(*[r["recall"] for r in runs])]}
    if runs is not real:
        def diff(key: str) -> dict:
            return _stats([a[key] - b[key] for a, b in zip(runs, real)])

        per_class = zip(zip(*[r["recall"] for r in runs]), zip(*[r["recall"] for r in real]))
        out["gain"] = {"accuracy": diff("accuracy"), "macro_f1": diff("macro_f1"),
                       "recall": [_stats([None if a is None or b is None else a - b for a, b in zip(ca, cb)])
                                  for ca, cb in per_class]}
        out["verdict"] = verdict(out["gain"]["macro_f1"])
    return out


def summarise(raw: dict, context: dict) -> dict:
    """The gain document: ``context`` (what was measured) + per classifier and arm the scores, gains and
    verdicts, and a ``headline`` sentence per classifier."""
    doc = {**context, "seeds": raw["seeds"], "added": {a: _stats(v) for a, v in raw["added"].items()},
           "classifiers": {}, "headline": {}}
    if raw.get("filter"):
        doc["filter_draws"] = raw["filter"]
    if raw.get("shortfall") and any(raw["shortfall"]):
        doc["pool_shortfall"] = dict(zip(context["classes"], raw["shortfall"]))
    for name, arms in raw["scores"].items():
        real = arms["real"]
        doc["classifiers"][name] = {arm: _arm(runs, real) for arm, runs in arms.items()}
        doc["headline"][name] = headline(doc["classifiers"][name], len(raw["seeds"]), doc)
    return doc


def _said(arm: dict) -> str:
    g = arm["gain"]["macro_f1"]
    return f"macro-F1 {g['mean']:+.4f} ± {g['std']:.4f} ({arm['verdict']})"


def headline(arms: dict, seeds: int, doc: dict | None = None) -> str:
    """One plain sentence: does synthetic data help here, against the baseline and the positive control."""
    parts = []
    for arm in ("gan", "gan_filtered"):
        if arm in arms:
            v = arms[arm]["verdict"]
            what = "helps" if v == GAIN else "hurts" if v == LOSS else "does not help here"
            label = "synthetic data" if arm == "gan" else "filtered synthetic data"
            kept = ""
            if arm == "gan_filtered" and doc is not None:
                kept = (f" (the filter kept {doc['added']['gan_filtered']['mean']:,.0f} of "
                        f"{sum(doc['synthetic_per_class']):,} items)")
            parts.append(f"{label}{kept} {what}: {_said(arms[arm])}")
    if "baseline" in arms:
        parts.append(f"the standard augmentation: {_said(arms['baseline'])}")
    if "extra_real" in arms:
        control = arms["extra_real"]
        parts.append(f"as many extra real items: {_said(control)}"
                     + ("" if control["verdict"] == GAIN else " — even real items show no gain here, so no "
                        "augmentation could"))
    text = "; ".join(parts) + "."
    one = " One seed: no spread to judge the gain by; use 3 or more." if seeds < 2 else ""
    return text[0].upper() + text[1:] + one


def _cell(s: dict, signed: bool = False) -> str:
    if s is None or s.get("mean") is None:
        return "–"
    return f"{s['mean']:+.4f} ± {s['std']:.4f}" if signed else f"{s['mean']:.4f} ± {s['std']:.4f}"


def markdown(doc: dict) -> str:
    """A short report: what was measured, one table per classifier, recall per class, the verdict."""
    lines = [f"## Augmentation gain: {doc['data']} ({doc['mode']})", "",
             f"- held out: {doc['holdout']['items']:,} real items ({doc['holdout']['source']}), never seen by the "
             f"generator, a classifier or the filter",
             f"- training split: {doc['train']['items']:,} real items; synthetic items added per class: "
             f"{', '.join(f'{c} {n}' for c, n in zip(doc['classes'], doc['synthetic_per_class']))}",
             f"- generator: {doc['generator']['run']} ({doc['generator']['weights']}); baseline: {doc['baseline']}; "
             f"seeds: {', '.join(map(str, doc['seeds']))}", ""]
    for name, arms in doc["classifiers"].items():
        lines += [f"### {name}", "", "| arm | items added | accuracy | macro-F1 | macro-F1 gain | verdict |",
                  "|---|---|---|---|---|---|"]
        for arm, a in arms.items():
            added = doc["added"].get(arm, {}).get("mean") if arm != "real" else 0
            gain = _cell(a["gain"]["macro_f1"], True) if arm != "real" else ""
            lines.append(f"| {ARMS[arm]} | {'–' if added is None else f'{added:,.0f}'} | {_cell(a['accuracy'])} | "
                         f"{_cell(a['macro_f1'])} | {gain} | {a.get('verdict', '')} |")
        lines += ["", "Recall per class (mean over seeds):", "",
                  "| class | real items | " + " | ".join(ARMS[a] for a in arms) + " |",
                  "|---|---|" + "---|" * len(arms)]
        for c, cls in enumerate(doc["classes"]):
            cells = [_cell(a["recall"][c]).split(" ±")[0] for a in arms.values()]
            lines.append(f"| {cls} | {doc['train']['per_class'][c]:,} | " + " | ".join(cells) + " |")
        lines += ["", f"**{doc['headline'][name]}**", ""]
    return "\n".join(lines)
