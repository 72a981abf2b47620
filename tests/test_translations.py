"""The Chinese edition's catalogs, and the exercise checkers in Chinese.

* Every catalog (the book's pages, locales/zh_CN; the checkers' messages and the figures'
  words, rlnotes/locales/zh_CN) has a translation for every message, none fuzzy (stale: the
  English changed since), and each keeps its message's math, code, roles and links (a checker's
  message: its {fields}).
* The checkers' catalogs hold exactly the messages of the source (a message added or changed in
  the code without a translation fails here). The pages' catalogs are compared with the pages
  by the Chinese build itself: under -W it fails on any message it finds untranslated
  (book/_ext/rlnotes_book.py), so `make test` checks both.
* With RLNOTES_LANG=zh_CN, every checker answers in Chinese: its verdict on the chapter's
  solution, on each typical mistake of the chapters' MISTAKES tables, on an untouched stub,
  a crash and a non-function.
"""
from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

import pytest

from tests.chapter_cells import run_checker, solution_code, stub_code
from tests.test_exercise_contract import CASES, _mistakes

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
i18n = importlib.import_module("i18n")

HAN = re.compile(r"[\u4e00-\u9fff]")
# three English words in a row, outside `code`: an untranslated sentence
ENGLISH = re.compile(r"\b[A-Za-z][a-z]{1,}\b(?:[ ,]+\b[a-z]{2,}\b){2,}")


def _prose(message):
    """The message without code spans, quoted code, identifiers with dots or underscores, and
    the text of an exception the reader's own code raised (numpy's or torch's words, quoted as
    they are: "raised ValueError: operands could not be broadcast ...")."""
    text = re.sub(r"\b[A-Z]\w*(?:Error|Exception|Warning)\s*[:：][^（(\n]*", " ", message)
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"'[^']*'|\"[^\"]*\"", " ", text)
    text = re.sub(r"\S*[._(\[]\S*", " ", text)
    return text


def test_every_message_is_translated_and_keeps_its_markup():
    bad = i18n.report()
    lines = [f"{po}: {problem}: {msgid[:90]!r}" for po, rows in bad.items() for msgid, problem in rows[:5]]
    assert not bad, ("messages to translate or fix (python tools/i18n.py status; see "
                     "tools/i18n.py):\n" + "\n".join(lines[:40]))


def test_the_markup_check_can_fail():
    assert i18n.problems("see $x^2$ and {ref}`ch-ppo`", "见 {ref}`ch-ppo`") == ["lost: math $x^2$"]
    assert i18n.problems("a `code` span", "一个代码片段")
    assert not i18n.problems("see {ref}`ch-ppo`", "见 {ref}`近端策略优化 <ch-ppo>`")
    assert i18n.problems("expected {want}, got {got}", "期望 {want}，得到 {gto}", template=True)
    assert not i18n.problems("expected {want}, got {got}", "应为 {want}，实际为 {got}", template=True)
    assert i18n.problems("**bold** text", "**粗体文字", )


def test_checker_catalogs_hold_exactly_the_messages_of_the_source():
    templates = i18n.checker_templates()
    catalogs = {po.stem: cat for po, cat in i18n.catalogs() if po.is_relative_to(i18n.CHECKER_LOCALES)}
    assert set(catalogs) == set(templates), "run: python tools/i18n.py update-checkers"
    for name, template in templates.items():
        source = {m.id for m in template if m.id}
        translated = {m.id for m in catalogs[name] if m.id}
        assert source == translated, (
            f"rlnotes/exercises/{name}.py and its catalog differ (python tools/i18n.py "
            f"update-checkers, then translate): new {sorted(source - translated)[:3]}, "
            f"gone {sorted(translated - source)[:3]}")


def _assert_chinese(message):
    assert HAN.search(message), f"not in Chinese: {message!r}"
    english = ENGLISH.findall(_prose(message))
    assert not english, f"English left in {message!r}: {english}"


@pytest.fixture
def chinese(monkeypatch):
    monkeypatch.setenv("RLNOTES_LANG", "zh_CN")


@pytest.mark.parametrize("check, wrong, expected", _mistakes())
def test_typical_mistakes_get_a_hint_in_chinese(chinese, check, wrong, expected, capsys):
    verdict = run_checker(check, wrong, capsys)
    assert verdict.status == "fail", verdict.message
    _assert_chinese(verdict.message)


