"""The README beside the analysts' files (``report/README_<wave>.md``), in the run's language.

It names the files, states the design (weight/diagnostics.json) and reproduces one cell
of sid's tables in R, SPSS and Stata (sid.report.analyst_syntax), with sid's figures:

* the cell (:func:`choose_cell`): the first mean in tables/internal/tables_internal.csv
  of a variable the file holds, in a domain of one variable the file holds (else an
  overall mean), not suppressed; its estimate and SE unrounded (the internal file) and as
  tables.csv publishes them;
* R: the design the tables used (replicate weights, or Taylor with the calibration redone
  by ``rake()``), and the Taylor design of the final weights without calibration, whose
  SE sid computes here too (:func:`final_weight_figure`): what SPSS and Stata give.

Every sentence is the message catalogue's (``analyst.readme.*``, Markdown); names of files,
variables and commands are in backticks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from sid.io.spss_meta import SpssMeta
from sid.messages import Catalogue, catalogue
from sid.report.analyst_syntax import (
    Cell,
    DesignInfo,
    r_final_weight_design,
    r_tables_design,
    spss_syntax,
    stata_syntax,
)
from sid.report.context import read_output
from sid.report.stata_file import StataFile

INTERNAL = Path("tables") / "internal" / "tables_internal.csv"
PUBLISHED = Path("tables") / "tables.csv"
LONELY = ("fail", "adjust", "remove", "certainty")


def design_info(out: Path, frame: pd.DataFrame) -> DesignInfo:
    """The design columns, replicates and calibration of weight/diagnostics.json."""
    path = out / "weight" / "diagnostics.json"
    diag = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    d = diag.get("design") if isinstance(diag.get("design"), dict) else {}

    def listed(x: Any) -> list[str]:
        return [] if not x else [str(v) for v in (x if isinstance(x, list) else [x])]

    strata = d.get("strata")
    prefix = "rep_"
    reps = [c for c in frame.columns if c.startswith(prefix) and c[len(prefix):].isdigit()]
    rep = diag.get("replicates") if isinstance(diag.get("replicates"), dict) and "scale" in diag["replicates"] \
        else None
    cal = diag.get("calibration") if isinstance(diag.get("calibration"), dict) else None
    if cal and (cal.get("prior") not in frame.columns or not all(
            v.strip() in frame.columns for m in cal.get("margins", {}) for v in m.split(":"))):
        cal = None  # the file lacks the prior weight or a margin's variable: not rebuilt
    return DesignInfo(weight=str(d.get("weight") or "weight"), strata=str(strata) if strata else None,
                      psu=listed(d.get("psu")), fpc=listed(d.get("fpc")), replicates=rep if reps else None,
                      rep_columns=reps, calibration=cal)


def choose_cell(out: Path, frame: pd.DataFrame) -> Cell | None:
    """The table cell the README reproduces (see the module doc); None when there is none."""
    path = out / INTERNAL
    if not path.is_file():
        return None
    t = read_output(path, "tables", text=True, blank_missing=False)
    if t.empty or "statistic" not in t.columns:
        return None
    ok = (t["statistic"] == "mean") & t["variable"].isin(frame.columns) & (t["suppressed"].str.lower() != "true")
    ok &= pd.to_numeric(t["se"], errors="coerce").gt(0)
    domain = ok & t["by_var"].isin(frame.columns)
    pick = t[domain] if domain.any() else t[ok & (t["by_var"] == "overall")]
    if pick.empty:
        return None
    r = pick.iloc[0]
    by = r["by_var"] if r["by_var"] in frame.columns else None
    text = by is not None and not pd.api.types.is_numeric_dtype(frame[by].dtype)
    return Cell(table_id=r["table_id"], title=r["title"], variable=r["variable"],
                variable_label=r["variable_label"], by_var=by, by_value=r["by_value"] if by else None,
                by_label=r["by_label"] if by else None, estimate=float(r["estimate"]), se=float(r["se"]),
                n=int(float(r["n"])), variance_method=r["variance_method"], by_is_text=bool(text),
                lonely_psu=r["lonely_psu"] if r.get("lonely_psu") in LONELY else "fail")


def published_figure(out: Path, cell: Cell) -> tuple[str, str] | None:
    """The cell's estimate and SE as tables.csv prints them (rounded), when it has the cell."""
    path = out / PUBLISHED
    if not path.is_file():
        return None
    t = read_output(path, "tables", text=True, blank_missing=False)
    m = (t["table_id"] == cell.table_id) & (t["variable"] == cell.variable) & (t["statistic"] == "mean")
    m &= (t["by_var"] == (cell.by_var or "overall")) & (t["by_value"] == (cell.by_value or "all"))
    return (t.loc[m, "estimate"].iloc[0], t.loc[m, "se"].iloc[0]) if m.any() else None


