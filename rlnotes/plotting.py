r"""Figures for the book: environment frames, animations of an agent, value heat maps, and
figures whose words are in the reader's language.

Everything returns matplotlib objects or an ``IPython.display.HTML`` animation, so the same
call works in Jupyter and in the executed, built book (animations are self-contained
``to_jshtml`` players: the frames are embedded, nothing is loaded from the network).

A chapter's first cell calls :func:`figures_in_the_readers_language`: from then on, a figure's
words (titles, axis labels, legends, annotations) are shown in the reader's language
(:mod:`rlnotes.i18n`, from the catalog ``figures.po``). While the book is executed for its two
editions (``RLNOTES_BOOK_FIGURES=1``, set by ``make test`` and ``make book``), each figure is also
drawn in Chinese, and its words are recorded, in the metadata of its output; the Chinese edition
shows that drawing (tools/i18n.py). The figure is drawn by the same execution: the numbers in
the two drawings are the same.
"""
from __future__ import annotations

import base64
import contextlib
import os
import re
import warnings

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import animation

__all__ = ["show_frame", "record_frames", "animate",
           "figures_in_the_readers_language", "figure_words", "word_template", "in_language"]


def _frame_of(env_or_frame):
    if isinstance(env_or_frame, np.ndarray):
        frame = env_or_frame
    else:
        if getattr(env_or_frame, "render_mode", None) != "rgb_array":
            raise ValueError(
                "show_frame needs an env made with render_mode='rgb_array', e.g. "
                "gym.make('FrozenLake-v1', render_mode='rgb_array'), or an (H, W, 3) array")
        frame = env_or_frame.render()
    frame = np.asarray(frame)
    if frame.ndim != 3 or frame.shape[2] not in (3, 4):
        raise ValueError(f"a frame must be an (H, W, 3) or (H, W, 4) image array, got shape {frame.shape}")
    return frame


def show_frame(env_or_frame, ax=None, title=None):
    """Draw one rendered frame (an env with ``render_mode='rgb_array'``, or an (H, W, 3) array).

    Returns the matplotlib Axes.
    """
    frame = _frame_of(env_or_frame)
    if ax is None:
        h, w = frame.shape[:2]
        _, ax = plt.subplots(figsize=(4 * w / max(h, w), 4 * h / max(h, w)))
    ax.imshow(frame)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def record_frames(env, act, seed=0, max_steps=500):
    """Play one episode and return its rendered frames.

    env: a gymnasium env made with ``render_mode='rgb_array'``.
    act: a function ``obs -> action`` (for example a greedy policy).
    Returns ``(frames, total_reward)``: a list of (H, W, 3) uint8 arrays, one for the start
    state and one after every step, and the undiscounted return of the episode.
    """
    if getattr(env, "render_mode", None) != "rgb_array":
        raise ValueError("record_frames needs an env made with render_mode='rgb_array'")
    obs, _ = env.reset(seed=seed)
    frames, total = [env.render()], 0.0
    for _ in range(max_steps):
        obs, reward, terminated, truncated, _ = env.step(act(obs))
        total += float(reward)
        frames.append(env.render())
        if terminated or truncated:
            break
    return frames, total


def animate(frames, fps=8, title=None, width=4.0):
    """An HTML player (matplotlib ``to_jshtml``) for a list of (H, W, 3) frames.

    The frames are embedded in the page as images, so the animation plays offline. Returns
    ``IPython.display.HTML``; the figure used to draw it is closed.
    """
    from IPython.display import HTML

    if len(frames) == 0:
        raise ValueError("animate needs at least one frame; record_frames returns a list of them")
    frames = [_frame_of(np.asarray(f)) for f in frames]
    h, w = frames[0].shape[:2]
    fig, ax = plt.subplots(figsize=(width, width * h / w))
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    image = ax.imshow(frames[0])
    fig.tight_layout()

    def draw(i):
        image.set_data(frames[i])
        return (image,)

    anim = animation.FuncAnimation(fig, draw, frames=len(frames), interval=1000 / fps, blit=True)
    with matplotlib.rc_context({"animation.embed_limit": 64.0}):  # MB
        html = anim.to_jshtml(default_mode="once")
    plt.close(fig)
    # matplotlib's player links Font Awesome 4 from a CDN for its button icons; the book must
    # not touch the network, and the theme already ships Font Awesome (which knows these names).
    html = re.sub(r'<link[^>]+font-awesome[^>]*>', "", html)
    return HTML(html)


