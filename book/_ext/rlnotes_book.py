"""Small Sphinx fixes for the rlnotes book (loaded through _config.yml: sphinx.local_extensions).

* De-duplicate script tags. sphinx-thebe registers its inline configuration script on every
  ``env-before-read-docs`` event; when Sphinx reads documents a second time in one build (as it
  does here), the page declares ``const THEBE_JS_URL`` twice and the browser reports a
  JavaScript error on every page (sphinx-togglebutton's setting is repeated the same way).
  The book uses no live code, so one copy of each is plenty.
"""


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


def setup(app):
    # html-page-context is emitted with emit_firstresult: run before any handler that returns
    app.connect("html-page-context", _dedupe_scripts, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
