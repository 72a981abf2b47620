"""A chapter as a reader opens it in JupyterLab (``make lab``): checked in headless Chromium.

The test starts JupyterLab from this environment on 127.0.0.1 (a free port, a token, as
``make lab`` starts it), opens a copy of a chapter (a copy, so that nothing the browser does
can save into book/) and checks, on the chapter's first exercise, that

* the exercise's task is visible as text (not inside a code block) and its math is typeset;
* its solution is not visible, only the folded cell's one-line placeholder, until that is
  clicked; then it is;
* every solution of the chapter is folded the same way;

and stops the server afterwards. The chapters are put in this form by
tools/jupyter_exercises.py. Like the page check (tests/test_pages.py), the test skips with a
message when Chromium is missing, and fails then under CI.
"""
from __future__ import annotations

import importlib.util
import json
import os
import pathlib
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.test_pages import CHROMIUM_ARGS, _chromium_path, _skip_or_fail

pytestmark = pytest.mark.pages

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHAPTER = ROOT / "book" / "mdps.ipynb"
_spec = importlib.util.spec_from_file_location("jupyter_exercises", ROOT / "tools" / "jupyter_exercises.py")
_tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_tool)
HINT = _tool.HINT                                   # the first line of a solution cell: the placeholder's text
_PLAIN = re.compile(r"[A-Za-z][A-Za-z ,.;:'()-]*[A-Za-z]")      # words without markup


def _cells():
    return [(c["cell_type"], "".join(c["source"])) for c in json.loads(CHAPTER.read_text())["cells"]]


def _phrase(lines, elsewhere):
    """The longest run of plain words in ``lines`` (at least four) that no other cell contains."""
    runs = [m.group(0).strip() for line in lines for m in _PLAIN.finditer(line)]
    runs = [r for r in runs if len(r.split()) >= 4 and not any(r in other for other in elsewhere)]
    assert runs, f"no plain sentence to look for in {lines[:3]}"
    return max(runs, key=len)


def first_exercise():
    """(exercise cell index, title, a phrase of its task, solution cell index, a phrase of the
    solution, the indices of all solution cells) of the chapter's first exercise."""
    cells = _cells()
    i, text = next((i, t) for i, (k, t) in enumerate(cells) if k == "markdown" and "{exercise}" in t)
    head = re.search(r"^([`:]{3,})\{exercise\}\s*(.*)$", text, flags=re.M)
    label = re.search(r"^:label:\s*(\S+)", text, flags=re.M).group(1)
    body = text[head.end():].split(head.group(1))[0]
    task = [line for line in body.splitlines() if line.strip() and not line.startswith(":")]
    solutions = [j for j, (k, t) in enumerate(cells) if k == "markdown" and "{solution}" in t]
    s = next(j for j in solutions if re.search(r"\{solution\}\s+" + re.escape(label) + r"(?![\w-])", cells[j][1]))
    others = [t for j, (_, t) in enumerate(cells) if j != s]
    prose = re.sub(r"```.*?```", "", cells[s][1], flags=re.S)
    lines = [line for line in prose.splitlines() if not line.startswith((":", "%", "`"))]
    return i, head.group(2).strip(), _phrase(task[:2], []), s, _phrase(lines, others), solutions


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def browser():
    path = _chromium_path()
    if path is None:
        _skip_or_fail("Chromium is not installed (Debian/Ubuntu: apt-get install chromium)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def lab(browser, tmp_path_factory):
    """JupyterLab serving a copy of the chapter; yields the chapter's URL; stops the server."""
    work = tmp_path_factory.mktemp("lab")
    shutil.copy(CHAPTER, work / CHAPTER.name)
    yield from _serve(work, CHAPTER.name)


@pytest.fixture(scope="module")
def lab_zh(browser, tmp_path_factory):
    """JupyterLab serving the chapter's Chinese notebook, as `make lab LANG=zh` generates it."""
    sys.path.insert(0, str(ROOT / "tools"))
    import translate_notebooks

    work = tmp_path_factory.mktemp("lab-zh")
    nb, missed = translate_notebooks.translate_notebook(f"book/{CHAPTER.stem}")
    assert not missed
    (work / CHAPTER.name).write_text(json.dumps(nb, indent=1, ensure_ascii=False), encoding="utf-8")
    yield from _serve(work, CHAPTER.name)


def _serve(work, name):
    port, token = _free_port(), secrets.token_hex(16)
    # the reader's settings, but every cell in the page (no windowing), and no news fetched from outside
    settings = work / ".config" / "lab" / "user-settings" / "@jupyterlab"
    for plugin, value in [("notebook-extension/tracker", {"windowingMode": "none"}),
                          ("apputils-extension/notification", {"fetchNews": "false"})]:
        (settings / plugin).parent.mkdir(parents=True, exist_ok=True)
        (settings / f"{plugin}.jupyterlab-settings").write_text(json.dumps(value))
    env = dict(os.environ, RLNOTES_PROGRESS="", JUPYTER_CONFIG_DIR=str(work / ".config"),
               JUPYTER_RUNTIME_DIR=str(work / ".runtime"))
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           "--port-retries=0", f"--IdentityProvider.token={token}", f"--notebook-dir={work}",
           f"--LabApp.workspaces_dir={work / '.workspaces'}", f"--LabApp.user_settings_dir={settings.parent}"]
    cmd += ["--allow-root"] if os.geteuid() == 0 else []            # as `make lab` does
    log = open(work / "server.log", "w")
    server = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120               # seconds on an idle machine; minutes on a busy one
        while server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("JupyterLab did not answer within 120 s:\n" + (work / "server.log").read_text()[-2000:])
                time.sleep(0.2)
        assert server.poll() is None, "JupyterLab stopped:\n" + (work / "server.log").read_text()[-2000:]
        yield f"http://127.0.0.1:{port}/lab/tree/{name}?reset&token={token}"
    finally:
        server.send_signal(signal.SIGINT)           # Ctrl-C twice, as a reader stops it: kernels shut down
        time.sleep(0.2)
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def test_an_exercise_reads_as_a_task_and_its_solution_waits_for_a_click(lab, browser):
    ex, title, task, sol, answer, solutions = first_exercise()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(lab)
        cells = page.locator(".jp-Notebook .jp-Cell")
        page.wait_for_function(f"document.querySelectorAll('.jp-Notebook .jp-Cell').length === {len(_cells())}",
                               timeout=120_000)
        # every solution folded: a placeholder that shows the hint, nothing of the answer
        folded = [cells.nth(j).locator(".jp-InputPlaceholder") for j in solutions]
        assert all(p.count() == 1 for p in folded), f"a solution cell is not folded ({_tool.FIX})"
        assert all(p.text_content().strip() == HINT for p in folded), [p.text_content() for p in folded]

        exercise = cells.nth(ex)
        exercise.scroll_into_view_if_needed()
        shown = exercise.get_by_text(task).filter(visible=True).first
        shown.wait_for(state="visible", timeout=30_000)
        assert shown.evaluate("e => !e.closest('pre, code, .cm-editor')"), \
            f"the task of '{title}' is shown as code, not as text"
        assert exercise.get_by_text(title).filter(visible=True).count() >= 1, f"the title '{title}' is not shown"
        page.wait_for_function("e => e.querySelector('mjx-container') !== null", arg=exercise.element_handle(),
                               timeout=30_000)
        rendered = exercise.inner_text()
        assert "$" not in rendered, f"raw TeX in the exercise: {rendered[:300]}"

        solution = cells.nth(sol)
        assert not any(e.is_visible() for e in page.get_by_text(answer).all()), \
            "the solution is visible before it is clicked"
        solution.locator(".jp-InputPlaceholder").click()
        solution.get_by_text(answer).filter(visible=True).first.wait_for(state="visible", timeout=30_000)
    finally:
        page.close()