@pytest.mark.parametrize("module, label, name, check", CASES)
def test_every_verdict_is_in_chinese(chinese, module, label, name, check, capsys):
    solved = run_checker(check, module._define(solution_code(module.CHAPTER, label), name), capsys)
    assert solved.passed, solved.message
    stub = run_checker(check, module._define(stub_code(module.CHAPTER, name), name), capsys)
    assert stub.status == "not attempted"

    def crashes(*args, **kwargs):
        return {}["missing"]

    for verdict in (solved, stub, run_checker(check, crashes, capsys), run_checker(check, 42, capsys)):
        _assert_chinese(verdict.message)


def test_an_unknown_language_falls_back_to_english_and_says_so(monkeypatch, capsys):
    from rlnotes import i18n as lang

    monkeypatch.setenv("RLNOTES_LANG", "xx_YY")
    lang._unknown_language.cache_clear()
    assert lang.language() == "en"
    assert "RLNOTES_LANG='xx_YY'" in capsys.readouterr().out
    monkeypatch.setenv("RLNOTES_LANG", "zh")
    assert lang.language() == "zh_CN"


# ---- the words in figures --------------------------------------------------------------------
@pytest.fixture
def figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [0, 1], label="ppo")
    ax.set_xlabel("environment steps")
    ax.set_ylabel("$V(s)$")
    ax.set_title("return of the greedy policy")
    ax.legend()
    yield fig
    plt.close(fig)


@pytest.fixture
def words_in_chinese(monkeypatch):
    from rlnotes import i18n as lang

    table = {"environment steps": "环境步数", "return of the greedy policy": "贪心策略的回报"}
    monkeypatch.setattr(lang, "catalog", lambda language: table if language == "zh_CN" else {})
    return table


def test_a_figure_shows_its_words_in_chinese_and_is_left_as_it_was(figure, words_in_chinese):
    from rlnotes.plotting import figure_words, in_language

    ax = figure.axes[0]
    assert set(figure_words(figure)) == {"return of the greedy policy", "environment steps", "ppo"}
    family = ax.xaxis.label.get_fontfamily()
    with in_language(figure, "zh_CN"):
        assert ax.get_xlabel() == "环境步数" and ax.get_title() == "贪心策略的回报"
        assert ax.get_ylabel() == "$V(s)$"                  # math only: not a word to translate
    assert ax.get_xlabel() == "environment steps" and ax.xaxis.label.get_fontfamily() == family


def test_the_books_execution_records_each_figure_in_chinese(figure, words_in_chinese, monkeypatch):
    """With RLNOTES_BOOK_FIGURES=1, a figure's output carries its words and its Chinese drawing
    (another image than the English one); without it, just the English PNG."""
    import base64

    from IPython.core.interactiveshell import InteractiveShell

    from rlnotes import plotting

    if plotting._cjk_font() is None:
        pytest.skip("no CJK font installed (Debian: fonts-wqy-microhei); .ci/run installs one")
    shell = InteractiveShell.instance()
    plotting.figures_in_the_readers_language()
    monkeypatch.delenv("RLNOTES_BOOK_FIGURES", raising=False)
    data, metadata = shell.display_formatter.format(figure)
    assert "rlnotes" not in metadata.get("image/png", {})
    english = data["image/png"]
    monkeypatch.setenv("RLNOTES_BOOK_FIGURES", "1")
    data, metadata = shell.display_formatter.format(figure)
    record = metadata["image/png"]["rlnotes"]
    assert data["image/png"] == english
    assert set(record["words"]) == {"return of the greedy policy", "environment steps", "ppo"}
    assert base64.b64decode(record["zh_CN"]) != base64.b64decode(english)
    monkeypatch.setenv("RLNOTES_LANG", "zh_CN")                  # a reader of the Chinese notebook
    monkeypatch.delenv("RLNOTES_BOOK_FIGURES")
    data, _ = shell.display_formatter.format(figure)
    assert data["image/png"] != english


def test_a_figures_numbers_are_fields_of_its_message(figure, monkeypatch):
    """A figure's text is translated by its template, so a new number needs no new translation;
    braces of math are kept."""
    from rlnotes import i18n as lang
    from rlnotes.plotting import in_language, word_template

    assert word_template("462\n2/5 solved") == ("{n0}\n{n1}/{n2} solved", ["462", "2", "5"])
    assert word_template("$w_{0:t}$ weight")[0] == "$w_{{{n0}:t}}$ weight"
    table = {"{n0}\n{n1}/{n2} solved": "{n0}\n已解决 {n1}/{n2}"}
    monkeypatch.setattr(lang, "catalog", lambda language: table if language == "zh_CN" else {})
    ax = figure.axes[0]
    ax.text(0.5, 0.5, "371\n4/5 solved")
    with in_language(figure, "zh_CN"):
        assert "371\n已解决 4/5" in [t.get_text() for t in ax.texts]
    assert "371\n4/5 solved" in [t.get_text() for t in ax.texts]
