"""The Chinese edition: catalogs, their checks, and the build.

The English notebooks and pages are the only source. Their prose is extracted by Sphinx's
gettext builder, one catalog per page, and translated in ``locales/zh_CN/LC_MESSAGES/<page>.po``;
the Chinese edition is the same source built with ``language: zh_CN``, rendering the outputs of
the same execution (the jupyter-cache the English build used). Code, math, numbers and the API
reference's docstrings are not translated (book/_ext/rlnotes_book.py keeps them out of the
catalogs).

    python tools/i18n.py update      # extract the prose (and the checkers' messages) and
                                     # update the catalogs (changed messages become fuzzy,
                                     # i.e. need a translator's look)
    python tools/i18n.py update-checkers   # the checkers' catalogs only
    python tools/i18n.py status      # what is untranslated, fuzzy or malformed, per page
    python tools/i18n.py check       # the same, failing if anything is
    python tools/i18n.py build       # the Chinese edition into _build/html/zh (after the
                                     # English build has filled the cache)
    python tools/i18n.py notebooks OUT   # the chapters as Chinese notebooks, into OUT

The exercise checkers' messages are translated the same way: every message a checker prints is
an English template wrapped in ``_()`` in ``rlnotes/exercises/<module>.py``, extracted into
``rlnotes/locales/zh_CN/LC_MESSAGES/exercises/<module>.po`` (its {fields} must survive the
translation). So are the words in the figures (axis labels, titles, legends): the executed
chapters record them (rlnotes.plotting), ``update`` collects them into
``rlnotes/locales/zh_CN/LC_MESSAGES/figures.po``, and the Chinese build shows each figure as the
same execution drew it a second time with the translated words.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
LANG = "zh_CN"
LOCALES = ROOT / "locales" / LANG / "LC_MESSAGES"
BUILD = ROOT / "_build"
POT_DIR = BUILD / "i18n" / "_build" / "gettext"


def jupyter_book():
    exe = Path(sys.executable).with_name("jupyter-book")
    return str(exe) if exe.exists() else "jupyter-book"


# ---- what a translation must keep --------------------------------------------------------
_MATH = re.compile(r"\$\$.+?\$\$|(?<!\\)\$(?:[^$\\]|\\.)+?\$", re.S)
_ROLE = re.compile(r"(?<!`)\{([\w:-]+)\}`([^`]*)`")
_CODE = re.compile(r"``.+?``|`[^`]+`")
_URL = re.compile(r"\]\(([^)\s]+)\)|<(https?://[^>]+)>")
_BOLD = re.compile(r"\*\*")


def _role_key(name, content):
    m = re.search(r"<([^<>]+)>\s*$", content)
    target = m.group(1) if m and name not in ("glue:text", "glue") else content
    return name, target.strip()


def markup(text):
    """The parts of a message a translation must carry over unchanged, as a multiset:
    math, roles (by name and target: a {ref}'s shown text may be translated), code spans and
    link targets."""
    parts = Counter()
    rest = text
    for m in _MATH.finditer(rest):
        parts["math", m.group(0)] += 1
    rest = _MATH.sub(" ", rest)
    for m in _ROLE.finditer(rest):
        parts[("role", *_role_key(m.group(1), m.group(2)))] += 1
    rest = _ROLE.sub(" ", rest)
    for m in _CODE.finditer(rest):
        parts["code", m.group(0)] += 1
    for m in _URL.finditer(rest):
        parts["link", m.group(1) or m.group(2)] += 1
    return parts


_FIELD = re.compile(r"(?<!\{)\{([A-Za-z_]\w*(?:\.\w+|\[\w+\])*)(?:![rsa])?(?::[^{}]*)?\}(?!\})")


def fields(text):
    """The str.format fields of a checker's message template, as a multiset."""
    return Counter(_FIELD.findall(text))


def problems(msgid, msgstr, template=False):
    """Why a translation is not acceptable (empty list if it is). ``template``: a checker's
    message, whose {fields} must all be kept (and no field added)."""
    if not msgstr.strip():
        return ["untranslated"]
    out = []
    if template:
        a, b = fields(msgid), fields(msgstr)
        if a != b:
            out.append(f"fields differ: {sorted((a - b).elements())} lost, {sorted((b - a).elements())} added")
        try:
            msgstr.format_map(_Anything())
        except (ValueError, IndexError) as e:
            out.append(f"not a valid template: {e}")
        return out
    a, b = markup(msgid), markup(msgstr)
    if a != b:
        missing, extra = a - b, b - a
        if missing:
            out.append("lost: " + "; ".join(" ".join(k) for k in missing))
        if extra:
            out.append("added: " + "; ".join(" ".join(k) for k in extra))
    if len(_BOLD.findall(msgstr)) % 2:
        out.append("unbalanced **")
    return out


class _Anything(dict):
    def __missing__(self, key):
        return ""


# ---- catalogs -------------------------------------------------------------------------------
def extract():
    """Run Sphinx's gettext builder over the book (rendering cached outputs, executing nothing
    that the cache has) and return the folder of templates (.pot), one per page."""
    subprocess.run([jupyter_book(), "build", str(ROOT), "--all", "--builder", "custom",
                    "--custom-builder", "gettext", "--path-output", str(BUILD / "i18n")],
                   check=True, stdout=subprocess.DEVNULL, env=dict(os.environ, RLNOTES_BOOK_FIGURES="1"))
    return POT_DIR


def merge(template, po):
    """Write catalog ``po`` in line with ``template``: new messages empty, changed ones fuzzy
    (babel's closest match, kept for the translator), vanished ones dropped."""
    if po.exists():
        with po.open("rb") as f:
            catalog = read_po(f, locale=LANG)
        catalog.update(template)
        catalog.obsolete.clear()
    else:
        catalog = Catalog(locale=LANG, project="rlnotes", fuzzy=False)
        for message in template:
            if message.id:
                catalog.add(message.id, "", locations=message.locations)
    po.parent.mkdir(parents=True, exist_ok=True)
    with po.open("wb") as f:
        write_po(f, catalog, width=0, omit_header=False, sort_output=False)


def update(pot_dir=POT_DIR):
    """Bring every catalog in line with its template: new messages empty, changed ones fuzzy
    (babel's closest match, kept for the translator), vanished ones dropped."""
    seen = set()
    for pot in sorted(pot_dir.rglob("*.pot")):
        rel = pot.relative_to(pot_dir).with_suffix(".po")
        po = LOCALES / rel
        seen.add(po)
        with pot.open("rb") as f:
            template = read_po(f)
        merge(template, po)
    for po in LOCALES.rglob("*.po"):
        if po not in seen:
            po.unlink()


CHECKERS = ROOT / "rlnotes" / "exercises"
PACKAGE_LOCALES = ROOT / "rlnotes" / "locales" / LANG / "LC_MESSAGES"
CHECKER_LOCALES = PACKAGE_LOCALES / "exercises"
FIGURES_PO = PACKAGE_LOCALES / "figures.po"


def checker_templates():
    """{module name: babel Catalog of the _() messages in rlnotes/exercises/<module>.py}."""
    from babel.messages.extract import extract_from_file

    out = {}
    for path in sorted(CHECKERS.glob("*.py")):
        template = Catalog(project="rlnotes", fuzzy=False)
        for lineno, message, _comments, _context in extract_from_file(
                "python", str(path), keywords={"_": None}, comment_tags=()):
            template.add(message, locations=[(f"rlnotes/exercises/{path.name}", lineno)])
        if len(template):
            out[path.stem] = template
    return out


def update_checkers(only=()):
    """The checker catalogs, one per module, in line with the _() messages of the source
    (``only``: these modules' catalogs alone)."""
    CHECKER_LOCALES.mkdir(parents=True, exist_ok=True)
    templates = checker_templates()
    for name, template in templates.items():
        if only and name not in only:
            continue
        po = CHECKER_LOCALES / f"{name}.po"
        merge(template, po)
    for po in CHECKER_LOCALES.glob("*.po"):
        if po.stem not in templates and not only:
            po.unlink()


CACHE = BUILD / ".jupyter_cache"
ZH_CACHE = BUILD / ".jupyter_cache_zh"


def _cached_notebooks(cache=CACHE):
    """(source path, path of the cached executed notebook) of the newest record of each chapter."""
    from jupyter_cache import get_cache

    newest = {}
    for record in get_cache(str(cache)).list_cache_records():
        if record.uri not in newest or record.pk > newest[record.uri].pk:
            newest[record.uri] = record
    return [(Path(r.uri), cache / "executed" / r.hashkey / "base.ipynb") for r in newest.values()]


def _figures(nb):
    """The figure outputs of an executed notebook that recorded their words (rlnotes.plotting):
    [(output, its record {"words": [...], "zh_CN": base64 PNG})]."""
    out = []
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []):
            record = output.get("metadata", {}).get("image/png", {}).get("rlnotes")
            if record is not None:
                out.append((output, record))
    return out


