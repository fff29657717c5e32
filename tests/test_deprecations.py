"""Renamed keywords (docs/guide/conventions.md#names): the old keyword still works, with a warning.

For every renamed keyword: the old one gives a DeprecationWarning that names the new one and the
release that removes it, and the same result as the new one; both together raise TypeError naming
both. The table here must list every rename the package declares, and no code of the project
(library, tests, examples, benchmarks) may still call a renamed function with an old keyword.
"""

import ast
import dataclasses
import inspect
import pathlib
import warnings

import numpy as np
import pytest
from hypothesis import find

import tabular_rl as trl
from tabular_rl import strategies as trs
from tabular_rl._deprecation import REMOVED_IN, renamed_keyword

ROOT = pathlib.Path(__file__).resolve().parents[1]

S, A, H = 3, 2, 3
P = np.array(
    [
        [[0.7, 0.2, 0.1], [0.0, 0.5, 0.5]],
        [[0.3, 0.3, 0.4], [0.1, 0.0, 0.9]],
        [[0.2, 0.6, 0.2], [1.0, 0.0, 0.0]],
    ]
)
MDP = trl.TabularMDP(P, R=[[1.0, -0.5], [0.25, 2.0], [-1.0, 0.5]], gamma=0.9, mu=[0.5, 0.3, 0.2])
PI = np.array([[0.6, 0.4], [0.25, 0.75], [0.5, 0.5]])
MU = np.array([0.2, 0.5, 0.3])
R_SA = np.array([[0.1, -0.2], [1.0, 0.5], [-0.4, 0.3]])
STATE_PHI = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
COUNTS = np.array([1.5, 1.0])
W = np.array([0.3, -0.2])


def _first(strategy):
    """The minimal example of a strategy: deterministic, so two calls can be compared."""
    return find(strategy, lambda _: True)


class Case:
    """A call of ``fn(*args, **kwargs)`` with the renamed argument ``new=value`` (or ``old=value``)."""

    def __init__(self, fn, args, kwargs, old, new, value, *, call=None):
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.old, self.new, self.value = old, new, value
        self.call = call or (lambda f, *a, **k: f(*a, **k))

    def run(self, **renamed):
        return self.call(self.fn, *self.args, **self.kwargs, **renamed)

    @property
    def id(self):
        return f"{self.fn.__name__}-{self.old}"


CASES = [
    Case(trl.rollout, (MDP, PI, 3, 2), {}, "p0", "mu", MU,
         call=lambda f, *a, **k: f(*a, rng=np.random.default_rng(0), **k)),
    Case(trl.enumerate_trajectories, (MDP, PI, 2), {}, "p0", "mu", MU),
    Case(trl.state_distributions, (MDP, PI, H), {}, "p0", "mu", MU),
    Case(trl.finite_horizon_feature_expectations, (MDP, PI, STATE_PHI, H), {}, "p0", "mu", MU),
    *[Case(f, (MDP,), dict(horizon=H, mu=MU), "policy", "pi", PI)
      for f in (trl.maxent_forward_pass, trl.maxent_forward_pass_per_step)],
    *[Case(f, (MDP,), dict(pi=PI, horizon=H), "p0", "mu", MU)
      for f in (trl.maxent_forward_pass, trl.maxent_forward_pass_per_step)],
    Case(trl.maxent_path_marginals, (MDP, [0.0, 0.5, -0.5], H), {}, "p0", "mu", MU),
    *[Case(f, (MDP, STATE_PHI, COUNTS, H, W), {}, "p0", "mu", MU)
      for f in (trl.maxent_log_likelihood_objective, trl.maxent_log_likelihood_gradient)],
    Case(trl.maxent_irl, (MDP, STATE_PHI, COUNTS, H), dict(tol=1e6), "p0", "mu", MU),
    *[Case(f, (MDP, STATE_PHI, COUNTS, W), dict(horizon=H), "p0", "mu", MU)
      for f in (trl.mce_log_likelihood_objective, trl.mce_log_likelihood_gradient)],
    Case(trl.mce_irl, (MDP, STATE_PHI, COUNTS), dict(horizon=H, tol=1e6), "p0", "mu", MU),
    *[Case(f, (MDP,), dict(horizon=H), "rewards", "R", R_SA) for f in (trl.soft_values, trl.mce_policy)],
    Case(trl.entropy_regularized_values, (MDP, PI), {}, "rewards", "R", R_SA),
    Case(trl.from_irl_maxent, (np.ascontiguousarray(P.transpose(0, 2, 1)),), dict(gamma=0.9), "rewards", "R",
         R_SA),
    Case(trs.trajectories, (MDP,), dict(horizon=2, mu=MU), "policy", "pi", PI,
         call=lambda f, *a, **k: _first(f(*a, **k))),
    Case(trs.trajectories, (MDP,), dict(pi=PI, horizon=2), "p0", "mu", MU,
         call=lambda f, *a, **k: _first(f(*a, **k))),
]


