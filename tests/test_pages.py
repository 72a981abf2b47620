"""The built book, checked as a reader sees it: headless Chromium over every page.

Runs after the build (``make test`` calls ``pytest -m pages`` last). For every page listed in
_toc.yml it loads the built HTML from a local server on 127.0.0.1 and checks that

* the math is typeset by the *vendored* MathJax (no raw TeX left in the text), and no request
  leaves the machine (the book must work offline);
* every image has loaded, and chapters that draw figures show them; animations have a player;
* exercise solutions are collapsed until clicked, and open when clicked;
* an executed chapter offers its notebook for download;
* every link inside the book leads to a page that exists, and every #anchor to an element of
  that page (API source links included);
* the page raises no JavaScript error;
* the benchmarks appendix shows the numbers of the committed data files;
* the figures the text refers to by name are in their pages, loaded;
* equations are numbered by chapter, "(6.3)", and every reference to one reads as its label;
* wide tables fit the text column of a laptop screen (1280 and 1366 pixels) and their text
  stands out from its background in the light and the dark theme.

The Chinese edition (``_build/html/zh``) is checked page for page the same way, and for its
language: the page is Chinese, its characters are drawn with glyphs (not the boxes of a missing
font) and no emphasis marker of a translation is left as text; every page of either edition
links to the same page in the other.

Screenshots of every page (light and dark theme) are written to ``_build/screenshots/``.
The check reads the book from ``_build/html``; set ``RLNOTES_BOOK_HTML`` to check a book built
elsewhere (``jupyter-book build . --path-output DIR`` writes ``DIR/_build/html``); the
screenshots then go next to it.
Locally the test skips with a message when Chromium is missing; under CI (``CI`` set) a missing
browser is a failure, since ``.ci/run`` installs it.
"""
from __future__ import annotations

import functools
import http.server
import os
import pathlib
import re
import shutil
import threading

import pytest
import yaml

pytestmark = pytest.mark.pages

ROOT = pathlib.Path(__file__).resolve().parent.parent
HTML = pathlib.Path(os.environ.get("RLNOTES_BOOK_HTML") or ROOT / "_build" / "html").resolve()
SHOTS = HTML.parent / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def _toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries:
            files.append(entry["file"])
            walk(entry.get("sections", []))
    for part in toc.get("parts", []):
        walk(part.get("chapters", []))
    return files


PAGES = _toc_files()

#: figures that the text refers to by name ({numref}/{ref}): page -> the ids of their elements
FIGURES = {
    "book/intro": ["fig-roadmap"],
    "book/score_function": ["fig-trajectory-factorisation"],
    "book/variance_reduction": ["fig-causality-grid"],
    "book/importance_sampling": ["fig-importance-sampling"],
}


def _chapter_numbers():
    """The number each chapter should carry, from _toc.yml alone: chapters of the parts marked
    ``numbered`` are counted 1, 2, ... across parts; other parts are not numbered."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    numbers, n = {}, 0
    for part in toc.get("parts", []):
        if part.get("numbered", toc.get("defaults", {}).get("numbered", False)):
            for chapter in part["chapters"]:
                n += 1
                numbers[chapter["file"]] = n
    return numbers


def _chromium_path():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _skip_or_fail(reason):
    if os.environ.get("CI"):
        pytest.fail(reason + " (CI must run this check: .ci/run installs Debian's chromium)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def server():
    if not (HTML / "index.html").exists():
        _skip_or_fail("the book is not built: run `make test` (or `make book`) first")
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    path = _chromium_path()
    if path is None:
        _skip_or_fail("Chromium is not installed (Debian/Ubuntu: apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip_or_fail("playwright is not installed (it is in requirements.txt)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _visible_text_without_code(page):
    """The page's visible text, minus code, typeset math and scripts (where TeX may legitimately appear)."""
    return page.evaluate("""() => {
        const main = document.querySelector('main') || document.body;
        const clone = main.cloneNode(true);
        clone.querySelectorAll('pre, code, script, style, mjx-container, .cell_output, '
                               + '.highlight, .sig, .headerlink').forEach(e => e.remove());
        return clone.innerText;
    }""")


