"""tabular_rl.plot: what each function draws (checked on its artists), validation, the optional import.

Every figure is drawn with the Agg backend and saved to a PNG, so a figure that builds but cannot be
rendered fails too.
"""

import io
import re
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.quiver import Quiver  # noqa: E402

import tabular_rl as trl  # noqa: E402
from tabular_rl import plot  # noqa: E402
from tabular_rl.__main__ import TOUR_MAP, main, tour_world  # noqa: E402
from tabular_rl.gridworld import gridworld  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

#: A map with walls and two terminal cells (G, H).
WORLD = tour_world()


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _saved_png(fig, tmp_path, name="figure.png"):
    path = tmp_path / name
    fig.savefig(path, dpi=40)
    assert path.read_bytes()[:8] == PNG_MAGIC
    return path


def _arrows(ax):
    quivers = [c for c in ax.collections if isinstance(c, Quiver)]
    assert len(quivers) == 1
    return quivers[0]


def _stay_dots(ax):
    return [c for c in ax.collections if isinstance(c, PathCollection) and c.get_gid() == "stay"]


# ------------------------------------------------------------------ optional dependency
def test_import_tabular_rl_imports_neither_matplotlib_nor_plot():
    # Catches a plot import added to tabular_rl/__init__.py (matplotlib would become a hard dependency).
    code = ("import sys, tabular_rl; assert 'matplotlib' not in sys.modules, 'matplotlib'; "
            "assert 'tabular_rl.plot' not in sys.modules, 'tabular_rl.plot'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_tour_without_plots_imports_no_matplotlib():
    # Catches the tour importing tabular_rl.plot (or matplotlib) at module level instead of only under --plots.
    code = ("import io, sys; from tabular_rl.__main__ import main; assert main([], out=io.StringIO()) == 0; "
            "assert 'matplotlib' not in sys.modules and 'tabular_rl.plot' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


CALLS = {
    "values": lambda: plot.values(WORLD, np.zeros(WORLD.n_states)),
    "policy": lambda: plot.policy(WORLD, trl.uniform(WORLD.n_states, 4)),
    "visitation": lambda: plot.visitation(WORLD, np.ones(WORLD.n_states)),
    "visitation_comparison": lambda: plot.visitation_comparison(WORLD, np.ones(WORLD.n_states),
                                                                np.ones(WORLD.n_states)),
    "learning_curve": lambda: plot.learning_curve([0.0, 1.0]),
    "compounding_error": lambda: plot.compounding_error([1, 2], [1.0, 4.0]),
}


def test_calls_cover_every_public_function():
    # Catches a function added to plot.__all__ but not to the no-matplotlib and no-show checks below.
    assert set(CALLS) == set(plot.__all__)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_without_matplotlib_each_function_names_the_extra(name, monkeypatch):
    # Catches a bare ModuleNotFoundError (or a module-level import) that does not tell the user what to install.
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r'pip install -e "\.\[plot\]"') as info:
        CALLS[name]()
    assert "pip install matplotlib" in str(info.value)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_no_function_calls_show(name, monkeypatch):
    # Catches a plt.show() that would block a script or a gallery build.
    def forbidden(*args, **kwargs):
        raise AssertionError("plt.show() called")

    monkeypatch.setattr(plt, "show", forbidden)
    CALLS[name]()


def test_plot_is_a_public_submodule_with_all():
    # Catches plot missing from the documented submodules (its names would escape the example and API checks).
    assert sorted(plot.__all__) == ["compounding_error", "learning_curve", "policy", "values", "visitation",
                                    "visitation_comparison"]


# ------------------------------------------------------------------ values
def test_values_writes_each_non_wall_cell_and_limits_are_the_data_range(tmp_path):
    # Catches texts on walls or missing cells, values written in the wrong cell, limits not (min V, max V).
    V = np.linspace(-1.0, 2.0, WORLD.n_states)
    ax = plot.values(WORLD, V)
    n_free = int(np.sum(WORLD.state_of_cell >= 0))
    assert len(ax.texts) == n_free == WORLD.n_states
    by_cell = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts}
    for s, (r, c) in enumerate(WORLD.cell_of_state):
        assert by_cell[(r, c)] == f"{V[s]:.2f}"
    (im,) = ax.images
    assert im.get_clim() == (V.min(), V.max())
    _saved_png(ax.figure, tmp_path)


