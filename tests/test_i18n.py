"""Two languages: every message, hint and diagnosis in English and in simplified Chinese."""

from __future__ import annotations

import ast
import re
import string
import threading
import tomllib
from functools import cache
from pathlib import Path

import pytest
from typer.testing import CliRunner

from grader import i18n, sandbox
from grader.batch import grade_folder
from grader.cli import app
from grader.feedback import Feedback, render_text
from grader.options import Options
from grader.grade import grade_file
from grader.i18n import LANGS, catalogue, default_language, speaking, t
from grader.spec import ASSIGNMENTS_DIR, load_all
from reference.mistakes import MISTAKES

from .conftest import SUBMISSIONS, seed000_score, total

GRADER = Path(i18n.__file__).parent
SEED000 = SUBMISSIONS / "bp-numpy" / "seed000_hidden_delta.py"
SYNTAX_ERROR = SUBMISSIONS / "bad" / "syntax_error.py"
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")  # ideographs and CJK/full-width punctuation
# t() calls whose key is not a literal: the key comes from a table this test checks on its own
COMPUTED_KEYS = {("sandbox.py", "protections"), ("binding/report.py", "described"),
                 ("feedback.py", "sandbox_line")}  # keys from a table of literals
MISTAKE_FIELDS = ("name", "explanation", "fix")  # the catalogue's texts: mistakes.<id>.<field>


def fields(template: str) -> set[tuple[str, str, str | None]]:
    """The {placeholders} of a template: name, format spec, conversion."""
    return {(name, spec or "", conv) for _, name, spec, conv in string.Formatter().parse(template) if name is not None}


def names(template: str) -> set[str]:
    return {name for name, _, _ in fields(template)}


# ---------------------------------------------------------------- the catalogues


def test_both_catalogues_have_the_same_keys():
    en, zh = catalogue("en"), catalogue("zh")
    assert sorted(set(en) - set(zh)) == [], "keys missing in zh.toml"
    assert sorted(set(zh) - set(en)) == [], "keys missing in en.toml"
    assert len(en) > 100


@pytest.mark.parametrize("key", sorted(catalogue("en")))
def test_same_placeholders_in_both_languages(key: str):
    en, zh = catalogue("en")[key], catalogue("zh").get(key, "")
    assert fields(en) == fields(zh), (key, en, zh)
    assert zh.strip(), key


def test_chinese_catalogue_is_chinese():
    """Every zh template with words in it has Chinese in it (a few are only punctuation, marks or code)."""
    zh = catalogue("zh")
    untranslated = [k for k, v in zh.items() if not CJK.search(v) and re.search(r"[a-z]{3,} [a-z]{3,}", v)
                    and v == catalogue("en")[k]]
    assert untranslated == []


def _t_calls() -> list[tuple[str, str, ast.Call]]:
    """Every t(...) call in grader/**/*.py: (file, enclosing function, call)."""
    found = []
    for path in sorted(GRADER.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))

        def visit(node: ast.AST, function: str) -> None:
            for child in ast.iter_child_nodes(node):
                inner = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else function
                if isinstance(child, ast.Call) and isinstance(child.func, ast.Name) and child.func.id == "t":
                    found.append((str(path.relative_to(GRADER)), inner, child))
                visit(child, inner)

        visit(tree, "<module>")
    return found


def test_every_key_the_grader_uses_exists_with_the_values_it_needs():
    calls = _t_calls()
    assert len(calls) > 100
    en = catalogue("en")
    problems = []
    for file, function, call in calls:
        where = f"{file}:{call.lineno}"
        key = call.args[0] if call.args else None
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
            if (file, function) not in COMPUTED_KEYS:
                problems.append(f"{where}: t() needs a literal key")
            continue
        if key.value not in en:
            problems.append(f"{where}: no message {key.value!r}")
            continue
        if any(k.arg is None for k in call.keywords):  # **values: cannot be checked statically
            continue
        given = {k.arg for k in call.keywords}
        if given != names(en[key.value]):
            problems.append(f"{where}: {key.value!r} takes {sorted(names(en[key.value]))}, given {sorted(given)}")
    assert problems == []


def test_every_message_is_used():
    used = {c.args[0].value for _, _, c in _t_calls() if c.args and isinstance(c.args[0], ast.Constant)}
    used |= {n.value for path in GRADER.rglob("*.py") for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
             if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value.startswith("binding.how.")}
    used |= set(sandbox.ALWAYS) | {k for pair in sandbox.LAYERS.values() for k in pair}
    used |= {f"mistakes.{i}.{f}" for i in MISTAKES for f in MISTAKE_FIELDS}
    used |= {f"mistakes.{i}.{fw}.{f}" for i, m in MISTAKES.items() for fw, texts in m.text["en"].frameworks.items()
             for f in texts}
    used |= {f"{k}_one" for k in used}  # t(key, count=1) takes key_one where there is one
    assert sorted(set(catalogue("en")) - used) == []