def _same(a, b):
    """Bitwise-equal results: arrays, floats, tuples, dataclasses (Trajectories, results) and MDPs."""
    if isinstance(a, trl.TabularMDP):
        return _same((a.todense(), a.R, a.mu, a.gamma), (b.todense(), b.R, b.mu, b.gamma))
    if dataclasses.is_dataclass(a):
        return type(a) is type(b) and all(
            _same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return np.array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_old_keyword_warns_naming_the_new_one_and_gives_the_same_result(case):
    """Bug caught: an alias that is silently ignored (the default used instead), that warns without
    saying what to use, or that is mapped to the wrong parameter."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        expected = case.run(**{case.new: case.value})
    with pytest.warns(DeprecationWarning) as record:
        got = case.run(**{case.old: case.value})
    messages = [str(w.message) for w in record if issubclass(w.category, DeprecationWarning)]
    assert len(messages) == 1, messages
    assert f"'{case.old}'" in messages[0] and f"'{case.new}'" in messages[0], messages[0]
    assert REMOVED_IN in messages[0] and case.fn.__name__ in messages[0], messages[0]
    assert record[0].filename == __file__, record[0].filename  # the caller, not the wrapper
    assert _same(got, expected)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_old_and_new_keyword_together_raise_type_error_naming_both(case):
    """Bug caught: one of the two silently winning when a caller passes both."""
    with pytest.raises(TypeError, match=rf"'{case.new}'.*'{case.old}'"):
        case.run(**{case.new: case.value, case.old: case.value})


def test_old_keyword_with_the_new_argument_given_by_position_raises_type_error():
    """Bug caught: a positional argument and its deprecated keyword alias both accepted."""
    with pytest.raises(TypeError, match=r"'pi'.*'policy'"):
        trl.maxent_forward_pass(MDP, PI, H, policy=PI)
    with pytest.raises(TypeError, match=r"'R'.*'rewards'"):
        trl.soft_values(MDP, R_SA, rewards=R_SA, horizon=H)


def test_the_warning_points_at_the_caller():
    """Bug caught: a stacklevel that blames the library's wrapper instead of the calling line."""
    with pytest.warns(DeprecationWarning) as record:
        trl.state_distributions(MDP, PI, H, p0=MU)
    assert record[0].filename == __file__


def test_signatures_and_docstrings_show_only_the_new_names():
    """Bug caught: a wrapper that hides the signature (``*args, **kwargs`` in help() and in the
    docs) or drops the docstring, and so the doctest."""
    for case in CASES:
        params = inspect.signature(case.fn).parameters
        assert case.new in params and case.old not in params, (case.id, list(params))
        assert case.fn.__doc__ and "Examples" in case.fn.__doc__, case.id
        assert f"``{case.old}`` is a deprecated alias" in case.fn.__doc__, case.id


def _declared_renames():
    """(module-qualified function name, old, new) of every rename the package declares."""
    found = set()
    modules = [trl, trs]
    for module in modules:
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            for old, (new, _, _) in getattr(obj, "__renamed_keywords__", {}).items():
                found.add((obj.__name__, old, new))
    return found


def test_the_table_covers_every_declared_rename():
    """Bug caught: a keyword renamed in the library without a test here (and without a line in the
    conventions page's table)."""
    tested = {(c.fn.__name__, c.old, c.new) for c in CASES}
    assert _declared_renames() == tested
    page = (ROOT / "docs" / "guide" / "conventions.md").read_text(encoding="utf-8")
    for fn, old, new in tested:
        assert f"{fn}`" in page.split("Deprecated keywords")[1], fn


def _old_keyword_calls(path, renames):
    """Lines of ``path`` that call a renamed function with one of its old keywords."""
    bad = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        for kw in node.keywords:
            if (name, kw.arg) in renames:
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}({kw.arg}=...)")
    return bad


def test_no_project_code_calls_a_renamed_function_with_an_old_keyword():
    """Bug caught: the library (or its tour, tests, examples, benchmarks) still passing ``p0=`` or
    ``policy=`` itself, so that users see a DeprecationWarning they did not cause."""
    renames = {(fn, old) for fn, old, _ in _declared_renames()}
    files = [p for d in ("tabular_rl", "tests", "examples", "benchmarks") for p in (ROOT / d).rglob("*.py")]
    files = [p for p in files if p.name != "test_deprecations.py"]
    bad = [line for p in files for line in _old_keyword_calls(p, renames)]
    assert not bad, "\n".join(bad)


def test_the_decorator_refuses_a_rename_that_does_not_fit_the_signature():
    """Bug caught: a typo in a rename (a new name the function does not have) going unnoticed
    until a user passes the old keyword."""
    def f(mdp, pi):
        return pi

    with pytest.raises(AssertionError, match="cannot rename"):
        renamed_keyword("policy", "pii")(f)
    with pytest.raises(AssertionError, match="cannot rename"):
        renamed_keyword("pi", "mdp")(f)