def word_template(text):
    sys.path.insert(0, str(ROOT))
    from rlnotes.plotting import word_template as template

    return template(text)


def update_figures():
    """figures.po in line with the words of the figures of the last execution of the book
    (``make test`` or ``make book``, which set RLNOTES_BOOK_FIGURES=1)."""
    template = Catalog(project="rlnotes", fuzzy=False)
    for source, path in sorted(_cached_notebooks()):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for k, (_, record) in enumerate(_figures(nb)):
            for word in record["words"]:
                template.add(word_template(word)[0], locations=[(source.relative_to(ROOT).as_posix(), k + 1)])
    if not len(template):
        raise SystemExit("no figure recorded its words: execute the book with RLNOTES_BOOK_FIGURES=1 "
                         "first (make test or make book do)")
    merge(template, FIGURES_PO)


def zh_cache(strict=False):
    """A copy of the book's execution for the Chinese build, each figure's PNG replaced by its
    Chinese drawing (made by the same execution). ``strict``: fail if a figure has none, or a
    figure's word has no translation."""
    shutil.rmtree(ZH_CACHE, ignore_errors=True)
    shutil.copytree(CACHE, ZH_CACHE)
    with FIGURES_PO.open("rb") as f:
        translated = {m.id for m in read_po(f, locale=LANG) if m.id and m.string and not m.fuzzy}
    missing, undrawn, boxes = set(), [], set()
    for path in (ZH_CACHE / "executed").glob("*/base.ipynb"):
        nb = json.loads(path.read_text(encoding="utf-8"))
        figures = _figures(nb)
        for output, record in figures:
            missing.update(t for t in (word_template(w)[0] for w in record["words"]) if t not in translated)
            boxes.update(record.get("missing_glyphs", []))
            if "zh_CN" in record:
                # the PNG of a displayed figure, or of a glued one (myst-nb's glue keeps it
                # under application/papermill.record/image/png)
                for key in [k for k in output["data"] if k.endswith("image/png")]:
                    output["data"][key] = record["zh_CN"]
            elif record["words"]:
                undrawn.append(path)
        if figures:
            path.write_text(json.dumps(nb), encoding="utf-8")
    problems = []
    if missing:
        problems.append(f"{len(missing)} words of figures have no translation in "
                        f"{FIGURES_PO.relative_to(ROOT)} (python tools/i18n.py update, then "
                        f"translate them), e.g. {sorted(missing)[:3]}")
    if undrawn:
        problems.append(f"{len(undrawn)} executed chapters have figures not drawn in Chinese: execute "
                        "the book with RLNOTES_BOOK_FIGURES=1 and a CJK font installed (Debian: "
                        "fonts-wqy-microhei; make test sets the variable)")
    if boxes:
        problems.append(f"figures drawn in Chinese with glyphs no installed font has: {sorted(boxes)[:3]}")
    if problems and strict:
        raise SystemExit("\n".join(problems))
    for p in problems:
        print("i18n:", p)