def test_values_masks_exactly_the_walls():
    # Catches walls drawn as a value (zero) instead of grey, or states masked as walls.
    V = np.arange(WORLD.n_states, dtype=float)
    ax = plot.values(WORLD, V)
    data = ax.images[0].get_array()
    assert np.array_equal(np.ma.getmaskarray(data), WORLD.state_of_cell < 0)
    free = WORLD.state_of_cell >= 0
    assert np.array_equal(data.data[free], V[WORLD.state_of_cell[free]])


def test_values_fmt_and_no_negative_zero():
    # Catches fmt ignored, and round-off printed as "-0.00" (as render_values avoids).
    world = gridworld(["S.G"])
    ax = plot.values(world, [-1e-12, 0.5, 1.0], fmt=".1f")
    assert [t.get_text() for t in ax.texts] == ["0.0", "0.5", "1.0"]


def test_values_draws_on_the_given_axes(tmp_path):
    # Catches a function that ignores ax and opens a figure of its own.
    fig, ax = plt.subplots()
    assert plot.values(WORLD, np.ones(WORLD.n_states), ax) is ax
    assert len(ax.texts) == WORLD.n_states
    _saved_png(fig, tmp_path)


@pytest.mark.parametrize("bad", [np.zeros(3), np.zeros((WORLD.n_states, 1)), np.zeros(WORLD.n_states + 1)])
def test_values_wrong_shape_names_V_and_the_shape(bad):
    # Catches a shape error surfacing as an IndexError from the grid fill, or a message that does not say what V was.
    with pytest.raises(ValueError, match=rf"V must have shape \({WORLD.n_states},\).*got {re.escape(str(bad.shape))}"):
        plot.values(WORLD, bad)


def test_values_rejects_nan_and_a_bad_fmt_by_name():
    # Catches NaN drawn silently (an empty cell) and a bad format spec escaping as an unnamed error.
    V = np.zeros(WORLD.n_states)
    V[3] = np.nan
    with pytest.raises(ValueError, match=r"\bV must be finite"):
        plot.values(WORLD, V)
    with pytest.raises(ValueError, match=r"\bfmt\b"):
        plot.values(WORLD, np.zeros(WORLD.n_states), fmt=".2q")
    with pytest.raises(TypeError, match=r"\bworld\b"):
        plot.values(WORLD.mdp, np.zeros(WORLD.n_states))


# ------------------------------------------------------------------ policy
def test_policy_draws_one_arrow_per_positive_move_outside_terminals(tmp_path):
    # Catches arrows on terminal cells, arrows for zero-probability moves, or one arrow per state instead of per pair.
    pi = trl.softmax(np.random.default_rng(0).normal(size=WORLD.mdp.shape))
    pi[0] = [0.0, 0.5, 0.5, 0.0]
    ax = plot.policy(WORLD, pi)
    live = ~WORLD.terminal
    expected = int(np.sum((pi[:, :4] > 0) & live[:, None]))
    assert _arrows(ax).N == expected
    assert expected == 4 * int(live.sum()) - 2
    _saved_png(ax.figure, tmp_path)