def _open(browser, server, doc, theme="light"):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(f"localStorage.setItem('theme', '{theme}'); localStorage.setItem('mode', '{theme}');")
    page = context.new_page()
    errors, external = [], []
    page.on("console", lambda m: errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))

    def on_request(req):
        if not (req.url.startswith(server) or req.url.startswith("data:") or req.url.startswith("blob:")):
            external.append(req.url)
    page.on("request", on_request)
    page.goto(f"{server}/{doc}.html", wait_until="load")
    # wait for MathJax (if the page loads it) to finish typesetting
    page.evaluate("""async () => {
        const wants = Array.from(document.scripts).some(s => /mathjax/i.test(s.src));
        if (!wants) return;
        for (let i = 0; i < 300 && !(window.MathJax && MathJax.startup && MathJax.startup.promise); i++)
            await new Promise(r => setTimeout(r, 100));
        await MathJax.startup.promise;
    }""")
    return context, page, errors, external


def _source_notebook(doc):
    return (ROOT / f"{doc}.ipynb").exists()


def _source_text(doc):
    for ext in (".md", ".ipynb"):
        p = ROOT / f"{doc}{ext}"
        if p.exists():
            return p.read_text()
    raise FileNotFoundError(doc)


#: the two editions: English at the root of the site, Chinese (tools/i18n.py) under zh/
EDITIONS = {"en": "", "zh": "zh/"}

#: a glyph-less code point: a CJK character drawn like it is a box, i.e. the font is missing
_TOFU_CHECK = r"""() => {
    const text = (document.querySelector('article') || document.body).innerText;
    const han = Array.from(new Set(text.match(/[\u4e00-\u9fff]/g) || [])).slice(0, 40);
    const font = getComputedStyle(document.querySelector('article p') || document.body).fontFamily;
    const c = document.createElement('canvas'); c.width = 48; c.height = 48;
    const x = c.getContext('2d');
    const draw = ch => { x.clearRect(0, 0, 48, 48); x.font = `32px ${font}`; x.fillText(ch, 4, 36);
                         return x.getImageData(0, 0, 48, 48).data.join(','); };
    const tofu = draw('\u{10FFFD}');
    return {n: han.length, boxes: han.filter(ch => draw(ch) === tofu)};
}"""


