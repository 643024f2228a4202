"""The layout keeps its promises, read from the source (nothing is imported): imports point one way.

* The loop's package (gankit.training) imports no task, modality, model, loss, data source or metric:
  a new task or modality never needs an edit there.
* The library never imports the command line (only ``python -m gankit`` does).
* No import circle anywhere in gankit/, counting every import, those inside functions too.
* No module over 400 lines and no function over 60, apart from declarative tables (the argument parser).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "gankit"
#: declarative tables allowed to be long
LONG_TABLES: set[str] = set()  # no function is exempt from the length rule


def _modname(f: Path) -> str:
    parts = list(f.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_modname(f): f for f in PACKAGE.rglob("*.py")}


def _imports(name: str, f: Path, known: dict[str, Path]) -> set[str]:
    """Every gankit module ``name`` imports (resolved to the longest known module name)."""
    pkg = name if f.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(f.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = pkg.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
            targets = [base, *(f"{base}.{a.name}" for a in node.names)]
        else:
            continue
        for t in targets:
            while t and t not in known:
                t = t.rpartition(".")[0]
            if t and t != name and not name.startswith(t + "."):  # a module's own package face is no circle
                out.add(t)
    return out


def _graph() -> dict[str, set[str]]:
    known = _modules()
    return {m: _imports(m, f, known) for m, f in known.items()}


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_no_import_circle_anywhere():
    assert _circles(_graph()) == []


def test_the_loop_imports_no_task_modality_model_or_metric():
    graph = _graph()
    forbidden = ("gankit.tasks", "gankit.modalities", "gankit.models", "gankit.losses", "gankit.data",
                 "gankit.metrics", "gankit.run.session", "gankit.run.setup", "gankit.api", "gankit.cli")
    allowed = {"gankit.tasks.base"}  # the contract the loop runs
    for m, deps in graph.items():
        if m == "gankit.training" or m.startswith("gankit.training."):
            bad = {d for d in deps if d not in allowed and any(d == f or d.startswith(f + ".") for f in forbidden)}
            assert not bad, f"{m} imports {sorted(bad)}"


def test_the_library_never_imports_the_cli():
    graph = _graph()
    users = sorted(m for m, deps in graph.items() if "gankit.cli" in deps)
    assert users == ["gankit.__main__"]


def test_modules_and_functions_stay_short():
    long_modules, long_functions = [], []
    for name, f in _modules().items():
        src = f.read_text()
        if len(src.splitlines()) > 400:
            long_modules.append(name)
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                qual = f"{name}.{node.name}"
                if node.end_lineno - node.lineno + 1 > 60 and qual not in LONG_TABLES:
                    long_functions.append(qual)
    assert long_modules == [] and long_functions == []


def test_the_checker_sees_a_circle_and_a_forbidden_import(tmp_path):
    """The checks above can fail: a planted circle is found."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _circles(graph) == [["a", "b", "c"]]