# --------------------------------------------------------------------------------------------
# Value functions on a grid (chapter "Key concepts and MDPs")
# --------------------------------------------------------------------------------------------
__all__ += ["plot_values", "show_source"]


def plot_values(V, mdp=None, *, shape=None, policy=None, q=None, ax=None, title=None, fmt=".1f",
                cmap="viridis", action_deltas=None, terminal=None, tie_tol=1e-8, colorbar=True):
    r"""Heat map of state values $V(s)$ on a grid world, with the policy drawn as arrows.

    V:       shape (S,), one value per state; state ``s`` is the cell ``divmod(s, n_cols)``
             (row-major, as in gymnasium's FrozenLake and CliffWalking).
    mdp:     optional :class:`rlnotes.mdp.TabularMDP`; supplies ``grid_shape``,
             ``action_deltas`` (A, 2) as (drow, dcol) and the ``terminal`` mask.
    shape:   (n_rows, n_cols), overrides ``mdp.grid_shape``.
    policy:  optional int array (S,) of actions, drawn as one arrow per non-terminal cell.
    q:       optional (S, A) action values; every action within ``tie_tol`` of
             $\max_a Q(s,a)$ is drawn (ties), thinner than the policy's own action.
    Terminal cells are greyed and hatched; every cell is annotated with its value
    formatted with ``fmt``. Cells whose value is NaN (e.g. states that cannot be occupied,
    like CliffWalking's cliff) are greyed and hatched without a value or arrow.
    Returns the matplotlib Axes.
    """
    from matplotlib.patches import Rectangle

    V = np.asarray(V, dtype=float)
    if shape is None and mdp is not None:
        shape = getattr(mdp, "grid_shape", None)
    if shape is None:
        raise ValueError("plot_values needs a grid shape: pass shape=(n_rows, n_cols), or an mdp "
                         "with grid_shape (e.g. rlnotes.mdp.gridworld_5x5() or "
                         "TabularMDP.from_gymnasium of FrozenLake/CliffWalking)")
    n_rows, n_cols = (int(n) for n in shape)
    if V.ndim != 1 or V.size != n_rows * n_cols:
        raise ValueError(f"V must have one value per cell of the {n_rows}x{n_cols} grid, i.e. shape "
                         f"({n_rows * n_cols},), got shape {V.shape}")
    S = V.size
    if terminal is None and mdp is not None:
        terminal = getattr(mdp, "terminal", None)
    terminal = np.zeros(S, bool) if terminal is None else np.asarray(terminal, bool).reshape(S)
    if action_deltas is None and mdp is not None:
        action_deltas = getattr(mdp, "action_deltas", None)
    if (policy is not None or q is not None) and action_deltas is None:
        raise ValueError("drawing a policy needs the direction of each action: pass an mdp with "
                         "action_deltas, or action_deltas=[(drow, dcol), ...]")
    if action_deltas is not None:
        action_deltas = np.asarray(action_deltas, dtype=float)
    if policy is not None:
        policy = np.asarray(policy)
        if policy.shape != (S,) or not np.issubdtype(policy.dtype, np.integer):
            raise ValueError(f"policy must be an int array of shape ({S},) (one action per state), "
                             f"got dtype {policy.dtype} and shape {policy.shape}")
    if q is not None:
        q = np.asarray(q, dtype=float)
        if q.shape != (S, len(action_deltas)):
            raise ValueError(f"q must have shape ({S}, {len(action_deltas)}), got {q.shape}")

    if ax is None:
        _, ax = plt.subplots(figsize=(0.9 * n_cols + 1.6, 0.9 * n_rows + 0.6))
    grid = V.reshape(n_rows, n_cols)
    blank = ~np.isfinite(V)                                # drawn grey, without a value
    if blank.all():
        raise ValueError("V has no finite value to draw")
    shown = ~terminal & ~blank
    finite = V[shown] if shown.any() else V[~blank]
    vmin, vmax = float(finite.min()), float(finite.max())
    if vmin == vmax:
        vmin, vmax = vmin - 1.0, vmax + 1.0
    image = ax.imshow(grid, cmap=cmap, vmin=vmin, vmax=vmax)
    colormap = image.get_cmap()
    norm = image.norm

    for s in range(S):
        row, col = divmod(s, n_cols)
        if terminal[s] or blank[s]:
            ax.add_patch(Rectangle(
                (col - 0.5, row - 0.5), 1, 1, facecolor="0.85", edgecolor="0.5", hatch="//",
                linewidth=0.0))
            text_color = "black"
        else:
            r, g, b, _ = colormap(norm(V[s]))
            text_color = "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"
        arrows = []
        if blank[s]:
            continue
        if not terminal[s]:
            if q is not None:
                best = q[s].max()
                ties = np.flatnonzero(q[s] >= best - tie_tol * max(1.0, abs(best)))
                arrows += [(a, 1.0 if policy is None or a == policy[s] else 0.5) for a in ties]
                if policy is not None and policy[s] not in ties:
                    arrows.append((int(policy[s]), 1.0))
            elif policy is not None:
                arrows.append((int(policy[s]), 1.0))
        text_y = row + (0.31 if arrows else 0.0)          # below the arrows' star
        ax.text(col, text_y, format(V[s], fmt), ha="center", va="center",
                fontsize=7 if arrows else 8, color=text_color)
        for a, weight in arrows:
            drow, dcol = action_deltas[a]
            norm_len = np.hypot(drow, dcol)
            cy = row - 0.08                                 # arrows start here, outwards
            if norm_len == 0:   # a "stay" action: draw a dot
                ax.plot(col, cy, "o", color=text_color, markersize=3 * weight)
                continue
            dx, dy = 0.25 * dcol / norm_len, 0.25 * drow / norm_len
            ax.annotate("", xy=(col + dx, cy + dy), xytext=(col, cy),
                        arrowprops=dict(arrowstyle="->", color=text_color, lw=1.6 * weight,
                                        alpha=0.5 + 0.5 * weight, shrinkA=0, shrinkB=0))

    ax.set_xticks(range(n_cols))
    ax.set_yticks(range(n_rows))
    ax.set_xticks(np.arange(-0.5, n_cols), minor=True)
    ax.set_yticks(np.arange(-0.5, n_rows), minor=True)
    ax.grid(which="minor", color="white", linewidth=1.0)
    ax.tick_params(which="minor", length=0)
    ax.set_xlabel("column")
    ax.set_ylabel("row")
    if title:
        ax.set_title(title)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="value")
    return ax