def test_policy_arrow_lengths_are_proportional_to_probability_and_point_the_right_way():
    # Catches arrows of fixed length, "up" drawn downwards (the y axis is inverted: row 0 on top), left/right swapped.
    world = gridworld(["S..", "...", "..G"])
    pi = np.zeros((world.n_states, 4))
    pi[:, 0], pi[:, 3] = 0.25, 0.75  # left with 1/4, up with 3/4
    ax = plot.policy(world, pi)
    q = _arrows(ax)
    u, v = np.asarray(q.U), np.asarray(q.V)
    assert q.N == 2 * (world.n_states - 1)
    left, up = u < 0, v < 0
    assert np.array_equal(left, ~up)
    lengths = np.hypot(u, v)
    assert np.allclose(lengths[left] / lengths[up].max(), 0.25 / 0.75)
    assert np.allclose(v[left], 0.0) and np.allclose(u[up], 0.0)
    # Tails at the cell centres (x = col, y = row) of non-terminal states.
    tails = {tuple(p) for p in np.round(q.XY).astype(int)}
    assert tails == {(c, r) for s, (r, c) in enumerate(world.cell_of_state) if not world.terminal[s]}


def test_policy_stay_is_a_dot_sized_by_probability(tmp_path):
    # Catches "stay" drawn as an arrow, or dropped, or a dot whose size ignores its probability.
    world = gridworld(["S.G"], stay_action=True)
    pi = np.array([[0.0, 0.0, 0.5, 0.0, 0.5], [0.0, 0.0, 0.75, 0.0, 0.25], [0.0, 0.0, 0.0, 0.0, 1.0]])
    ax = plot.policy(world, pi)
    assert _arrows(ax).N == 2
    (dots,) = _stay_dots(ax)
    sizes = dots.get_sizes()
    assert len(dots.get_offsets()) == 2  # G is terminal: no dot
    assert sizes[0] / sizes[1] == pytest.approx(0.5 / 0.25)
    _saved_png(ax.figure, tmp_path)


def test_policy_validates_pi_by_name():
    # Catches a policy of the wrong shape or with rows that are not distributions being drawn anyway.
    with pytest.raises(ValueError, match=r"\bpi must have shape"):
        plot.policy(WORLD, np.full((WORLD.n_states, 5), 0.2))
    bad = trl.uniform(WORLD.n_states, 4)
    bad[2, 0] = 0.9
    with pytest.raises(ValueError, match=r"\bpi\[2, :\] sums to"):
        plot.policy(WORLD, bad)


# ------------------------------------------------------------------ visitations
def test_visitation_limits_are_the_data_range_and_title(tmp_path):
    # Catches fixed limits (0, 1), which wash out a visitation of expected counts, and a dropped title.
    d = trl.discounted_visitation(WORLD.mdp, trl.uniform(WORLD.n_states, 4)) * 7.0
    ax = plot.visitation(WORLD, d, title="uniform")
    assert ax.images[0].get_clim() == (d.min(), d.max())
    assert ax.get_title() == "uniform"
    _saved_png(ax.figure, tmp_path)


def test_visitation_rejects_negative_d_by_name():
    # Catches a signed vector (e.g. a value function) passed as a visitation without complaint.
    d = np.ones(WORLD.n_states)
    d[1] = -0.5
    with pytest.raises(ValueError, match=r"\bd must be non-negative"):
        plot.visitation(WORLD, d)


def test_visitation_comparison_shares_the_joint_colour_scale(tmp_path):
    # Catches each panel scaled to its own range (equal colours would then mean different visitations).
    rng = np.random.default_rng(1)
    d_e, d_l = rng.random(WORLD.n_states), 3.0 * rng.random(WORLD.n_states)
    axes = plot.visitation_comparison(WORLD, d_e, d_l)
    assert isinstance(axes, tuple) and len(axes) == 2
    joint = (min(d_e.min(), d_l.min()), max(d_e.max(), d_l.max()))
    assert [ax.get_title() for ax in axes] == ["expert", "learner"]
    for ax, d in zip(axes, (d_e, d_l)):
        (im,) = ax.images
        assert im.get_clim() == joint
        free = WORLD.state_of_cell >= 0
        assert np.array_equal(im.get_array().data[free], d[WORLD.state_of_cell[free]])
    _saved_png(axes[0].figure, tmp_path)


