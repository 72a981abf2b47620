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
* Translation (the Chinese edition, ``locales/``): what is not prose stays out of the catalogs
  (docstrings, and cell outputs that carry numbers), and every page links to the same page in
  the other edition.
"""
import re

from docutils import nodes
from sphinx.transforms import SphinxTransform
from sphinx.transforms.post_transforms import SphinxPostTransform


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
    options["extra_footer"] = (f"rlnotes {rlnotes.__version__} · " + _ui(config.language,
                               "every chapter is executed and tested on every change"))
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


# The words the book's own machinery puts on a page (not in any page's source, so not in the
# catalogs): here, per language. Sphinx and the themes translate their own.
_UI = {
    "zh_CN": {
        "every chapter is executed and tested on every change": "每一章在每次修改时都会执行并测试",
        "Show code cell source": "显示代码", "Hide code cell source": "隐藏代码",
        "Show code cell output": "显示输出", "Hide code cell output": "隐藏输出",
        "Show code cell outputs": "显示输出", "Hide code cell outputs": "隐藏输出",
        "Show code cell content": "显示单元格", "Hide code cell content": "隐藏单元格",
        "other edition": "English edition", "other edition, short": "English",
    },
    "en": {"other edition": "中文版 (Chinese edition)", "other edition, short": "中文"},
}


def _ui(language, text):
    return _UI.get(language or "en", {}).get(text, text)


class _CodePrompts(SphinxPostTransform):
    """The "Show code cell source" toggles of myst-nb, in the page's language (after myst-nb's
    own post-transform has built them, priority 199)."""

    default_priority = 200
    formats = ("html",)

    def run(self):
        if (self.config.language or "en") == "en":
            return
        for node in self.document.findall(nodes.Element):
            if "prompt_show" in node.attributes:
                node["prompt_show"] = _ui(self.config.language, node["prompt_show"])
                node["prompt_hide"] = _ui(self.config.language, node["prompt_hide"])


def _language_switch(app, pagename, templatename, context, doctree):
    """A link at the top of every page to the same page in the other edition: the English
    edition is the root of the site, the Chinese one its folder ``zh/``."""
    if doctree is None or "body" not in context:
        return
    language = app.config.language or "en"
    up = "../" * pagename.count("/")
    if language == "en":
        href, hreflang, lang = f"{up}zh/{pagename}.html", "zh-CN", "zh-CN"
    else:
        href, hreflang, lang = f"{up}../{pagename}.html", "en", "en"
    label = _ui(language, "other edition")
    context["body"] = (f'<p class="rlnotes-language"><a href="{href}" hreflang="{hreflang}" '
                       f'lang="{lang}">{label}</a></p>\n' + context["body"])


class _NotProse(SphinxTransform):
    """Keep out of the translation catalogs what is not the book's prose, so that a catalog
    never goes stale when a number changes:

    * displayed equations, and the API reference's entries (docstrings and the descriptions
      of objects: they stay English, as the code does);
    * text a cell computed (markdown tables, lists) where it holds a digit: data and numbers
      are never translated. A computed header or sentence without digits ("algorithm",
      "environment") is translated like the prose around it.

    Runs before Sphinx's own translation transform (priority 20)."""

    default_priority = 10

    def apply(self):
        # an exercise's title (sphinx-exercise's subtitle node) is prose too, but the directive
        # leaves it without the source that makes Sphinx translate it
        for node in self.document.findall(nodes.subtitle):
            if type(node).__name__ == "exercise_subtitle":
                node.rawsource = node.rawsource or _myst(node)
                holder = node
                while holder is not None and not holder.source:
                    holder = holder.parent
                node.source, node.line = (holder.source, holder.line) if holder else (self.document["source"], 0)
        # so are the titles of sphinx-proof's boxes (theorem, algorithm, ...), made the same way
        for node in self.document.findall(nodes.title):
            if not node.source and node.rawsource.strip() and node.parent is not None \
                    and type(node.parent).__module__.startswith("sphinx_proof"):
                node.source, node.line = node.parent.source, node.parent.line
        # paragraphs that MyST leaves without a source (the cells of a table nested in a list):
        # Sphinx neither extracts nor translates a node without one
        for node in self.document.findall(nodes.paragraph):
            if not node.source and node.rawsource.strip() and not _inside(node, nodes.system_message):
                holder = node.parent
                while holder is not None and not holder.source:
                    holder = holder.parent
                if holder is not None:
                    node.source, node.line = holder.source, holder.line
        for node in self.document.findall(nodes.TextElement):
            source = node.source or ""
            if (isinstance(node, nodes.math_block) or "docstring of " in source or _in_api_entry(node)
                    or _in_output(node) and re.search(r"\d", node.astext())):
                node["translatable"] = False


