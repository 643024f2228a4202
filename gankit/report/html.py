"""A self-contained ``report.html`` per run: images embedded as data URIs, no server, no network.

It shows what a person asks of a run: how it went (status, timing, health warnings), how good it is
(metrics with their provenance from ``eval.json``), what it makes (sample grids over time and an
animation of the fixed-noise samples; real-vs-generated plots for tables; for sound, the preview
clips as playable ``<audio>`` elements, :mod:`gankit.report.audio`), how it was set up
(config, model summaries) and the curves. ``gankit report RUN`` rebuilds it at any time.
"""

from __future__ import annotations

import base64
import csv
import html
import json
from pathlib import Path

from gankit.errors import GankitError
from gankit.report.tables import CORRELATIONS
from gankit.run.folder import (CONFIG, CURVES, EVAL_JSON, INFO, METRIC_CURVES, METRICS, REAL, REPORT, SAMPLES,
                               SAMPLES_GIF)


def _img(path: Path, alt: str, mime: str = "image/png") -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{html.escape(alt)}" src="data:{mime};base64,{data}">'


def _json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def samples_gif(run: Path, max_frames: int = 40) -> Path | None:
    """Animated GIF of the fixed-noise sample grids over training (``samples.gif``)."""
    from PIL import Image

    frames = sorted((run / SAMPLES).glob("step_*.png"))
    if len(frames) < 2:
        return None
    step = max(1, len(frames) // max_frames)
    frames = frames[::step][: max_frames - 1] + [frames[-1]]
    imgs = [Image.open(f).convert("RGB").quantize(colors=128) for f in frames]
    out = run / SAMPLES_GIF
    imgs[0].save(out, save_all=True, append_images=imgs[1:], duration=400, loop=0)
    return out


PROVENANCE = ("extractor", "extractor_sha256", "n_real", "n_generated", "reference_split", "seed", "step")


def _metrics_table(ev: dict) -> str:
    """Scores of eval.json, each beside its provenance (extractor and hash, sample counts, seed, step)."""
    scores = ev.get("scores") or {}
    if not scores:
        return "<p>No evaluation yet: run <code>gankit eval RUN</code>, then <code>gankit report RUN</code>.</p>"
    rows = []
    for name, rec in scores.items():
        value = rec.get("value") if isinstance(rec, dict) else rec
        prov = []
        for k in PROVENANCE:
            v = rec.get(k) if isinstance(rec, dict) else None
            if v is not None:
                prov.append(f"{k}: {str(v)[:12] if k.endswith('sha256') else v}")
        shown = f"{value:.4g}" if isinstance(value, float) else html.escape(str(value))
        rows.append(f"<tr><td>{html.escape(str(name))}</td><td>{shown}</td><td class=prov>"
                    f"{html.escape(', '.join(prov))}</td></tr>")
    return "<table><tr><th>metric</th><th>value</th><th>provenance</th></tr>" + "".join(rows) + "</table>"


def data_name(d: dict) -> str | None:
    """The data set as a person names it: ``shapes/ (images)`` for their own files, ``digits`` for a built-in."""
    if not d:
        return None
    return f"{d['path']} ({d.get('name')})" if d.get("path") else d.get("name")


def _last_rows(path: Path, n: int = 1) -> list[dict]:
    try:
        with open(path, newline="") as f:
            return list(csv.DictReader(f))[-n:]
    except OSError:
        return []


def _samples_section(run: Path) -> list[str]:
    """The final grid beside real data (and a table's associations), the GIF, and grids over time."""
    grids = sorted((run / SAMPLES).glob("step_*.png"))
    if not grids:
        return []
    parts = ["<h2>Samples</h2><div class=row>",
             f"<figure>{_img(grids[-1], 'final samples')}<figcaption>{grids[-1].stem}</figcaption></figure>"]
    real = run / SAMPLES / REAL
    if real.exists():
        parts.append(f"<figure>{_img(real, 'real data')}<figcaption>real data</figcaption></figure>")
    pairs = run / SAMPLES / CORRELATIONS  # a table run: real and synthetic associations side by side
    if pairs.exists():
        parts.append(f"<figure>{_img(pairs, 'associations')}<figcaption>associations between columns, real "
                     f"and synthetic</figcaption></figure>")
    gif = samples_gif(run)
    if gif is not None:
        parts.append(f"<figure>{_img(gif, 'samples over training', 'image/gif')}"
                     f"<figcaption>fixed noise over training</figcaption></figure>")
    parts.append("</div><h3>Over time</h3><div class=row>")
    pick = grids if len(grids) <= 6 else [grids[int(i * (len(grids) - 1) / 5)] for i in range(6)]
    parts += [f"<figure class=small>{_img(g, g.stem)}<figcaption>{g.stem}</figcaption></figure>" for g in pick]
    parts.append("</div>")
    return parts


def build_report(run: str | Path, summary_text: str | None = None) -> Path:
    """Write ``RUN/report.html`` from what the run folder holds; returns its path."""
    run = Path(run)
    if not (run / CONFIG).exists():
        raise GankitError(f"{run}: not a gankit run folder (no {CONFIG})")
    info = _json(run / INFO)
    ev = _json(run / EVAL_JSON)
    warnings = info.get("warnings", [])
    parts = [f"<h1>gankit run <code>{html.escape(run.name)}</code></h1>"]
    facts = {
        "status": info.get("status", "?"), "preset": info.get("preset"), "data": data_name(info.get("data") or {}),
        "items": (info.get("data") or {}).get("items"),
        "steps": f"{info.get('steps_done', '?')} / {info.get('steps', '?')}", "device": info.get("device"),
        "seconds": info.get("seconds"), "gankit": info.get("gankit_version"),
    }
    last = _last_rows(run / METRICS)
    if last:
        facts.update({f"last {k}": v for k, v in last[0].items() if k not in ("step", "epoch", "seconds")})
    parts.append("<table>" + "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
                                     for k, v in facts.items() if v is not None) + "</table>")
    parts.append("<h2>Health</h2>")
    if warnings:
        parts.append("<ul class=warn>" + "".join(
            f"<li>{html.escape(w.get('message', str(w)) if isinstance(w, dict) else str(w))}</li>" for w in warnings)
            + "</ul>")
    else:
        parts.append("<p>No health warnings.</p>")
    parts.append("<h2>Metrics</h2>" + _metrics_table(ev))
    parts += _samples_section(run)
    from gankit.report.audio import audio_section

    parts.append(audio_section(run, SAMPLES))  # sound runs: the preview clips, playable
    for name, title in ((CURVES, "Curves"), (METRIC_CURVES, "Metric curves")):
        if (run / name).exists():
            parts.append(f"<h2>{title}</h2>{_img(run / name, title)}")
    if summary_text:
        parts.append(f"<h2>Models</h2><pre>{html.escape(summary_text)}</pre>")
    parts.append(f"<h2>Config</h2><pre>{html.escape((run / 'config.yaml').read_text())}</pre>")
    page = TEMPLATE.replace("{title}", html.escape(run.name)).replace("{body}", "\n".join(parts))
    out = run / REPORT
    from gankit.checkpoint import atomic_write

    atomic_write(out, page.encode())
    return out


TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>gankit {title}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}
.prov{color:#666;font-size:.85em}.warn li{color:#a40}pre{background:#f6f6f6;padding:.8em;overflow:auto;font-size:.8em}
.row{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0}
.small img{width:240px;height:240px;object-fit:contain;background:#eee;image-rendering:pixelated}
img{max-width:100%;image-rendering:pixelated}
.audio{overflow-x:auto}.audio audio{width:150px;height:32px}
</style></head>
<body data-images-ok="0" data-errors="0">
{body}
<script>
window.addEventListener('error', () => { document.body.dataset.errors = +document.body.dataset.errors + 1; });
window.addEventListener('load', () => {
  const imgs = [...document.images];
  document.body.dataset.imagesOk = imgs.filter(i => i.complete && i.naturalWidth > 0).length;
  document.body.dataset.images = imgs.length;
});
// sound runs: every <audio> must load its WAV; its duration is recorded for the browser test
const clips = [...document.querySelectorAll('audio')];
document.body.dataset.audios = clips.length;
document.body.dataset.audiosOk = 0;
document.body.dataset.audioErrors = 0;
document.body.dataset.audioDurations = '';
clips.forEach(a => {
  const ok = () => {
    document.body.dataset.audiosOk = +document.body.dataset.audiosOk + 1;
    document.body.dataset.audioDurations += (document.body.dataset.audioDurations ? ',' : '') + a.duration.toFixed(4);
  };
  if (a.readyState >= 1) ok(); else a.addEventListener('loadedmetadata', ok, {once: true});
  a.addEventListener('error', () => { document.body.dataset.audioErrors = +document.body.dataset.audioErrors + 1; });
});
</script>
</body></html>
"""