def catalogs():
    """(path, catalog) of every catalog: the book's pages, the checkers' messages, the figures'
    words."""
    figures = [FIGURES_PO] if FIGURES_PO.exists() else []
    for po in sorted(LOCALES.rglob("*.po")) + sorted(CHECKER_LOCALES.glob("*.po")) + figures:
        with po.open("rb") as f:
            yield po, read_po(f, locale=LANG)


def report():
    """{catalog path: [(msgid, problem), ...]} for every message that is untranslated, fuzzy
    or drops markup."""
    bad = {}
    for po, catalog in catalogs():
        rows = []
        for message in catalog:
            if not message.id:
                continue
            if message.fuzzy:
                rows.append((message.id, "fuzzy (the English changed: review the translation)"))
            for p in problems(message.id, message.string or "",
                              template=po.is_relative_to(CHECKER_LOCALES) or po == FIGURES_PO):
                rows.append((message.id, p))
        if rows:
            bad[po.relative_to(ROOT)] = rows
    return bad


# ---- the Chinese edition ------------------------------------------------------------------
def zh_config():
    """_config.yml with the Chinese edition's settings, generated (never edited) next to it:
    Jupyter Book resolves the config's relative paths from the config file's folder."""
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    config["title"] = "rlnotes — 深度强化学习：可执行的教科书"
    config["sphinx"]["config"]["language"] = LANG
    config["execute"]["cache"] = str(ZH_CACHE.relative_to(ROOT))
    path = ROOT / ".config.zh.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def build(extra=(), strict=False):
    """Build the Chinese edition from the cache the English build filled (a copy with the
    figures drawn in Chinese), into _build/html/zh (next to the English edition in
    _build/html). It executes nothing: a chapter missing from the cache is an error."""
    from jupyter_cache import get_cache

    zh_cache(strict)
    before = {r.pk for r in get_cache(str(ZH_CACHE)).list_cache_records()}
    out = BUILD / "zh"
    subprocess.run([jupyter_book(), "build", str(ROOT), "--all", "--config", str(zh_config()),
                    "--path-output", str(out), *extra], check=True)
    executed = [r.uri for r in get_cache(str(ZH_CACHE)).list_cache_records() if r.pk not in before]
    if executed:
        raise SystemExit("the Chinese build executed these chapters (not in the English build's "
                         "cache: build the English edition first):\n  " + "\n  ".join(executed))
    target = BUILD / "html" / "zh"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(out / "_build" / "html", target)
    # the download button offers the page's source: the Chinese notebook (or page) instead
    from translate_notebooks import translate_notebook, translate_page

    for source in (target / "_sources").rglob("*"):
        doc = source.relative_to(target / "_sources").with_suffix("").as_posix()
        if source.suffix == ".ipynb":
            nb, missed = translate_notebook(doc)
            source.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        elif source.suffix == ".md" and (LOCALES / f"{doc}.po").exists():
            text, missed = translate_page(doc)
            source.write_text(text, encoding="utf-8")
        else:
            continue
        if missed:
            raise SystemExit(f"{doc}: {len(missed)} translated messages found no place in the "
                             f"Chinese download, e.g. {missed[0][:80]!r} (tools/translate_notebooks.py)")
    return target


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("update", help="extract the prose and the checkers' messages; update the catalogs")
    u = sub.add_parser("update-checkers", help="the checkers' catalogs only (no book build)")
    u.add_argument("modules", nargs="*", help="only these modules of rlnotes/exercises")
    sub.add_parser("status", help="untranslated, fuzzy and malformed messages per page")
    sub.add_parser("check", help="as status, and fail if there are any")
    b = sub.add_parser("build", help="build the Chinese edition into _build/html/zh")
    b.add_argument("--strict", action="store_true", help="-W -n --keep-going, as make test")
    n = sub.add_parser("notebooks", help="write the chapters as Chinese notebooks")
    n.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    if args.command == "update":
        update(extract())
        update_checkers()
        update_figures()
        args.command = "status"
    if args.command == "update-checkers":
        update_checkers(args.modules)
        args.command = "status"
    if args.command in ("status", "check"):
        bad = report()
        total = sum(len(c) for _, c in catalogs())
        for po, rows in bad.items():
            print(f"{po}: {len(rows)}")
            if args.command == "check":
                for msgid, p in rows[:5]:
                    print(f"    {p}: {msgid[:100]!r}")
        n_bad = sum(len(r) for r in bad.values())
        print(f"{total} messages, {n_bad} to do")
        return 1 if args.command == "check" and bad else 0
    if args.command == "build":
        print(f"The Chinese edition is in {build(['-W', '-n', '--keep-going'] if args.strict else [], args.strict)}")
    if args.command == "notebooks":
        from translate_notebooks import write_all

        missed = write_all(args.out)
        for doc, lost in missed.items():
            print(f"{doc}: {len(lost)} messages found no place, e.g. {lost[0][:80]!r}")
        print(f"The Chinese notebooks are in {args.out}/book" + (" (incomplete)" if missed else ""))
        return 1 if missed else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
