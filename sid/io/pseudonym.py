"""Personal keys: refuse raw national register numbers, pseudonymise with a keyed hash.

Belgian national register number (rijksregisternummer, NRN): 11 digits ``YYMMDDxxxcc``,
often written ``YY.MM.DD-xxx.cc``. The check number ``cc`` is 97 minus the first nine
digits modulo 97; for people born in 2000 or later the nine digits are prefixed with a
2 (i.e. ``2YYMMDDxxx``) before the modulo. Bis numbers (no NRN) use the same check with
the month raised by 20 or 40. (Source: Rijksregister, "Structuur van het
identificatienummer", and the Belgian eID specifications.)

Pseudonymisation is HMAC-SHA256 (RFC 2104 / FIPS 198-1) of the key's text with a secret
read from the environment variable ``SID_PSEUDONYM_KEY`` or from a key file. The secret is
never written with the output: whoever holds the output and not the secret cannot
recompute or reverse the pseudonyms.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from sid.errors import LinkageError

KEY_ENV = "SID_PSEUDONYM_KEY"
MIN_KEY_BYTES = 32  # RFC 2104 section 3: a key shorter than the hash output weakens the MAC
_SEP = r"[-./ ]?"  # 85.07.30-033.28, 850730 033 28, 85/07/30 ...
_NRN_PATTERN = rf"\d{{2}}{_SEP}\d{{2}}{_SEP}\d{{2}}{_SEP}\d{{3}}{_SEP}\d{{2}}"
# An NRN inside free text: the shape above, not inside a longer run of letters or digits
# (a hexadecimal pseudonym holds digit runs between letters). A lookahead, so that the
# candidates overlap ("12 85 07 30 033 28": the second one is the number).
_NRN_IN_TEXT = rf"(?<![0-9A-Za-z])(?=({_NRN_PATTERN})(?![0-9A-Za-z]))"
# An NRN stored as a number has lost its leading zeros: births 2001-2009 (and 1901-1909)
# have 10 digits. Births in 2000 have 9 or fewer, like ordinary codes, counts and
# respondent numbers, which would give false alarms: numbers are checked from 10 digits.
_NUMBER_RANGE = (1e9, 1e11)


def _valid(number: np.ndarray) -> np.ndarray:
    """Which 11-digit numbers (int64, leading zeros lost) pass the NRN rules: mod-97 for a
    birth before or from 2000, month 0-12 (+20 or +40 for bis numbers), day 0-31."""
    body, check = number // 100, number % 100
    month = (number // 10**7) % 100 % 20
    day = (number // 10**5) % 100
    before_2000 = (97 - body % 97) == check
    after_2000 = (97 - (2_000_000_000 + body) % 97) == check
    return (before_2000 | after_2000) & (month <= 12) & (day <= 31)


def _kind(s: pd.Series) -> str:
    """"number", "text" or "other" (dates, times, booleans: never an NRN)."""
    if pd.api.types.is_bool_dtype(s.dtype):
        return "other"
    if pd.api.types.is_integer_dtype(s.dtype) or pd.api.types.is_float_dtype(s.dtype):
        return "number"
    if pd.api.types.is_string_dtype(s.dtype) or pd.api.types.is_object_dtype(s.dtype):
        inferred = pd.api.types.infer_dtype(s, skipna=True)
        if inferred in ("integer", "floating", "mixed-integer-float"):
            return "number"
        return "text" if inferred in ("string", "mixed", "mixed-integer", "empty") else "other"
    return "other"


def nrn_mask(values: pd.Series) -> np.ndarray:
    """Boolean array: True where a value is, or holds, a valid Belgian NRN (or bis number).

    Text: anywhere in the value, ``YYMMDDxxxcc`` with or without the usual separators
    (``85.07.30-033.28``, ``850730 033 28``), not inside a longer run of letters or digits.
    Numbers (integers, and floats holding whole numbers, as SPSS stores every number):
    values of 10 or 11 digits, read as 11 digits with leading zeros. The check digits must
    satisfy the mod-97 rule for a birth before or from 2000, and the date part must be
    plausible. Vectorised: numpy for numbers, pandas ``.str`` methods for text.
    """
    s = pd.Series(values).reset_index(drop=True)
    out = np.zeros(len(s), dtype=bool)
    kind = _kind(s)
    if kind == "number":
        num = pd.to_numeric(s, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        with np.errstate(invalid="ignore"):
            shaped = (np.isfinite(num) & (num >= _NUMBER_RANGE[0]) & (num < _NUMBER_RANGE[1])
                      & (num == np.floor(num)))
        if shaped.any():
            out[np.flatnonzero(shaped)] = _valid(num[shaped].astype(np.int64))
        return out
    if kind != "text":
        return out
    text = s.astype("string")
    shaped = text.str.contains(_NRN_PATTERN, regex=True).fillna(False).to_numpy(dtype=bool)
    if not shaped.any():
        return out
    # whole values first (a key column: one number per row), then numbers inside text
    whole = text.str.strip().str.fullmatch(_NRN_PATTERN).fillna(False).to_numpy(dtype=bool)
    if whole.any():
        digits = text[whole].str.replace(r"\D", "", regex=True).astype("int64").to_numpy()
        out[np.flatnonzero(whole)] = _valid(digits)
    rest = shaped & ~out
    if rest.any():
        found = text[rest].str.extractall(_NRN_IN_TEXT)[0]
        if not found.empty:
            number = found.str.replace(r"\D", "", regex=True).astype("int64").to_numpy()
            out[found.index.get_level_values(0).to_numpy()[_valid(number)]] = True
    return out


def masked(value: object) -> str:
    """The first NRN of ``value`` with every digit masked (``**.**.**-***.**``): its shape,
    never its digits, for error messages."""
    if isinstance(value, str):
        for m in re.finditer(_NRN_IN_TEXT, value):
            if _valid(np.array([int(re.sub(r"\D", "", m.group(1)))]))[0]:
                return re.sub(r"\d", "*", m.group(1))
    return "*" * 11


def find_raw_nrn(df: pd.DataFrame, columns: list[str] | None = None) -> tuple[str, int, int, str] | None:
    """The first column of ``df`` holding a valid NRN, as (column, how many rows, first row
    position, that value masked); None when no column does. ``columns``: default all."""
    for col in columns if columns is not None else list(df.columns):
        m = nrn_mask(df[col])
        if m.any():
            row = int(np.flatnonzero(m)[0])
            return str(col), int(m.sum()), row, masked(df[col].iloc[row])
    return None


def refuse_raw_nrn(df: pd.DataFrame, where: str, columns: list[str] | None = None) -> None:
    """Raise LinkageError when a column of ``df`` holds a valid NRN (:func:`nrn_mask`).

    ``where`` names the file in the message; ``columns`` limits the scan (default: all).
    The message shows the first number masked, never its digits.
    """
    hit = find_raw_nrn(df, columns)
    if hit is not None:
        col, n, row, shape = hit
        raise LinkageError(
            f"{where}: column {col!r} holds {n} raw national register number(s) "
            f"(first in row {row}: {shape}); sid refuses raw NRNs: pseudonymise the key first "
            f"(HMAC-SHA256 with the key in ${KEY_ENV}) and drop the raw column"
        )


def load_key(key_file: str | os.PathLike[str] | None = None, *, env: str = KEY_ENV) -> bytes:
    """The pseudonymisation secret: the file ``key_file`` (its bytes, a trailing newline
    removed) when given, else the environment variable ``env`` (UTF-8). At least
    MIN_KEY_BYTES bytes."""
    if key_file is not None:
        p = Path(key_file)
        try:
            key = p.read_bytes().rstrip(b"\r\n")
        except OSError as exc:
            raise LinkageError(f"{p}: cannot read the pseudonymisation key file ({exc.strerror})") from None
        where = str(p)
    else:
        text = os.environ.get(env)
        if not text:
            raise LinkageError(f"no pseudonymisation key: set ${env} or give a key file")
        key = text.encode("utf-8")
        where = f"${env}"
    if len(key) < MIN_KEY_BYTES:
        raise LinkageError(f"{where}: the pseudonymisation key has {len(key)} bytes; use at least "
                           f"{MIN_KEY_BYTES} random bytes (e.g. openssl rand -hex 32)")
    return key


def pseudonymise(values: pd.Series, key: bytes) -> pd.Series:
    """HMAC-SHA256 of each value's text under ``key``, as 64 hex characters (None stays None).

    Text is stripped of surrounding blanks. Whole numbers (integers, and floats holding
    them, as SPSS stores numbers) are written as 11-digit text with leading zeros, and
    NRN-formatted text (``YY.MM.DD-xxx.cc``) loses its separators, so an NRN stored as a
    number, as digits or formatted gets the same pseudonym.
    """
    s = pd.Series(values).reset_index(drop=True)
    if pd.api.types.is_integer_dtype(s.dtype) or pd.api.types.is_float_dtype(s.dtype):
        # one Python step per distinct value (as the HMAC below), not per row
        codes, uniq = pd.factorize(s)
        forms = [f"{int(u):011d}" if float(u).is_integer() else repr(float(u)) for u in uniq]
        text = pd.Series(np.array(forms + [None], dtype=object)[codes])
    else:
        text = s.astype("string").str.strip()
        nrn_shaped = text.str.fullmatch(_NRN_PATTERN).fillna(False)
        text = text.where(~nrn_shaped, text.str.replace(r"\D", "", regex=True)).astype(object)
        text = text.where(pd.notna(text), None)
    codes, uniq = pd.factorize(text)
    # No vectorised HMAC exists: one C-level hmac.digest call per *distinct* key.
    digests = np.array([hmac.digest(key, str(u).encode("utf-8"), hashlib.sha256).hex() for u in uniq] + [None],
                       dtype=object)
    return pd.Series(digests[codes], index=pd.Series(values).index, dtype=object)


def pseudonymise_column(df: pd.DataFrame, column: str, key: bytes, *, out: str) -> pd.DataFrame:
    """Copy of ``df`` where the raw key ``column`` is replaced by its pseudonym ``out``
    (HMAC-SHA256 hex); the raw column is dropped, so the result can be linked and stored."""
    if column not in df.columns:
        raise LinkageError(f"pseudonymise: column {column!r} is not in the data")
    if out != column and out in df.columns:
        raise LinkageError(f"pseudonymise: column {out!r} exists already; name the pseudonym otherwise")
    result = df.drop(columns=[column])
    result.insert(0, out, pseudonymise(df[column], key).to_numpy())
    return result