def test_the_mistakes_texts_are_messages_without_placeholders():
    """Beside their catalogue (reference/), loaded with grader/locales: every mistake's three texts, and the
    explanation and fix a framework reads instead where it has its own, nothing else."""
    for lang in LANGS:
        keys = {k for k in catalogue(lang) if k.startswith("mistakes.")}
        framework = {f"mistakes.{i}.{fw}.{f}" for i, m in MISTAKES.items() for fw, x in m.text[lang].frameworks.items()
                     for f in x}
        assert keys == {f"mistakes.{i}.{f}" for i in MISTAKES for f in MISTAKE_FIELDS} | framework, lang
        assert {k.split(".")[2] for k in framework} <= {"numpy", "torch"}
        assert all(not fields(catalogue(lang)[k]) for k in keys), lang
        with speaking(lang):
            assert all(t(f"mistakes.{i}.name") == m.text[lang].name for i, m in MISTAKES.items())


def test_the_protections_are_messages():
    keys = sandbox.ALWAYS + [k for pair in sandbox.LAYERS.values() for k in pair]
    for lang in LANGS:
        assert all(k in catalogue(lang) and not names(catalogue(lang)[k]) for k in keys), lang


def test_every_hint_of_every_assignment_has_both_languages():
    for path in sorted(ASSIGNMENTS_DIR.glob("*.toml")):
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        for check, spec in raw["checks"].items():
            hint = spec.get("hint")
            assert isinstance(hint, dict) and set(hint) == set(LANGS), (path.name, check, hint)
            assert all(hint[lang].strip() for lang in LANGS), (path.name, check)
            assert CJK.search(hint["zh"]) and not CJK.search(hint["en"]), (path.name, check)
    for a in load_all().values():
        for check, spec in a.checks.items():
            assert spec.hint is not None and spec.hint.text("zh") != spec.hint.text("en"), (a.id, check)


def test_every_mistake_has_both_languages():
    for m in MISTAKES.values():
        assert set(m.text) == set(LANGS), m.id
        for lang in LANGS:
            x = m.text[lang]
            assert x.name.strip() and x.explanation.strip() and x.fix.strip(), (m.id, lang)
        assert CJK.search(m.text["zh"].name) and CJK.search(m.text["zh"].explanation), m.id
        assert not CJK.search(m.text["en"].name + m.text["en"].explanation + m.text["en"].fix), m.id


# ---------------------------------------------------------------- choosing the language


def test_speaking_sets_the_language_for_a_block_only():
    assert i18n.current() == "en"
    with speaking("zh"):
        assert t("feedback.mark.pass") == "通过"
        with speaking("en"):
            assert t("feedback.mark.pass") == "PASS"
        assert i18n.current() == "zh"
    assert t("feedback.mark.pass") == "PASS"
    with pytest.raises(ValueError):
        with speaking("xx"):
            pass


def test_a_new_thread_starts_in_english():
    seen = []
    with speaking("zh"):
        thread = threading.Thread(target=lambda: seen.append(i18n.current()))
        thread.start()
        thread.join()
    assert seen == ["en"]


@pytest.mark.parametrize("env, lang", [
    ({"LANG": "zh_CN.UTF-8"}, "zh"),
    ({"LANG": "zh_TW.UTF-8"}, "zh"),
    ({"LANG": "en_US.UTF-8"}, "en"),
    ({"LANG": "C.UTF-8"}, "en"),
    ({}, "en"),
    ({"LANG": "zh_CN.UTF-8", "LC_MESSAGES": "en_GB.UTF-8"}, "en"),
    ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "zh_CN.GBK"}, "zh"),
    ({"LC_ALL": "zh_CN.UTF-8", "LC_MESSAGES": "en_US.UTF-8", "LANG": "en_US.UTF-8"}, "zh"),
    ({"LC_ALL": "C", "LANG": "zh_CN.UTF-8"}, "en"),
    ({"LC_ALL": "", "LANG": "zh_CN.UTF-8"}, "zh"),
])
def test_default_language_follows_the_locale(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], lang: str):
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    assert default_language() == lang


# ---------------------------------------------------------------- a graded file in both languages


@cache
def seed000(lang: str) -> Feedback:
    return grade_file(SEED000, Options(lang=lang))


