"""The API reference (docs/api/*.rst) lists every public name.

The docs build (``python -m sphinx -W ... docs docs/_build/html``, run in CI) documents what the
autosummary lists of docs/api/ name, and nothing more: a name added to an ``__all__`` without an
entry there would be missing from the reference without a warning. These tests compare the lists
with the ``__all__`` of ``tabular_rl`` and of each public submodule, without building the docs.
"""

import importlib
import pathlib
import pkgutil
import re

import tabular_rl

API = pathlib.Path(__file__).resolve().parent.parent / "docs" / "api"


def _public_submodules():
    """The public submodules, as tests/test_examples.py enumerates them (no leading underscore)."""
    return sorted(info.name for info in pkgutil.iter_modules(tabular_rl.__path__) if not info.name.startswith("_"))


#: Modules that hold one layer of a larger module and are documented on its page: the parent
#: re-exports every public name of each part (users import from the parent), and its docstring names
#: the parts. A part's names must be on the parent's page as the same objects.
PARTS = {
    "maxent_likelihood": "maxent",
    "maxent_passes": "maxent",
    "ppo_losses": "ppo",
    "ppo_loops": "ppo",
    "ppo_surrogates": "ppo",
}


def _autosummary(text):
    """(current module, [names]) of an API page: the names of its ``autosummary`` directives."""
    module = re.search(r"^\.\. currentmodule:: (\S+)\s*$", text, re.MULTILINE)
    names = []
    for block in re.finditer(r"^\.\. autosummary::\n((?:[ \t]+.*\n|[ \t]*\n)*)", text, re.MULTILINE):
        for line in block.group(1).splitlines():
            entry = line.strip()
            if entry and not entry.startswith(":"):
                names.append(entry.lstrip("~"))
    return (module.group(1) if module else None), names


def _pages():
    """{module name: [listed names]} for every docs/api/<module>.rst page."""
    pages = {}
    for path in sorted(API.glob("*.rst")):
        module, names = _autosummary(path.read_text(encoding="utf-8"))
        if module is not None:
            pages[module] = names
    return pages


def test_every_public_submodule_has_a_page_listing_exactly_its_all():
    """Catches a new public function (or module) without a reference entry, and a stale entry for a
    name that left its module's ``__all__``."""
    pages = _pages()
    problems = []
    for name in _public_submodules():
        full = f"tabular_rl.{name}"
        module = importlib.import_module(full)
        if name in PARTS:
            parent = importlib.import_module(f"tabular_rl.{PARTS[name]}")
            listed = pages.get(parent.__name__, [])
            for missing in sorted(n for n in module.__all__
                                  if n not in listed or getattr(parent, n, None) is not getattr(module, n)):
                problems.append(f"{full}.{missing}: not on its parent's page docs/api/{PARTS[name]}.rst")
            if name not in (parent.__doc__ or ""):
                problems.append(f"{parent.__name__}'s docstring does not name its part {full}")
            continue
        if full not in pages:
            problems.append(f"{full}: no docs/api/{name}.rst with '.. currentmodule:: {full}' and an autosummary")
            continue
        listed = pages[full]
        for missing in sorted(set(module.__all__) - set(listed)):
            problems.append(f"{full}.{missing}: in __all__, not in docs/api/{name}.rst")
        for stale in sorted(set(listed) - set(module.__all__)):
            problems.append(f"{full}.{stale}: listed in docs/api/{name}.rst, not in __all__")
        if len(listed) != len(set(listed)):
            problems.append(f"docs/api/{name}.rst lists a name twice")
    assert not problems, "\n".join(problems)


def test_every_top_level_name_is_documented_where_it_is_the_same_object():
    """Catches a name of ``tabular_rl.__all__`` that no module page documents (the reference documents
    each top-level name under a public submodule that exports the same object)."""
    documented = set()
    for module_name, names in _pages().items():
        module = importlib.import_module(module_name)
        documented |= {id(getattr(module, n)) for n in names if hasattr(module, n)}
    missing = [n for n in tabular_rl.__all__ if id(getattr(tabular_rl, n)) not in documented]
    assert not missing, "documented on no docs/api/ page: " + ", ".join(missing)


def test_every_api_page_is_in_the_reference_toctree():
    """Catches a module page that the build renders but no table of contents reaches."""
    index = (API / "index.rst").read_text(encoding="utf-8")
    toctree = re.search(r"^\.\. toctree::\n((?:[ \t]+.*\n|[ \t]*\n)*)", index, re.MULTILINE).group(1)
    entries = {line.strip() for line in toctree.splitlines() if line.strip() and not line.strip().startswith(":")}
    pages = {p.stem for p in API.glob("*.rst")} - {"index"}
    assert pages == entries, f"not in docs/api/index.rst: {sorted(pages - entries)}; no such page: {sorted(entries - pages)}"


def test_the_parser_reads_an_autosummary_block():
    """Catches a parser that silently returns nothing (every test above would then pass vacuously)."""
    text = ".. currentmodule:: m\n\n.. autosummary::\n   :toctree: generated\n\n   f\n   ~g\n\nprose\n   not_a_name\n"
    assert _autosummary(text) == ("m", ["f", "g"])
    assert len(_pages()) == len(_public_submodules()) - len(PARTS)
    assert set(PARTS) <= set(_public_submodules())
