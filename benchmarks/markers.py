"""A generated section of BENCHMARKS.md between two HTML-comment markers, replaced in place on each
``--record`` (or appended, under ``heading`` when one is given, the first time)."""

from __future__ import annotations

from pathlib import Path


def put_between(doc: Path, start: str, end: str, md: str, heading: str = "") -> None:
    """Write ``md`` between ``start`` and ``end`` in ``doc``, keeping everything around them."""
    text = doc.read_text() if doc.exists() else ""
    block = f"{start}\n{md}{end}"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text += ("\n" if text else "") + heading + block + "\n"
    doc.write_text(text)
