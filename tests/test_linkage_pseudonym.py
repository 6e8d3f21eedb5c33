"""NRN detection (mod-97, constructed numbers) and HMAC-SHA256 pseudonyms (RFC 4231 vectors,
Python's hmac module)."""

from __future__ import annotations

import hashlib
import hmac

import pandas as pd
import pytest

from sid.errors import LinkageError
from sid.io.pseudonym import MIN_KEY_BYTES, load_key, nrn_mask, pseudonymise, refuse_raw_nrn


def make_nrn(yy: int, mm: int, dd: int, seq: int, born_2000_or_later: bool = False) -> str:
    """A valid NRN built by the published rule: cc = 97 - (body mod 97), body prefixed with
    2 for births from 2000 on."""
    body = int(f"{yy:02d}{mm:02d}{dd:02d}{seq:03d}")
    cc = 97 - ((2_000_000_000 + body) if born_2000_or_later else body) % 97
    return f"{body:09d}{cc:02d}"


def formatted(nrn: str) -> str:
    return f"{nrn[:2]}.{nrn[2:4]}.{nrn[4:6]}-{nrn[6:9]}.{nrn[9:]}"


def test_valid_nrns_are_detected_plain_formatted_and_as_integers():
    a = make_nrn(85, 7, 31, 3)  # 1985
    b = make_nrn(5, 3, 1, 12, born_2000_or_later=True)  # 2005
    bis = make_nrn(90, 1 + 20, 15, 101)  # bis number: month + 20
    wrong = a[:9] + f"{(int(a[9:]) % 97) + 1:02d}"  # check digits off by one
    texts = pd.Series([a, b, formatted(a), formatted(b), bis, wrong, "12345", None, "abc", f" {a} "])
    assert nrn_mask(texts).tolist() == [True, True, True, True, True, False, False, False, False, True]
    ints = pd.Series([int(a), int(b), int(wrong), 42, 85], dtype="int64")
    assert nrn_mask(ints).tolist() == [True, True, False, False, False]


def test_file_with_a_raw_nrn_is_refused_naming_the_column():
    df = pd.DataFrame({"person_key": ["k1", "k2", "k3"], "rrn": ["x", formatted(make_nrn(71, 12, 2, 45)), None],
                       "age": [30, 40, 50]})
    with pytest.raises(LinkageError, match=r"t.parquet: column 'rrn' holds 1 raw national register number\(s\) "
                                           r"\(first in row 1: \*\*\.\*\*\.\*\*-\*\*\*\.\*\*\)"):
        refuse_raw_nrn(df, "t.parquet")
    refuse_raw_nrn(df.drop(columns=["rrn"]), "t.parquet")  # no NRN: no error


@pytest.mark.parametrize("key, data, expected", [
    # RFC 4231 test case 1 and 2 (HMAC-SHA-256)
    (b"\x0b" * 20, "Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
    (b"Jefe", "what do ya want for nothing?", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
])
def test_pseudonym_matches_RFC4231_vectors(key, data, expected):
    assert pseudonymise(pd.Series([data]), key).tolist() == [expected]


def test_pseudonyms_match_python_hmac_and_nrn_forms_agree():
    key = bytes(range(MIN_KEY_BYTES))
    a = make_nrn(64, 2, 29, 77)
    values = pd.Series([a, formatted(a), "P-0001", None, "P-0001"])
    out = pseudonymise(values, key)
    ref = hmac.new(key, a.encode(), hashlib.sha256).hexdigest()
    assert out[0] == out[1] == ref
    assert out[2] == out[4] == hmac.new(key, b"P-0001", hashlib.sha256).hexdigest()
    assert out[3] is None
    assert pseudonymise(pd.Series([int(a)]), key)[0] == ref  # stored as a number


def test_key_from_env_or_file_and_short_keys_refused(tmp_path, monkeypatch):
    secret = "k" * 40
    monkeypatch.setenv("SID_PSEUDONYM_KEY", secret)
    assert load_key() == secret.encode()
    f = tmp_path / "key"
    f.write_bytes(b"f" * 32 + b"\n")
    assert load_key(f) == b"f" * 32
    monkeypatch.setenv("SID_PSEUDONYM_KEY", "short")
    with pytest.raises(LinkageError, match=r"\$SID_PSEUDONYM_KEY: the pseudonymisation key has 5 bytes"):
        load_key()
    monkeypatch.delenv("SID_PSEUDONYM_KEY")
    with pytest.raises(LinkageError, match="no pseudonymisation key"):
        load_key()


def test_whole_numbers_stored_as_floats_are_detected_and_pseudonymised_as_integers():
    a = make_nrn(85, 7, 31, 3)
    b = make_nrn(5, 3, 1, 12, born_2000_or_later=True)  # 10 digits as a number
    wrong = a[:9] + f"{(int(a[9:]) % 97) + 1:02d}"
    floats = pd.Series([float(a), float(b), float(wrong), float(a) + 0.5, None, 2007.0])
    assert nrn_mask(floats).tolist() == [True, True, False, False, False, False]
    key = bytes(range(MIN_KEY_BYTES))
    assert pseudonymise(floats, key)[0] == pseudonymise(pd.Series([a]), key)[0]
    assert pseudonymise(floats, key)[1] == pseudonymise(pd.Series([int(b)]), key)[0]
    assert pseudonymise(floats, key)[4] is None


def test_nrn_inside_free_text_and_not_inside_longer_runs():
    a = make_nrn(71, 12, 2, 45)
    texts = pd.Series([f"mijn rr: {formatted(a)}, dank", f"{a[:6]} {a[6:9]} {a[9:]}", f"12 {a}",
                       f"x{a}", f"{a}7", f"ab{a}cd", "tel 0471 23 45 67", "72859bd106059a91"], dtype="str")
    assert nrn_mask(texts).tolist() == [True, True, True, False, False, False, False, False]
