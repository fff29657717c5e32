"""Every public name has an example that runs as a doctest.

The README promises an example on every public function; a name added to an ``__all__``
without one, or an example deleted in an edit, breaks that promise silently, because the
doctest run only executes the examples that exist. The test here walks the public names and
lists every one that has none.
"""

import doctest
import functools
import importlib
import inspect
import pkgutil
import re

import pytest

import tabular_rl

_PARSER = doctest.DocTestParser()


def _public_modules():
    """``tabular_rl`` and every public submodule (no leading underscore, not ``__main__``)."""
    names = ["tabular_rl"] + [
        f"tabular_rl.{info.name}"
        for info in pkgutil.iter_modules(tabular_rl.__path__)
        if not info.name.startswith("_")
    ]
    return [importlib.import_module(name) for name in names]


def _examples(doc):
    """The ``>>>`` examples of a docstring (doctest's own parser, so prose that quotes ``>>>`` is not one)."""
    return _PARSER.get_examples(doc or "")


def _has_examples_section(doc):
    """A numpydoc ``Examples`` heading followed, somewhere below it, by a doctest example."""
    match = re.search(r"^\s*Examples\n\s*-{8,}\s*$", doc or "", flags=re.MULTILINE)
    return match is not None and bool(_examples(doc[match.end():]))


@functools.lru_cache(maxsize=None)
def _doctests_found(module_name):
    """Names of the docstrings that ``--doctest-modules`` runs in a module (doctest's own finder)."""
    module = importlib.import_module(module_name)
    return frozenset(test.name for test in doctest.DocTestFinder(exclude_empty=True).find(module) if test.examples)


def _missing():
    """One line per public object without an example that runs: where it is defined, and why.

    An object exported by several ``__all__`` (the package's and its submodule's) is listed once,
    under the module that defines it."""
    missing = {}
    for module in _public_modules():
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if inspect.ismodule(obj):
                continue
            if not callable(obj):
                # A constant has no docstring of its own: an example in the module docstring must use it.
                if not any(re.search(rf"\b{re.escape(name)}\b", ex.source) for ex in _examples(module.__doc__)):
                    missing[f"{module.__name__}.{name}"] = "constant: no example in the module docstring uses it"
                continue
            home = getattr(obj, "__module__", None) or module.__name__
            where = f"{home}.{name}"
            # The object's own docstring, not one inherited from a base class (inspect.getdoc would).
            doc = obj.__doc__ if isinstance(obj.__doc__, str) else None
            if not _has_examples_section(doc):
                missing[where] = "no Examples section with a >>> example"
            elif getattr(importlib.import_module(home), name, None) is obj and where not in _doctests_found(home):
                missing[where] = f"its example is not collected as a doctest of {home}"
    return [f"{where} ({why})" for where, why in sorted(missing.items())]


def test_every_public_name_has_an_example_that_runs_as_a_doctest():
    """Bug caught: a public function, class or constant whose example was removed in an edit or
    never written (a new name added to ``__all__`` without an Examples section). The failure
    lists every such name, with the module whose ``__all__`` exports it."""
    missing = _missing()
    assert not missing, f"{len(missing)} public names without a runnable example:\n  " + "\n  ".join(missing)


def test_the_walk_covers_the_documented_submodules():
    """Bug caught: the walk above silently skipping a module (a rename, or a package the
    discovery misses), so that names there are never checked."""
    walked = {m.__name__ for m in _public_modules()}
    expected = {f"tabular_rl.{name}" for name in (
        "mdp policies evaluation control gridworld generators converters sampling policy_gradients "
        "advantage_estimation ppo bounds importance_sampling maxent mce features imitation strategies grading plot"
    ).split()}
    assert expected <= walked, sorted(expected - walked)
    assert all(hasattr(m, "__all__") for m in _public_modules() if m.__name__ in expected)


@pytest.mark.parametrize("doc, expected", [
    ("f(x)\n\nExamples\n--------\n>>> 1 + 1\n2\n", True),
    ("f(x)\n\n    Examples\n    --------\n    >>> 1 + 1\n    2\n", True),
    ("f(x)\n\nExamples\n--------\nNone yet.\n", False),
    ("f(x): type >>> in a prompt.\n", False),
    (">>> 1 + 1\n2\n", False),
    (None, False),
])
def test_examples_section_detection(doc, expected):
    """Bug caught: the check above passing a docstring with an empty Examples section, or a
    stray ``>>>`` in prose, or failing an indented (method-style) docstring."""
    assert _has_examples_section(doc) is expected
