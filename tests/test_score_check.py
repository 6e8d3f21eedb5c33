"""Bad index definitions are errors of `sid check` (and of `sid score`) before any data is
read: an item that is not declared, a reversed item without a range, k larger than n."""

from __future__ import annotations

import textwrap

import pytest

from sid.cli import main

SPEC = """\
wave: w1
title: Test
key: person_key
missing_codes:
  -1: {meaning: dont_know, label: "Weet niet"}
variables:
  - {name: person_key, label: Sleutel, type: text, source: register}
  - {name: origin, label: Herkomst, type: categorical, source: register, categories: {BEL: Belgisch, MAR: Marokkaans}}
  - {name: a1, label: A1, type: ordinal, categories: {1: "1", 2: "2", 3: "3"}}
  - {name: a2, label: A2, type: ordinal, categories: {1: "1", 2: "2", 3: "3"}}
  - {name: a3, label: A3, type: numeric, range: [0, 10]}
themes: {inclusion: Inclusie}
indices:
  - {name: idx_a, label: A, theme: inclusion, items: [a1, a2, a3], reverse: [a3], min_valid: 2, scale: pomp}
"""
BAD = [
    ("items: [a1, a2, a3]", "items: [a1, a9, a3]", "idx_a: item 'a9' is not a declared variable"),
    ("type: numeric, range: [0, 10]", "type: numeric", "idx_a: reversed item 'a3' has neither categories nor a range"),
    ("min_valid: 2", "min_valid: 4", "idx_a: min_valid 4 is larger than the number of items (3)"),
]


def _write(tmp_path, text):
    folder = tmp_path / "questionnaires"
    folder.mkdir(exist_ok=True)
    p = folder / "w1.yaml"
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def test_cli_check_accepts_the_good_index_spec(tmp_path, capsys):
    assert main(["check", str(_write(tmp_path, SPEC))]) == 0


@pytest.mark.parametrize(("old", "new", "expected"), BAD, ids=["item-not-declared", "reverse-without-range", "k-gt-n"])
def test_cli_check_rejects_bad_index_without_data(tmp_path, capsys, old, new, expected):
    assert old in SPEC
    spec = _write(tmp_path, SPEC.replace(old, new))
    code = main(["check", str(spec)])  # the spec alone: no data file is needed to find it
    out = capsys.readouterr()
    assert code == 1
    assert expected in out.out + out.err


@pytest.mark.parametrize(("old", "new", "expected"), BAD, ids=["item-not-declared", "reverse-without-range", "k-gt-n"])
def test_sid_score_refuses_a_bad_index_spec_before_reading_the_run_folder(tmp_path, capsys, old, new, expected):
    spec = _write(tmp_path, SPEC.replace(old, new))
    (tmp_path / "run" / "clean").mkdir(parents=True)  # empty: reading it would fail differently
    assert main(["score", "--out", str(tmp_path / "run"), "--spec", str(spec)]) != 0
    err = capsys.readouterr().err
    assert err.startswith("sid: error:") and expected in err