def final_weight_figure(frame: pd.DataFrame, meta: SpssMeta, info: DesignInfo, cell: Cell) -> tuple[float, float]:
    """sid's estimate and Taylor SE of the cell with the final weights as fixed design
    weights (strata, PSUs; no calibration): what SPSS's CSDESCRIPTIVES and Stata's svy give."""
    from sid.estimation.design import Design

    cols = list(dict.fromkeys([cell.variable, info.weight, *([info.strata] if info.strata else []),
                               *info.psu, *info.fpc, *([cell.by_var] if cell.by_var else [])]))
    df = meta.subset(cols).valid_view(frame[cols])
    design = Design(df, weight=info.weight, strata=info.strata, psu=info.psu or None, fpc=info.fpc or None,
                    lonely_psu=info.lonely_psu)
    if cell.by_var is None:
        res = design.mean(cell.variable)
        return float(res["estimate"].iloc[0]), float(res["se"].iloc[0])
    res = design.mean(cell.variable, by=cell.by_var)
    keys = res[cell.by_var].map(lambda v: v if isinstance(v, str) else f"{float(v):g}")
    row = res[keys.astype(str) == str(cell.by_value)]
    return float(row["estimate"].iloc[0]), float(row["se"].iloc[0])


def _g(x: float) -> str:
    return f"{x:.10g}"


def _ticks(names: Any) -> str:
    return ", ".join(f"`{n}`" for n in names)


def _design_lines(info: DesignInfo, frame: pd.DataFrame, cat: Catalogue) -> list[str]:
    r = "analyst.readme."
    lines = [cat(r + "weight", weight=info.weight, sum=f"{frame[info.weight].sum():.1f}", rows=len(frame))]
    lines.append(cat(r + "strata", strata=info.strata) if info.strata else cat(r + "no_strata"))
    lines.append(cat(r + "psu", psu=_ticks(info.psu)) if info.psu else cat(r + "no_psu"))
    if info.fpc:
        lines.append(cat(r + "fpc", fpc=_ticks(info.fpc)))
    if info.replicates:
        rep = info.replicates
        rs = rep.get("rscales", 1.0)
        rs0 = rs[0] if isinstance(rs, list) and rs else rs
        lines.append(cat(r + "replicates", n=len(info.rep_columns), first=info.rep_columns[0],
                         last=info.rep_columns[-1], method=rep.get("method", rep.get("type")),
                         centre="θ" if rep.get("mse") else cat(r + "centre_mean"), scale=_g(float(rep["scale"])),
                         rscales=_g(float(rs0)), mse="TRUE" if rep.get("mse") else "FALSE"))
    if info.calibration:
        cal = info.calibration
        margins = "; ".join(cat(r + "margin", margin=m, n=len(c)) for m, c in cal["margins"].items())
        lines.append(cat(r + "calibration", method=cal.get("method", ""), prior=cal["prior"], margins=margins))
    return lines


def _stata_notes(stata: StataFile, cat: Catalogue) -> list[str]:
    r = "analyst.readme."
    none = cat(r + "none")
    lines = [cat(r + "stata_intro", file=stata.path.name), ""]
    if stata.missing_letters:
        lines.append(cat(r + "stata_missing",
                         codes=", ".join(f"{c:g} → `.{x}`" for c, x in stata.missing_letters.items())))
    lines.append(cat(r + "stata_renamed", names=", ".join(f"`{a}` → `{b}`" for a, b in stata.renames.items())
                     if stata.renames else none))
    lines.append(cat(r + "stata_shortened", names=_ticks(stata.shortened) or none))
    text_vars = sorted({n for n, _ in stata.unlabelled})
    if text_vars:
        lines.append(cat(r + "stata_unlabelled", names=_ticks(text_vars)))
    if stata.dates:
        lines.append(cat(r + "stata_dates", names=_ticks(stata.name(n) for n in stata.dates)))
    lines.append(cat(r + "stata_notes"))
    return lines


