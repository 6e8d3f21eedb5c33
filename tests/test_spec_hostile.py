"""Hostile spec input: a YAML alias bomb, a 400-digit number, a spec path naming a private
file. Each is one line naming the file (and line), a non-zero exit, inputs byte-identical,
nothing written, and never the file's contents in the message."""

from __future__ import annotations

from pathlib import Path

import pytest

from sid.cli import main
from sid.errors import ExpressionError, SpecError
from sid.linkage.spec import load_linkage_spec
from sid.spec.expr import parse
from sid.spec.questionnaire_parse import load_questionnaire
from sid.spec.weighting import load_weighting
from sid.spec.yamlfile import Section, Where, parse_yaml
from tests.projects import copy_project

ROOT = Path(__file__).resolve().parents[1]
PRIVATE_KEY = """\
-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACDVx2sF8qZc1pYkq0oQ0lq3cHh3rV1kzS4pXJd0V6ldSAAAAJgtopSecret
-----END OPENSSH PRIVATE KEY-----
"""


def _bomb(levels: int = 9) -> str:
    """A "billion laughs" YAML flow list: level k holds 9 aliases of level k-1 (9**9 leaves)."""
    names = "abcdefghijklmnop"
    items = [f"&{names[0]} [" + ", ".join(['"lol"'] * 9) + "]"]
    for prev, cur in zip(names[: levels - 1], names[1:levels], strict=True):
        items.append(f"&{cur} [" + ", ".join([f"*{prev}"] * 9) + "]")
    return "[" + ", ".join(items) + "]"


def _project(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "proj")


def _plant(path: Path, old: str, new: str) -> bytes:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path} no longer holds {old!r}; update the test"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path.read_bytes()


def _one_line(msg: str, *names: str) -> None:
    assert "\n" not in msg
    for n in names:
        assert n in msg, (n, msg)


def _no_content(output: str, content: str) -> None:
    """No line (nor 12-character piece of a line) of ``content`` appears in ``output``."""
    for line in content.splitlines():
        for i in range(0, max(len(line) - 11, 1), 6):
            assert line[i:i + 12] not in output, (line[i:i + 12], output)


# -- 1. alias bombs ------------------------------------------------------------------------