@pytest.mark.parametrize("edition", EDITIONS)
@pytest.mark.parametrize("doc", PAGES)
def test_page_reads_right(browser, server, doc, edition):
    context, page, errors, external = _open(browser, server, EDITIONS[edition] + doc)
    try:
        SHOTS.mkdir(parents=True, exist_ok=True)
        name = EDITIONS[edition].replace("/", "_") + doc.replace("/", "_")
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)

        # the other edition is one click away, on the same page (the link is checked below)
        other = page.eval_on_selector_all("p.rlnotes-language a", "els => els.map(e => e.href)")
        assert len(other) == 1, f"{edition}/{doc}: no link to the page in the other edition"
        if edition == "zh":
            assert page.evaluate("document.documentElement.lang") == "zh-CN"
            # the text is Chinese, rendered with glyphs (a CJK font is installed), and no
            # emphasis marker was left unparsed by a translation
            glyphs = page.evaluate(_TOFU_CHECK)
            assert glyphs["n"] > 0, f"zh/{doc}: no Chinese text in the page"
            assert not glyphs["boxes"], (f"zh/{doc}: characters drawn as empty boxes, no font covers "
                                         f"them (install fonts-wqy-microhei): {glyphs['boxes'][:10]}")
            stray = re.findall(r"\S{0,12}\*\*\S{0,12}", _visible_text_without_code(page))
            assert not stray, f"zh/{doc}: emphasis markers shown as text: {stray[:5]}"
            # the figures are the Chinese drawings of the same execution, not the English ones
            if _source_notebook(doc) and re.search(r"set_xlabel|set_title|xlabel\(", _source_text(doc)):
                ours = set(page.eval_on_selector_all(".cell_output img", "els => els.map(e => e.src.split('/').pop())"))
                english = set(re.findall(r'_images/([^"/]+\.png)', (HTML / f"{doc}.html").read_text()))
                assert ours - english, f"zh/{doc}: every figure is the English drawing"

        # MathJax: the vendored copy, and no TeX left untypeset
        scripts = page.eval_on_selector_all("script[src]", "els => els.map(e => e.getAttribute('src'))")
        mj = [s for s in scripts if "mathjax" in s.lower()]
        source = _source_text(doc)
        has_math = bool(re.search(r"\$[^$\n]+\$|\{math\}|\\begin\{", source))
        if has_math:
            assert mj and all("_static/mathjax/tex-mml-chtml.js" in s for s in mj), \
                f"{doc}: MathJax should be the vendored copy, scripts are {mj}"
            n_typeset = page.eval_on_selector_all("mjx-container", "els => els.length")
            assert n_typeset > 0, f"{doc}: the source has math but nothing was typeset"
            errors_in_math = page.eval_on_selector_all("mjx-merror", "els => els.map(e => e.getAttribute('data-mjx-error') || e.textContent)")
            assert not errors_in_math, f"{doc}: MathJax could not typeset: {errors_in_math[:5]}"
            # a displayed equation wider than the text column is cut off for the reader
            too_wide = page.evaluate("""() => {
                const W = document.querySelector('article').getBoundingClientRect().width;
                return Array.from(MathJax.startup.document.math).filter(m => m.display && m.typesetRoot
                    && m.typesetRoot.firstElementChild
                    && m.typesetRoot.firstElementChild.getBoundingClientRect().width > W - 10)
                    .map(m => m.math.trim().slice(0, 80)); }""")
            assert not too_wide, f"{doc}: equations wider than the page (split them with aligned): {too_wide}"
        text = _visible_text_without_code(page)
        raw = re.findall(r"\\(?:frac|sum|mathbb|mathcal|begin|end|left|right|pi|gamma|theta|max|mid|sim)\b|\$\$", text)
        assert not raw, f"{doc}: raw TeX visible to the reader: {sorted(set(raw))}"

        # offline: nothing is fetched from another host
        assert not external, f"{doc}: the page requests outside resources: {external[:5]}"

        # images load (naturalWidth > 0); executed chapters have figures
        broken = page.evaluate("""() => Array.from(document.images)
            .filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src').slice(0, 80))""")
        assert not broken, f"{edition}/{doc}: images that did not load: {broken}"
        if _source_notebook(doc):
            if re.search(r"plt\.|plot_values|show_frame|animate\(", source):   # the page draws
                n_fig = page.eval_on_selector_all(".cell_output img", "els => els.length")
                assert n_fig >= min(3, source.count("plt.show()") + source.count("plot_values(")
                                    + source.count("show_frame(")), \
                    f"{doc}: expected the chapter's figures in the page, found {n_fig}"
            n_anim = page.eval_on_selector_all(".cell_output .animation", "els => els.length")
            if '"animate(' in source or "animate(" in source:
                assert n_anim >= 1, f"{doc}: the chapter animates an agent but no player is in the page"
            # the download button offers the notebook itself
            links = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
            assert any(h.endswith(f"{pathlib.Path(doc).name}.ipynb") for h in links), \
                f"{doc}: no download link for the .ipynb"
            # no traceback leaked into the page
            tb = page.eval_on_selector_all(".cell_output", "els => els.filter(e => /Traceback \\(most recent call last\\)/.test(e.innerText)).length")
            assert tb == 0, f"{doc}: a cell output shows a Python traceback"

        # the figures the text names are there, and loaded
        for fig_id in FIGURES.get(doc, []):
            state = page.evaluate("""id => {
                const el = document.getElementById(id);
                if (!el) return "missing";
                const img = el.tagName === "IMG" ? el : el.querySelector("img");
                if (!img) return "no <img>";
                return img.complete && img.naturalWidth > 0 ? "loaded" : "not loaded";
            }""", fig_id)
            assert state == "loaded", f"{doc}: figure #{fig_id}: {state}"

        # solutions are hidden until clicked
        solutions = page.locator("div.solution")
        for i in range(solutions.count()):
            sol = solutions.nth(i)
            body = sol.locator(".admonition-title ~ *").first
            assert not body.is_visible(), f"{doc}: solution {i + 1} is shown before it is clicked"
            sol.locator(".admonition-title, button.toggle-button").first.click()
            body.wait_for(state="visible", timeout=5_000)

        # links inside the book lead somewhere
        hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
        dead = _dead_links(server, f"{server}/{EDITIONS[edition]}{doc}.html", hrefs)
        assert not dead, f"{doc}: links that lead nowhere: {dead[:8]}"

        # JavaScript errors
        assert not errors, f"{doc}: JavaScript errors: {errors[:5]}"
    finally:
        context.close()


@functools.lru_cache(maxsize=None)
def _ids(path):
    """The id (and legacy name) attributes of a built HTML file."""
    text = path.read_text(errors="replace")
    return set(re.findall(r'\s(?:id|name)="([^"]+)"', text))