def readme_text(ctx_title: str, wave: str, files: dict[str, str], frame: pd.DataFrame, meta: SpssMeta,
                info: DesignInfo, cell: Cell | None, out: Path, stata: StataFile,
                cat: Catalogue | None = None) -> str:
    """The README (Markdown). ``files``: kind ("sav", "dta", "html", "xlsx") -> file name;
    ``cat``: the catalogue of its language (default Dutch)."""
    cat = cat or catalogue()
    r = "analyst.readme."
    lines = [cat(r + "title", title=ctx_title, wave=wave), "",
             cat(r + "folder"), "",
             cat(r + "file_sav", sav=files["sav"]),
             cat(r + "file_dta", dta=files["dta"]),
             cat(r + "file_codebook", html=files["html"], xlsx=files["xlsx"]),
             cat(r + "file_readme"), "",
             cat(r + "design"), "", *_design_lines(info, frame, cat), ""]
    if cell is None:
        lines += [cat(r + "no_cell_title"), "", cat(r + "no_cell"), ""]
    else:
        lines += _cell_section(cell, frame, meta, info, out, files, stata, cat)
    lines += [cat(r + "stata_title"), "", *_stata_notes(stata, cat), ""]
    return "\n".join(lines)


def _cell_section(cell: Cell, frame: pd.DataFrame, meta: SpssMeta, info: DesignInfo, out: Path,
                  files: dict[str, str], stata: StataFile, cat: Catalogue) -> list[str]:
    r = "analyst.readme."
    sav, dta = files["sav"], files["dta"]
    where = (cat(r + "where_domain", by_var=cell.by_var, by_value=cell.by_value, by_label=cell.by_label)
             if cell.by_var else cat(r + "where_all"))
    pub = published_figure(out, cell)
    replicate = cell.variance_method != "taylor" and info.replicates is not None
    est0, se0 = final_weight_figure(frame, meta, info, cell)
    method = (cat(r + "method_replicate") if replicate else cat(r + "method_taylor")
              + cat(r + ("method_calibrated" if info.calibration else "method_final")))
    lines = [cat(r + "cell_title"), "",
             cat(r + "cell_intro", table=cell.table_id, title=cell.title, variable=cell.variable,
                 label=cell.variable_label, where=where, n=cell.n), "",
             cat(r + "sid_figure", est=_g(cell.estimate), se=_g(cell.se))
             + (cat(r + "published", est=pub[0], se=pub[1]) if pub else ""),
             cat(r + "method", method=method),
             cat(r + "final_figure", est=_g(est0), se=_g(se0)), "",
             cat(r + "r_title"), "",
             cat(r + "r_intro", which=cat(r + "r_tables") if replicate or cell.variance_method == "taylor"
                 else cat(r + "r_no_replicates")),
             "",
             "```r", r_tables_design(sav, info, cell, cat), "```", ""]
    if replicate:
        lines += [cat(r + "r_replicate"), ""]
    elif cell.variance_method != "taylor":
        lines += [cat(r + "r_left_out"), ""]
    elif info.calibration:
        lines += [cat(r + "r_calibrated"), ""]
    why = cat(r + "spss_replicate") if replicate else cat(r + "spss_calibrated")
    lines += [cat(r + "r_final"), "",
              "```r", r_final_weight_design(sav, info, cell, cat), "```", "",
              cat(r + "r_final_gives", est=_g(est0), se=_g(se0)), "",
              cat(r + "spss_title"), "",
              cat(r + "spss_text", why=why, est=_g(est0), se=_g(se0)), "",
              "```spss", spss_syntax(sav, info, cell, cat), "```", "",
              cat(r + "stata_cell_title"), ""]
    if replicate:
        lines += [cat(r + "stata_replicate", mse=cat(r + "stata_mse") if info.replicates.get("mse") else ""),
                  "", "```stata", stata_syntax(dta, info, cell, stata.renames, replicate=True, cat=cat), "```", "",
                  cat(r + "stata_taylor", se=_g(se0)), ""]
    else:
        lines += [cat(r + "stata_svyset", se=_g(se0)), ""]
    lines += ["```stata", stata_syntax(dta, info, cell, stata.renames, replicate=False, cat=cat), "```", "",
              cat(r + "not_run"), ""]
    return lines


def extract_blocks(text: str, language: str) -> list[str]:
    """The fenced code blocks of ``language`` in a Markdown text, in order (for the tests)."""
    blocks, current = [], None
    for line in text.splitlines():
        if current is None and line.strip() == f"```{language}":
            current = []
        elif current is not None and line.strip() == "```":
            blocks.append("\n".join(current))
            current = None
        elif current is not None:
            current.append(line)
    return blocks