def _texts(fb: Feedback) -> list[str]:
    return ([c.message for c in fb.checks] + [h for c in fb.checks for h in c.hints] + fb.notes + fb.protections
            + [fb.detected or "", fb.error or ""])


def test_chinese_feedback_names_the_mistake_in_chinese():
    fb = seed000("zh")
    assert fb.lang == "zh" and fb.score == seed000_score()
    gradients = next(c for c in fb.checks if c.id == "gradients")
    assert gradients.diagnosis == ["hidden-delta-from-gradients"]
    assert CJK.search(gradients.message)
    assert MISTAKES["hidden-delta-from-gradients"].text["zh"].name in gradients.message
    assert "d_w1:应为 -0.008421,实际为 0.01458" in gradients.message  # identifiers and numbers as they are
    with speaking("zh"):
        assert gradients.hints[0] == t("checks.fix", fix=MISTAKES["hidden-delta-from-gradients"].text["zh"].fix)
    assert gradients.hints[-1] == load_all()["bp-numpy"].checks["gradients"].hint.text("zh")  # type: ignore[union-attr]
    assert all(CJK.search(c.message) for c in fb.checks)
    assert all(CJK.search(n) for n in fb.notes + fb.protections) and CJK.search(fb.detected or "")


def test_english_feedback_has_no_chinese():
    fb = seed000("en")
    assert fb.lang == "en" and fb.score == seed000("zh").score
    assert [c.status for c in fb.checks] == [c.status for c in seed000("zh").checks]
    assert [c.diagnosis for c in fb.checks] == [c.diagnosis for c in seed000("zh").checks]
    assert [x for x in _texts(fb) if CJK.search(x)] == []
    assert not CJK.search(render_text(fb))


def test_the_report_follows_the_feedbacks_language_and_keeps_its_columns():
    report = render_text(seed000("zh"))
    assert "总分:8.5/10" in report and "未通过" in report and "提示:" in report
    en = render_text(seed000("en")).splitlines()
    zh = report.splitlines()
    # the message column starts at the same terminal column in both languages (a CJK character is 2 wide)
    row = next(i for i, line in enumerate(en) if line.lstrip().startswith("gradients"))
    assert _columns(zh[row].split("d_w1")[0]) == _columns(en[row].split("d_w1")[0])


def _columns(text: str) -> int:
    return sum(2 if CJK.match(ch) else 1 for ch in text)


def test_a_batch_speaks_in_its_worker_threads(tmp_path: Path):
    room = tmp_path / "room"
    room.mkdir()
    (room / "broken.py").write_bytes(SYNTAX_ERROR.read_bytes())
    results = grade_folder(room, tmp_path / "out", Options(lang="zh"), jobs=2)
    fb = results["broken"]
    assert fb.lang == "zh" and fb.status == "error" and fb.error is not None and "语法错误" in fb.error
    summary = (tmp_path / "out" / "summary.json").read_text(encoding="utf-8")
    assert "未评分" in summary
    # a rerun in another language regrades instead of reusing the Chinese verdict
    again = grade_folder(room, tmp_path / "out", Options(lang="en"), jobs=1)
    assert again["broken"].lang == "en" and again["broken"].error.startswith("syntax error at line")  # type: ignore[union-attr]


# ---------------------------------------------------------------- the command line


def test_cli_lang_zh_prints_chinese():
    result = CliRunner().invoke(app, [str(SEED000), "--lang", "zh"])
    assert result.exit_code == 1, result.output
    assert "总分:8.5/10" in result.output and "可能的错误:" in result.output
    assert MISTAKES["hidden-delta-from-gradients"].text["zh"].name in result.output


def test_cli_lang_en_prints_english(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("LC_ALL", "zh_CN.UTF-8")  # an explicit --lang beats the locale
    result = CliRunner().invoke(app, [str(SYNTAX_ERROR), "--lang", "en"])
    assert result.exit_code == 2
    assert "could not be graded: syntax error at line" in result.output and not CJK.search(result.output)


def test_cli_language_defaults_to_the_locale(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("LC_ALL", "zh_CN.UTF-8")
    result = CliRunner().invoke(app, [str(SYNTAX_ERROR), "--json", "-"])
    assert result.exit_code == 2
    fb = Feedback.model_validate_json(result.output)
    assert fb.lang == "zh" and fb.error is not None and fb.error.startswith("第 ")


def test_cli_unknown_language_is_a_one_line_usage_error():
    result = CliRunner().invoke(app, [str(SEED000), "--lang", "xx"])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0 and "--lang" in result.output and "Traceback" not in result.output
