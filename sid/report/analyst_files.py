"""The analysts' files of the report stage, from one join of the wave (docs/run-folder.md):

* ``<wave>.sav``: the labelled SPSS file (sid.report.spss_file), its notes stating the
  replicate design;
* ``<wave>.dta``: the same as Stata (sid.report.stata_file);
* ``codebook_<wave>.html`` and ``codebook_<wave>.xlsx``: the codebook generated from the
  questionnaire spec with frequencies (sid.report.codebook, sid.report.codebook_xlsx);
* ``README_<wave>.md``: the design and ready-to-run R, SPSS and Stata syntax reproducing
  one table cell (sid.report.analyst_readme).

Every text sid writes in them is the message catalogue's (``analyst.*``) in the run's
language (``ctx.lang``); the questionnaire's labels are the spec's. Each file is written atomically into the stage's folder, which the report stage swaps in
whole with its manifest entry (every file listed under its outputs).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from sid.report.context import RunContext


def analyst_file_names(wave: str) -> dict[str, str]:
    """The file names of the analysts' files of ``wave``."""
    return {"sav": f"{wave}.sav", "dta": f"{wave}.dta", "html": f"codebook_{wave}.html",
            "xlsx": f"codebook_{wave}.xlsx", "readme": f"README_{wave}.md"}


def write_analyst_files(ctx: RunContext, folder: Path, env: jinja2.Environment, common: dict[str, Any], *,
                        replicates: bool = True) -> dict[str, Path]:
    """Write the analysts' files of run ``ctx`` into ``folder``; return kind -> path.

    ``env`` and ``common``: the report stage's template environment and page context
    (title, wave, navigation); ``replicates=False`` leaves the replicate weights out of
    the .sav and .dta (the README then has no replicate syntax).
    """
    from sid.io.atomic import write_text
    from sid.io.spss import write_spss
    from sid.report.analyst_readme import choose_cell, design_info, readme_text
    from sid.report.codebook import codebook_context, codebook_frame
    from sid.report.codebook_xlsx import write_codebook_xlsx
    from sid.report.provenance import provenance
    from sid.report.render import render
    from sid.report.spss_file import wave_frame
    from sid.report.stata_file import write_stata

    cat = ctx.cat
    names = analyst_file_names(ctx.wave)
    paths = {k: folder / v for k, v in names.items()}
    frame, meta = wave_frame(ctx.out_dir, ctx.questionnaire, replicates=replicates, cat=cat)
    meta.notes.append(cat("analyst.sav.notes.syntax", readme=names["readme"]))
    write_spss(frame, meta, paths["sav"])
    stata = write_stata(frame, meta, paths["dta"])
    info = design_info(ctx.out_dir, frame)
    book = codebook_frame(frame, meta, ctx.questionnaire, info.weight, cat)
    write_codebook_xlsx(book, paths["xlsx"], cat("analyst.codebook.file_title", title=ctx.title, wave=ctx.wave), cat)
    page = render(env, "codebook.html.j2", {
        **common, "report_title": cat("analyst.codebook.title"),
        "provenance": provenance(ctx.manifest, ("clean", "weight", "score"), cat),
        "variables": codebook_context(book, cat), "n_rows": len(frame), "weight": info.weight,
        "sav_file": names["sav"], "dta_file": names["dta"], "xlsx_file": names["xlsx"],
        "spec_file": ctx.questionnaire_path.name})
    write_text(paths["html"], page)
    cell = choose_cell(ctx.out_dir, frame)
    if cell is not None:
        info.lonely_psu = cell.lonely_psu
    write_text(paths["readme"], readme_text(ctx.title, ctx.wave, names, frame, meta, info, cell,
                                            ctx.out_dir, stata, cat))
    return paths
