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
from pathlib import Path

import numpy as np
import pandas as pd

from sid.errors import LinkageError

KEY_ENV = "SID_PSEUDONYM_KEY"
MIN_KEY_BYTES = 32  # RFC 2104 section 3: a key shorter than the hash output weakens the MAC
_NRN_PATTERN = r"\d{2}\.?\d{2}\.?\d{2}[-.]?\d{3}\.?\d{2}"


def nrn_mask(values: pd.Series) -> np.ndarray:
    """Boolean array: True where a value is a valid Belgian NRN (or bis number).

    Text is matched against ``YYMMDDxxxcc`` with the usual separators; integers are read
    as 11 digits with leading zeros (a number stored as int loses them) when they have 10
    or 11 digits. The check digits
    must satisfy the mod-97 rule for a birth before or after 2000, and the date part must
    be plausible (month 0-12, +20 or +40 for bis numbers; day 0-31).
    """
    s = pd.Series(values).reset_index(drop=True)
    out = np.zeros(len(s), dtype=bool)
    if pd.api.types.is_integer_dtype(s.dtype):
        num = s.to_numpy(dtype="float64", na_value=np.nan)
        # An NRN stored as a number has lost its leading zeros; below 10^9 are only the
        # years 00 (1900/2000) and ordinary small numbers (ages, counts), which would give
        # false alarms, so integer columns are checked from 10 digits up (text: all).
        shaped = np.isfinite(num) & (num >= 1e9) & (num < 1e11)
        number = num[shaped].astype(np.int64)
    elif pd.api.types.is_float_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
        return out
    else:
        text = s.astype("string").str.strip()
        shaped = text.str.fullmatch(_NRN_PATTERN).fillna(False).to_numpy(dtype=bool)
        number = text[shaped].str.replace(r"\D", "", regex=True).astype("int64").to_numpy()
    if not shaped.any():
        return out
    body, check = number // 100, number % 100
    month = (number // 10**7) % 100 % 20
    day = (number // 10**5) % 100
    before_2000 = (97 - body % 97) == check
    after_2000 = (97 - (2_000_000_000 + body) % 97) == check
    out[np.flatnonzero(shaped)] = (before_2000 | after_2000) & (month <= 12) & (day <= 31)
    return out


def refuse_raw_nrn(df: pd.DataFrame, where: str, columns: list[str] | None = None) -> None:
    """Raise LinkageError when a text or integer column of ``df`` holds a valid NRN.

    ``where`` names the file in the message; ``columns`` limits the scan (default: all).
    """
    for col in columns if columns is not None else list(df.columns):
        m = nrn_mask(df[col])
        if m.any():
            row = int(np.flatnonzero(m)[0])
            raise LinkageError(
                f"{where}: column {col!r} holds {int(m.sum())} raw national register number(s) "
                f"(first in row {row}); sid refuses raw NRNs: pseudonymise the key first "
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

    Text is stripped of surrounding blanks. Integers are written as 11-digit text with
    leading zeros, and NRN-formatted text (``YY.MM.DD-xxx.cc``) loses its separators, so
    an NRN stored as a number, as digits or formatted gets the same pseudonym.
    """
    s = pd.Series(values).reset_index(drop=True)
    if pd.api.types.is_integer_dtype(s.dtype):
        codes, uniq = pd.factorize(s)
        text = pd.Series(np.array([f"{int(u):011d}" for u in uniq] + [None], dtype=object)[codes])
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
