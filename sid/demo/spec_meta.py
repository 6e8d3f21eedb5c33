"""SPSS dictionaries of the demo's mode files, built from the questionnaire spec.

Reads the spec YAML as plain data (the questionnaire loader of sid.spec validates it;
here only names, labels, types, categories and missing codes are needed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from sid.errors import SpecError
from sid.io.spss import SpssMeta, VariableMeta

SPEC_PATH = Path(__file__).resolve().parents[2] / "questionnaires" / "sid2022.yaml"
_MEASURE = {"categorical": "nominal", "ordinal": "ordinal", "numeric": "scale", "date": "scale", "text": "nominal"}
_FORMAT = {"q_birth_year": "F4.0", "birth_year": "F4.0", "municipality": "F5.0", "duration_min": "F6.1"}


def load_spec(path: str | Path = SPEC_PATH) -> dict[str, Any]:
    """The questionnaire spec as a dict (YAML parsed, not validated beyond being a mapping)."""
    p = Path(path)
    try:
        spec = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SpecError(f"{p}: cannot read the questionnaire spec ({' '.join(str(exc).split())})") from exc
    if not isinstance(spec, dict) or "variables" not in spec:
        raise SpecError(f"{p}: not a questionnaire spec (no 'variables' list); see docs/questionnaire-spec.md")
    return spec


def variables(spec: dict[str, Any], source: str | None = None) -> list[dict[str, Any]]:
    """The spec's variables in file order, optionally only those of one ``source``."""
    return [v for v in spec["variables"] if source is None or v.get("source") == source]


def spss_meta(spec: dict[str, Any], columns: list[str]) -> SpssMeta:
    """SpssMeta for ``columns``: Dutch variable labels, value labels (categories and the
    labels of the declared missing codes), declared missing codes, measures, formats.

    An item's declared codes are its ``missing`` list, default every wave code except
    -4 (invalid, set by cleaning only).
    """
    by_name = {v["name"]: v for v in spec["variables"]}
    codes = {int(c): d for c, d in spec.get("missing_codes", {}).items()}
    out = {}
    for col in columns:
        if col not in by_name:
            raise SpecError(f"variable {col}: written by the demo but not declared in the questionnaire spec")
        v = by_name[col]
        vtype = v.get("type", "numeric")
        if vtype == "text":
            out[col] = VariableMeta(name=col, label=v.get("label"), type="string", format="A16", measure="nominal")
            continue
        # dates carry no numeric codes (SPSS labels on a date variable must be dates)
        default = [] if vtype == "date" else [c for c, d in codes.items() if d.get("meaning") != "invalid"]
        missing = v.get("missing", default)
        labels = {float(k): str(lab) for k, lab in (v.get("categories") or {}).items()}
        labels.update({float(c): codes[int(c)]["label"] for c in missing})
        fmt = "DATE11" if vtype == "date" else _FORMAT.get(col, "F2.0" if v.get("categories") else "F8.2")
        out[col] = VariableMeta(
            name=col, label=v.get("label"), type="numeric", format=fmt,
            measure=v.get("measure", _MEASURE.get(vtype, "unknown")),
            value_labels=labels, missing_values=[float(c) for c in sorted(missing, reverse=True)],
        )
    return SpssMeta(variables=out, file_label=f"{spec.get('title', spec.get('wave', ''))}")