def _dead_links(server, page_url, hrefs):
    """Local links (absolute URLs on our server, as the browser resolved them) whose file
    does not exist or whose #fragment names no element of that file."""
    from urllib.parse import unquote, urldefrag

    dead = []
    for href in hrefs:
        if not href.startswith(server):
            continue                                     # external (checked as "no requests")
        url, fragment = urldefrag(href)
        rel = unquote(url[len(server):]).lstrip("/") or "index.html"
        target = HTML / rel
        if target.is_dir():
            target = target / "index.html"
        if not target.exists():
            dead.append(href[len(server):])
            continue
        if fragment and target.suffix == ".html" and unquote(fragment) not in _ids(target):
            dead.append(href[len(server):])
    return dead


def _number(text):
    """A number as the appendix prints it: "60,416" -> 60416.0, "∞" -> inf."""
    return float("inf") if text == "∞" else float(text.replace(",", ""))


def _spread(text):
    """"54,072 (44,592–59,032)" -> (median, min, max); "not reached" -> (inf, inf, inf)."""
    if text == "not reached":
        return (float("inf"),) * 3
    m = re.fullmatch(r"(\S+) \((\S+)–(\S+)\)", text)
    assert m, f"not a 'median (min–max)' cell: {text!r}"
    return tuple(_number(x) for x in m.groups())


def _close(shown, value, tol):
    return shown == value if value == float("inf") else shown == pytest.approx(value, abs=tol)


def test_benchmark_page_shows_the_committed_numbers(browser, server):
    """Every number of the appendix tables is the one computed from benchmarks/*.json, and no
    table is wider than the text column (no sideways scrolling at 1280 px)."""
    from rlnotes.bench import load_results, summary_rows

    rows = summary_rows(load_results(ROOT / "benchmarks"))
    context, page, errors, external = _open(browser, server, "book/benchmarks")
    try:
        tables = page.eval_on_selector_all(
            "main table", "ts => ts.map(t => Array.from(t.querySelectorAll('tr')).map("
            "r => Array.from(r.querySelectorAll('th, td')).map(c => c.innerText.trim())))")

        def find(first_columns):
            return next(t for t in tables if t and t[0][:len(first_columns)] == first_columns)

        # 1. results at the end of each run's budget: one row per run (ours, then the peer's)
        runs = [(r, side) for r in rows for side in ("", "peer_") if r[f"{side}settings"] is not None]
        table = find(["algorithm", "environment", "run"])
        header, body = table[0], table[1:]
        assert len(body) == len(runs), f"the page shows {len(body)} runs, the data has {len(runs)}"
        for cells, (r, side) in zip(body, runs):
            shown = dict(zip(header, cells))
            assert (shown["algorithm"], shown["environment"]) == (r["algo"], r["env_id"])
            assert shown["run"] == r[f"{side}settings"]["name"]
            if side:
                assert shown["run"] == r["peer"]
                solved, steps, wall, ev = r["peer_solved"], r["peer_median_steps"], r["peer_wall"], r["peer_median_eval"]
            else:
                solved, steps, wall, ev = r["solved"], r["median_steps"], r["median_wall"], r["median_eval"]
            assert shown["solved"] == f"{solved}/{r['peer_to_threshold']['n'] if side else r['seeds']}"   # own count
            assert _number(shown["median steps"]) == pytest.approx(steps, abs=0.5)
            assert float(shown["median wall (s)"]) == pytest.approx(wall, abs=0.051)
            assert float(shown["median eval"]) == pytest.approx(ev, abs=0.051)

        # 2. settings side by side, and 3. time to threshold: one row per run, as in table 1
        table = find(["algorithm", "run", "step budget"])
        header, body = table[0], table[1:]
        assert len(body) == len(runs), f"the settings table has {len(body)} runs, the data {len(runs)}"
        for cells, (r, side) in zip(body, runs):
            shown, s = dict(zip(header, cells)), r[f"{side}settings"]
            assert (shown["algorithm"], shown["run"]) == (r["algo"], s["name"])
            assert _number(shown["step budget"]) == s["budget"]
            assert shown["networks (hidden layers)"] == s["networks"] and shown["envs"] == s["n_envs"]
            assert _number(shown["steps/s"]) == pytest.approx(s["steps_per_second"], abs=0.5)
        table = find(["algorithm", "run", "reached"])
        header, body = table[0], table[1:]
        assert len(body) == len(runs), f"the time-to-threshold table has {len(body)} runs, the data {len(runs)}"
        for cells, (r, side) in zip(body, runs):
            shown, t = dict(zip(header, cells)), r[f"{side}to_threshold"]
            assert (shown["algorithm"], shown["run"]) == (r["algo"], r[f"{side}settings"]["name"])
            assert shown["reached"] == f"{t['reached']}/{t['n']}"
            for column, name, tol in (("steps to threshold", "steps", 0.5), ("wall to threshold (s)", "wall", 0.051)):
                median, low, high = _spread(shown[column])
                assert _close(median, t[f"median_{name}"], tol), (r["algo"], side, column, shown[column])
                if t["reached"]:
                    assert _close(low, t[f"min_{name}"], tol) and _close(high, t[f"max_{name}"], tol), \
                        (r["algo"], side, column, shown[column])

        # 4. the like-for-like ratio, beside the whole-run ratio: one row per algorithm with a peer
        table = find(["algorithm", "time to threshold, ours / peer"])
        header, body = table[0], table[1:]
        with_peer = [r for r in rows if r["peer"] is not None]
        assert [c[0] for c in body] == [r["algo"] for r in with_peer]
        for cells, r in zip(body, with_peer):
            shown = dict(zip(header, cells))
            if r["threshold_ratio"] is None:
                assert shown["time to threshold, ours / peer"] == "–"
            else:
                assert float(shown["time to threshold, ours / peer"]) == pytest.approx(r["threshold_ratio"], abs=0.0051)
            assert float(shown["whole run, ours / peer"]) == pytest.approx(r["ratio"], abs=0.0051)

        too_wide = page.evaluate("""() => Array.from(document.querySelectorAll('main table'))
            .filter(t => t.scrollWidth > t.parentElement.clientWidth + 1 || t.scrollWidth > t.clientWidth + 1)
            .map(t => t.querySelector('tr').innerText.slice(0, 60))""")
        assert not too_wide, f"tables wider than the text column (the reader must scroll sideways): {too_wide}"
    finally:
        context.close()


