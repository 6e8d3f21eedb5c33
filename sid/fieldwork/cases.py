"""The case table of the fieldwork stage: gross sample + final dispositions + AAPOR class."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from sid.errors import DataError
from sid.fieldwork.checks import (
    check_completes_match,
    check_dispositions_cover_sample,
    check_respondents_in_sample,
)
from sid.fieldwork.dispositions import map_dispositions


def build_cases(
    gross: pd.DataFrame,
    dispositions: pd.DataFrame,
    mapping: Mapping[object, object],
    key: str = "person_key",
    disposition: str = "disposition",
    survey_keys: Iterable[object] | None = None,
    spec_key: str = "dispositions",
    strict: bool = False,
) -> pd.DataFrame:
    """One row per case of the gross sample with its disposition, AAPOR code and class.

    ``gross``: the register extract of the gross sample (``key``, origin, background
    variables). ``dispositions``: the agency's file (``key``, ``disposition`` in the
    agency's codes, ``mode``, ...). ``mapping``: the spec's ``{agency_code: aapor_code}``.
    ``survey_keys``: the respondent keys of the survey files, when available.

    Checks, in order (each a one-line :class:`sid.errors.DataError`): unique, non-missing
    keys in both files; the same keys in both; every respondent in the gross sample; every
    agency code mapped to a valid AAPOR code; then warns (or raises when ``strict``) where
    complete dispositions and survey keys disagree (:func:`check_completes_match`).

    Returns the gross sample's columns, the dispositions' other columns, ``aapor_code`` and
    ``outcome`` (categorical I, P, R, NC, O, UH, UO, NE), in the gross sample's row order.
    """
    check_dispositions_cover_sample(dispositions, gross, key)
    if survey_keys is not None:
        survey_keys = list(survey_keys)
        check_respondents_in_sample(survey_keys, gross[key])
    if disposition not in dispositions.columns:
        raise DataError(f"dispositions: no column {disposition!r} (columns: {list(dispositions.columns)})")
    overlap = [c for c in dispositions.columns if c != key and c in gross.columns]
    if overlap:
        raise DataError(
            f"dispositions: column(s) {overlap} also occur in the gross sample: "
            "rename them in one of the files so the merge is unambiguous"
        )
    cases = gross.merge(dispositions, on=key, how="left", validate="one_to_one", sort=False)
    classes = map_dispositions(cases[disposition], mapping, spec_key=spec_key)
    cases["aapor_code"] = classes["aapor_code"].to_numpy()
    cases["outcome"] = classes["outcome"]
    if survey_keys is not None:
        check_completes_match(cases, survey_keys, key=key, strict=strict)
    return cases
