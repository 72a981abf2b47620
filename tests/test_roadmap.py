"""The roadmap of the introduction (book/figures/roadmap.svg) shows every numbered chapter.

The figure is drawn by book/figures/make_roadmap.py. These tests fail when a numbered chapter
of _toc.yml has no box in it, when an arrow names a chapter that has no box, when the committed
SVG is not what the script draws, or when the introduction no longer shows it.
"""
from __future__ import annotations

import importlib.util
import pathlib
import re
import xml.etree.ElementTree as ET

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIGURES = ROOT / "book" / "figures"
SVG_NS = "{http://www.w3.org/2000/svg}"


def numbered_chapters():
    """File stems of the chapters _toc.yml numbers (parts that do not say ``numbered: false``)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    default = toc.get("options", {}).get("numbered", False)
    return [pathlib.PurePosixPath(chapter["file"]).name
            for part in toc["parts"] if part.get("numbered", default)
            for chapter in part["chapters"]]


def load_script():
    spec = importlib.util.spec_from_file_location("make_roadmap", FIGURES / "make_roadmap.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def boxes_in_svg(text):
    root = ET.fromstring(text)
    return {g.get("id").removeprefix("roadmap-") for g in root.iter(f"{SVG_NS}g")
            if (g.get("id") or "").startswith("roadmap-")}


def test_every_numbered_chapter_is_on_the_roadmap():
    chapters = numbered_chapters()
    assert len(chapters) >= 10, chapters
    boxes = boxes_in_svg((FIGURES / "roadmap.svg").read_text())
    missing = [c for c in chapters if c not in boxes]
    assert not missing, (f"chapters missing from the roadmap: {missing}; add them to CHAPTERS and EDGES in "
                         "book/figures/make_roadmap.py and run it")
    stale = sorted(boxes - set(chapters))
    assert not stale, f"the roadmap shows chapters that _toc.yml does not number: {stale}"


def test_numbers_and_arrows_match_the_toc():
    script = load_script()
    chapters = numbered_chapters()
    numbers = {stem: entry[0] for stem, entry in script.CHAPTERS.items()}
    assert numbers == {stem: i + 1 for i, stem in enumerate(chapters)}, "box numbers differ from the toc's order"
    for tail, head in script.EDGES:
        assert tail in script.CHAPTERS and head in script.CHAPTERS, (tail, head)
        assert numbers[tail] < numbers[head], f"an arrow points backwards: {tail} -> {head}"
    reached = {stem for _, stem in script.EDGES} | {chapters[0]}
    assert reached == set(chapters), f"chapters no arrow leads to: {sorted(set(chapters) - reached)}"


def test_the_committed_svg_is_what_the_script_draws():
    assert (FIGURES / "roadmap.svg").read_text() == load_script().svg(), \
        "book/figures/roadmap.svg is stale: run python book/figures/make_roadmap.py"


def test_the_test_can_fail():
    """A roadmap without the PPO box is caught."""
    text = (FIGURES / "roadmap.svg").read_text()
    without = re.sub(r'  <g id="roadmap-ppo">.*?</g>\n', "", text, flags=re.S)
    assert "ppo" in boxes_in_svg(text) and "ppo" not in boxes_in_svg(without)


def test_the_introduction_shows_it():
    intro = (ROOT / "book" / "intro.md").read_text()
    assert re.search(r"```\{figure\} figures/roadmap\.svg\n:name: fig-roadmap\n", intro)