def show_source(obj):
    """Display the source code of a function or class of ``rlnotes``, syntax highlighted.

    The chapters use it to show an implementation next to the equation it implements. The
    source is read from the installed package, so the page always shows the code that ran.
    Returns ``IPython.display.Markdown`` holding a ``python`` code block: Jupyter and the built
    book (myst-nb renders ``text/markdown`` outputs) both highlight it with their own theme.
    """
    import inspect

    from IPython.display import Markdown

    source = inspect.getsource(obj).rstrip()
    fence = "````" if "```" not in source else "`````"
    return Markdown(f"{fence}python\n{source}\n{fence}")


# ------------------------------------------------------------------------------------------
# Figures in the reader's language
# ------------------------------------------------------------------------------------------
BOOK_FIGURES_VARIABLE = "RLNOTES_BOOK_FIGURES"
"""Set to 1 while the book is executed for both editions: every figure is then also drawn in
Chinese, and its words are recorded, in its output's metadata (``metadata["image/png"]["rlnotes"]``)."""

#: fonts with Chinese glyphs, in order of preference (the first one installed is used, after
#: DejaVu Sans for Latin letters, digits and symbols); Debian: fonts-wqy-microhei
CJK_FONTS = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Source Han Sans SC", "Noto Sans SC",
             "Microsoft YaHei", "PingFang SC", "SimHei")

_WORD = re.compile(r"[A-Za-z]{2,}")


def _has_words(text):
    """Two letters in a row outside $math$: a label to translate ("steps", "return (mean)")."""
    return bool(_WORD.search(re.sub(r"\$[^$]*\$", "", text)))


