"""The user guide (docs/guide/) is the project's own reference for its math and conventions.

Docstrings, comments, test docstrings, the README and the tour point to it as
``docs/guide/<page>.md#<section>``, with GitHub-style heading anchors. These tests keep
those pointers honest and keep out references to files that do not ship with the
repository.
"""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "guide"

# Built from pieces so that this file does not itself contain the strings it forbids.
FORBIDDEN = ("shared" + "/", "MATH" + ".md")

REFERENCE = re.compile(r"docs/guide/([A-Za-z0-9_]+)\.md(?:#([A-Za-z0-9_-]+))?")
LOCAL_LINK = re.compile(r"\]\(([A-Za-z0-9_]+\.md)?(?:#([A-Za-z0-9_-]+))?\)")


def _project_files():
    """Every text file of the package, the tests, the benchmarks and the README."""
    files = [ROOT / "README.md"]
    for folder in ("tabular_rl", "tests", "benchmarks"):
        files += sorted(p for p in (ROOT / folder).rglob("*") if p.is_file() and p.suffix in (".py", ".md", ".txt", ".cfg"))
    return files


def _slug(heading):
    """GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to hyphens."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(page):
    """The anchors of a guide page's headings (outside code blocks), with GitHub's -1, -2 suffixes for repeats."""
    seen = {}
    anchors = set()
    in_code = False
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
            continue
        m = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if in_code or not m:
            continue
        slug = _slug(m.group(2))
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        anchors.add(slug if n == 0 else f"{slug}-{n}")
    return anchors


def _broken(references):
    """(where, reference, reason) for every (page, anchor) that does not resolve."""
    cache = {}
    bad = []
    for where, page, anchor in references:
        path = GUIDE / f"{page}.md"
        if not path.is_file():
            bad.append((where, f"{page}.md#{anchor or ''}", "no such page"))
            continue
        if path not in cache:
            cache[path] = _anchors(path)
        if anchor and anchor not in cache[path]:
            bad.append((where, f"{page}.md#{anchor}", "no such heading"))
    return bad


def test_no_file_names_the_private_math_catalogue():
    """Catches a docstring, comment, test, benchmark, README line or tour message that still cites the private
    research catalogue (a file outside the repository that users never get) instead of the guide."""
    hits = []
    for path in _project_files():
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if any(word in line for word in FORBIDDEN):
                hits.append(f"{path.relative_to(ROOT)}:{i}: {line.strip()}")
    assert not hits, "cite docs/guide/<page>.md#<section> instead:\n" + "\n".join(hits)


def test_every_guide_reference_points_to_an_existing_page_and_heading():
    """Catches a pointer to a guide page that does not exist or to a section anchor that no heading produces
    (a renamed heading, a typo in the slug, punctuation kept in the anchor)."""
    refs = []
    for path in _project_files():
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for m in REFERENCE.finditer(line):
                refs.append((f"{path.relative_to(ROOT)}:{i}", m.group(1), m.group(2)))
    assert refs, "no file points to the guide: the reference pattern is broken"
    bad = _broken(refs)
    assert not bad, "\n".join(f"{w}: {r} ({why})" for w, r, why in bad)


def test_links_between_guide_pages_resolve():
    """Catches a broken relative link inside the guide itself ([text](page.md#section) or [text](#section))."""
    refs = []
    pages = sorted(GUIDE.glob("*.md"))
    assert {p.stem for p in pages} >= {"index", "conventions", "evaluation", "numerics"}
    for path in pages:
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for m in LOCAL_LINK.finditer(line):
                page = m.group(1)[:-3] if m.group(1) else path.stem
                if m.group(1) or m.group(2):
                    refs.append((f"{path.relative_to(ROOT)}:{i}", page, m.group(2)))
    bad = _broken(refs)
    assert not bad, "\n".join(f"{w}: {r} ({why})" for w, r, why in bad)


def test_the_slug_rule_is_githubs():
    """Catches a slug function that keeps punctuation or case, which would accept anchors GitHub never makes."""
    assert _slug("Forward pass") == "forward-pass"
    assert _slug("The gamma^t factor") == "the-gammat-factor"
    assert _slug("CPO Theorem 1") == "cpo-theorem-1"
    assert _slug("Errata: (1 - gamma) slide") == "errata-1---gamma-slide"
