"""Ready-to-run R, SPSS and Stata syntax for the analysts' files (report/README_<wave>.md).

Every name comes from the run: the design columns of ``weight/diagnostics.json``
(:class:`DesignInfo`), the table cell the README reproduces (:class:`Cell`) and, for
Stata, the .dta's names (sid.report.stata_file). Nothing here names a survey's variables.

* R (``haven::read_sav`` + ``survey``): the design the tables used. A replicate wave:
  ``svrepdesign(type=, scale=, rscales=, mse=, combined.weights=TRUE)``
  (sid.weighting.rsyntax). A Taylor wave: ``svydesign(ids=~psu_1+..., strata=,
  weights=<prior weight>, nest=TRUE)`` raked with ``rake()`` to the calibration margins of
  diagnostics.json (collapsed cells "5+6" as sid formed them), or the final weights when
  no calibration is recorded. A second script: the Taylor design of the final weights
  without calibration, which is what SPSS Complex Samples and Stata's ``svyset`` give.
* SPSS: CSPLAN/CSDESCRIPTIVES (Taylor, with replacement; no calibration, no replicate
  weights: SPSS cannot use them).
* Stata: ``svyset`` with the replicate weights (``jkrweight(..., multiplier())`` fixes
  sid's variance formula scale x rscales) or with PSUs and strata (Taylor).

Comments in the syntax are the message catalogue's (``analyst.syntax.*``), in the run's
language; the R object names (``uitkomst``, ``cel``, ``kal_1``) are the same in every language.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from sid.messages import Catalogue, catalogue
from sid.weighting.rsyntax import R_TYPES, svrepdesign_call

_S = "analyst.syntax."


@dataclass(frozen=True)
class Cell:
    """One cell of tables/internal/tables_internal.csv: a mean of ``variable`` in the domain
    ``by_var == by_value`` (``by_var`` None: the whole population)."""

    table_id: str
    title: str
    variable: str
    variable_label: str
    by_var: str | None
    by_value: str | None
    by_label: str | None
    estimate: float
    se: float
    n: int
    variance_method: str
    by_is_text: bool = True
    lonely_psu: str = "fail"


@dataclass
class DesignInfo:
    """The design of the analysts' file as weight/diagnostics.json records it."""

    weight: str
    strata: str | None
    psu: list[str]
    fpc: list[str]
    replicates: dict[str, Any] | None
    rep_columns: list[str]
    calibration: dict[str, Any] | None
    lonely_psu: str = "fail"
    margin_vars: dict[str, list[str]] = field(default_factory=dict)


def r_str(text: str) -> str:
    """``text`` as an R string literal."""
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _r_num(x: float) -> str:
    return f"{float(x):.17g}"


def _r_read(sav: str, cat: Catalogue) -> list[str]:
    return ["library(haven)",
            "library(survey)",
            f"d <- as.data.frame(zap_labels(read_sav({r_str(sav)})))  # {cat(_S + 'r_missing')}"]


def _r_cell(cell: Cell, design: str, cat: Catalogue) -> list[str]:
    v = cell.variable
    est = cat(_S + "estimate")
    if cell.by_var is None:
        return [f"m <- svymean(~{v}, {design}, na.rm = TRUE)",
                f"uitkomst <- c({est} = unname(coef(m)), se = unname(SE(m)))",
                "print(uitkomst)"]
    return [f"tab <- svyby(~{v}, ~{cell.by_var}, {design}, svymean, na.rm = TRUE)",
            f"cel <- tab[as.character(tab[[{r_str(cell.by_var)}]]) == {r_str(cell.by_value)}, ]",
            f"uitkomst <- c({est} = cel[[2]], se = cel$se)",
            "print(uitkomst)"]


def _lonely(info: DesignInfo) -> list[str]:
    return [f"options(survey.lonely.psu = {r_str(info.lonely_psu)})"] if info.lonely_psu != "fail" else []


def _ids(info: DesignInfo) -> str:
    return "~" + " + ".join(info.psu) if info.psu else "~1"


