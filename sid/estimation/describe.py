"""Short, R-like descriptions of a Design (its ``repr``), in the manner of ``print(svydesign)``.

The first line names the variance method; the next lines the weights, strata, clusters,
fpc, calibrations, replicate constants and degrees of freedom: what the design uses.
A design of given replicate weights (``Design.from_replicate_weights``) says that its
strata, clusters and calibration are carried by those weights.
"""

from __future__ import annotations

import numpy as np


def _n(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.4g}"


def _margins(cal) -> str:
    names = list(cal.margins)
    shown = ", ".join(names[:4]) + (f", ... ({len(names)} in all)" if len(names) > 4 else "")
    bounds = f", bounds {cal.bounds[0]:g}-{cal.bounds[1]:g}" if cal.bounds else ""
    return f"{cal.method} on {len(names)} margin{'s' * (len(names) != 1)} ({shown}){bounds}"


def describe_design(d) -> str:
    """The lines of ``repr(design)``."""
    n = len(d.data)
    names = d._names
    rep = d._rep
    w = d.weights
    pos = w[d.domain]
    head = (f"sid Design: {n:,} respondents, "
            + ("Taylor linearisation" if rep is None else
               f"{rep.weights.shape[1]} replicate weights ({rep.type}; scale {rep.scale:.4g}, rscales "
               f"{_rscales(rep.rscales)}, mse {rep.mse})"))
    lines = [head]
    wname = names.get("weight") or "from fpc"
    lines.append(f"  weights:     {wname} (sum {_n(float(pos.sum()))}; min {_n(float(pos.min()))}, "
                 f"max {_n(float(pos.max()))})" if pos.size else f"  weights:     {wname}")
    if d._given_replicates:
        lines.append("  design:      given replicate weights (R svrepdesign(combined.weights=TRUE)); "
                     "strata, clusters and calibration are carried by them")
    else:
        strata = names.get("strata")
        k = int(np.unique(d._strata).size)
        lines.append(f"  strata:      {strata} ({k} strata)" if strata else "  strata:      none (one stratum)")
        psus = names.get("psu") or ()
        if psus:
            lines.append("  clusters:    " + ", ".join(f"stage {j + 1}: {c}" for j, c in enumerate(psus))
                         + f" ({int(np.unique(np.stack([d._strata, d._psu]), axis=1).shape[1]):,} PSUs)")
        else:
            lines.append("  clusters:    none (each respondent its own PSU)")
        fpc = names.get("fpc") or ()
        lines.append("  fpc:         " + (", ".join(fpc) if fpc else "none (with replacement)"))
        if rep is not None:
            lines.append(f"  replicates:  made from this design ({rep.type})")
    cals = d._calibrations
    if cals:
        prior = names.get("prior")
        lines += [f"  calibration: {_margins(c)}" + (f"; prior weights {prior}" if prior and i == 0 else "")
                  for i, c in enumerate(cals)]
    elif not d._given_replicates:
        lines.append("  calibration: none")
    if not d.domain.all():
        lines.append(f"  domain:      {int(d.domain.sum()):,} of {n:,} rows (a subset: the design is kept)")
    lines.append(f"  degf:        {d.degf:,}" + ("" if rep is not None else f"; lonely_psu {d.lonely_psu!r}"))
    return "\n".join(lines)


def _rscales(rs: np.ndarray) -> str:
    rs = np.asarray(rs, dtype=float)
    return f"{rs[0]:g}" if np.allclose(rs, rs[0]) else f"{rs.min():g}..{rs.max():g}"
