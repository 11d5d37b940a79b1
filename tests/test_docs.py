"""The links between README.md and docs/ resolve: every relative link names a file or folder of the
repository, and a ``#fragment`` into a Markdown page names one of its headings (GitHub's anchors).
The code blocks of the same pages run in tests/test_readme.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PAGES = [REPO / "README.md"] + sorted((REPO / "docs").glob("*.md"))
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def _prose(text: str) -> str:
    """``text`` without its fenced code blocks and inline code (a ``[x](y)`` there is not a link)."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "", text)


def _anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered."""
    seen: dict[str, int] = {}
    out = set()
    for line in re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"), flags=re.S | re.M).splitlines():
        m = re.match(r"^#{1,6}\s+(.+?)\s*$", line)
        if not m:
            continue
        slug = re.sub(r"[^\w\- ]", "", m.group(1).lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f"{slug}-{n}")
    return out


def _links() -> list[tuple[str, str]]:
    out = []
    for page in PAGES:
        for target in LINK.findall(_prose(page.read_text(encoding="utf-8"))):
            if not re.match(r"^[a-z]+:", target):  # http:, https:, mailto: are not checked here
                out.append((page.relative_to(REPO).as_posix(), target))
    return out


LINKS = _links()


def test_pages_link_to_each_other():
    readme = {t for p, t in LINKS if p == "README.md"}
    for page in PAGES[1:]:
        name = f"docs/{page.name}"
        assert any(t.split("#")[0] == name for t in readme), f"README.md does not link to {name}"


@pytest.mark.parametrize("page,target", LINKS, ids=[f"{p}->{t}" for p, t in LINKS])
def test_relative_link_resolves(page: str, target: str):
    path, _, fragment = target.partition("#")
    file = (REPO / page).parent / path if path else REPO / page
    assert file.resolve().is_relative_to(REPO), f"{page}: {target} leaves the repository"
    assert file.exists(), f"{page}: link to {target}, but {file.relative_to(REPO)} does not exist"
    if fragment and file.suffix == ".md":
        assert fragment in _anchors(file), f"{page}: no heading #{fragment} in {file.relative_to(REPO)}"
