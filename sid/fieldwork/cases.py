"""The case table of the fieldwork stage: gross sample + final dispositions + AAPOR class."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from sid.errors import DataError
from sid.fieldwork.checks import (
    _check_cover,
    _check_respondents,
    _completes_match,
    _key_array,
    _lookup,
    _present,
    check_dispositions_cover_sample,
    factorize_keys,
)
from sid.spec.dispositions import map_dispositions


def build_cases(
    gross: pd.DataFrame,
    dispositions: pd.DataFrame,
    mapping: Mapping[object, object],
    *,
    key: str,
    disposition: str,
    survey_keys: Iterable[object] | None = None,
    spec_key: str = "dispositions",
    strict: bool = False,
) -> pd.DataFrame:
    """One row per case of the gross sample with its disposition, AAPOR code and class.

    ``gross``: the register extract of the gross sample (``key``, strata, background
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
    if key not in gross.columns or key not in dispositions.columns:
        check_dispositions_cover_sample(dispositions, gross, key)  # raises the missing column
    # every key check and the join below work on integer codes from one hash table
    lists = [gross[key], dispositions[key]]
    if survey_keys is not None:
        survey_keys = _key_array(survey_keys)
        lists.append(survey_keys)
    codes, n = factorize_keys(*lists)
    g_codes, d_codes = codes[0], codes[1]
    _check_cover(gross, dispositions, key, g_codes, d_codes, n)
    if survey_keys is not None:
        _check_respondents(survey_keys, codes[2], _present(g_codes, n), "survey data")
    if disposition not in dispositions.columns:
        raise DataError(f"dispositions: no column {disposition!r} (columns: {list(dispositions.columns)})")
    overlap = [c for c in dispositions.columns if c != key and c in gross.columns]
    if overlap:
        raise DataError(
            f"dispositions: column(s) {overlap} also occur in the gross sample: "
            "rename them in one of the files so the merge is unambiguous"
        )
    # keys are unique and the same in both files (checked above): the one-to-one left
    # merge is a take of the dispositions' rows in the gross sample's order
    row_of = np.empty(n, dtype=np.int64)
    row_of[d_codes] = np.arange(len(d_codes))
    others = dispositions.loc[:, [c for c in dispositions.columns if c != key]]
    cases = pd.concat([gross.reset_index(drop=True),
                       others.take(row_of[g_codes]).reset_index(drop=True)], axis=1)
    classes = map_dispositions(cases[disposition], mapping, spec_key=spec_key)
    cases["aapor_code"] = classes["aapor_code"].array
    cases["outcome"] = classes["outcome"]
    if survey_keys is not None:
        in_survey = _lookup(_present(codes[2], n), g_codes)
        _completes_match(cases, in_survey, key=key, strict=strict)
    return cases