class _ExerciseTitlesToCatalog(SphinxPostTransform):
    """The gettext builder extracts messages after the post-transforms, and sphinx-exercise's
    post-transform (priority 20) rebuilds an exercise's title from its subtitle: extract the
    subtitles (made translatable by _NotProse) just before that."""

    default_priority = 19
    builders = ("gettext",)

    def run(self):
        from sphinx.util.i18n import docname_to_domain

        catalog = self.app.builder.catalogs[docname_to_domain(self.env.docname, self.config.gettext_compact)]
        for node in self.document.findall(nodes.subtitle):
            if type(node).__name__ == "exercise_subtitle" and node.rawsource:
                catalog.add(node.rawsource, node)


class _AltTextToCatalog(SphinxPostTransform):
    """The alt text of a notebook's figures (read to readers who cannot see them): Sphinx
    translates it, but for the gettext builder myst-nb drops image outputs (its mime-type
    selection, priority 4) before the messages are extracted. Extract them first."""

    default_priority = 3
    builders = ("gettext",)

    def run(self):
        from sphinx.util.i18n import docname_to_domain

        catalog = self.app.builder.catalogs[docname_to_domain(self.env.docname, self.config.gettext_compact)]
        for node in self.document.findall(nodes.image):
            if node.get("alt") and node.source and hasattr(node, "uid"):
                catalog.add(node["alt"], node)


# titles that sphinx-exercise composes from its own (translated) word, "练习" or "解答", and the
# exercise's title, which is a message of its own
_MACHINE_TITLES = {"exercise_title", "solution_title"}


class _Untranslated(SphinxTransform):
    """In a translated edition, a warning (an error under -W) for every message of the page
    that its catalog does not translate: new or changed English prose, or a translation marked
    fuzzy. Sphinx's own translation (priority 20) marks such a node ``translated=False``; a
    translation identical to the English (a name, a code word) is accepted when the catalog
    says so explicitly."""

    default_priority = 21

    def apply(self):
        language = self.config.language or "en"
        if language == "en":
            return
        from pathlib import Path

        from babel.messages.pofile import read_po
        from sphinx.util import logging

        po = Path(self.env.srcdir, self.config.locale_dirs[0], language, "LC_MESSAGES",
                  self.env.docname + ".po")
        catalog = None
        if po.exists():
            with po.open("rb") as f:
                catalog = read_po(f, locale=language)
        for node in self.document.findall(nodes.Element):
            if (node.get("translated") is not False or type(node).__name__ in _MACHINE_TITLES
                    or _in_api_entry(node) or _inside(node, nodes.system_message)):
                continue
            if isinstance(node, nodes.image):
                msg = node.get("alt", "")
            else:
                msg = node.rawsource.replace("\n", " ").strip() if node.rawsource else node.astext()
            entry = catalog.get(msg) if catalog is not None else None
            if entry is not None and entry.string == msg and not entry.fuzzy:
                continue
            if isinstance(node, nodes.image) and catalog is not None and any(
                    m.string == msg and not m.fuzzy for m in catalog):
                continue   # Sphinx marks a figure whose alt text it did translate
            why = "fuzzy" if entry is not None and entry.fuzzy else "not translated"
            logging.getLogger(__name__).warning(
                f"{why} in {po.relative_to(self.env.srcdir)} ({type(node).__name__}): {msg[:70]!r} (run `python "
                f"tools/i18n.py update` and translate it)", location=node)