def test_a_chinese_notebook_runs_top_to_bottom_in_chinese(lab_zh, browser):
    """The Chinese notebook of the chapter (generated from the catalogs): its prose is Chinese,
    Run All runs every cell without an error, and the exercise checkers answer in Chinese (the
    stubs are untouched, so: not attempted yet, 尚未作答)."""
    n_cells = len(_cells()) + 1                          # + the cell that sets RLNOTES_LANG
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(lab_zh)
        page.wait_for_function(f"document.querySelectorAll('.jp-Notebook .jp-Cell').length === {n_cells}",
                               timeout=120_000)
        heading = page.locator(".jp-Notebook .jp-MarkdownCell h1").first
        heading.wait_for(state="visible", timeout=30_000)
        assert re.search(r"[\u4e00-\u9fff]", heading.inner_text()), heading.inner_text()
        page.locator(".jp-Notebook").first.click()
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.locator("li[data-command='runmenu:run-all']").click()
        # every code cell gets its execution count (a folded cell shows no prompt): the chapter
        # ran to its end
        n_code = sum(1 for k, _ in _cells() if k == "code") + 1
        page.wait_for_function(
            """n => { const p = Array.from(document.querySelectorAll('.jp-CodeCell .jp-InputPrompt'))
                               .map(e => e.textContent.trim());
                      return p.length === n && p.every(t => t === '' || /^\\[\\d+\\]:$/.test(t))
                             && /^\\[\\d+\\]:$/.test(p[p.length - 1]); }""",
            arg=n_code, timeout=240_000)
        errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
        tracebacks = [t for t in errors.all_inner_texts() if "Traceback" in t or "Error" in t]
        assert not tracebacks, f"a cell failed: {tracebacks[:1]}"
        outputs = page.locator(".jp-CodeCell .jp-OutputArea-output").all_inner_texts()
        verdicts = [t.strip() for t in outputs if t.strip().startswith(("✓", "✗", "…"))]
        assert verdicts, "no checker ran"
        assert all(re.search(r"[\u4e00-\u9fff]", v) for v in verdicts), f"a checker answered in English: {verdicts}"
    finally:
        page.close()
