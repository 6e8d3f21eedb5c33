"""The trend page's chart: one headline indicator's estimate per wave with its CI, per domain.

Inline SVG in the style of sid.report.charts (same rc style, id prefixes, no URLs). One
horizontal row per domain category, grouped under a heading per domain (overall, origin
group, VLIM origin, generation); in each row one marker per wave (earliest on top) with
its confidence interval. The axis is the indicator's whole range (0-100 for an index or a
share in %), never truncated, so a change reads at its true size. A wave without a value
(a group not surveyed that wave, a suppressed cell) gets the page's text in place of its
marker. A break in the series: the earlier waves' markers are hollow and the chart says
so. Every text is given by the caller (the message catalogue), none is written here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np

from sid.report.charts import _STYLE, _svg

#: one colour per wave, earliest first (the last wave in the reports' blue)
WAVE_COLORS = ("#e08a2c", "#2b6c9e", "#5a9e4b", "#8e5ea2")
_HEAD = "#333333"
_GAP = "#777777"


@dataclass(frozen=True)
class Row:
    """One chart row: a heading (``values`` empty) or a domain category with, per wave,
    (estimate, ci_low, ci_high) on the chart's scale, or None and ``notes``' text."""

    label: str
    values: Sequence[tuple[float, float, float] | None] = ()
    notes: Sequence[str] = ()
    heading: bool = False


def trend_chart(rows: Sequence[Row], waves: Sequence[str], xlabel: str, prefix: str,
                upper: float = 100.0, break_text: str | None = None) -> str:
    """The chart as an inline ``<svg>`` string; ``waves`` are the legend's labels (periods),
    ``upper`` the axis maximum (the axis starts at 0), ``break_text`` the break's legend."""
    k = len(waves)
    step = 0.8 / max(k, 1)
    ys = np.arange(len(rows))[::-1].astype(float)
    with plt.rc_context(_STYLE):
        fig, ax = plt.subplots(figsize=(6.6, 0.3 * len(rows) + 1.15))
        for y, row in zip(ys, rows, strict=True):
            if row.heading:
                continue
            for j in range(k):
                v = row.values[j] if j < len(row.values) else None
                yj = y + (k - 1) / 2 * step - j * step
                if v is None or not np.isfinite(v[0]):
                    note = row.notes[j] if j < len(row.notes) else ""
                    ax.text(1.0, yj, note, fontsize=6.5, color=_GAP, va="center")
                    continue
                e, lo, hi = v
                err = [[e - lo if np.isfinite(lo) else 0.0], [hi - e if np.isfinite(hi) else 0.0]]
                hollow = break_text is not None and j < k - 1
                ax.errorbar([e], [yj], xerr=err, fmt="o", color=WAVE_COLORS[j % 4], ecolor=WAVE_COLORS[j % 4],
                            capsize=2.5, markersize=4.5, elinewidth=1.1,
                            markerfacecolor="white" if hollow else WAVE_COLORS[j % 4])
        ax.set_yticks(ys, [r.label for r in rows])
        for tick, row in zip(ax.get_yticklabels(), rows, strict=True):
            if row.heading:
                tick.set_fontweight("bold")
                tick.set_color(_HEAD)
        for y, row in zip(ys, rows, strict=True):
            if row.heading and y < ys[0]:
                ax.axhline(y + 0.5, color="#cccccc", linewidth=0.6)
        ax.set_xlim(0, upper)
        ax.set_ylim(-0.6, len(rows) - 0.4)
        ax.set_xlabel(xlabel)
        ax.tick_params(axis="y", length=0)
        ax.grid(axis="x", color="#e3e3e3", linewidth=0.5)
        handles = [plt.Line2D([], [], marker="o", linestyle="", color=WAVE_COLORS[j % 4],
                              markerfacecolor="white" if (break_text is not None and j < k - 1) else WAVE_COLORS[j % 4])
                   for j in range(k)]
        labels = list(waves)
        if break_text is not None:
            labels = [f"{w} ({break_text})" if j < k - 1 else w for j, w in enumerate(waves)]
        ax.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=k, fontsize=7.5,
                  frameon=False)
        fig.tight_layout()
        return _svg(fig, prefix)


__all__ = ["Row", "WAVE_COLORS", "trend_chart"]