def test_alias_bomb_in_the_weighting_spec_is_refused_before_expansion(tmp_path, capsys):
    proj = _project(tmp_path)
    spec = proj / "weights" / "sid2022.yaml"
    before = _plant(spec, "predictors: [sex, age_band, region, generation]", f"predictors: {_bomb()}")
    with pytest.raises(SpecError) as info:  # refused on the node graph, before expansion
        load_weighting(spec)
    msg = str(info.value)
    _one_line(msg, f"{spec}:", "YAML alias *h expands to", "write the values out")
    line = int(msg.split(f"{spec}:")[1].split(":")[0])
    assert "predictors:" in spec.read_text(encoding="utf-8").splitlines()[line - 1]
    out = tmp_path / "run"
    out.mkdir()
    (out / "manifest.json").write_text('{"run_id": null, "stages": {}}')  # the CLI wants a run folder
    assert main(["weight", "--out", str(out), "--project", str(proj), "--spec", str(spec)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("sid: error: ") and "YAML alias" in err[-1]
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json"]  # nothing written
    assert main(["check", str(spec)]) == 1
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and "YAML alias" in lines[0]
    assert spec.read_bytes() == before


def test_alias_bomb_in_the_linkage_spec_is_refused(tmp_path, capsys):
    proj = _project(tmp_path)
    spec = proj / "linkage" / "sid2022.yaml"
    text = spec.read_text(encoding="utf-8")
    spec.write_text(text + f"\nbreakdowns: {_bomb()}\n", encoding="utf-8")
    before = spec.read_bytes()
    with pytest.raises(SpecError, match=r"YAML alias \*h expands to [\d,]+ nodes") as info:
        load_linkage_spec(spec)
    _one_line(str(info.value), f"{spec}:")
    assert main(["check", str(spec)]) == 1
    assert spec.read_bytes() == before


def test_alias_inside_its_own_anchor_is_refused():
    with pytest.raises(SpecError, match=r"^q\.yaml:2: YAML alias \*x lies inside its own anchor"):
        parse_yaml("a: 1\nb: &x [1, *x]\n", where="q.yaml")


def test_modest_aliases_load_and_the_shipped_specs_use_them():
    assert parse_yaml("a: &s {1: Ja, 2: Nee}\nb: *s\nc: [*s, *s, *s]\n") == {
        "a": {1: "Ja", 2: "Nee"}, "b": {1: "Ja", 2: "Nee"}, "c": [{1: "Ja", 2: "Nee"}] * 3}
    text = (ROOT / "questionnaires" / "sid2022.yaml").read_text(encoding="utf-8")
    assert "&yesno" in text and "*yesno" in text  # the shipped spec reuses category mappings
    specs = [*ROOT.glob("questionnaires/*.yaml"), *ROOT.glob("weights/*.yaml"),
             *ROOT.glob("linkage/*.yaml"), *ROOT.glob("reports/*.yaml")]
    assert len(specs) >= 5
    for p in specs:
        assert isinstance(parse_yaml(p.read_text(encoding="utf-8"), where=str(p)), dict)
    assert load_questionnaire(ROOT / "questionnaires" / "sid2022.yaml").variables


# -- 2. huge numbers -----------------------------------------------------------------------


@pytest.mark.parametrize("src", ["x == " + "9" * 400, "x in [1, " + "9" * 400 + "]",
                                 "cut(x, [1, " + "9" * 400 + "])", "-" + "9" * 400 + " < x"])
def test_a_400_digit_literal_is_an_expression_error_naming_the_expression(src):
    with pytest.raises(ExpressionError) as info:
        parse(src, where="q.yaml:3: variables[0].relevant")
    msg = str(info.value)
    _one_line(msg, "q.yaml:3: variables[0].relevant: ", src[:20], "400-digit number")
    assert len(msg) < 250  # the expression is echoed cut short, not in full


def test_a_400_digit_literal_in_a_questionnaire_fails_sid_check(tmp_path, capsys):
    proj = _project(tmp_path)
    spec = proj / "questionnaires" / "sid2022.yaml"
    before = _plant(spec, 'relevant: "q_partner == 1"', f'relevant: "q_partner == {"9" * 400}"')
    with pytest.raises(ExpressionError) as info:
        load_questionnaire(spec)
    _one_line(str(info.value), f"{spec}:", "relevant", "q_partner == 999", "400-digit")
    assert main(["check", str(spec)]) == 1
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and "400-digit" in lines[0]
    assert spec.read_bytes() == before


def test_a_5000_digit_yaml_integer_is_a_spec_error_with_its_line():
    with pytest.raises(SpecError, match=r"^w\.yaml:2: YAML error: an integer of 5000 digits"):
        parse_yaml("wave: w\ntolerance: " + "9" * 5000 + "\n", where="w.yaml")
    with pytest.raises(SpecError, match="too large"):  # within YAML's limit, beyond a float's
        Section({"n": 10**400}, Where("w.yaml", "", 2), keys={"n"}).number("n")


# -- 3. a spec path naming a private file --------------------------------------------------


@pytest.mark.parametrize("content", [PRIVATE_KEY, "password=hunter2-correct-horse\n",
                                     "- sk_live_0123456789abcdefghij\n- another secret line\n",
                                     '{"private_key_id": "0123456789abcdef0123"}\n'])
def test_sid_check_on_a_private_file_never_prints_its_contents(tmp_path, capsys, content):
    path = tmp_path / "id_ed25519"
    path.write_text(content, encoding="utf-8")
    before = path.read_bytes()
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr()
    lines = [ln for ln in out.out.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and str(path) in lines[0] and "check the file's path" in lines[0]
    _no_content(out.out + out.err, content)
    assert path.read_bytes() == before


def test_a_weighting_spec_path_naming_a_text_file_prints_no_contents(tmp_path, capsys):
    key = tmp_path / "deploy_key"
    key.write_text(PRIVATE_KEY, encoding="utf-8")
    out = tmp_path / "run"
    out.mkdir()
    (out / "manifest.json").write_text('{"run_id": null, "stages": {}}')  # the CLI wants a run folder
    assert main(["weight", "--out", str(out), "--project", str(ROOT), "--spec", str(key)]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert err[-1].startswith(f"sid: error: {key}: expected a weighting spec")
    _no_content(captured.out + captured.err, PRIVATE_KEY)
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json"]  # nothing written
    assert key.read_bytes() == PRIVATE_KEY.encode()


def test_a_linkage_spec_naming_a_text_file_as_origin_map_prints_no_contents(tmp_path):
    proj = _project(tmp_path)
    key = proj / "linkage" / "secret.txt"
    key.write_text(PRIVATE_KEY, encoding="utf-8")
    spec = proj / "linkage" / "sid2022.yaml"
    _plant(spec, "origin_map: origin_map.yaml", "origin_map: secret.txt")
    with pytest.raises(SpecError) as info:
        load_linkage_spec(spec)
    _one_line(str(info.value), str(key), "expected")
    _no_content(str(info.value), PRIVATE_KEY)


def test_long_values_are_echoed_cut_to_60_characters(tmp_path):
    secret = "s3cr3t-" * 40
    cases = {
        "weights": f"wave: sid2022\nsample: {{frame: x.csv, strata: [{secret}]}}\n",
        "unknown key": f"wave: w\ntitle: t\nkey: k\nvariables: []\n{secret}: 1\n",
        "name": f"wave: w\ntitle: t\nkey: {secret}\nvariables: []\n",
        "choice": f"wave: w\ntitle: t\nkey: k\nvariables: [{{name: a, label: A, type: {secret}}}]\n",
    }
    for what, text in cases.items():
        p = tmp_path / f"{what.replace(' ', '_')}.yaml"
        p.write_text(text, encoding="utf-8")
        loader = load_weighting if what == "weights" else load_questionnaire
        with pytest.raises(SpecError) as info:
            loader(p)
        msg = str(info.value)
        _one_line(msg, str(p))
        assert secret[:40] not in msg or "..." in msg, (what, msg)
        assert secret[:70] not in msg, (what, msg)