@pytest.mark.parametrize("doc", [p for p in PAGES if _source_notebook(p)][:1] + [PAGES[0]])
def test_dark_theme_screenshot(browser, server, doc):
    """A dark-theme screenshot of a chapter and of the front page, for a person to look at."""
    context, page, errors, external = _open(browser, server, doc, theme="dark")
    try:
        theme = page.evaluate("() => document.documentElement.dataset.theme")
        assert theme == "dark", f"the theme switch did not take: {theme!r}"
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{doc.replace('/', '_')}-dark.png"), full_page=False)
        assert not errors, f"{doc} (dark): JavaScript errors: {errors[:5]}"
    finally:
        context.close()


_EQNO = re.compile(r'<div class="math notranslate nohighlight" id="(equation-[^"]+)">\s*'
                   r'<span class="eqno">\(([^()<]*)\)')
_EQREF = re.compile(r'<a class="reference internal" href="([^"#]*)#(equation-[^"]+)">([^<]*)</a>')
_TITLE_NUMBER = re.compile(r'<h1><span class="section-number">([\d.]+?)\.?\s*</span>')


@functools.lru_cache(maxsize=None)
def _equation_labels(path):
    """{anchor: label} of the numbered equations of a built page, in page order."""
    return dict(_EQNO.findall(path.read_text(errors="replace")))


def test_equations_are_numbered_by_chapter():
    """In chapter 6 the equations read (6.1), (6.2), ... in page order, and every {eq} reference,
    on its own page or another, reads exactly as the label of the equation it links to."""
    if not (HTML / "index.html").exists():
        _skip_or_fail("the book is not built: run `make test` (or `make book`) first")
    numbers = _chapter_numbers()
    assert "book/ppo" in numbers, "_toc.yml: the PPO chapter should be in a numbered part"
    n_refs = 0
    for doc in PAGES:
        path = HTML / f"{doc}.html"
        assert path.exists(), f"{doc} is in _toc.yml but not in the built book {HTML}: build it again"
        text = path.read_text(errors="replace")
        labels = list(_equation_labels(path).values())
        if doc in numbers:
            title = _TITLE_NUMBER.search(text)
            assert title and title.group(1) == str(numbers[doc]), \
                f"{doc}: the title should carry the chapter number {numbers[doc]} (from _toc.yml)"
            expected = [f"{numbers[doc]}.{k}" for k in range(1, len(labels) + 1)]
            assert labels == expected, f"{doc}: equations numbered {labels[:4]}..., expected {expected[:4]}..."
        for href, anchor, shown in _EQREF.findall(text):
            target = (path.parent / href).resolve() if href else path
            label = _equation_labels(target).get(anchor) if target.exists() else None
            assert label is not None, f"{doc}: a reference to {href}#{anchor}, which is no numbered equation"
            assert shown == f"({label})", f"{doc}: the reference to {href}#{anchor} reads {shown!r}, " \
                                          f"its equation is labelled ({label})"
            n_refs += 1
    ppo = list(_equation_labels(HTML / "book/ppo.html").values())
    assert ppo and ppo[0] == f"{numbers['book/ppo']}.1", f"the PPO chapter's first equation is ({ppo[:1]})"
    assert n_refs > 0, "no {eq} reference found: has the HTML of a reference changed?"


