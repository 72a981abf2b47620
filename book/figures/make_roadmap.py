"""Draw the roadmap of the chapters (book/figures/roadmap.svg), shown in the introduction.

Run from anywhere: ``python book/figures/make_roadmap.py``. Each box is one numbered chapter of
_toc.yml and each arrow says "builds on": the chapter at the arrow's head uses what the chapter
at its tail derives. tests/test_roadmap.py fails if a numbered chapter is missing here or if the
committed SVG differs from what this script writes.

The SVG has a transparent background, so it sits on the page in light and dark themes alike:
every label is dark text on its own light, opaque box, and the arrows are a mid-tone grey that
shows on white and on near-black.
"""
from __future__ import annotations

import pathlib
from xml.sax.saxutils import escape

OUT = pathlib.Path(__file__).resolve().parent / "roadmap.svg"

W, H = 700, 605                 # canvas, px
BOX_W, BOX_H = 250, 46          # one chapter
LEFT, RIGHT = 185, 525          # x of the two columns' centres

# part of the book -> (fill, stroke) of its boxes: light fills, so the dark text always reads
PARTS = {
    "Foundations": ("#e8e8e8", "#707070"),
    "Policy gradients": ("#dbe9f6", "#3d6f9e"),
    "Value-based methods": ("#e2f0d9", "#4f7a3a"),
    "Continuous control": ("#fbe5d6", "#a35f2c"),
    "Where next": ("#ece4f3", "#6f5491"),
}

# file stem -> (chapter number, title on the box, part, centre x, centre y)
CHAPTERS = {
    "mdps": (1, "Key concepts and MDPs", "Foundations", (LEFT + RIGHT) / 2, 40),
    "policies": (2, "Policies", "Policy gradients", LEFT, 120),
    "score_function": (3, "The score-function estimator", "Policy gradients", LEFT, 195),
    "variance_reduction": (4, "Reducing variance", "Policy gradients", LEFT, 270),
    "importance_sampling": (5, "Importance sampling", "Policy gradients", LEFT, 345),
    "ppo": (6, "Proximal policy optimisation", "Policy gradients", LEFT, 420),
    "actor_critic": (7, "Actor-critic: A2C and A3C", "Policy gradients", LEFT, 495),
    "dqn": (8, "Q-learning and DQN", "Value-based methods", RIGHT, 120),
    "ddpg": (9, "Deep deterministic policy gradient", "Continuous control", RIGHT, 345),
    "where_next": (10, "Where to go next", "Where next", RIGHT, 495),
    "comparing": (11, "Comparing algorithms honestly", "Where next", RIGHT, 570),
}

# (tail, head): the head chapter builds on the tail chapter
EDGES = [
    ("mdps", "policies"),                       # policies as matrices, then as networks
    ("mdps", "dqn"),                            # the Bellman optimality equation for Q*
    ("policies", "score_function"),             # differentiate log pi_theta
    ("score_function", "variance_reduction"),   # reduce the variance of that estimator
    ("variance_reduction", "importance_sampling"),   # the advantage form, reused off-policy
    ("importance_sampling", "ppo"),             # the surrogate objective
    ("ppo", "actor_critic"),                    # GAE and the combined loss
    ("variance_reduction", "actor_critic"),     # learned value functions as critics
    ("dqn", "ddpg"),                            # replay and target networks
    ("score_function", "ddpg"),                 # the stochastic gradient it replaces
    ("actor_critic", "where_next"),
    ("ddpg", "where_next"),
    ("where_next", "comparing"),                # the measured results, compared with error bars
]


def box(stem):
    number, title, part, x, y = CHAPTERS[stem]
    fill, stroke = PARTS[part]
    return (f'  <g id="roadmap-{stem}">\n'
            f'    <rect x="{x - BOX_W / 2:g}" y="{y - BOX_H / 2:g}" width="{BOX_W}" height="{BOX_H}" rx="8" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="1.5"/>\n'
            f'    <text x="{x:g}" y="{y - 4:g}" class="num">{number}. {escape(part)}</text>\n'
            f'    <text x="{x:g}" y="{y + 13:g}" class="title">{escape(title)}</text>\n'
            f'  </g>\n')


def border_point(stem, toward):
    """The point where the segment from the box's centre to ``toward`` leaves the box."""
    _, _, _, x, y = CHAPTERS[stem]
    dx, dy = toward[0] - x, toward[1] - y
    scale = min(BOX_W / 2 / abs(dx) if dx else float("inf"), BOX_H / 2 / abs(dy) if dy else float("inf"))
    return x + dx * scale, y + dy * scale


def arrow(tail, head):
    _, _, _, x0, y0 = CHAPTERS[tail]
    _, _, _, x1, y1 = CHAPTERS[head]
    between = [y for *_, x, y in CHAPTERS.values() if x == x0 and y0 < y < y1]
    if x0 == x1 and between:                    # would cross a box of its column: bend around its left side
        side = x0 - BOX_W / 2
        return (f'  <path d="M {side:g} {y0:g} C {side - 45:g} {y0:g}, {side - 45:g} {y1:g}, {side - 4:g} {y1:g}" '
                f'class="edge"/>\n')
    (ax, ay), (bx, by) = border_point(tail, (x1, y1)), border_point(head, (x0, y0))
    return f'  <path d="M {ax:.1f} {ay:.1f} L {bx:.1f} {by:.1f}" class="edge"/>\n'


def svg():
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
           f'role="img" aria-labelledby="roadmap-title">\n',
           '  <title id="roadmap-title">Roadmap: which chapter builds on which</title>\n',
           '  <defs>\n'
           '    <marker id="head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#8a8a8a"/></marker>\n'
           '    <style>\n'
           '      text { font-family: "Helvetica Neue", Arial, sans-serif; text-anchor: middle; fill: #1a1a1a; }\n'
           '      .num { font-size: 11px; fill: #4a4a4a; }\n'
           '      .title { font-size: 14px; font-weight: 600; }\n'
           '      .edge { fill: none; stroke: #8a8a8a; stroke-width: 1.6; marker-end: url(#head); }\n'
           '    </style>\n'
           '  </defs>\n']
    out += [arrow(tail, head) for tail, head in EDGES]
    out += [box(stem) for stem in CHAPTERS]
    out.append('</svg>\n')
    return "".join(out)


if __name__ == "__main__":
    OUT.write_text(svg())
    print(f"wrote {OUT}")
