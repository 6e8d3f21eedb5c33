"""Charts of the reports as inline SVG strings (matplotlib, Agg backend, no files, no network).

The SVG is cut to the ``<svg>`` element (no XML prolog, DOCTYPE, namespace URLs or RDF
metadata: inline SVG in HTML5 needs none of them, and the reports must hold no URL), and
every ``id`` is prefixed per chart, so several charts on one page cannot share a clip path
or marker by accident. Fonts stay text (``svg.fonttype: none``) and the hash salt is fixed,
so a chart of the same figures is the same bytes on every run.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend is chosen before pyplot loads)
import numpy as np  # noqa: E402

from sid.messages import catalogue  # noqa: E402

_STYLE = {
    "svg.fonttype": "none",
    "svg.hashsalt": "sid-report",
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_COLOR, _REF_COLOR = "#2b6c9e", "#888888"


def _thousands_text(x: float, _pos: object = None) -> str:
    """An axis tick as the reports write numbers: whole numbers with thin-space thousands."""
    return f"{x:,.0f}".replace(",", "\u2009") if abs(x) >= 10 or float(x).is_integer() else f"{x:g}"


_thousands = matplotlib.ticker.FuncFormatter(_thousands_text)


def _svg(fig: plt.Figure, prefix: str) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    text = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", text)
    for ident in sorted(set(re.findall(r'id="([^"]+)"', text)), key=len, reverse=True):
        esc = re.escape(ident)
        text = re.sub(rf'(id="|#){esc}(?=[")])', rf"\g<1>{prefix}-{ident}", text)
    return text.strip()


def weight_histograms(weights: Mapping[str, np.ndarray], prefix: str = "wh", bins: int = 30,
                      xlabel: str | None = None, ylabel: str | None = None) -> str:
    """Small multiples: a histogram of the final weights of each group (label -> weights).

    Each panel has its own x axis (weights of origin groups differ by a factor of ~100,
    a shared axis would squeeze all but one group into one bar); the median is marked.
    """
    labels = list(weights)
    ncol = min(4, max(1, len(labels)))
    nrow = int(np.ceil(len(labels) / ncol))
    with plt.rc_context(_STYLE):
        fig, axes = plt.subplots(nrow, ncol, figsize=(2.6 * ncol, 1.9 * nrow), squeeze=False)
        for ax, label in zip(axes.flat, labels, strict=False):
            w = np.asarray(weights[label], dtype=float)
            ax.hist(w, bins=bins, color=_COLOR, edgecolor="white", linewidth=0.3)
            ax.axvline(float(np.median(w)), color="#c0392b", linewidth=1)
            ax.set_title(f"{label} (n = {w.size:,d})".replace(",", "\u2009"), fontsize=9)
            ax.tick_params(labelsize=7)
            ax.xaxis.set_major_formatter(_thousands)
        for ax in list(axes.flat)[len(labels):]:
            ax.set_visible(False)
        cat = catalogue()  # axis titles: the caller's language, else Dutch
        fig.supxlabel(xlabel or cat("weighting.hist_xlabel"), fontsize=8)
        fig.supylabel(ylabel or cat("weighting.hist_ylabel"), fontsize=8)
        fig.tight_layout()
        return _svg(fig, prefix)


def ci_chart(
    labels: Sequence[str],
    estimates: Sequence[float],
    lows: Sequence[float],
    highs: Sequence[float],
    xlabel: str,
    prefix: str,
    reference: str | None = None,
    xlim: tuple[float, float] | None = None,
) -> str:
    """Estimates with confidence-interval bars, one horizontal row per group.

    ``xlim``: the axis's range (indices and shares: (0, 100), the same in every chart, so
    a gap between groups is not magnified by an axis cut to the data).

    ``reference``: the label whose estimate is drawn as a dashed line through the chart
    (the overall figure), not as a row. Missing estimates (suppressed cells) are left out
    of the plot; the table beside the chart says why.
    """
    est = np.asarray(estimates, dtype=float)
    lo, hi = np.asarray(lows, dtype=float), np.asarray(highs, dtype=float)
    keep = [i for i, lab in enumerate(labels) if lab != reference and np.isfinite(est[i])]
    ys = np.arange(len(keep))[::-1]
    with plt.rc_context(_STYLE):
        fig, ax = plt.subplots(figsize=(6.0, 0.32 * len(keep) + 0.9))
        e, low, high = est[keep], lo[keep], hi[keep]
        err = np.vstack([np.where(np.isfinite(low), e - low, 0.0), np.where(np.isfinite(high), high - e, 0.0)])
        ax.errorbar(e, ys, xerr=err, fmt="o", color=_COLOR, ecolor=_COLOR, capsize=3, markersize=4)
        ax.set_yticks(ys, [labels[i] for i in keep])
        if reference is not None and reference in labels:
            ref = est[list(labels).index(reference)]
            if np.isfinite(ref):
                ax.axvline(ref, color=_REF_COLOR, linestyle="--", linewidth=1, label=f"{reference}: {ref:.1f}")
                ax.legend(loc="lower right", fontsize=7, frameon=False)
        ax.set_xlabel(xlabel)
        if xlim is not None:
            ax.set_xlim(*xlim)
        ax.set_ylim(-0.7, len(keep) - 0.3)
        ax.grid(axis="x", color="#dddddd", linewidth=0.5)
        fig.tight_layout()
        return _svg(fig, prefix)


def bar_chart(labels: Sequence[str], values: Sequence[float], xlabel: str, prefix: str,
              xlim: tuple[float, float] | None = None, reference: float | None = None) -> str:
    """One horizontal bar per label (top to bottom in the given order), its value at its end.

    ``reference``: a value drawn as a dashed vertical line (e.g. 1 for a design effect)."""
    vals = np.asarray(values, dtype=float)
    ys = np.arange(len(labels))[::-1]
    with plt.rc_context(_STYLE):
        fig, ax = plt.subplots(figsize=(6.4, 0.3 * len(labels) + 0.9))
        ax.barh(ys, np.nan_to_num(vals), color=_COLOR, height=0.6)
        top = float(np.nanmax(vals)) if len(vals) and np.isfinite(vals).any() else 1.0
        for y, v in zip(ys, vals, strict=True):
            if np.isfinite(v):
                text = f"{v:,.0f}".replace(",", "\u2009") if float(v).is_integer() else f"{v:.2f}"
                ax.text(v + 0.01 * (xlim[1] if xlim else top), y, text, va="center", fontsize=7)
        ax.set_yticks(ys, list(labels))
        if reference is not None:
            ax.axvline(reference, color=_REF_COLOR, linestyle="--", linewidth=1)
        ax.set_xlim(*(xlim or (0, top * 1.15 if top > 0 else 1)))
        ax.set_xlabel(xlabel)
        ax.grid(axis="x", color="#dddddd", linewidth=0.5)
        fig.tight_layout()
        return _svg(fig, prefix)


_MARKERS = ("s", "^", "D", "v", "P", "X")


def response_chart(groups: Sequence[str], overall: Sequence[float], by_mode: Mapping[str, Sequence[float]],
                   xlabel: str, overall_label: str, prefix: str) -> str:
    """Response rates (in %) per group: a bar for all modes, a marker per mode, on 0-100."""
    ys = np.arange(len(groups))[::-1]
    with plt.rc_context(_STYLE):
        fig, ax = plt.subplots(figsize=(7.2, 0.38 * len(groups) + 1.2))
        ax.barh(ys, np.nan_to_num(np.asarray(overall, dtype=float)), color="#c9dcea", height=0.7,
                label=overall_label)
        for (mode, vals), marker in zip(by_mode.items(), _MARKERS * 4, strict=False):
            v = np.asarray(vals, dtype=float)
            ok = np.isfinite(v)
            ax.plot(v[ok], ys[ok], marker, linestyle="none", markersize=6, label=mode)
        ax.set_yticks(ys, list(groups))
        ax.set_xlim(0, 100)
        ax.set_xlabel(xlabel)
        ax.grid(axis="x", color="#dddddd", linewidth=0.5)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18 - 0.6 / max(len(groups), 1)),
                  ncol=min(4, len(by_mode) + 1), fontsize=7, frameon=False)
        fig.tight_layout()
        return _svg(fig, prefix)


def deviation_panels(panels: Mapping[str, tuple[Sequence[str], Sequence[float], Sequence[float]]],
                     xlabel: str, before_label: str, after_label: str, prefix: str) -> str:
    """Small multiples, one per group: for each margin cell its deviation (in %) from the
    register total before (open circle) and after (filled) calibration; zero is the register."""
    names = list(panels)
    ncol = min(3, max(1, len(names)))
    nrow = int(np.ceil(len(names) / ncol))
    rows = max((len(panels[n][0]) for n in names), default=1)
    finite = [abs(x) for n in names for x in (*panels[n][1], *panels[n][2]) if np.isfinite(x)]
    lim = max(5.0, 1.1 * max(finite, default=5.0))
    with plt.rc_context(_STYLE):
        fig, axes = plt.subplots(nrow, ncol, figsize=(3.9 * ncol, (0.17 * rows + 0.9) * nrow), squeeze=False)
        for ax, name in zip(axes.flat, names, strict=False):
            labels, before, after = panels[name]
            ys = np.arange(len(labels))[::-1]
            b, a = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
            ax.hlines(ys, np.minimum(a, b), np.maximum(a, b), color="#bbbbbb", linewidth=0.8)
            ax.plot(b, ys, "o", markerfacecolor="white", markeredgecolor=_COLOR, markersize=4, label=before_label)
            ax.plot(a, ys, "o", color=_COLOR, markersize=4, label=after_label)
            ax.axvline(0, color=_REF_COLOR, linewidth=0.8)
            ax.set_yticks(ys, list(labels), fontsize=6)
            ax.set_xlim(-lim, lim)
            ax.set_title(name, fontsize=9)
            ax.tick_params(axis="x", labelsize=7)
        for ax in list(axes.flat)[len(names):]:
            ax.set_visible(False)
        axes.flat[0].legend(loc="lower right", fontsize=6, frameon=False)
        fig.supxlabel(xlabel, fontsize=8)
        fig.tight_layout()
        return _svg(fig, prefix)


def box_panels(panels: Mapping[str, Mapping[str, Sequence[float]]], xlabel: str, prefix: str,
               xlim: tuple[float, float] = (0.0, 100.0)) -> str:
    """Small multiples, one per index: per group a box from precomputed figures
    (p5, p25, p50, p75, p95, mean), all on the same axis ``xlim`` (not cut to the data)."""
    names = list(panels)
    ncol = min(3, max(1, len(names)))
    nrow = int(np.ceil(len(names) / ncol))
    rows = max((len(panels[n]) for n in names), default=1)
    with plt.rc_context(_STYLE):
        fig, axes = plt.subplots(nrow, ncol, figsize=(3.9 * ncol, (0.3 * rows + 0.9) * nrow), squeeze=False,
                                 sharex=True)
        for ax, name in zip(axes.flat, names, strict=False):
            groups = list(panels[name])
            ys = np.arange(len(groups))[::-1]
            for y, g in zip(ys, groups, strict=True):
                p5, p25, p50, p75, p95, mean = (float(x) for x in panels[name][g])
                ax.hlines(y, p5, p25, color="#666666", linewidth=0.8)
                ax.hlines(y, p75, p95, color="#666666", linewidth=0.8)
                ax.barh(y, p75 - p25, left=p25, height=0.55, color="#c9dcea", edgecolor=_COLOR, linewidth=0.6)
                ax.vlines(p50, y - 0.27, y + 0.27, color=_COLOR, linewidth=1.4)
                ax.plot([mean], [y], "D", color="#c0392b", markersize=3)
            ax.set_yticks(ys, groups, fontsize=7)
            ax.set_xlim(*xlim)
            ax.set_title(name, fontsize=8.5)
            ax.tick_params(axis="x", labelsize=7)
            ax.grid(axis="x", color="#eeeeee", linewidth=0.5)
        for ax in list(axes.flat)[len(names):]:
            ax.set_visible(False)
        fig.supxlabel(xlabel, fontsize=8)
        fig.tight_layout()
        return _svg(fig, prefix)


def dot_panels(panels: Mapping[str, Mapping[str, float]], xlabel: str, prefix: str,
               xlim: tuple[float, float] = (0.0, 1.0), threshold: float | None = None,
               threshold_label: str = "") -> str:
    """Small multiples, one per index: a dot per group (e.g. Cronbach's alpha) on the same
    axis ``xlim``; ``threshold`` as a dotted line, dots below it in red."""
    names = list(panels)
    ncol = min(3, max(1, len(names)))
    nrow = int(np.ceil(len(names) / ncol))
    rows = max((len(panels[n]) for n in names), default=1)
    with plt.rc_context(_STYLE):
        fig, axes = plt.subplots(nrow, ncol, figsize=(3.9 * ncol, (0.27 * rows + 0.9) * nrow), squeeze=False,
                                 sharex=True)
        for ax, name in zip(axes.flat, names, strict=False):
            groups = list(panels[name])
            ys = np.arange(len(groups))[::-1]
            v = np.asarray([panels[name][g] for g in groups], dtype=float)
            low = v < threshold if threshold is not None else np.zeros(len(v), bool)
            ax.hlines(ys, xlim[0], np.nan_to_num(v, nan=xlim[0]), color="#dddddd", linewidth=0.8)
            ax.plot(v[~low], ys[~low], "o", color=_COLOR, markersize=5)
            ax.plot(v[low], ys[low], "o", color="#c0392b", markersize=5)
            if threshold is not None:
                ax.axvline(threshold, color=_REF_COLOR, linestyle=":", linewidth=1, label=threshold_label)
            ax.set_yticks(ys, groups, fontsize=7)
            ax.set_xlim(*xlim)
            ax.set_title(name, fontsize=8.5)
            ax.tick_params(axis="x", labelsize=7)
        for ax in list(axes.flat)[len(names):]:
            ax.set_visible(False)
        fig.supxlabel(xlabel, fontsize=8)
        fig.tight_layout()
        return _svg(fig, prefix)