def test_visitation_comparison_uses_given_axes_and_checks_them():
    # Catches given axes ignored, and a wrong number of axes failing with an IndexError.
    fig, given = plt.subplots(2, 1)
    got = plot.visitation_comparison(WORLD, np.ones(WORLD.n_states), np.ones(WORLD.n_states), given)
    assert got[0] is given[0] and got[1] is given[1]
    with pytest.raises(ValueError, match=r"\baxes must be a pair"):
        plot.visitation_comparison(WORLD, np.ones(WORLD.n_states), np.ones(WORLD.n_states), [given[0]])
    with pytest.raises(ValueError, match=r"\bd_learner must have shape"):
        plot.visitation_comparison(WORLD, np.ones(WORLD.n_states), np.ones(3))


# ------------------------------------------------------------------ learning curves
MDP = gridworld(["S..", ".#G"], gamma=0.9).mdp
J_STAR = float(MDP.mu @ trl.policy_iteration(MDP).V)


@pytest.mark.parametrize("make", [
    pytest.param(lambda: trl.policy_gradient_ascent(MDP, n_iterations=5, step_size=1.0), id="PolicyOptimizationHistory"),
    pytest.param(lambda: trl.natural_policy_gradient_ascent(MDP, step_size=0.5, n_iterations=5), id="NPG history"),
    pytest.param(lambda: trl.ppo_clip_exact(MDP, np.zeros(MDP.shape), n_iterations=5, n_epochs=2), id="PPOResult"),
    pytest.param(lambda: trl.ppo_clip_exact(MDP, np.zeros(MDP.shape), n_iterations=5, n_epochs=2).history,
                 id="PPOHistory"),
    pytest.param(lambda: trl.sampled_ppo_clip(MDP, np.zeros(MDP.shape), rng=np.random.default_rng(0), n_iterations=5,
                                              n_episodes=4, horizon=5, n_epochs=2), id="SampledPPOResult"),
])
def test_learning_curve_plots_the_returns_of_each_optimiser(make, tmp_path):
    # Catches reading the wrong attribute (PPOResult.J is the final float, history.J the curve) or an off-by-one x axis.
    obj = make()
    J = obj.history.J if hasattr(obj, "history") else obj.J
    ax = plot.learning_curve(obj, J_STAR, label="run")
    curve, star = ax.lines
    assert np.array_equal(curve.get_ydata(), J) and np.array_equal(curve.get_xdata(), np.arange(len(J)))
    assert curve.get_label() == "run"
    assert star.get_label() == "J*" and star.get_linestyle() == "--"
    assert np.all(np.asarray(star.get_ydata()) == J_STAR)
    _saved_png(ax.figure, tmp_path)


def test_learning_curve_from_an_array_without_optimum():
    # Catches a J* line drawn when no optimum was given, or arrays refused.
    ax = plot.learning_curve(np.array([0.1, 0.4, 0.5]))
    (curve,) = ax.lines
    assert list(curve.get_ydata()) == [0.1, 0.4, 0.5]


def test_learning_curve_validation():
    # Catches a 2-d array (e.g. history.V) plotted as several curves, an empty history and a NaN optimum accepted.
    with pytest.raises(ValueError, match=r"\bhistory must be 1-dimensional"):
        plot.learning_curve(np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"\bhistory must hold"):
        plot.learning_curve([])
    with pytest.raises(ValueError, match=r"\boptimum must be finite"):
        plot.learning_curve([0.0, 1.0], float("nan"))
    with pytest.raises(TypeError, match=r"\bhistory must be a numeric array"):
        plot.learning_curve("not a history")


