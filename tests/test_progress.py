"""rlnotes.progress: the right bar for where the code runs, and never a widget in the built book."""
from __future__ import annotations

import pytest

from rlnotes import progress
from rlnotes.progress import TextBar, progress_mode


@pytest.fixture
def clean_env(monkeypatch):
    for var in ("RLNOTES_PROGRESS", "TQDM_DISABLE", "CI"):
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def test_modes_follow_the_environment(clean_env):
    clean_env.setenv("RLNOTES_PROGRESS", "text")
    assert progress_mode() == "text"
    clean_env.setenv("RLNOTES_PROGRESS", "widget")
    assert progress_mode() == "widget"
    clean_env.setenv("TQDM_DISABLE", "1")
    assert progress_mode() == "off"
    clean_env.delenv("TQDM_DISABLE")
    clean_env.delenv("RLNOTES_PROGRESS")
    clean_env.setenv("CI", "true")
    assert progress_mode() == "text"  # CI logs get plain lines
    clean_env.setenv("RLNOTES_PROGRESS", "fancy")
    with pytest.raises(ValueError, match="widget, terminal, text, off"):
        progress_mode()


def test_no_widget_outside_a_jupyter_kernel(clean_env):
    # pytest is not a Jupyter kernel, so without settings the bar is text or terminal, never a widget
    assert progress_mode() in ("text", "terminal")


def test_text_bar_prints_whole_lines(clean_env, capsys):
    clean_env.setenv("RLNOTES_PROGRESS", "text")
    total = 0
    for x in progress(range(5), desc="demo", unit="steps"):
        total += x
    assert total == 10
    out = capsys.readouterr().out
    assert "\r" not in out
    last = out.strip().splitlines()[-1]
    assert last.startswith("demo: 100% 5/5 steps [")


def test_text_bar_update_postfix_and_context(clean_env, capsys):
    clean_env.setenv("RLNOTES_PROGRESS", "text")
    with progress(total=100, desc="train", unit="steps") as bar:
        bar.update(40)
        bar.update(60)
        bar.set_postfix(ret=123.456, episodes=3)
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "100% 100/100 steps" in out[0] and "ret=123.5 episodes=3" in out[0]


def test_text_bar_reports_periodically(capsys):
    bar = TextBar(total=3, desc="slow", interval=0.0)
    bar.update(1)
    bar.update(1)
    bar.close()
    assert len(capsys.readouterr().out.strip().splitlines()) == 3


def test_off_prints_nothing(clean_env, capsys):
    clean_env.setenv("TQDM_DISABLE", "1")
    assert list(progress([1, 2, 3])) == [1, 2, 3]
    assert capsys.readouterr().out == ""


def test_terminal_mode_is_tqdm(clean_env):
    clean_env.setenv("RLNOTES_PROGRESS", "terminal")
    from tqdm.std import tqdm
    bar = progress(total=2, disable=True)
    assert isinstance(bar, tqdm)
    bar.close()
