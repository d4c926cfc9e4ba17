"""Every relative link and image in README.md and docs/*.md reaches a file, and every #anchor a heading.

Anchors follow GitHub's slugs, so a link that works here works on GitHub's rendering of the same page.
"""

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
DOC_PAGES = sorted((REPO / "docs").glob("*.md"))
# five minutes at about 200 words a minute; the rest lives in docs/ (docs/usage.md: every command)
README_MAX_WORDS = 1000

FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
CODE_SPAN = re.compile(r"`[^`]*`")
# [text](target) and ![alt](target); the target ends at the first space (a title may follow) or ')'.
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)


def prose_lines(text: str) -> list[str]:
    """The page's lines outside fenced code blocks, where '#' and '[...](...)' are not markdown."""
    lines, in_fence = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            in_fence = not in_fence
            continue
        if not in_fence:
            lines.append(line)
    return lines


def github_slug(heading: str) -> str:
    """GitHub's anchor for a heading: markup dropped, lower case, punctuation removed, spaces to hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text stays, its target goes
    text = text.replace("`", "").replace("*", "")
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every heading's anchor on the page; a repeated slug gets -1, -2, ... as on GitHub."""
    seen: dict[str, int] = {}
    result = set()
    for line in prose_lines(page.read_text(encoding="utf-8")):
        match = HEADING.match(line)
        if not match:
            continue
        slug = github_slug(match.group(2))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        result.add(slug if count == 0 else f"{slug}-{count}")
    return result


def link_targets(page: Path) -> list[str]:
    targets = []
    for line in prose_lines(page.read_text(encoding="utf-8")):
        targets.extend(LINK.findall(CODE_SPAN.sub("", line)))
    return [target for target in targets if not EXTERNAL.match(target)]


def broken_links(page: Path) -> list[str]:
    """Each relative link of the page whose file is missing or whose #anchor names no heading there."""
    broken = []
    for target in link_targets(page):
        path_part, _, anchor = target.partition("#")
        destination = (page.parent / path_part).resolve() if path_part else page
        if not destination.exists():
            broken.append(f"{target}: no such file")
        elif anchor and destination.suffix == ".md" and anchor not in anchors(destination):
            broken.append(f"{target}: no such heading")
    return broken


@pytest.mark.parametrize("page", [README, *DOC_PAGES], ids=lambda page: str(page.relative_to(REPO)))
def test_every_link_reaches_a_file_and_heading(page):
    assert broken_links(page) == []


def test_readme_links_every_docs_page():
    linked = {(README.parent / target.partition("#")[0]).resolve() for target in link_targets(README)}
    assert [page.name for page in DOC_PAGES if page not in linked] == []


def test_readme_reads_in_five_minutes():
    word_count = len(README.read_text(encoding="utf-8").split())  # as `wc -w README.md` counts
    assert word_count <= README_MAX_WORDS


@pytest.mark.parametrize(
    ("heading", "slug"),
    [
        ("Training on a CPU (`experiment=fast`)", "training-on-a-cpu-experimentfast"),
        ("What happens when...", "what-happens-when"),
        ("Timed tokens: rhythm the model learns", "timed-tokens-rhythm-the-model-learns"),
        ("The lab, problem by problem", "the-lab-problem-by-problem"),
        ("Inverse problems (`inverse.py`)", "inverse-problems-inversepy"),
        ("See [the benchmark](docs/benchmark.md)", "see-the-benchmark"),
    ],
)
def test_github_slug(heading, slug):
    assert github_slug(heading) == slug
