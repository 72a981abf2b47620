"""Small Sphinx additions for the rlnotes book (loaded through _config.yml: sphinx.local_extensions).

* De-duplicate script tags. sphinx-thebe registers its inline configuration script on every
  ``env-before-read-docs`` event; when Sphinx reads documents a second time in one build (as it
  does here), the page declares ``const THEBE_JS_URL`` twice and the browser reports a
  JavaScript error on every page (sphinx-togglebutton's setting is repeated the same way).
  The book uses no live code, so one copy of each is plenty.
* API reference: translate the MyST used in rlnotes' docstrings ($math$, {cite}, {ref}, argument
  blocks) to reStructuredText for autodoc, and link every entry to its chapter.
* Line anchors (``#L<n>``) on the highlighted source pages of sphinx.ext.viewcode.
* ``{{ version }}`` and the footer from ``rlnotes.__version__`` and CITATION.cff.
"""
import re


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for js in scripts:
        attributes = getattr(js, "attributes", {}) or {}
        filename = getattr(js, "filename", str(js)) or ""  # inline scripts: None or ""
        key = (str(filename), tuple(sorted((k, str(v)) for k, v in attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(js)
    scripts[:] = unique


def _substitutions(app, config):
    """{{ version }}, {{ year }} and {{ url }} in the pages: the package's version and the
    citation data of CITATION.cff, so a page can never show a stale version."""
    from pathlib import Path

    import yaml

    import rlnotes

    # the repository root: where the book is built from (or, for a single-page build of one
    # chapter, the checkout the rlnotes package is installed from)
    roots = [Path(app.confdir), *Path(app.confdir).parents, Path(rlnotes.__file__).resolve().parents[1]]
    cff_path = next((r / "CITATION.cff" for r in roots if (r / "CITATION.cff").exists()), None)
    if cff_path is None:
        return
    cff = yaml.safe_load(cff_path.read_text())
    subs = dict(config.myst_substitutions or {})
    subs.update(version=rlnotes.__version__, year=str(cff["date-released"])[:4],
                url=cff["repository-code"])
    config.myst_substitutions = subs
    # the footer of every page shows the version (set here, not in _config.yml, so it cannot
    # go stale; _config.yml's sphinx.config.html_theme_options replaces JB's html: options)
    options = dict(config.html_theme_options or {})
    options["extra_footer"] = (f"rlnotes {rlnotes.__version__} · every chapter is executed and "
                               f"tested on every change")
    config.html_theme_options = options


_LINENO = re.compile(r'<span class="linenos">( *)(\d+)</span>')


def _line_anchors(app, exception):
    """Give every line of the highlighted source pages (sphinx.ext.viewcode, ``_modules/``) an
    anchor, ``#L<n>``, so a citation can point at one line: ``_modules/rlnotes/returns.html#L107``.
    The line number itself becomes the link to its own anchor."""
    if exception is not None or app.builder.format != "html":
        return
    from pathlib import Path

    for path in Path(app.outdir, "_modules").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        new = _LINENO.sub(lambda m: f'<a class="linenos" id="L{m.group(2)}" href="#L{m.group(2)}">'
                          f'{m.group(1)}{m.group(2)}</a>', text)
        if new != text:
            path.write_text(new, encoding="utf-8")


def setup(app):
    app.connect("build-finished", _line_anchors)
    app.connect("config-inited", _substitutions)
    # html-page-context is emitted with emit_firstresult: run before any handler that returns
    app.connect("html-page-context", _dedupe_scripts, priority=100)
    app.connect("autodoc-process-docstring", _process_docstring)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


# ------------------------------------------------------------------------------------------
# API reference: the package's docstrings are written for readers of the source and of the
# book alike, in the book's MyST syntax ($…$ math, {cite}`…`, {ref}`…`). autodoc parses
# docstrings as reStructuredText, so translate that small subset before it does.
# ------------------------------------------------------------------------------------------
_ROLE = re.compile(r"\{([a-z]+(?::[a-z]+)?)\}`")                 # {cite}`k` -> :cite:`k`
_INLINE_MATH = re.compile(r"(?<![\\$])\$(?!\$)((?:[^$\n]|\n(?!\s*\n))+?)(?<![\\ ])\$(?!\$)")
_LITERAL = re.compile(r"(``[^`\n]+?``)")
_FIELD = re.compile(r"^(\s*)([A-Za-z_]\w*(?:, [A-Za-z_]\w*)*):( +)(\S.*)$")
_STAR = re.compile(r"(?<=[(\s,\[])\*(?=[A-Za-z_][\w.]*[),\]])")       # (B, *obs_shape) -> \*
_UNDERSCORE_REF = re.compile(r"(?<=\w)_(?=[^\w{`]|$)")              # Q_θ(s) would be a link


def _inline(text):
    """Roles and inline math on a whole docstring (math may span lines), literals untouched."""
    def math(m, segment):
        before = segment[m.start() - 1] if m.start() > 0 else " "
        after = segment[m.end()] if m.end() < len(segment) else " "
        pre = "" if (before.isspace() or before in "([{'\"/-–—:") else "\\ "
        post = "" if (after.isspace() or after in ")]}'\".,;:!?/-–—") else "\\ "
        return f"{pre}:math:`{m.group(1)}`{post}"

    out = []
    for part in _LITERAL.split(text):
        if part.startswith("``"):
            out.append(part)
            continue
        part = _ROLE.sub(r":\1:`", part)
        pieces, last = [], 0
        for m in _INLINE_MATH.finditer(part):
            plain = part[last:m.start()]
            pieces.append(_escape_plain(plain))
            pieces.append(math(m, part))
            last = m.end()
        pieces.append(_escape_plain(part[last:]))
        out.append("".join(pieces))
    return "".join(out)


def _escape_plain(text):
    """Text outside math and literals: a lone *name is not emphasis, name_ is not a link."""
    roles = re.split(r"(:[a-z]+(?::[a-z]+)?:`[^`]*`)", text)
    return "".join(r if r.startswith(":") and r.endswith("`") else
                   _UNDERSCORE_REF.sub(r"\\_", _STAR.sub(r"\\*", r)) for r in roles)


def _indent(line):
    return len(line) - len(line.lstrip()) if line.strip() else None


def _fields(lines):
    """rlnotes' argument blocks ("name:   text" with deeper continuation lines) -> field lists."""
    out = []
    in_block = None                                   # indent of the current field block
    for k, line in enumerate(lines):
        m = _FIELD.match(line)
        nxt = next((l for l in lines[k + 1:] if l.strip()), "")
        ind = _indent(line)
        if m and not m.group(2)[0].isupper() or (m and len(m.group(3)) > 1):
            deeper = _indent(nxt) is not None and _indent(nxt) > ind and not _FIELD.match(nxt)
            if in_block == ind or deeper or len(m.group(3)) > 1 or (_FIELD.match(nxt) and _indent(nxt) == ind):
                if in_block != ind and out and out[-1].strip():
                    out.append("")
                out.append(f"{m.group(1)}:{m.group(2)}: {m.group(4)}")
                in_block = ind
                continue
        if in_block is not None and (ind is None or ind <= in_block):
            if ind is not None and out and out[-1].strip():
                out.append("")                        # end of the block
            in_block = None
        out.append(line)
    return out


def myst_to_rst(lines):
    """Translate the MyST subset used in rlnotes docstrings to reStructuredText, in place.

    ``$$ … $$`` blocks become ``.. math::`` directives, ``$…$`` the ``:math:`` role (also over
    line breaks), ``{role}`target``` the ``:role:`target``` form, argument blocks
    ("name:   text" and deeper-indented continuation lines) field lists; text inside
    ``literals`` is left alone.
    """
    out, i = [], 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("$$"):                              # display math
            indent = line[: len(line) - len(line.lstrip())]
            body = stripped[2:]
            block = []
            if body.rstrip().endswith("$$") and len(body.strip()) > 2:   # $$ x $$ on one line
                block = [body.rstrip()[:-2]]
            else:
                if body.strip():
                    block.append(body)
                i += 1
                while i < len(lines) and "$$" not in lines[i]:
                    block.append(lines[i].strip())
                    i += 1
                if i < len(lines):
                    last = lines[i].strip().replace("$$", "").strip()
                    if last:
                        block.append(last)
            if out and out[-1].strip():
                out.append("")
            out.append(f"{indent}.. math::")
            out.append("")
            out.extend(f"{indent}   {b}" for b in block if b.strip())
            out.append("")
            i += 1
            continue
        out.append(line)
        i += 1
    # inline markup on the text outside display math and literal blocks ("::" paragraphs)
    chunks, literal_indent = [], None
    for line in out:
        if literal_indent is not None:
            if line.strip() and _indent(line) <= literal_indent:
                literal_indent = None
            else:
                chunks.append(("raw", line))
                continue
        if line.lstrip().startswith(".. math::") or (line.startswith("   ") and chunks and chunks[-1][0] == "raw"
                                                     and line.strip()):
            chunks.append(("raw", line))
            continue
        chunks.append(("text", line))
        if line.rstrip().endswith("::") and not line.lstrip().startswith(".. "):
            literal_indent = _indent(line)
    result, buf = [], []
    for kind, line in chunks + [("raw", None)]:
        if kind == "text":
            buf.append(line)
            continue
        if buf:
            result.extend(_fields(_inline("\n".join(buf)).split("\n")))
            buf = []
        if line is not None:
            result.append(line)
    lines[:] = result


#: the chapter behind each module: an entry whose docstring does not link to a chapter itself
#: gets "See the chapter ..." with this one
MODULE_CHAPTER = {
    "rlnotes.mdp": "ch-mdps", "rlnotes.tabular": "ch-dqn", "rlnotes.policies": "ch-policies",
    "rlnotes.returns": "ch-variance-reduction", "rlnotes.estimators": "ch-score-function",
    "rlnotes.rollout": "ch-policies", "rlnotes.buffers": "ch-dqn",
    "rlnotes.algos.reinforce": "ch-variance-reduction", "rlnotes.algos.ppo": "ch-ppo",
    "rlnotes.algos.dqn": "ch-dqn", "rlnotes.algos.a2c": "ch-actor-critic",
    "rlnotes.algos.a3c": "ch-actor-critic", "rlnotes.algos.ddpg": "ch-ddpg",
}


def _process_docstring(app, what, name, obj, options, lines):
    myst_to_rst(lines)
    module = name.rsplit(".", 1)[0] if what in ("function", "class") else None
    chapter = MODULE_CHAPTER.get(module)
    if chapter and not any(":ref:`ch-" in line for line in lines):
        lines.extend(["", f"See the chapter :ref:`{chapter}`."])
