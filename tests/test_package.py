"""The package surface: pinned names, no submodule shadowing a function, no optional imports."""

import importlib
import pathlib
import pkgutil
import subprocess
import sys

import tabular_rl

#: Names other code and users rely on (the issues pin them).
PINNED = [
    "TabularMDP", "Trajectories", "rollout", "softmax", "from_gymnasium",
    "policy_evaluation", "q_values", "advantages", "expected_return", "discounted_visitation",
    "occupancy_measure", "finite_horizon_values", "policy_iteration", "value_iteration",
    "policy_gradient", "gae", "ppo_clip_objective", "adapt_kl_coefficient", "surrogate_objective",
    "clipped_surrogate_objective", "performance_difference", "performance_bounds",
    "maxent_backward_pass", "maxent_forward_pass", "maxent_irl", "mce_policy", "feature_expectations",
]


def test_every_submodule_imported_keeps_pinned_functions_callable():
    """Bug caught: a submodule named like a function (tabular_rl/advantages.py once did) replaces
    the package attribute as soon as anything imports it."""
    for info in pkgutil.iter_modules(tabular_rl.__path__):
        if info.name != "__main__":
            importlib.import_module(f"tabular_rl.{info.name}")
    for name in PINNED:
        assert callable(getattr(tabular_rl, name)), name
        assert not isinstance(getattr(tabular_rl, name), type(tabular_rl)), name


def test_all_lists_only_existing_names():
    """Bug caught: a stale __all__ entry makes `from tabular_rl import *` fail."""
    for name in tabular_rl.__all__:
        assert hasattr(tabular_rl, name), name
    assert len(set(tabular_rl.__all__)) == len(tabular_rl.__all__)


def test_import_needs_neither_hypothesis_nor_gymnasium_nor_matplotlib():
    """Bug caught: an optional dependency (test extra, plot extra) imported at package import time."""
    code = ("import sys, tabular_rl; print('hypothesis' in sys.modules, 'gymnasium' in sys.modules, "
            "'matplotlib' in sys.modules, 'tabular_rl.plot' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False", "False", "False"]


def test_tour_runs_and_every_check_passes():
    """Bug caught: the tour (python -m tabular_rl) printing a failed identity check."""
    import io

    from tabular_rl.__main__ import main

    buf = io.StringIO()
    assert main([], out=buf) == 0, buf.getvalue()
    assert "FAILED" not in buf.getvalue()


def test_readme_quick_start_runs_and_prints_what_it_shows(capsys):
    """Bug caught: a README quick start that no longer runs, or whose printed output went stale."""
    import re

    text = (pathlib.Path(__file__).resolve().parent.parent / "README.md").read_text()
    code = re.search(r"## Quick start\s+```python\n(.*?)```", text, re.S).group(1)
    shown = re.search(r"prints the values of the random policy as a grid,\s+```\n(.*?)```", text, re.S).group(1)
    exec(compile(code, "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert printed.startswith(shown)


def _import_graph():
    """Edges module -> module inside the package, from every import statement (top level or inside a
    function), read with ast."""
    import ast

    root = pathlib.Path(tabular_rl.__file__).resolve().parent
    mods = {}
    for f in root.rglob("*.py"):
        parts = f.relative_to(root.parent).with_suffix("").parts
        mods[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = f
    graph = {m: set() for m in mods}
    for m, f in mods.items():
        pkg = m if f.name == "__init__.py" else m.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = pkg
                for _ in range(node.level - 1):
                    base = base.rsplit(".", 1)[0]
                target = f"{base}.{node.module}" if node.module else base
                subs = {f"{target}.{a.name}" for a in node.names} & mods.keys()
                graph[m] |= (subs if node.module is None and subs else {target} | subs) & mods.keys() - {m}
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
                graph[m] |= set(names) & mods.keys() - {m}
    return graph


def test_the_package_import_graph_has_no_cycle():
    """Bug caught: two modules importing each other (even lazily, inside a function), as _validation
    and sampling did for Trajectories; such a pair only works while the import order happens to suit it."""
    graph = _import_graph()
    assert graph["tabular_rl.sampling"] and "tabular_rl._validation" in graph["tabular_rl.sampling"]
    state = {}

    def visit(u, path):
        state[u] = "open"
        for v in sorted(graph[u]):
            if state.get(v) == "open":
                raise AssertionError("import cycle: " + " -> ".join(path[path.index(v):] + [v]))
            if v not in state:
                visit(v, path + [v])
        state[u] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