_TOO_WIDE = """() => Array.from(document.querySelectorAll('main table'))
    .filter(t => t.scrollWidth > t.parentElement.clientWidth + 1 || t.scrollWidth > t.clientWidth + 1
                 || t.getBoundingClientRect().right > document.querySelector('article').getBoundingClientRect().right + 1)
    .map(t => t.querySelector('tr').innerText.slice(0, 60))"""

# tables of names and numbers (five columns or more, no links): every cell on one line
_BROKEN_CELLS = """() => Array.from(document.querySelectorAll('main table'))
    .filter(t => t.rows[0].cells.length >= 5 && !t.querySelector('td a'))
    .flatMap(t => Array.from(t.querySelectorAll('td'))).filter(td => {
        const tops = new Set(), walk = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
        for (let n = walk.nextNode(); n; n = walk.nextNode()) {
            const range = document.createRange(); range.selectNodeContents(n);
            for (const r of range.getClientRects()) if (r.width > 0) tops.add(Math.round(r.top));
        }
        return tops.size > 1; })
    .map(td => td.innerText)"""

# WCAG 2 contrast of the text of every table cell (and of the links and code in it) against the
# background it is drawn on (the first opaque one up the tree, translucent ones composited)
_LOW_CONTRAST = """() => {
    const rgba = s => { const m = s.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
        const v = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number); return [v[0], v[1], v[2], v.length > 3 ? v[3] : 1]; };
    const background = el => { const layers = [];
        for (let e = el; e; e = e.parentElement) { const c = rgba(getComputedStyle(e).backgroundColor);
            if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; } }
        let base = [255, 255, 255];
        for (const c of layers.reverse()) base = base.map((x, i) => c[3] * c[i] + (1 - c[3]) * x);
        return base; };
    const lum = c => { const [r, g, b] = c.slice(0, 3).map(x => { x /= 255;
        return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
    const low = [];
    for (const el of document.querySelectorAll('main table th, main table td, main table td a, main table td code')) {
        if (!el.innerText.trim()) continue;
        const fg = rgba(getComputedStyle(el).color), bg = background(el);
        if (!fg) { low.push(el.innerText.slice(0, 30) + ': colour ' + getComputedStyle(el).color); continue; }
        const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
        const ratio = (hi + 0.05) / (lo + 0.05);
        if (ratio < 4.5) low.push(el.innerText.slice(0, 30) + ': ' + ratio.toFixed(2));
    }
    return low; }"""


@pytest.mark.parametrize("doc", ["book/benchmarks", "book/where_next"])
def test_wide_tables_read_on_a_laptop(browser, server, doc):
    """The wide tables (benchmark results, the map of the algorithms) fit the text column at the
    common laptop widths, without sideways scrolling or names and numbers broken over two lines,
    and their text has a contrast of at least 4.5:1 (WCAG AA), in the dark and the light theme."""
    context, page, errors, external = _open(browser, server, doc, theme="dark")
    try:
        assert page.eval_on_selector_all("main table", "ts => ts.length") > 0, f"{doc}: no table"
        for theme in ("dark", "light"):          # the theme switch sets this attribute, in place
            page.evaluate("t => { document.documentElement.dataset.theme = t; }", theme)
            assert page.evaluate("() => document.documentElement.dataset.theme") == theme
            for width, height in ((1366, 768), (1280, 800)):
                page.set_viewport_size({"width": width, "height": height})
                too_wide = page.evaluate(_TOO_WIDE)
                assert not too_wide, f"{doc} at {width} px ({theme}): tables wider than the text column: {too_wide}"
                broken = page.evaluate(_BROKEN_CELLS)
                assert not broken, f"{doc} at {width} px ({theme}): names or numbers broken over lines: {broken[:5]}"
            low = page.evaluate(_LOW_CONTRAST)
            assert not low, f"{doc} ({theme}): table text with too little contrast: {low[:5]}"
    finally:
        context.close()