_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def word_template(text):
    """A figure's text as a message to translate: its numbers replaced by the fields {n0},
    {n1}, … (so that a figure whose numbers change needs no new translation), its braces
    doubled. Returns ``(template, numbers)``."""
    numbers = _NUMBER.findall(text)
    parts = [p.replace("{", "{{").replace("}", "}}") for p in _NUMBER.split(text)]
    template = parts[0] + "".join(f"{{n{k}}}{p}" for k, p in enumerate(parts[1:]))
    return template, numbers


def _translate_text(text, lang):
    from .i18n import translate

    template, numbers = word_template(text)
    translated = translate(template, lang)
    if translated == template:
        return text
    return translated.format(**{f"n{k}": x for k, x in enumerate(numbers)})


def figure_words(fig):
    """The texts of ``fig`` that hold words (titles, axis labels, legend entries, annotations,
    tick labels such as algorithm names), each once, in drawing order."""
    from matplotlib.text import Text

    seen = []
    for t in fig.findobj(Text):
        text = t.get_text()
        if t.get_visible() and _has_words(text) and text not in seen:
            seen.append(text)
    return seen


def _cjk_font():
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def _concrete(families):
    """Font families with the generic ones ("sans-serif") replaced by their first installed font."""
    from matplotlib import font_manager

    out = []
    for family in families:
        if family in font_manager.font_family_aliases:
            out.append(font_manager.FontProperties(family=[family]).get_name())
        else:
            out.append(family)
    return out


@contextlib.contextmanager
def in_language(fig, lang):
    """Within the block, every word of ``fig`` is shown in ``lang`` (``"en"``: unchanged), with
    a font that has its glyphs; afterwards the figure is as it was. A text is looked up by its
    :func:`word_template`: "462 / 2 of 5 solved" as "{n0} / {n1} of {n2} solved"."""
    from matplotlib.text import Text

    if lang == "en":
        yield fig
        return
    texts = [t for t in fig.findobj(Text) if _has_words(t.get_text())]
    before = [(t.get_text(), t.get_fontfamily()) for t in texts]
    font = _cjk_font()
    try:
        for t, (text, family) in zip(texts, before):
            t.set_text(_translate_text(text, lang))
            if font is None:
                continue
            # the text's own fonts first (Latin letters, digits), then CJK for the rest; a text
            # with $math$ is drawn by mathtext, which takes its plain words from the first font
            # only: there, the CJK font first (it has Latin letters too)
            concrete = _concrete(family)
            t.set_fontfamily([font, *concrete] if "$" in text else [*concrete, font])
        yield fig
    finally:
        for t, (text, family) in zip(texts, before):
            t.set_text(text)
            t.set_fontfamily(family)


def _png(fig):
    """IPython's PNG of a figure, drawn in the reader's language; while the book is executed,
    with the Chinese drawing and the figure's words in its metadata."""
    from IPython.core.pylabtools import print_figure

    from .i18n import language

    with in_language(fig, language()):
        data = print_figure(fig, "png", bbox_inches="tight")
    if os.environ.get(BOOK_FIGURES_VARIABLE, "") in ("", "0"):
        return data
    words = figure_words(fig)
    record = {"words": words}
    if words and _cjk_font() is not None:
        # a glyph the fonts lack is drawn as a box: recorded (the Chinese build fails on it),
        # not printed into the chapter's output, which both editions show
        with in_language(fig, "zh_CN"), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            record["zh_CN"] = base64.b64encode(print_figure(fig, "png", bbox_inches="tight")).decode("ascii")
        missing = sorted({str(w.message) for w in caught if "missing from" in str(w.message)})
        if missing:
            record["missing_glyphs"] = missing
    return data, {"rlnotes": record}


def figures_in_the_readers_language():
    """From now on, show this notebook's figures with their words in the reader's language
    (``RLNOTES_LANG``, :mod:`rlnotes.i18n`). Call it once, in a notebook's first cell (after a
    ``%config InlineBackend.figure_formats`` line, which resets IPython's image formatters).
    Outside IPython it does nothing."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    from matplotlib.figure import Figure

    # load the backend first: Jupyter's inline backend, when it starts (at the first figure),
    # resets the PNG formatter to its own
    plt.switch_backend(matplotlib.get_backend())
    formatter = shell.display_formatter.formatters["image/png"]
    formatter.enabled = True
    formatter.for_type(Figure, _png)
