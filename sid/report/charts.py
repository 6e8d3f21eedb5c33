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

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend is chosen before pyplot loads)
import numpy as np  # noqa: E402

_STYLE = {
    "svg.fonttype": "none",
    "svg.hashsalt": "sid-report",
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_COLOR, _REF_COLOR = "#2b6c9e", "#888888"


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


def weight_histograms(weights: Mapping[str, np.ndarray], prefix: str = "wh", bins: int = 30) -> str:
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
            ax.set_title(f"{label} (n={w.size})", fontsize=9)
            ax.tick_params(labelsize=7)
            ax.ticklabel_format(axis="x", style="sci", scilimits=(-3, 4))
        for ax in list(axes.flat)[len(labels):]:
            ax.set_visible(False)
        fig.supxlabel("finaal gewicht (rode lijn: mediaan)", fontsize=8)
        fig.supylabel("respondenten", fontsize=8)
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
) -> str:
    """Estimates with confidence-interval bars, one horizontal row per group.

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
        ax.set_ylim(-0.7, len(keep) - 0.3)
        ax.grid(axis="x", color="#dddddd", linewidth=0.5)
        fig.tight_layout()
        return _svg(fig, prefix)