def _translated_notebook_parser():
    """myst-nb's notebook parser, which also gives a translated message of a notebook (parsed
    by Sphinx as a document of its own) that notebook's glue data, so that a
    {glue:text}`key` in a translation inserts the same computed value as in the English."""
    from myst_nb.sphinx_ import Parser

    renderers = {}   # notebook path -> the renderer holding its glue data

    class _KeepRenderer(dict):
        """A document's attributes while myst-nb parses it: myst-nb pops its renderer at the
        end of the parse; keep it for the notebook's translated messages, parsed later."""

        def pop(self, key, *default):
            if key == "nb_renderer" and key in self:
                renderers[self.get("source")] = self[key]
            return super().pop(key, *default)

    class _TranslatedNotebookParser(Parser):
        def parse(self, inputstring, document):
            source = document.current_source or ""
            if source.endswith("<translated>"):
                renderer = renderers.get(source.rsplit(":", 2)[0])
                if renderer is not None:
                    document["nb_renderer"] = renderer
                try:
                    return super().parse(inputstring, document)
                finally:
                    document.attributes.pop("nb_renderer", None)
            document.attributes = _KeepRenderer(document.attributes)
            try:
                return super().parse(inputstring, document)
            finally:
                document.attributes = dict(document.attributes)

    return _TranslatedNotebookParser


def _myst(node):
    """The MyST source of a short inline text (an exercise title): text, math and code."""
    out = []
    for child in node.children:
        if isinstance(child, nodes.math):
            out.append(f"${child.astext()}$")
        elif isinstance(child, nodes.literal):
            out.append(f"`{child.astext()}`")
        elif isinstance(child, nodes.emphasis):
            out.append(f"*{_myst(child)}*")
        elif isinstance(child, nodes.strong):
            out.append(f"**{_myst(child)}**")
        elif isinstance(child, nodes.Element):
            out.append(_myst(child))
        else:
            out.append(child.astext())
    return "".join(out)


class _TocCaptions(SphinxTransform):
    """The captions of the parts of _toc.yml (the sidebar's headings) in the page's language:
    sphinx-external-toc inserts the toctrees (priority 100) after Sphinx has translated the
    page (priority 20), so translate their captions from the root page's catalog here."""

    default_priority = 101

    def apply(self):
        if (self.config.language or "en") == "en":
            return
        from sphinx import addnodes

        toctrees = [n for n in self.document.findall(addnodes.toctree) if n.get("caption")]
        if not toctrees:
            return
        from os import path

        from sphinx.locale import init as init_locale
        from sphinx.util.i18n import docname_to_domain

        domain = docname_to_domain(self.env.docname, self.config.gettext_compact)
        dirs = [path.join(self.env.srcdir, d) for d in self.config.locale_dirs]
        catalog, _ = init_locale(dirs, self.config.language, domain)
        for node in toctrees:
            node["caption"] = catalog.gettext(node["caption"])


def _inside(node, kind):
    while node is not None:
        if isinstance(node, kind):
            return True
        node = node.parent
    return False


def _in_api_entry(node):
    """Inside the description of a Python object (autodoc, or py: directives of the API pages):
    the API reference stays English, as the docstrings and the code do."""
    from sphinx import addnodes

    while node is not None:
        if isinstance(node, addnodes.desc):
            return True
        node = node.parent
    return False


def _in_output(node):
    while node is not None:
        if "cell_output" in (node.get("classes") or []) or node.get("nb_element") == "cell_code_output":
            return True
        node = node.parent
    return False


def setup(app):
    app.setup_extension("myst_nb")
    app.add_source_parser(_translated_notebook_parser(), override=True)
    app.add_transform(_NotProse)
    app.add_transform(_Untranslated)
    app.add_transform(_TocCaptions)
    app.add_post_transform(_ExerciseTitlesToCatalog)
    app.add_post_transform(_AltTextToCatalog)
    app.add_post_transform(_CodePrompts)
    app.connect("html-page-context", _language_switch)
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
