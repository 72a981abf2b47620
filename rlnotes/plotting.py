r"""Figures for the book: environment frames, animations of an agent, value heat maps.

Everything returns matplotlib objects or an ``IPython.display.HTML`` animation, so the same
call works in Jupyter and in the executed, built book (animations are self-contained
``to_jshtml`` players: the frames are embedded, nothing is loaded from the network).
"""
from __future__ import annotations

import re

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import animation

__all__ = ["show_frame", "record_frames", "animate"]


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
