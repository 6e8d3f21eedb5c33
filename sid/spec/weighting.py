"""The weighting spec (``weights/<wave>.yaml``): sampling design, dispositions, weighting chain.

The format is documented in docs/weighting-spec.md. :func:`load_weighting` reads it
through :mod:`sid.spec.yamlfile`, so every error is one line naming file, line and key
path (unknown keys with a "did you mean"). It checks what can be checked without data:
method names, calibration bounds ``lo < 1 < hi``, margin syntax (``a`` or ``a:b``), the
disposition mapping against the AAPOR scheme (:func:`sid.spec.dispositions.validate_mapping`),
the trimming forms, and the replicate settings. Checks against the data and the frame
(do the variables exist?) are :mod:`sid.spec.check_weighting`'s job.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sid.errors import SpecError
from sid.spec.dispositions import validate_mapping
from sid.spec.yamlfile import Section, Where, check_number, load_yaml, shown, suggest, type_name

NONRESPONSE_METHODS = ("propensity_classes", "weighting_classes", "none")
CALIBRATION_METHODS = ("linear", "raking", "logit")
UNKNOWN_ELIGIBILITY = ("proportional",)
TRIM_FORMS = ("ratio_to_median", "absolute")
REPLICATE_METHODS = ("bootstrap", "jackknife")
REDO_STEPS = ("nonresponse", "calibration", "trimming")

_TOP = {"wave", "sample", "dispositions", "eligibility", "nonresponse", "calibration",
        "trimming", "replicates"}
_SAMPLE = {"frame", "frame_count", "gross_sample", "dispositions", "key", "disposition",
           "mode", "strata", "frame_strata", "psu", "fpc", "group", "design_weight",
           "with_replacement"}


@dataclass(frozen=True)
class SampleSpec:
    """Files (relative to the data folder) and columns of the sampling design.

    The carrier of the design's roles for the fieldwork and weight stages (built from a
    weighting spec's ``sample:``, with the project file's declared roles and data files
    filled in by :func:`sid.project.wave_weighting`: where both name one, they must agree;
    left out of both, a name is None (a file, a column) or empty):

    * ``strata``: one or more stratum variables of the gross sample; the *design stratum*
      is their combination (labels joined by ``:``, e.g. ``BEL:ANT``), in sid's outputs
      the column :attr:`stratum_column`; ``frame_strata`` are the frame's names of
      ``strata``, same order.
    * ``psu``: the cluster variable of each sampling stage (stage 1 first); ``()``: not
      clustered (every sampled person is its own PSU). A string or None is accepted and
      stored as a tuple.
    * ``fpc``: per stage, the column of the gross sample with the population size (R's
      ``svydesign(fpc=)``): stage 1, the number of stage-1 units (PSUs, or persons when
      unclustered) in the design stratum; stage 2, the number of persons in the PSU.
      ``()``: no finite population correction.
    * ``design_weight``: a column of the gross sample with each person's design weight
      (1 / inclusion probability), e.g. of a PPS draw of PSUs; None: N_h / n_h per design
      stratum from the frame's counts.
    * ``group``: the reporting group as a column of the gross sample (the project file's
      ``roles.sample_group``; SID: origin): fieldwork rates per group and e estimated
      within it; None: the stratum variable when there is one (:attr:`reporting_group`).
    * ``mode``: the column of the dispositions file with the mode of approach (None: no
      per-mode rates). ``with_replacement``: the strata were sampled with replacement (no
      fpc; n_h may exceed N_h, as in the demo wave at large ``--scale``).
    """

    frame: str | None
    frame_count: str
    gross_sample: str | None
    dispositions: str | None
    key: str | None
    disposition: str | None
    strata: tuple[str, ...]
    frame_strata: tuple[str, ...]
    psu: tuple[str, ...] = ()
    mode: str | None = None
    with_replacement: bool = False
    fpc: tuple[str, ...] = ()
    group: str | None = None
    design_weight: str | None = None

    def __post_init__(self) -> None:
        for name in ("strata", "frame_strata", "psu", "fpc"):
            v = getattr(self, name)
            object.__setattr__(self, name, () if v is None else (v,) if isinstance(v, str) else tuple(v))
        if not self.frame_strata:
            object.__setattr__(self, "frame_strata", self.strata)
        fpc = list(self.fpc)
        while fpc and fpc[-1] is None:  # a later stage without fpc adds no variance (R)
            fpc.pop()
        if None in fpc:
            raise SpecError(f"sample: fpc {list(self.fpc)} has no fpc for stage {fpc.index(None) + 1} but one "
                            "for a later stage; with a stage drawn with replacement the later stages add no "
                            "variance: give every earlier stage's fpc or drop the later ones")
        object.__setattr__(self, "fpc", tuple(fpc))
        # what the spec loader says with file and line, said here for a SampleSpec built in code
        if len(self.frame_strata) != len(self.strata):
            raise SpecError(f"sample: {len(self.frame_strata)} frame_strata for {len(self.strata)} strata; "
                            "give one frame column per stratum variable, in the same order")
        if len(self.fpc) > max(len(self.psu), 1):
            raise SpecError(f"sample: {len(self.fpc)} fpc columns for {max(len(self.psu), 1)} sampling "
                            "stage(s); give at most one per stage of psu, stage 1 first")
        if self.with_replacement and self.fpc:
            raise SpecError("sample: with_replacement has no finite population correction; remove fpc "
                            "or with_replacement")

    @property
    def reporting_group(self) -> str | None:
        """The reporting group column: ``group``, else the only stratum variable (None
        when there are several and no group is named)."""
        if self.group is not None:
            return self.group
        return self.strata[0] if len(self.strata) == 1 else None

    @property
    def stratum_column(self) -> str:
        """The name sid's outputs give the design stratum (weights.parquet, cases.parquet,
        diagnostics.json ``design.strata``, the analysts' SPSS file): the stratum variable, or
        the names of several joined by ``_`` (``origin_province``: a valid SPSS name; its
        labels join the categories by ``:``, ``BEL:ANT``)."""
        return "_".join(self.strata)

    def missing(self) -> list[str]:
        """The ``sample`` keys a weight or fieldwork stage needs that are still unnamed."""
        return [k for k, v in (("frame", self.frame), ("gross_sample", self.gross_sample),
                               ("dispositions", self.dispositions), ("key", self.key),
                               ("disposition", self.disposition), ("strata", self.strata))
                if not v]


@dataclass(frozen=True)
class EligibilitySpec:
    """How cases of unknown eligibility are treated: ``proportional`` (their weight passed on
    to the eligible in the known-eligible share, per stratum; sid.weighting.eligibility)."""

    unknown: str = "proportional"


@dataclass(frozen=True)
class NonresponseSpec:
    method: str
    within: str | None = None
    predictors: tuple[str, ...] = ()
    classes: int | None = None
    min_respondents: int | None = None  # propensity classes of fewer respondents merged


@dataclass(frozen=True)
class PooledSpec:
    """``calibration.pooled``: margins over all calibration groups together (SID: the total
    population of all origin groups), met jointly with the within-group margins in one
    calibration (:mod:`sid.weighting.pooled`). ``margins`` as in :class:`CalibrationSpec`."""

    margins: tuple[tuple[str, ...], ...]

    def margin_names(self) -> tuple[str, ...]:
        """Pooled margins as written in the spec (``"region:sex"``)."""
        return tuple(":".join(m) for m in self.margins)


@dataclass(frozen=True)
class CalibrationSpec:
    """``margins``: one tuple of variable names per margin (two or more: interaction cells).

    ``collapse_min``: ``collapse: {min_respondents: k}``, merge calibration cells of fewer
    than k respondents with their neighbour in code order (:mod:`sid.weighting.collapse`);
    None: no collapsing. ``pooled``: margins over all groups together, met jointly with
    the within-group ones (:class:`PooledSpec`); None (``pooled: false``): none.
    """

    method: str
    margins: tuple[tuple[str, ...], ...]
    within: str | None = None
    bounds: tuple[float, float] | None = None
    tolerance: float = 1e-8
    max_iter: int = 100
    pooled: PooledSpec | None = None
    collapse_min: int | None = None

    def margin_names(self) -> tuple[str, ...]:
        """Margins as written in the spec (``"sex:age_band"``)."""
        return tuple(":".join(m) for m in self.margins)


@dataclass(frozen=True)
class TrimBound:
    """A trimming bound: ``ratio_to_median`` (times the median weight) or ``absolute``."""

    form: str
    value: float


@dataclass(frozen=True)
class TrimmingSpec:
    upper: TrimBound | None = None
    lower: TrimBound | None = None
    within: str | None = None
    max_rounds: int = 10


@dataclass(frozen=True)
class ReplicateSpec:
    method: str
    replicates: int
    seed: int | None = None
    redo: tuple[str, ...] = ()


@dataclass(frozen=True)
class WeightingSpec:
    """A whole weighting spec. ``dispositions``: agency code (normalised text) -> AAPOR code."""

    wave: str
    sample: SampleSpec
    dispositions: Mapping[str, str]
    eligibility: EligibilitySpec
    nonresponse: NonresponseSpec
    calibration: CalibrationSpec
    trimming: TrimmingSpec | None
    replicates: ReplicateSpec | None
    path: str = ""
    sha256: str = ""

    def variables(self) -> dict[str, tuple[str, ...]]:
        """Gross-sample variables each step uses: ``{spec key: names}`` (for lint checks)."""
        s = self.sample
        out: dict[str, tuple[str, ...]] = {"sample.strata": s.strata}
        for key, v in (("sample.psu", s.psu), ("sample.fpc", s.fpc),
                       ("sample.design_weight", (s.design_weight,) if s.design_weight else ()),
                       ("sample.group", (s.group,) if s.group else ())):
            if v:
                out[key] = v
        if self.nonresponse.predictors:
            out["nonresponse.predictors"] = self.nonresponse.predictors
        for key, v in (("nonresponse.within", self.nonresponse.within),
                       ("calibration.within", self.calibration.within),
                       ("trimming.within", self.trimming.within if self.trimming else None)):
            if v:
                out[key] = (v,)
        out["calibration.margins"] = tuple(dict.fromkeys(v for m in self.calibration.margins for v in m))
        if self.calibration.pooled is not None:
            out["calibration.pooled.margins"] = tuple(
                dict.fromkeys(v for m in self.calibration.pooled.margins for v in m))
        return out


def load_weighting(path: str | os.PathLike[str]) -> WeightingSpec:
    """Read and validate a weighting spec; raises a one-line :class:`SpecError` when invalid."""
    p = Path(path)
    doc = load_yaml(p)
    top = Section(doc, Where(str(p)), keys=_TOP,
                  required={"wave", "sample", "dispositions", "nonresponse", "calibration"},
                  what="a weighting spec (a mapping with wave, sample, dispositions, ...)")
    sample = _sample(top)
    spec = WeightingSpec(
        wave=str(top.text("wave")),
        sample=sample,
        dispositions=_dispositions(top),
        eligibility=_eligibility(top),
        nonresponse=_nonresponse(top),
        calibration=_calibration(top),
        trimming=_trimming(top),
        replicates=_replicates(top),
        path=str(p),
        sha256=hashlib.sha256(p.read_bytes()).hexdigest(),
    )
    return spec


def _sample(top: Section) -> SampleSpec:
    # files, key, strata and disposition column may be left to the project file (sid.yaml)
    s = top.section("sample", keys=_SAMPLE)
    strata = _names_or_one(s, "strata")
    if "strata" in s and not strata:
        raise s.at("strata").error("expected at least one stratum variable")
    frame_strata = _names_or_one(s, "frame_strata") or strata
    if strata and len(frame_strata) != len(strata):
        raise s.at("frame_strata").error(
            f"{len(frame_strata)} frame names for {len(strata)} strata variables; "
            "give one frame column per stratum variable, in the same order"
        )
    psu, fpc = _names_or_one(s, "psu"), _names_or_one(s, "fpc")
    if len(fpc) > max(len(psu), 1):
        raise s.at("fpc").error(f"{len(fpc)} fpc columns for {max(len(psu), 1)} sampling stage(s); "
                                "give at most one per stage of psu, stage 1 first")
    with_replacement = s.flag("with_replacement", False)
    if with_replacement and fpc:
        raise s.at("fpc").error("with_replacement: true has no finite population correction; "
                                "remove fpc or with_replacement")
    # several strata and no group: the project file may name it (roles.sample_group);
    # sid.project.wave_weighting refuses a sample that ends up without one
    group = s.text("group", None)
    return SampleSpec(
        frame=s.text("frame", None),
        frame_count=s.text("frame_count", "count"),
        gross_sample=s.text("gross_sample", None),
        dispositions=s.text("dispositions", None),
        key=s.text("key", None),
        disposition=s.text("disposition", None),
        strata=strata,
        frame_strata=frame_strata,
        psu=psu,
        mode=s.text("mode", None),
        with_replacement=with_replacement,
        fpc=fpc,
        group=group,
        design_weight=s.text("design_weight", None),
    )


def _names_or_one(s: Section, key: str) -> tuple[str, ...]:
    """A list of names, one name, or null/absent (``()``)."""
    v = s.get(key, None)
    if v is None:
        return ()
    if isinstance(v, str):
        if not v:
            raise s.at(key).error("expected a name or a list of names, got an empty text")
        return (v,)
    names = s.names(key)
    if len(set(names)) != len(names):
        raise s.at(key).error("a variable is named twice; keep one")
    return names


def _dispositions(top: Section) -> dict[str, str]:
    item = top.item("dispositions")
    if not isinstance(item.value, dict) or not item.value:
        raise item.where.error(
            f"expected a mapping of agency codes to AAPOR codes (e.g. REFUSAL: \"2.11\"), "
            f"got {type_name(item.value)}"
        )
    lines = getattr(item.value, "key_lines", {})
    for code, aapor in item.value.items():
        try:
            validate_mapping({code: aapor})
        except SpecError as exc:
            # validate_mapping names the spec key but not the file/line; keep its reason.
            reason = str(exc).split(": ", 1)[-1]
            raise item.where.key(code, lines.get(code)).error(reason) from None
    try:
        return validate_mapping(item.value)
    except SpecError as exc:  # two keys that normalise to one agency code
        raise item.where.error(str(exc).split(": ", 1)[-1]) from None


def _eligibility(top: Section) -> EligibilitySpec:
    if "eligibility" not in top or top.value["eligibility"] is None:
        return EligibilitySpec()
    s = top.section("eligibility", keys={"unknown"})
    return EligibilitySpec(unknown=s.text("unknown", "proportional", choices=UNKNOWN_ELIGIBILITY))


def _nonresponse(top: Section) -> NonresponseSpec:
    s = top.section("nonresponse", keys={"method", "within", "predictors", "classes", "min_respondents"},
                    required={"method"})
    method = s.text("method", choices=NONRESPONSE_METHODS)
    within = s.text("within", None)
    predictors = s.names("predictors", ())
    classes = s.number("classes", None, integer=True, low=2)
    min_resp = s.number("min_respondents", None, integer=True, low=1)
    if min_resp is not None and method != "propensity_classes":
        raise s.at("min_respondents").error("min_respondents is for propensity_classes only; remove it")
    if method == "propensity_classes":
        if not predictors:
            raise s.at("predictors").error("propensity_classes needs at least one predictor")
        if classes is None:
            raise s.at("classes").error("propensity_classes needs the number of classes (e.g. 5)")
    elif method == "weighting_classes":
        if not predictors:
            raise s.at("predictors").error(
                "weighting_classes needs the class variables as predictors (e.g. [sex, age_band])"
            )
        if classes is not None:
            raise s.at("classes").error("classes is for propensity_classes only; remove it")
    elif predictors or classes is not None:
        raise s.at("method").error("method none takes no predictors or classes; remove them")
    return NonresponseSpec(method=method, within=within, predictors=predictors, classes=classes,
                           min_respondents=min_resp)


def _margins(s: Section) -> tuple[tuple[str, ...], ...]:
    out: list[tuple[str, ...]] = []
    seen: set[tuple[str, ...]] = set()
    for _i, item in s.items("margins"):
        v = item.value
        if not isinstance(v, str) or not v.strip():
            raise item.where.error(
                f"expected a margin 'variable' or 'a:b' (interaction cells), got {type_name(v)}"
            )
        parts = tuple(x.strip() for x in v.split(":"))
        if any(not x or not x.replace("_", "").isalnum() or x[0].isdigit() for x in parts):
            raise item.where.error(
                f"margin {shown(v)} is not 'variable' or 'a:b': write variable names joined by ':'"
            )
        if len(set(parts)) != len(parts):
            raise item.where.error(f"margin {shown(v)} names a variable twice")
        if tuple(sorted(parts)) in seen:
            raise item.where.error(f"margin {shown(v)} is given twice; keep one")
        seen.add(tuple(sorted(parts)))
        out.append(parts)
    if not out:
        raise s.at("margins").error("expected at least one margin")
    return tuple(out)


def _bounds(s: Section, method: str) -> tuple[float, float] | None:
    v = s.get("bounds", None)
    if v is None:
        if method == "logit":
            raise s.at("bounds").error("logit calibration needs bounds [lo, hi] with lo < 1 < hi")
        return None
    where = s.at("bounds")
    if not isinstance(v, list) or len(v) != 2:
        raise where.error(f"expected [lo, hi] (two numbers, lo < 1 < hi), got {type_name(v)}")
    lo = check_number(v[0], where.index(0))
    hi = check_number(v[1], where.index(1))
    if not (lo < 1 < hi):
        raise where.error(f"[{lo:g}, {hi:g}] must satisfy lo < 1 < hi (g = 1 leaves a weight as is)")
    if lo < 0:
        raise where.error(f"lower bound {lo:g} is negative; weights would turn negative")
    return (float(lo), float(hi))


def _calibration(top: Section) -> CalibrationSpec:
    s = top.section("calibration", keys={"within", "method", "bounds", "margins", "tolerance",
                                         "max_iter", "pooled", "collapse"},
                    required={"method", "margins"})
    method = s.text("method", choices=CALIBRATION_METHODS)
    tol = s.number("tolerance", 1e-8)
    if not tol > 0:
        raise s.at("tolerance").error(f"{tol:g} must be above 0")
    within = s.text("within", None)
    return CalibrationSpec(
        method=method,
        margins=_margins(s),
        within=within,
        bounds=_bounds(s, method),
        tolerance=float(tol),
        max_iter=s.number("max_iter", 100, integer=True, low=1),
        pooled=_pooled(s, method, within),
        collapse_min=_collapse(s),
    )


def _pooled(s: Section, method: str, within: str | None) -> PooledSpec | None:
    """``pooled: false`` (or absent) -> None; ``pooled: {margins: [...], method: m}``."""
    v = s.get("pooled", False)
    if v is False or v is None:
        return None
    if v is True:
        raise s.at("pooled").error("pooled: true does not say which totals; write "
                                   "pooled: {margins: [region:sex]} (margins over all groups), or false")
    p = s.section("pooled", keys={"margins", "method"}, required={"margins"})
    m = p.text("method", method, choices=CALIBRATION_METHODS)
    if m != method:
        raise p.at("method").error(f"{shown(m)} differs from calibration.method {shown(method)}: the pooled and the "
                                   "within-group margins are met in one joint calibration with one method")
    if within is None:
        raise s.at("pooled").error("pooled margins need calibration.within (without groups, list the "
                                   "margins under calibration.margins)")
    margins = _margins(p)
    if any(within in m for m in margins):
        raise p.at("margins").error(f"a pooled margin includes the calibration group {shown(within)}; "
                                    "margins by group belong under calibration.margins")
    return PooledSpec(margins=margins)


def _collapse(s: Section) -> int | None:
    if "collapse" not in s or s.value["collapse"] is None:
        return None
    c = s.section("collapse", keys={"min_respondents"}, required={"min_respondents"})
    return c.number("min_respondents", integer=True, low=1)


def _trim_bound(s: Section, key: str) -> TrimBound | None:
    v = s.get(key, None)
    if v is None:
        return None
    where = s.at(key)
    if not isinstance(v, dict) or len(v) != 1:
        raise where.error(
            f"expected one of {{ratio_to_median: x}} or {{absolute: x}}, got {type_name(v)}"
        )
    (form, value), = v.items()
    if form not in TRIM_FORMS:
        raise where.key(form).error(
            f"unknown trimming form{suggest(str(form), TRIM_FORMS) or '; use ratio_to_median or absolute'}"
        )
    x = check_number(value, where.key(form))
    if not x > 0:
        raise where.key(form).error(f"{x:g} must be above 0")
    return TrimBound(form=str(form), value=float(x))


def _trimming(top: Section) -> TrimmingSpec | None:
    if "trimming" not in top or top.value["trimming"] is None:
        return None
    s = top.section("trimming", keys={"upper", "lower", "within", "max_rounds"})
    upper, lower = _trim_bound(s, "upper"), _trim_bound(s, "lower")
    if upper is None and lower is None:
        raise Where(s.where.file, s.where.path, s.line).error(
            "give an upper or a lower bound (or remove trimming)"
        )
    if upper is not None and upper.form == "ratio_to_median" and upper.value <= 1:
        raise s.at("upper").error(
            f"ratio_to_median {upper.value:g} would trim the median weight; use a value above 1"
        )
    if lower is not None and lower.form == "ratio_to_median" and lower.value >= 1:
        raise s.at("lower").error(
            f"ratio_to_median {lower.value:g} would raise the median weight; use a value below 1"
        )
    if upper is not None and lower is not None and upper.form == lower.form and lower.value >= upper.value:
        raise s.at("lower").error(f"{lower.value:g} is not below the upper bound {upper.value:g}")
    return TrimmingSpec(upper=upper, lower=lower, within=s.text("within", None),
                        max_rounds=s.number("max_rounds", 10, integer=True, low=1))


def _replicates(top: Section) -> ReplicateSpec | None:
    if "replicates" not in top or top.value["replicates"] is None:
        return None
    s = top.section("replicates", keys={"method", "replicates", "seed", "redo"},
                    required={"method", "replicates"})
    method = s.text("method", choices=REPLICATE_METHODS)
    r = s.number("replicates", integer=True)
    if r <= 1:
        raise s.at("replicates").error(f"{r} replicates: give more than 1 (e.g. 100 or 500)")
    redo = s.names("redo", ())
    for i, step in enumerate(redo):
        if step not in REDO_STEPS:
            raise s.at("redo").index(i).error(
                f"{shown(step)} is not a weighting step{suggest(step, REDO_STEPS) or '; use ' + ', '.join(REDO_STEPS)}"
            )
    if len(set(redo)) != len(redo):
        raise s.at("redo").error("a step is named twice; keep one")
    seed: Any = s.number("seed", None, integer=True, low=0)
    if method == "bootstrap" and seed is None:
        raise s.at("seed").error("bootstrap replicates need a seed (a whole number) to be reproducible")
    return ReplicateSpec(method=method, replicates=r, seed=seed, redo=redo)
