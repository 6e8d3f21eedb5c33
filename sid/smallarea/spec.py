"""The small-area spec (``linkage/<wave>_smallarea.yaml``): which indicators get
Fay-Herriot estimates per municipality, with which covariates, and the publication rules.

Keys: ``area`` (the respondents' area variable, e.g. ``municipality``, NIS codes);
``covariates`` (CSV in the wave's data folder, one row per area: ``nis``, ``name``,
``cluster``, ``population`` and the covariate columns); ``clusters`` (CSV in the project:
nis, cluster, cluster_name); ``model`` (list of covariate columns); ``method`` REML/ML;
``min_n`` (areas with fewer respondents: direct estimate not shown, variance smoothed);
``max_cv`` (estimates with a larger CV are flagged not publishable); ``benchmark`` (none,
ratio, difference); ``period``; ``base_wave`` (the indicator base's wave name, default
``<wave>-smallarea``); ``base`` (the shared indicator base ``sid publish`` takes the wave to
when the project wave has no linkage spec; with one, it may only name the linkage spec's
base, the default: a run publishes into one base, in one transaction. The stage itself
always loads the run's own ``RUN/smallarea/base.duckdb``, or ``--db``);
``indicators``: list of {code, variable, name, unit, transform (none/arcsine)};
``average`` (optional): {code, name, condition}, the region whose direct estimate is the
published regional average (e.g. VLG, Vlaams Gewest, ``region == 1``: the Flemish average
leaves Brussels out); default: all respondents (code ALL). Benchmarking always uses all.

Design variances (``gvf``): ``loglinear``/``pooled``/``deff`` smooth the direct variances
(sid.smallarea.gvf); ``register`` takes the anticipated variance from the register
composition of each area (``register_counts``: {file: CSV in the data folder with nis,
one column per ``variance_cells`` variable and count; columns: {respondent variable:
column of the file} where the names differ}); ``weights`` the variance conditional on
the realised sample (S^2 x sum w^2 / (sum w)^2, for clustered designs whose areas are
PSUs). Both pool the moments of each indicator per cell of ``variance_cells`` (respondent
variables, e.g. [stratum, region]); see sid.smallarea.register_gvf.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from sid.spec.expr import Expression, parse
from sid.spec.yamlfile import Section, Where, load_yaml

_TOP = {"area", "covariates", "clusters", "model", "method", "gvf", "smooth", "min_n", "max_cv", "benchmark",
        "period", "base_wave", "base", "indicators", "variance_cells", "register_counts",
        "average"}
_IND = {"code", "variable", "name", "unit", "transform"}


@dataclass(frozen=True)
class SAIndicator:
    """One indicator: base code, respondent variable, Dutch name, unit, transform."""

    code: str
    variable: str
    name: str
    unit: str
    transform: str | None


@dataclass(frozen=True)
class SmallAreaSpec:
    """A loaded small-area spec (paths resolved)."""

    path: Path
    area: str
    covariates: str
    clusters: Path | None
    model: tuple[str, ...]
    method: str
    gvf: str
    smooth: str
    min_n: int
    max_cv: float
    benchmark: str | None
    period: int
    base_wave: str | None
    base: Path | None
    indicators: tuple[SAIndicator, ...]
    spec_hash: str
    variance_cells: tuple[str, ...] = ()
    register_counts: str | None = None
    register_columns: tuple[tuple[str, str], ...] = ()
    average_code: str = "ALL"
    average_name: str = "alle respondenten"
    average_condition: Expression | None = None


def load_smallarea_spec(path: str | Path, project_dir: str | Path) -> SmallAreaSpec:
    """Read and validate the spec; one-line SpecErrors naming file, line and key."""
    path = Path(path)
    root = Path(project_dir)
    s = Section(load_yaml(path), Where(str(path)), keys=_TOP,
                required={"area", "covariates", "model", "period", "indicators"})
    clusters = s.text("clusters", None)
    cl = (root / clusters).resolve() if clusters else None
    if cl is not None and not cl.is_file():
        raise s.at("clusters").error(f"{clusters}: no such file in the project folder {root}")
    base = s.text("base", None)
    inds: list[SAIndicator] = []
    for _, item in s.items("indicators"):
        d = Section(item.value, item.where, keys=_IND, required={"code", "variable", "name"})
        tr = d.text("transform", "none", choices=("none", "arcsine"))
        inds.append(SAIndicator(d.text("code"), d.text("variable"), d.text("name"), d.text("unit", ""),
                                None if tr == "none" else tr))
    if not inds:
        raise s.at("indicators").error("expected at least one indicator")
    codes = [i.code for i in inds]
    dup = sorted({c for c in codes if codes.count(c) > 1})
    if dup:
        raise s.at("indicators").error(f"indicator code {dup[0]!r} listed twice; give each its own code")
    bench = s.text("benchmark", "none", choices=("none", "ratio", "difference"))
    gvf = s.text("gvf", "deff", choices=("loglinear", "pooled", "deff", "register", "weights"))
    cells = tuple(s.names("variance_cells", ()))
    if gvf in ("register", "weights") and not cells:
        raise s.at("gvf").error(f"gvf {gvf} pools variances per cell; add variance_cells: [respondent variables] "
                                "(e.g. [stratum, region])")
    counts, columns = None, ()
    if gvf == "register":
        if "register_counts" not in s:
            raise s.at("gvf").error("gvf register needs the register counts per area and cell; add register_counts: "
                                    "{file: <CSV in the data folder>}")
        rc = s.section("register_counts", keys={"file", "columns"}, required={"file"})
        counts = rc.text("file")
        cmap = rc.get("columns", {}) or {}
        if not isinstance(cmap, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in cmap.items()):
            raise rc.at("columns").error("expected a mapping of respondent variable: column of the counts file")
        unknown = sorted(set(cmap) - set(cells))
        if unknown:
            raise rc.at("columns").error(f"{unknown[0]!r} is not one of variance_cells ({', '.join(cells)})")
        columns = tuple((c, cmap.get(c, c)) for c in cells)
    avg_code, avg_name, avg_cond = "ALL", "alle respondenten", None
    if "average" in s:
        a = s.section("average", keys={"code", "name", "condition"}, required={"code", "name", "condition"})
        avg_code, avg_name = a.text("code"), a.text("name")
        avg_cond = parse(a.text("condition"), where=str(a.at("condition")))
    return SmallAreaSpec(
        path=path, area=s.text("area"), covariates=s.text("covariates"), clusters=cl, model=tuple(s.names("model")),
        method=s.text("method", "REML", choices=("REML", "ML", "AdjREML")),
        gvf=gvf, variance_cells=cells, register_counts=counts, register_columns=columns,
        average_code=avg_code, average_name=avg_name, average_condition=avg_cond,
        smooth=s.text("smooth", "all", choices=("unreliable", "all")),
        min_n=int(s.number("min_n", 10, integer=True)), max_cv=float(s.number("max_cv", 0.2)),
        benchmark=None if bench == "none" else bench, period=int(s.number("period", integer=True)),
        base_wave=s.text("base_wave", None), base=(root / base).resolve() if base else None,
        indicators=tuple(inds), spec_hash=hashlib.sha256(path.read_bytes()).hexdigest()[:16],
    )