def _svydesign(info: DesignInfo, weight: str, name: str) -> str:
    strata = f", strata = ~{info.strata}" if info.strata else ""
    fpc = f", fpc = ~{' + '.join(info.fpc)}" if info.fpc else ""
    nest = ", nest = TRUE" if info.psu else ""
    return f"{name} <- svydesign(ids = {_ids(info)}{strata}{fpc}, weights = ~{weight}, data = d{nest})"


def margin_lookup(margin: str, cells: dict[str, float]) -> dict[str, str]:
    """Every respondent-level key ("BEL:1:5") of a margin -> its calibration cell
    ("BEL:1:5+6"): a part not a code of its own is split on "+" (sid.weighting.margins)."""
    out: dict[str, str] = {}
    for key in cells:
        parts = str(key).split(":") if ":" in margin else [str(key)]
        for combo in itertools.product(*[p.split("+") for p in parts]):
            out.setdefault(":".join(combo), str(key))
        out[str(key)] = str(key)  # a code that itself holds "+" stays as it is
    return out


def _r_rake(info: DesignInfo, cat: Catalogue) -> list[str]:
    cal = info.calibration or {}
    lines: list[str] = [f"# {cat(_S + 'r_margins')}", f"# {cat(_S + 'r_margins2')}"]
    for j, (margin, cells) in enumerate(cal["margins"].items(), 1):
        variables = [v.strip() for v in margin.split(":")]
        look = margin_lookup(margin, cells)
        pairs = ", ".join(f"{r_str(k)} = {r_str(v)}" for k, v in look.items())
        cols = ", ".join(f"d${v}" for v in variables)
        key = f"paste({cols}, sep = \":\")" if len(variables) > 1 else f"as.character(d${variables[0]})"
        lines += [f"# {cat(_S + 'r_margin', j=j, variables=' x '.join(variables))}",
                  f"cel_{j} <- c({pairs})",
                  f"d$kal_{j} <- unname(cel_{j}[{key}])",
                  f"tot_{j} <- data.frame(kal_{j} = c({', '.join(r_str(k) for k in cells)}),",
                  f"                    Freq = c({', '.join(_r_num(t) for t in cells.values())}))"]
    k = len(cal["margins"])
    lines += [_svydesign(info, str(cal["prior"]), "des0"),
              f"des <- rake(des0, list({', '.join(f'~kal_{j}' for j in range(1, k + 1))}), "
              f"list({', '.join(f'tot_{j}' for j in range(1, k + 1))}),",
              "            control = list(maxit = 500, epsilon = 1e-13, verbose = FALSE))"]
    return lines


def r_tables_design(sav: str, info: DesignInfo, cell: Cell, cat: Catalogue | None = None) -> str:
    """The R script of the design the tables used, ending in ``uitkomst`` (estimate, SE);
    its comments in the language of ``cat`` (default Dutch)."""
    cat = cat or catalogue()
    lines = _r_read(sav, cat) + _lonely(info)
    if cell.variance_method != "taylor" and info.replicates:
        rep = info.replicates
        call = svrepdesign_call(str(rep.get("method", rep.get("type", "other"))), float(rep["scale"]),
                                rep.get("rscales", 1.0), bool(rep.get("mse", False)), len(info.rep_columns),
                                weight=info.weight, prefix=common_prefix(info.rep_columns))
        lines.append(f"des <- {call}")
    elif info.calibration and info.calibration.get("margins"):
        lines += _r_rake(info, cat)
    else:
        lines.append(_svydesign(info, info.weight, "des"))
    return "\n".join(lines + _r_cell(cell, "des", cat))


def r_final_weight_design(sav: str, info: DesignInfo, cell: Cell, cat: Catalogue | None = None) -> str:
    """The R script of the Taylor design of the final weights, without calibration (what
    SPSS Complex Samples and Stata's svyset compute), ending in ``uitkomst``."""
    cat = cat or catalogue()
    lines = _r_read(sav, cat) + _lonely(info) + [_svydesign(info, info.weight, "des")]
    return "\n".join(lines + _r_cell(cell, "des", cat))


def common_prefix(columns: list[str]) -> str:
    """The text before the digits of the replicate columns ("rep_" of rep_001...)."""
    first = columns[0] if columns else "rep_"
    return first.rstrip("0123456789") or first


def _spss_value(cell: Cell) -> str:
    return f"'{cell.by_value}'" if cell.by_is_text else str(cell.by_value)


