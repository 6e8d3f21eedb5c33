"""Imports run one way: base -> specs and project -> statistics -> run folder -> stages ->
pipeline -> cli (issue 11, item 7).

Every module of sid/ is parsed (ast) and every import is counted, those inside functions
too (a lazy import does not hide a dependency). Importing ``sid.a.b`` also runs
``sid/a/__init__.py``, so it counts as importing ``sid.a`` as well (unless that __init__
imports nothing of sid, or the importer is in ``sid.a``: then it has nothing to run). The
rules:

1. a module imports modules of its own layer or of a lower one (LAYERS below, lowest
   first; a module's layer is that of the longest prefix listed);
2. in the stages layer, a stage imports only its own modules: no stage imports another
   stage's module (what two stages share lives in a lower layer);
3. no import cycle between modules.

The layers, and why a module sits where it does:

base        errors, progress lines, files (SPSS, atomic writes, hashes, the raw wave's
            files), and the connection to the indicator base (sid.linkage.db: a DuckDB file
            or a PostgreSQL URL, which the linkage spec and the schema read). The package ``sid`` itself: its body imports nothing (its public
            names are resolved lazily, by name, when first used).
spec        the specs and the expression language (sid.spec), the project file
            (sid.project), and the spec formats that live beside their stage: the linkage
            spec and the indicator base's schema (sid.linkage.spec, .schema), the table
            plan and labels (sid.tables.plan, .labels).
statistics  the engines the stages drive: estimation (the Design), weighting, scales,
            fieldwork rates and key checks, table building, linkage indicators and the
            indicator base, the trend over waves (sid.trends). Pure computations over arrays
            and frames, and the file formats they own (a workbook, the DuckDB base).
run folder  sid.runfolder: the manifest, the wave a run folder holds, and sid.open_wave
            (the processed wave: it builds a Design and tables on it).
rendering   the rendering library every report page uses (sid.report.render: the jinja2
            environment and number formats; .charts: inline SVG; .provenance) and the trend
            page (sid.report.trend_page, .trend_chart), which the trend stage writes.
stages      one stage each: ingest, clean, fieldwork, weight, score, tables, link, report,
            and the demo generator (it writes a data folder, as a stage writes its own).
pipeline    sid run: the stages in order.
cli         the ``sid`` command, a thin shell over the pipeline and the stages.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

SID = Path(__file__).resolve().parents[1] / "sid"

LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("base", ("sid", "sid.errors", "sid.progress", "sid.io", "sid.linkage.db")),
    ("spec", ("sid.spec", "sid.project", "sid.linkage.spec", "sid.linkage.schema", "sid.tables.plan",
              "sid.tables.labels", "sid.smallarea.spec")),
    ("statistics", ("sid.estimation", "sid.weighting", "sid.scales", "sid.fieldwork", "sid.tables",
                    "sid.linkage", "sid.smallarea", "sid.trends")),
    ("run folder", ("sid.runfolder",)),
    # the rendering library every page uses (jinja2 environment, SVG charts, provenance
    # block) and the trend page the trend stage writes: not a stage of their own
    ("rendering", ("sid.report.render", "sid.report.charts", "sid.report.provenance", "sid.report.trend_chart",
                   "sid.report.trend_page")),
    ("stages", ("sid.pipeline.ingest", "sid.clean", "sid.fieldwork.stage", "sid.weighting.stage",
                "sid.scales.stage", "sid.tables.stage", "sid.linkage.stage", "sid.smallarea.stage", "sid.trends.stage", "sid.report",
                "sid.demo")),
    ("pipeline", ("sid.pipeline",)),
    ("cli", ("sid.cli",)),
]
RANK = {name: i for i, (name, _) in enumerate(LAYERS)}
STAGE_LAYER = "stages"


def _modules() -> dict[str, Path]:
    out = {}
    for p in sorted(SID.rglob("*.py")):
        parts = p.relative_to(SID.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = p
    return out


MODULES = _modules()


def _prefix(module: str) -> str:
    """The longest prefix of ``module`` listed in LAYERS."""
    best = None
    for _, prefixes in LAYERS:
        for pre in prefixes:
            if (module == pre or module.startswith(pre + ".")) and (best is None or len(pre) > len(best)):
                best = pre
    assert best is not None, f"{module} is in no layer: add it to LAYERS"
    return best


def layer(module: str) -> str:
    pre = _prefix(module)
    return next(name for name, prefixes in LAYERS if pre in prefixes)


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = base[: len(base) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def _target(name: str) -> str | None:
    """The sid module an imported name refers to (a module, or the module that defines it)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _named(module: str) -> list[str]:
    """The sid names ``module`` imports, anywhere in it (inside functions too)."""
    path = MODULES[module]
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, path, node)
            names += [f"{base}.{a.name}" for a in node.names] or [base]
    return [n for n in names if n.startswith("sid")]


# a package whose __init__ imports nothing of sid runs nothing when a module of it is imported
INERT = {m for m, p in MODULES.items() if p.name == "__init__.py" and not _named(m)}


def imports(module: str) -> set[str]:
    """Every sid module ``module`` imports, anywhere in it, with the packages run on the way."""
    found: set[str] = set()
    for n in _named(module):
        first = t = _target(n)
        while t:  # importing sid.a.b runs sid/a/__init__.py (and sid/__init__.py) too,
            # unless the importer lies in that package (it has run already) or it is inert
            if not module.startswith(t + ".") and (t == first or t not in INERT):
                found.add(t)
            t = t.rpartition(".")[0]
    found.discard(module)
    return found


GRAPH = {m: imports(m) for m in MODULES}


def test_every_module_has_a_layer():
    for m in MODULES:
        layer(m)


def test_the_root_package_imports_nothing_of_sid():
    assert GRAPH["sid"] == set(), GRAPH["sid"]


def test_imports_run_from_a_higher_layer_to_the_same_or_a_lower_one():
    up = sorted(f"{m} ({layer(m)}) imports {t} ({layer(t)})"
                for m, targets in GRAPH.items() for t in targets
                if t != "sid" and RANK[layer(t)] > RANK[layer(m)])
    assert up == []


def test_no_stage_imports_another_stages_module():
    cross = sorted(f"{m} imports {t}" for m, targets in GRAPH.items() if layer(m) == STAGE_LAYER
                   for t in targets if layer(t) == STAGE_LAYER and _prefix(t) != _prefix(m))
    assert cross == []


def test_there_is_no_import_cycle():
    # strongly connected components (Tarjan) of the module graph, imports inside functions too
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w == "sid":  # the root package's names are resolved by name, lazily
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for m in MODULES:
        if m not in index:
            visit(m)
    assert cycles == []


def test_the_test_sees_the_imports_it_must_see():
    # the checks above can fail: the parser finds a lazy import inside a function, the
    # package __init__ it runs, and a relative import
    assert "sid.runfolder.wave" in GRAPH["sid.tables.stage"]  # imported inside run_tables
    assert "sid.fieldwork" in GRAPH["sid.weighting.stage"]  # the package's __init__ runs
    assert "sid.clean" in GRAPH["sid.pipeline.run"] and "sid.linkage" not in GRAPH["sid.linkage.stage"]
    assert layer("sid.tables.stage") == STAGE_LAYER and layer("sid.tables.build") == "statistics"
    assert layer("sid.linkage.spec") == "spec" and layer("sid.cli.commands.run") == "cli"
    bad = defaultdict(set, {"sid.io.wave": {"sid.clean.stage"}})
    assert any(RANK[layer(t)] > RANK[layer(m)] for m, ts in bad.items() for t in ts)
