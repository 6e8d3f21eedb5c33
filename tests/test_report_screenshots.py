"""Full-page screenshots of every report page of both waves, taken with headless Chromium.

Each page (sid2022 and sid2017, Dutch, and the English fieldwork page) is rendered in a
1280 px wide window much taller than the page, and the screenshot is cut where the page
ends (the last row that is not background), so it holds the whole page. Checked on each
PNG: it is not blank, the page is taller than a screen of text, the page ends inside the
window (the whole page is on it), and a page with charts has chart-coloured pixels in its
chart regions (the bars and dots of sid.report.charts). The screenshots stay as test
artifacts in ``<tmp>/report-screenshots`` (SID_SCREENSHOTS=DIR copies them there too).
Skipped, with the reason, where Chromium is not installed (.ci/run installs it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.report_waves import WAVES

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/run installs it)")
WIDTH, WINDOW = 1280, 16000
#: pages and the least number of inline SVG charts each has
PAGES = {"index": 0, "fieldwork": 1, "cleaning": 1, "weighting": 3, "indices": 2, "indicators": 5}
CHART_RGB = np.array([0x2B, 0x6C, 0x9E]) / 255  # sid.report.charts._COLOR
CASES = [(w, "nl", p) for w in WAVES for p in PAGES] + [(w, "en", "fieldwork") for w in WAVES]


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("report-screenshots")


def screenshot(html: Path, png: Path, profile: Path) -> np.ndarray:
    """A full-page screenshot of ``html`` at ``png`` (RGB array, cut where the page ends)."""
    import matplotlib.image as mpimg

    raw = png.with_suffix(".window.png")
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", f"--screenshot={raw}", f"--window-size={WIDTH},{WINDOW}",
         html.resolve().as_uri()],
        check=True, capture_output=True, timeout=180)
    img = mpimg.imread(raw)[..., :3]
    content = np.flatnonzero((np.abs(img - img[-1, -1]) > 0.02).any(axis=(1, 2)))
    end = int(content.max()) + 24 if len(content) else 0
    img = img[:min(end, img.shape[0])]
    mpimg.imsave(png, img)
    raw.unlink()
    return img


@pytest.mark.parametrize(("wave", "lang", "name"), CASES)
def test_full_page_screenshot_of_every_report_page(report_waves, shots, wave, lang, name):
    html = report_waves[(wave, lang)] / "report" / f"{name}.html"
    png = shots / f"{wave}-{lang}-{name}.png"
    img = screenshot(html, png, shots / "profile")
    keep = os.environ.get("SID_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(png, Path(keep) / png.name)
    assert img.shape[1] == WIDTH
    assert img.shape[0] < WINDOW - 24, f"{name}: the page is longer than the window; raise WINDOW"
    assert img.shape[0] > (500 if name == "index" else 1500), img.shape  # a whole report, not an error page
    assert img.std() > 0.05, "blank page"
    rows_with_text = (np.abs(img - 1.0) > 0.3).any(axis=(1, 2)).mean()
    assert rows_with_text > 0.2, rows_with_text  # text all the way down, not one line on white
    charts = PAGES[name]
    if charts:
        near = np.linalg.norm(img - CHART_RGB, axis=2) < 0.08
        rows = np.flatnonzero(near.any(axis=1))
        assert near.sum() > 2000 * charts, (name, int(near.sum()))  # bars, dots and lines drawn
        # the charts sit in separate regions of the page, each with chart pixels
        regions = np.split(rows, np.flatnonzero(np.diff(rows) > 150) + 1)
        assert len(regions) >= min(charts, 2), (name, len(regions))