def spss_syntax(sav: str, info: DesignInfo, cell: Cell, cat: Catalogue | None = None) -> str:
    """CSPLAN + CSDESCRIPTIVES: the Taylor SE of the cell with the final weight (no
    calibration; SPSS Complex Samples has no replicate weights)."""
    cat = cat or catalogue()
    plan = sav.rsplit(".", 1)[0] + ".csaplan"
    design = []
    if info.strata:
        design.append(f"STRATA={info.strata}")
    if info.psu:
        design.append(f"CLUSTER={info.psu[0]}")
    lines = [f"GET FILE='{sav}'.",
             "CSPLAN ANALYSIS",
             f"  /PLAN FILE='{plan}'",
             f"  /PLANVARS ANALYSISWEIGHT={info.weight}",
             f"  /DESIGN {' '.join(design)}".rstrip(),
             "  /ESTIMATOR TYPE=WR.",
             "CSDESCRIPTIVES",
             f"  /PLAN FILE='{plan}'",
             f"  /SUMMARY VARIABLES={cell.variable}"]
    if cell.by_var:
        lines.append(f"  /SUBPOP TABLE={cell.by_var}")
    lines += ["  /MEAN",
              "  /STATISTICS SE CIN(95)",
              "  /MISSING SCOPE=ANALYSIS CLASSMISSING=EXCLUDE."]
    if cell.by_var:
        lines.append(f"* {cat(_S + 'spss_cell', by_var=cell.by_var, value=_spss_value(cell))}")
    return "\n".join(lines)


def _stata_value(cell: Cell) -> str:
    return f'"{cell.by_value}"' if cell.by_is_text else str(cell.by_value)


def _multiplier(rep: dict[str, Any], n: int) -> str:
    rs = rep.get("rscales", 1.0)
    values = [float(rep["scale"]) * float(r) for r in (rs if isinstance(rs, list) else [rs] * n)]
    if all(abs(v - values[0]) <= 1e-15 * abs(values[0]) for v in values):
        if n > 1 and abs(values[0] * (n - 1) - 1) < 1e-12:
            return f"`=1/{n - 1}'"
        return f"{values[0]:.17g}"
    return " ".join(f"{v:.17g}" for v in values)


def stata_syntax(dta: str, info: DesignInfo, cell: Cell, names: dict[str, str], replicate: bool,
                 cat: Catalogue | None = None) -> str:
    """``svyset`` + ``svy: mean`` for the cell; ``names``: the .sav name -> .dta name."""
    cat = cat or catalogue()
    def nm(v: str) -> str:
        return names.get(v, v)

    sub = f"svy, subpop(if {nm(cell.by_var)} == {_stata_value(cell)}): " if cell.by_var else "svy: "
    lines = [f'use "{dta}", clear']
    if replicate and info.replicates and info.rep_columns:
        rep = info.replicates
        reps = f"{nm(info.rep_columns[0])}-{nm(info.rep_columns[-1])}"
        mse = " mse" if rep.get("mse") else ""
        rtype = R_TYPES.get(str(rep.get("method", rep.get("type", ""))), "other")
        lines += [f"* {cat(_S + 'stata_replicates', type=rtype)}", f"* {cat(_S + 'stata_replicates2')}",
                  f"svyset [pweight={nm(info.weight)}], jkrweight({reps}, multiplier({_multiplier(rep, len(info.rep_columns))})) "
                  f"vce(jackknife){mse}",
                  f"{sub}mean {nm(cell.variable)}"]
    else:
        psu = nm(info.psu[0]) if info.psu else "_n"
        strata = f", strata({nm(info.strata)})" if info.strata else ""
        lines += [f"* {cat(_S + 'stata_taylor')}",
                  f"svyset {psu} [pweight={nm(info.weight)}]{strata}",
                  f"{sub}mean {nm(cell.variable)}"]
    return "\n".join(lines)


def stata_taylor(dta: str, info: DesignInfo, cell: Cell, names: dict[str, str],
                 cat: Catalogue | None = None) -> str:
    """The Taylor form of :func:`stata_syntax` (PSUs and strata, final weight)."""
    return stata_syntax(dta, info, cell, names, replicate=False, cat=cat)
