"""Weighting spec loader: the SID 2022 spec loads; each defect is one line naming file:line: key."""

from __future__ import annotations

from pathlib import Path

import pytest

from sid.errors import SpecError
from sid.spec.weighting import TrimBound, load_weighting

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "weights" / "sid2022.yaml"


def test_sid2022_spec_loads_with_the_documented_values() -> None:
    s = load_weighting(SPEC)
    assert s.wave == "sid2022"
    assert s.sample.strata == ("stratum",) and s.sample.frame_strata == ("origin",)
    assert s.sample.mode == "mode" and s.sample.psu == () and s.sample.fpc == ()
    assert s.sample.group is None and s.sample.reporting_group == "stratum" and s.sample.design_weight is None
    assert s.dispositions["LANGUAGE"] == "2.33" and s.dispositions["UNKNOWN"] == "3.10"
    assert s.nonresponse.method == "propensity_classes" and s.nonresponse.classes == 5
    assert s.calibration.margins == (("sex", "age_band"), ("region",), ("generation",))
    assert s.calibration.margin_names() == ("sex:age_band", "region", "generation")
    assert s.calibration.collapse_min == 20 and s.nonresponse.min_respondents == 20
    assert s.trimming is not None and s.trimming.upper == TrimBound("ratio_to_median", 5.0)
    assert s.replicates is not None and s.replicates.replicates == 100 and s.replicates.seed == 2022
    assert s.variables()["calibration.margins"] == ("sex", "age_band", "region", "generation")
    assert len(s.sha256) == 64


def _defect(tmp_path: Path, old: str, new: str) -> Path:
    text = SPEC.read_text()
    assert old in text, old
    p = tmp_path / "w.yaml"
    p.write_text(text.replace(old, new, 1))
    return p


def _line_of(path: Path, fragment: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if fragment in line)


@pytest.mark.parametrize(
    ("old", "new", "at", "key", "says"),
    [
        ("  method: raking", "  method: rakeing", "method: rakeing", "calibration.method",
         "did you mean 'raking'"),
        ("  method: propensity_classes", "  method: propensity", "method: propensity",
         "nonresponse.method", "not one of"),
        ("  bounds: null", "  bounds: [0.5, 0.9]", "bounds: [0.5", "calibration.bounds",
         "lo < 1 < hi"),
        ("  bounds: null", "  bounds: [1.2, 3]", "bounds: [1.2", "calibration.bounds",
         "lo < 1 < hi"),
        ("  bounds: null", "  bounds: 2", "bounds: 2", "calibration.bounds", "expected [lo, hi]"),
        ("[sex:age_band, region, generation]", "[sex:age_band, sex::region, generation]",
         "sex::region", "calibration.margins[1]", "not 'variable' or 'a:b'"),
        ("[sex:age_band, region, generation]", "[sex:age_band, region, age_band:sex]",
         "age_band:sex", "calibration.margins[2]", "given twice"),
        ("[sex:age_band, region, generation]", "[sex:sex, region]",
         "sex:sex", "calibration.margins[0]", "names a variable twice"),
        ('  LANGUAGE: "2.33"', '  LANGUAGE: "2.0"', "LANGUAGE", "dispositions.LANGUAGE",
         "too coarse"),
        ('  LANGUAGE: "2.33"', '  LANGUAGE: "5.1"', "LANGUAGE", "dispositions.LANGUAGE",
         "not in the AAPOR scheme"),
        ("  replicates: 100", "  replicates: 1", "replicates: 1", "replicates.replicates",
         "more than 1"),
        ("  seed: 2022\n", "", "method: bootstrap", "replicates.seed", "need a seed"),
        ("redo: [nonresponse, calibration, trimming]", "redo: [nonresponse, calibraton]",
         "redo:", "replicates.redo[1]", "did you mean 'calibration'"),
        ("  upper: {ratio_to_median: 5.0}", "  upper: {ratio_to_mean: 5.0}", "upper:",
         "trimming.upper.ratio_to_mean", "did you mean 'ratio_to_median'"),
        ("  upper: {ratio_to_median: 5.0}", "  upper: {ratio_to_median: 0.8}", "upper:",
         "trimming.upper", "above 1"),
        ("  upper: {ratio_to_median: 5.0}", "  upper: {absolute: -3}", "upper:",
         "trimming.upper.absolute", "above 0"),
        ("  upper: {ratio_to_median: 5.0}", "  upper: 5.0", "upper:", "trimming.upper",
         "expected one of"),
        ("  classes: 5", "  clases: 5", "clases", "nonresponse.clases", "did you mean 'classes'"),
        ("collapse: {min_respondents: 20}", "collapse: {min_respondents: 0}", "collapse:",
         "calibration.collapse.min_respondents", "below the minimum 1"),
        ("collapse: {min_respondents: 20}", "collapse: {min_rspondents: 20}", "collapse:",
         "calibration.collapse.min_rspondents", "did you mean 'min_respondents'"),
        ("  min_respondents: 20   ", "  min_respondents: 2.5   ", "min_respondents: 2.5",
         "nonresponse.min_respondents", "whole number"),
        ("  frame_strata: [origin]", "  frame_strata: [origin, sex]", "frame_strata",
         "sample.frame_strata", "2 frame names for 1 strata"),
        ("wave: sid2022", "wave: sid2022\nweigths: {}", "weigths", "weigths", "unknown key"),
    ],
)
def test_weighting_spec_defect_is_one_line_with_file_line_and_key(
    tmp_path: Path, old: str, new: str, at: str, key: str, says: str
) -> None:
    p = _defect(tmp_path, old, new)
    with pytest.raises(SpecError) as exc:
        load_weighting(p)
    msg = str(exc.value)
    assert "\n" not in msg
    line = _line_of(p, at)
    assert msg.startswith(f"{p}:{line}: {key}: "), msg
    assert says in msg, msg


def test_logit_calibration_without_bounds_is_refused(tmp_path: Path) -> None:
    p = _defect(tmp_path, "  method: raking", "  method: logit")
    with pytest.raises(SpecError, match=r"calibration\.bounds: logit calibration needs bounds"):
        load_weighting(p)


def test_missing_spec_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="spec file not found"):
        load_weighting(tmp_path / "none.yaml")