# ------------------------------------------------------------------ compounding error
def test_compounding_error_curves_and_reference_lines(tmp_path):
    # Catches the BC and DAgger curves swapped, reference curves epsilon T^2 and epsilon T with the wrong formula.
    T, eps = np.array([10, 20, 40, 80]), 1e-3
    bc = np.array([trl.drift_bc_cost(t, eps) for t in T])
    dg = np.array([trl.drift_dagger_cost(t, eps) for t in T])
    ax = plot.compounding_error(T, bc, dg, epsilon=eps)
    lines = {line.get_label(): line for line in ax.lines}
    assert set(lines) == {"behaviour cloning", "DAgger", r"$\epsilon T^2$", r"$\epsilon T$"}
    assert np.array_equal(lines["behaviour cloning"].get_ydata(), bc)
    assert np.array_equal(lines["DAgger"].get_ydata(), dg)
    x = lines[r"$\epsilon T^2$"].get_xdata()
    assert x[0] == 10 and x[-1] == 80
    assert np.allclose(lines[r"$\epsilon T^2$"].get_ydata(), eps * x**2)
    assert np.allclose(lines[r"$\epsilon T$"].get_ydata(), eps * x)
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")
    _saved_png(ax.figure, tmp_path)


def test_compounding_error_bc_only_and_linear_axes_with_zero():
    # Catches a DAgger curve invented when none was given, and log axes on a zero (T = 0 costs 0).
    ax = plot.compounding_error([0, 1, 2], [0.0, 0.0, 0.1])
    assert [line.get_label() for line in ax.lines] == ["behaviour cloning"]
    assert ax.get_xscale() == "linear"


def test_compounding_error_validation():
    # Catches mismatched lengths being zipped silently (dropping points) and a negative horizon.
    with pytest.raises(ValueError, match=r"\bbc_errors must have shape \(3,\)"):
        plot.compounding_error([1, 2, 3], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"\bdagger_errors must have shape \(2,\)"):
        plot.compounding_error([1, 2], [1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match=r"\bhorizons must be non-negative"):
        plot.compounding_error([-1, 2], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"\bepsilon\b"):
        plot.compounding_error([1, 2], [1.0, 2.0], epsilon=2.0)


# ------------------------------------------------------------------ inputs untouched
def test_inputs_are_not_modified():
    # Catches an in-place normalisation or fill (e.g. V[walls] = nan) on the caller's arrays; read-only input works.
    rng = np.random.default_rng(2)
    args = {
        "V": rng.normal(size=WORLD.n_states),
        "pi": trl.softmax(rng.normal(size=WORLD.mdp.shape)) * (1 + 1e-10),
        "d": rng.random(WORLD.n_states),
        "d2": rng.random(WORLD.n_states),
        "J": rng.normal(size=6),
        "T": np.array([1.0, 2.0, 4.0]),
        "bc": np.array([0.1, 0.4, 1.6]),
        "dg": np.array([0.1, 0.2, 0.4]),
    }
    before = {k: v.copy() for k, v in args.items()}
    for v in args.values():
        v.setflags(write=False)
    plot.values(WORLD, args["V"])
    plot.policy(WORLD, args["pi"])
    plot.visitation(WORLD, args["d"])
    plot.visitation_comparison(WORLD, args["d"], args["d2"])
    plot.learning_curve(args["J"], 1.0)
    plot.compounding_error(args["T"], args["bc"], args["dg"], epsilon=0.01)
    for k, v in args.items():
        assert v.tobytes() == before[k].tobytes(), k


# ------------------------------------------------------------------ the tour
def test_tour_writes_its_figures(tmp_path):
    # Catches --plots being parsed but ignored, a figure failing to render, or the checks failing once plotting is on.
    out = io.StringIO()
    assert main(["--plots", str(tmp_path / "figures")], out=out) == 0, out.getvalue()
    pngs = sorted(p.name for p in (tmp_path / "figures").iterdir())
    assert pngs == ["compounding_error.png", "learning_curves.png", "maxent_visitation.png",
                    "values_and_policy.png"]
    for name in pngs:
        assert (tmp_path / "figures" / name).read_bytes()[:8] == PNG_MAGIC
    assert "Figures written" in out.getvalue()
    assert len(TOUR_MAP) == WORLD.n_rows
