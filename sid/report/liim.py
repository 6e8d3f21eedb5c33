"""The LIIM pages: one printable Dutch HTML page per municipality from the small-area
stage's ``RUN/smallarea/estimates.csv`` and ``pages.json`` (template
``liim_municipality.html.j2``), written by the report stage under ``report/liim/``."""

from __future__ import annotations

import json
from pathlib import Path

import jinja2

from sid.report.context import read_output
from sid.report.render import render

TEMPLATE = "liim_municipality.html.j2"


def liim_pages(out_dir: Path, env: jinja2.Environment) -> tuple[dict[str, str], list[Path]]:
    """({"liim/<nis>.html": page}, inputs); empty when the small-area stage has not run."""
    folder = Path(out_dir) / "smallarea"
    est_p, meta_p = folder / "estimates.csv", folder / "pages.json"
    if not est_p.is_file() or not meta_p.is_file():
        return {}, []
    meta = json.loads(meta_p.read_text(encoding="utf-8"))
    est = read_output(est_p, "smallarea", text=["nis", "indicator", "name", "cluster", "cluster_name", "method"])
    for c in ("publishable", "direct_shown"):
        est[c] = est[c].astype(str).str.lower() == "true"
    inds = meta["indicators"]
    pages = {}
    for nis, rows in est.groupby("nis", sort=True):  # ~300 municipalities
        first = rows.iloc[0]
        ctx = {"survey_title": meta["survey_title"], "period": meta["period"], "nis": nis, "name": first["name"],
               "cluster_name": first["cluster_name"], "max_cv": meta["max_cv"], "min_n": meta["min_n"],
               "average_name": meta.get("average_name", "alle respondenten"),
               "rows": [{**r, "label": inds[r["indicator"]]["name"], "unit": inds[r["indicator"]]["unit"],
                         "sigma2_u": inds[r["indicator"]].get("sigma2_u"),
                         "transform": inds[r["indicator"]].get("transform", "none")}
                        for r in rows.to_dict("records")]}
        pages[f"liim/{nis}.html"] = render(env, TEMPLATE, ctx)
    return pages, [est_p, meta_p]
