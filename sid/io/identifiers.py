"""Raw national register numbers at ingest: refused, or pseudonymised where the spec says.

A fieldwork file may carry a Belgian national register number (NRN) the agency should
not have delivered: a key column (text, or numeric F11.0), or a number typed into an open
answer. Once ingested it would be copied into raw/, clean/, link/ and the analysts' .sav.
:func:`screen_file` therefore checks every column of every mode file, numbers and text
alike (:func:`sid.io.pseudonym.nrn_mask`), before anything is written, and refuses the
file naming the file, the variable and the case, with the number masked.

A variable the questionnaire spec declares ``identifier: pseudonymise`` is not refused:
:func:`pseudonymise_identifiers` replaces its values by their keyed HMAC-SHA256 pseudonym
(key from ``$SID_PSEUDONYM_KEY`` or a key file). Without a questionnaire spec (``sid
ingest`` without ``--spec``) nothing is declared, so every NRN is refused.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from sid.errors import LinkageError
from sid.io.pseudonym import KEY_ENV, find_raw_nrn, load_key, pseudonymise
from sid.io.spss_meta import VariableMeta

PSEUDONYM_FORMAT = "A64"  # HMAC-SHA256 as hexadecimal text


def screen_file(df: pd.DataFrame, where: str, *, identifiers: list[str], spec: str | None) -> None:
    """Raise :class:`LinkageError` when a column of ``df`` (the file ``where``), other than
    the declared ``identifiers``, holds a raw NRN. ``spec``: the questionnaire spec in hand
    (named in what to do), or None."""
    columns = [str(c) for c in df.columns if str(c) not in identifiers]
    hit = find_raw_nrn(df, columns)
    if hit is None:
        return
    col, n, row, shape = hit
    todo = (f"declare it 'identifier: pseudonymise' in {spec} to have ingest replace it by "
            "its keyed pseudonym" if spec else
            "ingest with --spec QUESTIONNAIRE declaring it 'identifier: pseudonymise', to "
            "have ingest replace it by its keyed pseudonym")
    raise LinkageError(
        f"{where}: variable {col}: {n} raw national register number(s), first in case "
        f"{row + 1} ({shape}); sid does not ingest raw NRNs: remove the variable (or the "
        f"number from the answer), or {todo}"
    )


def pseudonymise_identifiers(
    data: pd.DataFrame, variables: dict[str, VariableMeta], identifiers: list[str],
    key: bytes | None = None,
) -> tuple[pd.DataFrame, dict[str, VariableMeta], list[str]]:
    """Replace each identifier column of ``data`` by its HMAC-SHA256 pseudonym (text).

    Columns of ``identifiers`` not in the data are skipped. ``key``: the secret (default
    :func:`sid.io.pseudonym.load_key`, i.e. ``$SID_PSEUDONYM_KEY``). Returns the data,
    the metadata (the variable becomes a string of 64 characters, without value labels or
    missing codes) and the names pseudonymised.
    """
    present = [c for c in identifiers if c in data.columns]
    if not present:
        return data, variables, []
    if key is None:
        try:
            key = load_key()
        except LinkageError as exc:
            raise LinkageError(f"{exc}; the questionnaire spec declares {', '.join(present)} "
                               f"'identifier: pseudonymise' (set ${KEY_ENV} or give --key-file)") from None
    data = data.copy()
    variables = dict(variables)
    for name in present:
        data[name] = pd.Series(pseudonymise(data[name], key).to_numpy(), index=data.index, dtype="str")
        variables[name] = replace(variables[name], type="string", format=PSEUDONYM_FORMAT,
                                  value_labels={}, missing_values=[], missing_ranges=[],
                                  measure="nominal", width=None)
    return data, variables, present
