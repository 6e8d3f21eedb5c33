"""The README beside the analysts' files (``report/README_<wave>.md``, in Dutch).

It names the files, states the design (weight/diagnostics.json) and reproduces one cell
of sid's tables in R, SPSS and Stata (sid.report.analyst_syntax), with sid's figures:

* the cell (:func:`choose_cell`): the first mean in tables/internal/tables_internal.csv
  of a variable the file holds, in a domain of one variable the file holds (else an
  overall mean), not suppressed; its estimate and SE unrounded (the internal file) and as
  tables.csv publishes them;
* R: the design the tables used (replicate weights, or Taylor with the calibration redone
  by ``rake()``), and the Taylor design of the final weights without calibration, whose
  SE sid computes here too (:func:`final_weight_figure`): what SPSS and Stata give.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from sid.io.spss_meta import SpssMeta
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


def _design_lines(info: DesignInfo, frame: pd.DataFrame) -> list[str]:
    lines = [f"- eindgewicht: `{info.weight}` (som {frame[info.weight].sum():.1f}; {len(frame)} rijen)"]
    lines.append(f"- strata: `{info.strata}`" if info.strata else "- geen strata")
    lines.append("- primaire steekproefeenheden (per trap): " + ", ".join(f"`{p}`" for p in info.psu)
                 if info.psu else "- geen clusters: elke respondent is zijn eigen eenheid")
    if info.fpc:
        lines.append("- eindige-populatiecorrectie: " + ", ".join(f"`{f}`" for f in info.fpc))
    if info.replicates:
        rep = info.replicates
        rs = rep.get("rscales", 1.0)
        rs0 = rs[0] if isinstance(rs, list) and rs else rs
        lines.append(f"- {len(info.rep_columns)} replicaatgewichten `{info.rep_columns[0]}` … `{info.rep_columns[-1]}`: "
                     f"methode {rep.get('method', rep.get('type'))}, variantie = scale × Σ rscales × "
                     f"(θ_r − {'θ' if rep.get('mse') else 'gemiddelde θ_r'})², scale {_g(float(rep['scale']))}, "
                     f"rscales {_g(float(rs0))}, mse {bool(rep.get('mse'))}")
    if info.calibration:
        cal = info.calibration
        lines.append(f"- kalibratie ({cal.get('method', '')}) van `{cal['prior']}` (gewicht vóór kalibratie) op "
                     + "; ".join(f"`{m}` ({len(c)} cellen)" for m, c in cal["margins"].items()))
    return lines


def _stata_notes(stata: StataFile) -> list[str]:
    lines = [f"`{stata.path.name}` (Stata 15 of later) bevat dezelfde rijen, waarden en labels als de .sav, binnen "
             "de grenzen van Stata:", ""]
    if stata.missing_letters:
        lines.append("- ontbrekende codes zijn Stata's uitgebreide ontbrekende waarden (met hun label): "
                     + ", ".join(f"{c:g} → `.{x}`" for c, x in stata.missing_letters.items()))
    lines.append("- hernoemde variabelen (naam te lang of niet toegelaten in Stata): "
                 + (", ".join(f"`{a}` → `{b}`" for a, b in stata.renames.items()) if stata.renames else "geen"))
    lines.append(f"- labels ingekort tot 80 tekens: {', '.join(f'`{n}`' for n in stata.shortened) or 'geen'}")
    text_vars = sorted({n for n, _ in stata.unlabelled})
    if text_vars:
        lines.append("- Stata labelt alleen gehele getallen: de waardelabels van "
                     + ", ".join(f"`{n}`" for n in text_vars) + " (tekstcodes of codes met decimalen) staan niet "
                     "in het .dta-bestand; de codes zelf wel (zie het codeboek)")
    if stata.dates:
        lines.append(f"- datums ({', '.join(f'`{stata.name(n)}`' for n in stata.dates)}) zijn Stata-datum-tijden "
                     "(`%tc`); `generate d = dofc(<variabele>)` met `format d %td` geeft een datum")
    lines.append("- de notities van de .sav (het steekproefontwerp) staan in deze README")
    return lines


def readme_text(ctx_title: str, wave: str, files: dict[str, str], frame: pd.DataFrame, meta: SpssMeta,
                info: DesignInfo, cell: Cell | None, out: Path, stata: StataFile) -> str:
    """The README (Markdown). ``files``: kind ("sav", "dta", "html", "xlsx") -> file name."""
    sav, dta = files["sav"], files["dta"]
    lines = [f"# Analysebestanden: {ctx_title} ({wave})", "",
             "Deze map bevat, naast de rapporten:", "",
             f"- `{sav}`: het SPSS-bestand (antwoorden, afgeleide variabelen, gewichten, replicaatgewichten, indices);",
             f"- `{dta}`: hetzelfde als Stata-bestand;",
             f"- `{files['html']}` en `{files['xlsx']}`: het codeboek met frequenties (HTML en Excel);",
             "- deze README.", "",
             "## Het steekproefontwerp", "", *_design_lines(info, frame), ""]
    if cell is None:
        lines += ["## Een cel uit de tabellen", "",
                  "De tabellen (`tables/internal/tables_internal.csv`) hebben geen gemiddelde van een variabele van "
                  "dit bestand: er is geen cel om na te rekenen. Voer `sid tables` uit en daarna `sid report`.", ""]
    else:
        lines += _cell_section(cell, frame, meta, info, out, files, stata)
    lines += ["## Het Stata-bestand", "", *_stata_notes(stata), ""]
    return "\n".join(lines)


def _cell_section(cell: Cell, frame: pd.DataFrame, meta: SpssMeta, info: DesignInfo, out: Path,
                  files: dict[str, str], stata: StataFile) -> list[str]:
    sav, dta = files["sav"], files["dta"]
    where = (f"voor `{cell.by_var}` = `{cell.by_value}` ({cell.by_label})" if cell.by_var else "voor de hele populatie")
    pub = published_figure(out, cell)
    replicate = cell.variance_method != "taylor" and info.replicates is not None
    est0, se0 = final_weight_figure(frame, meta, info, cell)
    lines = ["## Eén cel uit de tabellen, nagerekend", "",
             f"Tabel `{cell.table_id}` ({cell.title}): het gemiddelde van `{cell.variable}` ({cell.variable_label}) "
             f"{where}, n = {cell.n}.", "",
             f"- sid: schatting **{cell.estimate:.10g}**, standaardfout **{cell.se:.10g}** "
             "(`tables/internal/tables_internal.csv`, onafgerond)"
             + (f"; in `tables/tables.csv` afgerond: {pub[0]} en {pub[1]}" if pub else ""),
             f"- variantiemethode van de tabellen: {'replicaatgewichten' if replicate else 'Taylor-linearisatie'}"
             + ("" if replicate else (", met de kalibratie" if info.calibration else ", met het eindgewicht")),
             f"- zonder kalibratie, met het eindgewicht als vast ontwerpgewicht (Taylor; wat SPSS en Stata hieronder "
             f"geven): schatting {est0:.10g}, standaardfout {se0:.10g}", "",
             "### R (haven + survey)", "",
             "Start R in deze map (`setwd(...)`). Het script bouwt het ontwerp "
             + ("dat de tabellen gebruikten:" if replicate or cell.variance_method == "taylor" else "zonder replicaten:"),
             "",
             "```r", r_tables_design(sav, info, cell), "```", ""]
    if replicate:
        lines += ["Dit geeft sid's schatting en standaardfout (op afronding na: tot 1e-8 relatief).", ""]
    elif cell.variance_method != "taylor":
        lines += ["De tabellen gebruikten replicaatgewichten, maar dit bestand bevat ze niet (weggelaten bij het "
                  "maken, `--no-replicates`): het script hierboven geeft sid's schatting en de Taylor-standaardfout, "
                  "niet de standaardfout van de tabellen.", ""]
    elif info.calibration:
        lines += ["De schatting is die van sid. De standaardfout kan licht afwijken (hooguit ~1e-5 relatief): "
                  "R's `survey` herhaalt de rakingstap in de linearisatie 10 keer (svyrecvar), sid tot "
                  "convergentie (de exacte linearisatie van de raking). Met 10 herhalingen geeft sid R's cijfer "
                  "tot 1e-8.", ""]
    lines += ["Zonder kalibratie (het eindgewicht als vast ontwerpgewicht, zoals SPSS en Stata rekenen):", "",
              "```r", r_final_weight_design(sav, info, cell), "```", "",
              f"Dit geeft schatting {est0:.10g} en standaardfout {se0:.10g}.", "",
              "### SPSS (Complex Samples)", "",
              "SPSS Complex Samples kent geen replicaatgewichten en geen kalibratie: CSDESCRIPTIVES geeft de "
              "Taylor-standaardfout met het eindgewicht als vast ontwerpgewicht (met teruglegging in de eerste trap). "
              + ("De replicaat-standaardfout van de tabellen kan SPSS niet berekenen; gebruik daarvoor R of Stata. "
                 if replicate else "De gekalibreerde standaardfout van de tabellen kan SPSS niet berekenen. ")
              + f"Verwacht: schatting {est0:.10g}, standaardfout {se0:.10g}.", "",
              "```spss", spss_syntax(sav, info, cell), "```", "",
              "### Stata", ""]
    if replicate:
        lines += ["Met de replicaatgewichten; `jkrweight(..., multiplier())` legt sid's variantieformule vast "
                  "(scale × rscales × Σ afwijkingen², rond het gemiddelde van de replicaten"
                  + (" of de schatting (mse)" if info.replicates.get("mse") else "") + "). `bsrweight()` met "
                  "`vce(bootstrap)` gebruikt Stata's eigen schaalfactor. Verwacht: sid's schatting en standaardfout.",
                  "", "```stata", stata_syntax(dta, info, cell, stata.renames, replicate=True), "```", "",
                  f"Taylor-linearisatie zonder kalibratie (verwacht: standaardfout {se0:.10g}):", ""]
    else:
        lines += [f"Stata's `svyset` rekent hier, zoals SPSS, zonder kalibratie: verwacht standaardfout {se0:.10g}.", ""]
    lines += ["```stata", stata_syntax(dta, info, cell, stata.renames, replicate=False), "```", "",
              "(De SPSS- en Stata-syntaxis is gegenereerd maar hier niet uitgevoerd: die programma's staan niet op de "
              "machine van sid; de R-scripts wel, in sid's tests.)", ""]
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
