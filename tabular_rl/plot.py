r"""Plots: gridworld values, policies and visitations, learning curves, imitation's compounding error.

An optional extra: this module needs matplotlib (``pip install -e ".[plot]"`` in a clone, or
``pip install matplotlib``), and ``import tabular_rl`` imports neither it nor matplotlib.
matplotlib is imported inside each function, so importing this module always works; calling a
function without matplotlib raises an ``ImportError`` that names the extra.

Every function draws on the given Axes (or on a new figure from ``matplotlib.pyplot.subplots``
when ``ax`` is None), returns the Axes and never calls ``plt.show()``; inputs are validated like
the rest of the library (a ``ValueError`` naming the argument) and never modified.

Gridworld plots put cell ``(row, col)`` at ``x = col``, ``y = row`` with row 0 at the top (as
:meth:`~tabular_rl.gridworld.GridWorld.render_values` prints it); walls are grey.

Examples
--------
>>> import matplotlib; matplotlib.use("Agg")
>>> import matplotlib.pyplot as plt
>>> from tabular_rl import policy_iteration
>>> from tabular_rl import plot
>>> from tabular_rl.gridworld import gridworld
>>> world = gridworld(["S#G", "..."], gamma=0.9)
>>> opt = policy_iteration(world.mdp)
>>> fig, (left, right) = plt.subplots(1, 2)
>>> ax = plot.values(world, opt.V, left)
>>> [t.get_text() for t in ax.texts]                   # S, G (terminal: 0), then the bottom row
['0.73', '0.00', '0.81', '0.90', '1.00']
>>> ax = plot.policy(world, opt.policy, right)           # S down, right, right, up; G is terminal
>>> int(ax.collections[-1].N)
4
>>> plt.close(fig)
"""

import numpy as np

from . import _validation as _v
from .gridworld import GridWorld

__all__ = [
    "compounding_error",
    "learning_curve",
    "policy",
    "values",
    "visitation",
    "visitation_comparison",
]

_INSTALL = (
    'tabular_rl.plot needs matplotlib, an optional extra: pip install -e ".[plot]" in a clone of '
    "tabular_rl (or pip install matplotlib)"
)

#: Unit moves of the four movement actions in plot coordinates (x = col, y = row, row 0 on top).
_ARROW_DX = np.array([-1.0, 0.0, 1.0, 0.0])
_ARROW_DY = np.array([0.0, 1.0, 0.0, -1.0])

#: Longest arrow (probability 1), in cells, and area in points^2 of the "stay" dot at probability 1.
_ARROW_LENGTH = 0.42
_STAY_AREA = 120.0


def _pyplot():
    """``matplotlib.pyplot``, or an ``ImportError`` that says how to install it.

    Every public function calls this first, so that without matplotlib each one fails the
    same way whatever its arguments.
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(_INSTALL) from exc
    return plt


def _new_axes(ax, **subplots):
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(**subplots)
    return ax


def _check_world(world):
    if not isinstance(world, GridWorld):
        raise TypeError(
            f"world must be a tabular_rl.gridworld.GridWorld (from gridworld(), frozen_lake(), ...), "
            f"got {type(world).__name__}"
        )
    return world


def _state_vector(world, x, name, *, nonnegative=False):
    x = _v.as_float_array(x, name)
    _v.check_shape(x, (world.n_states,), name, what="(one value per state)")
    _v.check_finite(x, name)
    if nonnegative:
        _v.check_nonnegative(x, name)
    return x


def _grid(world, x):
    """The per-state vector ``x`` on the (n_rows, n_cols) grid, walls masked."""
    grid = np.zeros(world.state_of_cell.shape)
    free = world.state_of_cell >= 0
    grid[free] = x[world.state_of_cell[free]]
    return np.ma.masked_array(grid, mask=~free)


def _heatmap(world, x, ax, cmap, vmin, vmax):
    """Draw ``x`` (S,) as an image over the grid; return the AxesImage."""
    import matplotlib  # after _pyplot(): known to be installed

    cmap = matplotlib.colormaps.get_cmap(cmap).with_extremes(bad="0.6")
    im = ax.imshow(_grid(world, x), cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    return im


def _cmap_arg(cmap):
    """``cmap`` as matplotlib accepts it, or a ``ValueError`` naming it."""
    import matplotlib  # after _pyplot(): known to be installed

    try:
        matplotlib.colormaps.get_cmap(cmap)
    except (ValueError, TypeError, KeyError) as exc:
        raise ValueError(f"cmap must be a matplotlib colormap or the name of one, got {cmap!r}") from exc
    return cmap


def _format(value, fmt):
    text = format(value, fmt)
    try:
        if text.strip().startswith("-") and float(text) == 0.0:  # round-off: 0.00, not -0.00
            return format(0.0, fmt)
    except ValueError:
        pass
    return text


def values(world, V, ax=None, *, fmt=".2f", cmap="viridis"):
    r"""A value per state as a heatmap over the gridworld, each value written in its cell.

    Parameters
    ----------
    world : GridWorld
        The gridworld (:func:`tabular_rl.gridworld.gridworld`, :func:`~tabular_rl.gridworld.frozen_lake`, ...).
    V : array_like, shape (S,)
        One finite value per state (state values, a reward, anything per state).
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.
    fmt : str
        Format spec of the number written in each cell (``format(v, fmt)``); a value that
        rounds to zero is written unsigned.
    cmap : str or matplotlib.colors.Colormap
        Colormap; walls are grey.

    Returns
    -------
    matplotlib.axes.Axes
        With one image (colour limits ``(min V, max V)``), a colour bar, and one text per
        non-wall cell.

    Raises
    ------
    ValueError
        ``V`` not of shape (S,) or not finite, ``fmt`` not a valid format spec.

    Examples
    --------
    Sutton & Barto's 5x5 gridworld (Example 3.5) under the random policy.

    >>> import matplotlib; matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from tabular_rl import policy_evaluation, uniform
    >>> from tabular_rl import plot
    >>> from tabular_rl.gridworld import sutton_barto_5x5
    >>> world = sutton_barto_5x5()
    >>> V = policy_evaluation(world.mdp, uniform(25, 4))
    >>> ax = plot.values(world, V, fmt=".1f")
    >>> len(ax.texts), ax.texts[1].get_text()              # 25 cells; A is worth 8.8
    (25, '8.8')
    >>> [round(float(c), 2) for c in ax.images[0].get_clim()]   # min V, max V
    [-1.98, 8.79]
    >>> plt.close(ax.figure)
    """
    _pyplot()
    world = _check_world(world)
    V = _state_vector(world, V, "V")
    if not isinstance(fmt, str):
        raise TypeError(f"fmt must be a format spec string such as '.2f', got {type(fmt).__name__}")
    try:
        texts = [_format(float(v), fmt) for v in V]
    except (ValueError, TypeError) as exc:
        raise ValueError(f"fmt must be a format spec for a float such as '.2f', got {fmt!r}: {exc}") from None
    cmap = _cmap_arg(cmap)
    ax = _new_axes(ax)
    lo, hi = float(V.min()), float(V.max())
    im = _heatmap(world, V, ax, cmap, lo, hi)
    ax.figure.colorbar(im, ax=ax)
    # Text colour against the cell's colour: white on the dark half of the map, black on the light.
    half_span = hi / 2 - lo / 2  # halves: no overflow for values near the float64 limit
    shade = (V / 2 - lo / 2) / half_span if half_span > 0 else np.full(V.shape, 0.5)
    dark = np.mean(im.cmap(0.0)[:3]) < np.mean(im.cmap(1.0)[:3])
    for s, (r, c) in enumerate(world.cell_of_state):
        on_dark = (shade[s] < 0.5) == dark
        ax.text(c, r, texts[s], ha="center", va="center", fontsize="small",
                color="white" if on_dark else "black")
    return ax


def policy(world, pi, ax=None):
    r"""A policy as arrows on the gridworld: one per (state, move) of positive probability.

    From the centre of each non-terminal cell, an arrow for each movement action
    (left, down, right, up) with :math:`\pi(a|s) > 0`, of length :math:`0.42\,\pi(a|s)` cells
    (a deterministic policy's arrows almost reach the next cell); ``stay`` is a dot of area
    proportional to :math:`\pi(\text{stay}|s)`. Terminal cells get none and are labelled
    with their map character. Every arrow is in one ``matplotlib.quiver.Quiver``, the last
    collection of the Axes (``ax.collections[-1].N`` arrows); the dots, if any, are a
    ``PathCollection`` with ``gid == "stay"``.

    Parameters
    ----------
    world : GridWorld
    pi : array_like, shape (S, A)
        A stochastic policy, each row a distribution over ``world.action_names``.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        ``pi`` not of shape (S, A) or a row not a distribution.

    Examples
    --------
    The uniform policy on a 2x2 map with a terminal goal: 3 states x 4 moves.

    >>> import matplotlib; matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from tabular_rl import uniform
    >>> from tabular_rl import plot
    >>> from tabular_rl.gridworld import gridworld
    >>> world = gridworld(["S.", ".G"])
    >>> ax = plot.policy(world, uniform(4, 4))
    >>> arrows = ax.collections[-1]
    >>> int(arrows.N), float(arrows.U.max())               # 12 arrows of length 0.42 / 4
    (12, 0.105)
    >>> plt.close(ax.figure)
    """
    _pyplot()
    world = _check_world(world)
    pi = _v.check_policy(pi, world.mdp, "pi")
    ax = _new_axes(ax)
    free = world.state_of_cell >= 0
    background = np.where(free, 1.0, 0.0)
    ax.imshow(np.ma.masked_array(background, mask=free), cmap="Greys", vmin=0.0, vmax=1.6,
              interpolation="nearest")
    ax.set_xlim(-0.5, world.n_cols - 0.5)
    ax.set_ylim(world.n_rows - 0.5, -0.5)
    ax.set_aspect("equal")
    ax.set_xticks(np.arange(world.n_cols + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(world.n_rows + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="0.8", linewidth=0.8)
    ax.tick_params(which="both", length=0)
    ax.set_xticks([])
    ax.set_yticks([])
    live = ~np.asarray(world.terminal)
    rows, cols = world.cell_of_state[:, 0], world.cell_of_state[:, 1]
    moves = pi[:, :4]
    s_idx, a_idx = np.nonzero((moves > 0.0) & live[:, None])
    p = moves[s_idx, a_idx]
    x, y = cols[s_idx].astype(float), rows[s_idx].astype(float)
    u, v = _ARROW_LENGTH * p * _ARROW_DX[a_idx], _ARROW_LENGTH * p * _ARROW_DY[a_idx]
    for s in np.flatnonzero(~live):
        r, c = world.cell_of_state[s]
        ax.text(c, r, world.layout[r][c], ha="center", va="center", fontweight="bold")
    if pi.shape[1] > 4:
        stay = pi[:, 4]
        where = np.flatnonzero((stay > 0.0) & live)
        if where.size:
            ax.scatter(cols[where], rows[where], s=_STAY_AREA * stay[where], color="C3", zorder=3, gid="stay")
    # Shaft 0.035 cells wide (quiver's width is a fraction of the Axes' width: n_cols cells), head 3.5 shafts.
    ax.quiver(x, y, u, v, angles="xy", scale_units="xy", scale=1.0, pivot="tail", color="C0",
              width=0.035 / world.n_cols, headwidth=3.0, headlength=3.5, headaxislength=3.0, zorder=4)
    return ax


def visitation(world, d, ax=None, *, title=None):
    r"""A state distribution or visitation (any non-negative weight per state) as a heatmap.

    Parameters
    ----------
    world : GridWorld
    d : array_like, shape (S,)
        Non-negative and finite, e.g. :func:`tabular_rl.discounted_visitation` or
        :func:`tabular_rl.maxent_forward_pass` (expected visits, summing to the horizon).
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.
    title : str, optional
        Title of the Axes.

    Returns
    -------
    matplotlib.axes.Axes
        With one image whose colour limits are ``(min d, max d)``, and a colour bar.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from tabular_rl import discounted_visitation, uniform
    >>> from tabular_rl import plot
    >>> from tabular_rl.gridworld import gridworld
    >>> world = gridworld(["S..", ".#G"], gamma=0.9)
    >>> d = discounted_visitation(world.mdp, uniform(5, 4))
    >>> ax = plot.visitation(world, d, title="random policy")
    >>> ax.get_title(), ax.images[0].get_clim() == (d.min(), d.max())
    ('random policy', True)
    >>> plt.close(ax.figure)
    """
    _pyplot()
    world = _check_world(world)
    d = _state_vector(world, d, "d", nonnegative=True)
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a string or None, got {type(title).__name__}")
    ax = _new_axes(ax)
    im = _heatmap(world, d, ax, "magma", float(d.min()), float(d.max()))
    ax.figure.colorbar(im, ax=ax)
    if title is not None:
        ax.set_title(title)
    return ax


def visitation_comparison(world, d_expert, d_learner, axes=None):
    r"""Expert and learner state visitations side by side, on one colour scale.

    Both images get the colour limits ``(min, max)`` over the two vectors together, so equal
    colours are equal visitations; one colour bar serves both.

    Parameters
    ----------
    world : GridWorld
    d_expert, d_learner : array_like, shape (S,)
        Non-negative, finite: e.g. the demonstrations' empirical state counts and
        :func:`tabular_rl.maxent_forward_pass` of the recovered policy.
    axes : pair of matplotlib.axes.Axes, optional
        Where to draw; default a new figure with two Axes side by side.

    Returns
    -------
    tuple of matplotlib.axes.Axes
        ``(expert_ax, learner_ax)``, titled "expert" and "learner".

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from tabular_rl import plot
    >>> from tabular_rl.gridworld import gridworld
    >>> world = gridworld(["S.G"])
    >>> left, right = plot.visitation_comparison(world, [0.5, 0.3, 0.2], [0.6, 0.3, 0.1])
    >>> left.get_title(), right.get_title(), right.images[0].get_clim()
    ('expert', 'learner', (0.1, 0.6))
    >>> plt.close(left.figure)
    """
    plt = _pyplot()
    world = _check_world(world)
    d_expert = _state_vector(world, d_expert, "d_expert", nonnegative=True)
    d_learner = _state_vector(world, d_learner, "d_learner", nonnegative=True)
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(9.0, 4.0), layout="constrained")
    try:
        axes = tuple(np.ravel(np.asarray(axes, dtype=object)))
    except Exception:  # pragma: no cover - any non-sequence
        axes = ()
    if len(axes) != 2:
        raise ValueError(f"axes must be a pair of matplotlib Axes, got {len(axes)} objects")
    lo = float(min(d_expert.min(), d_learner.min()))
    hi = float(max(d_expert.max(), d_learner.max()))
    for ax, d, title in zip(axes, (d_expert, d_learner), ("expert", "learner")):
        im = _heatmap(world, d, ax, "magma", lo, hi)
        ax.set_title(title)
    axes[0].figure.colorbar(im, ax=list(axes))
    return axes


def _returns(history):
    """The per-iteration returns of a history, a result with ``.history``, or an array."""
    source = history
    if hasattr(source, "history"):
        source = source.history
    if hasattr(source, "J") and np.ndim(getattr(source, "J")) == 1:
        source = source.J
    J = _v.as_float_array(source, "history", ndim=1)
    if J.size == 0:
        raise ValueError("history must hold at least one return, got an empty array")
    _v.check_finite(J, "history")
    return J


def learning_curve(history, optimum=None, ax=None, *, label=None):
    r"""The objective :math:`J(\pi_k)` against iteration k, optionally with the optimum J* as a dashed line.

    Parameters
    ----------
    history : PolicyOptimizationHistory, PPOHistory, result with ``.history``, or array_like
        What the iterative optimisers return: :func:`tabular_rl.policy_gradient_ascent` and
        :func:`tabular_rl.natural_policy_gradient_ascent` (a ``PolicyOptimizationHistory``),
        :func:`tabular_rl.ppo_clip_exact`, :func:`tabular_rl.ppo_kl_exact` (a ``PPOResult``)
        and :func:`tabular_rl.sampled_ppo_clip` (a ``SampledPPOResult``), whose ``J`` (or
        ``history.J``) holds :math:`J(\pi_0), \dots, J(\pi_K)`; or those returns as a 1-d array.
    optimum : float, optional
        J*, e.g. ``mdp.mu @ policy_iteration(mdp).V``: a horizontal dashed line labelled "J*".
        To compare several curves, pass it with one of them only.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.
    label : str, optional
        Legend label of the curve.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from tabular_rl import policy_gradient_ascent, policy_iteration
    >>> from tabular_rl import plot
    >>> from tabular_rl.gridworld import gridworld
    >>> mdp = gridworld(["S..G"], gamma=0.9).mdp
    >>> J_star = float(mdp.mu @ policy_iteration(mdp).V)
    >>> hist = policy_gradient_ascent(mdp, n_iterations=30, step_size=1.0)
    >>> ax = plot.learning_curve(hist, J_star, label="policy gradient")
    >>> curve, optimum = ax.lines
    >>> len(curve.get_xdata()), optimum.get_label(), optimum.get_ydata()[0] == J_star
    (31, 'J*', True)
    >>> plt.close(ax.figure)
    """
    _pyplot()
    J = _returns(history)
    if optimum is not None:
        optimum = _v.check_real(optimum, "optimum")
    if label is not None and not isinstance(label, str):
        raise TypeError(f"label must be a string or None, got {type(label).__name__}")
    ax = _new_axes(ax)
    ax.plot(np.arange(J.size), J, label=label)
    if optimum is not None:
        ax.axhline(optimum, linestyle="--", color="black", linewidth=1.0, label="J*")
    ax.set_xlabel("iteration")
    ax.set_ylabel("J")
    if label is not None or optimum is not None:
        ax.legend()
    return ax


#: compounding_error draws log-log axes only for data within these magnitudes (matplotlib's log
#: autoscaling overflows near the float64 limit); horizons must stay below the second so T^2 is finite.
_LOG_RANGE = (1e-100, 1e100)
_MAX_HORIZON = 1e150


def _log_friendly(x):
    return x.size > 0 and bool(np.all((x > _LOG_RANGE[0]) & (x < _LOG_RANGE[1])))


def compounding_error(horizons, bc_errors, dagger_errors=None, ax=None, *, epsilon=None):
    r"""Behaviour cloning's cost gap against the horizon T, beside DAgger's: quadratic vs linear.

    Ross & Bagnell (2010): a learner with error :math:`\epsilon` on the expert's states can
    lose up to :math:`T^2\epsilon` (:func:`tabular_rl.behavior_cloning_bound`); DAgger, which
    trains on the learner's own states, :math:`T\epsilon`. The library's drift MDP attains
    both exactly: ``drift_bc_cost(T, eps)`` and ``drift_dagger_cost(T, eps)``
    (:mod:`tabular_rl.imitation`), or ``-finite_horizon_values(drift_mdp(), drift_bc_learner(eps), T).J``
    and the same with :func:`tabular_rl.drift_dagger_learner`; for a learner of your own, the gap
    of its expected cost over the expert's, from :func:`tabular_rl.finite_horizon_values`.

    Parameters
    ----------
    horizons : array_like, shape (n,)
        The horizons T, non-negative (at most 1e150).
    bc_errors : array_like, shape (n,)
        Behaviour cloning's cost gap at each horizon.
    dagger_errors : array_like, shape (n,), optional
        DAgger's.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.
    epsilon : float in [0, 1], optional
        If given, the reference curves :math:`\epsilon T^2` and :math:`\epsilon T` (dashed).

    Returns
    -------
    matplotlib.axes.Axes
        On log-log axes when every horizon and every plotted value lies in (1e-100, 1e100) (so
        positive), linear otherwise.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from tabular_rl import drift_bc_cost, drift_dagger_cost
    >>> from tabular_rl import plot
    >>> T, eps = [10, 20, 40, 80], 1e-3
    >>> bc = [drift_bc_cost(t, eps) for t in T]
    >>> dagger = [drift_dagger_cost(t, eps) for t in T]
    >>> ax = plot.compounding_error(T, bc, dagger, epsilon=eps)
    >>> [line.get_label() for line in ax.lines]
    ['behaviour cloning', 'DAgger', '$\\epsilon T^2$', '$\\epsilon T$']
    >>> ax.get_xscale(), ax.get_yscale()
    ('log', 'log')
    >>> plt.close(ax.figure)
    """
    _pyplot()
    horizons = _v.as_float_array(horizons, "horizons", ndim=1)
    if horizons.size == 0:
        raise ValueError("horizons must hold at least one horizon, got an empty array")
    _v.check_finite(horizons, "horizons")
    _v.check_nonnegative(horizons, "horizons")
    if horizons.max() > _MAX_HORIZON:
        raise ValueError(f"horizons must be at most {_MAX_HORIZON:g} (T^2 must be finite), got {horizons.max():g}")
    n = horizons.size
    bc = _v.as_float_array(bc_errors, "bc_errors", ndim=1)
    _v.check_shape(bc, (n,), "bc_errors", what="(one per entry of horizons)")
    _v.check_finite(bc, "bc_errors")
    curves = [(bc, "behaviour cloning", "o-")]
    if dagger_errors is not None:
        dagger = _v.as_float_array(dagger_errors, "dagger_errors", ndim=1)
        _v.check_shape(dagger, (n,), "dagger_errors", what="(one per entry of horizons)")
        _v.check_finite(dagger, "dagger_errors")
        curves.append((dagger, "DAgger", "s-"))
    if epsilon is not None:
        epsilon = _v.check_probability(epsilon, "epsilon")
        grid = np.linspace(horizons.min(), horizons.max(), 100)
        references = [(epsilon * grid**2, r"$\epsilon T^2$", "C0"), (epsilon * grid, r"$\epsilon T$", "C1")]
    else:
        references = []
    ax = _new_axes(ax)
    for y, name, style in curves:
        ax.plot(horizons, y, style, label=name)
    for y, name, colour in references:
        ax.plot(grid, y, "--", color=colour, linewidth=1.0, label=name)
    if _log_friendly(horizons) and all(_log_friendly(y) for y, _, _ in curves + references):
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.set_xlabel("horizon T")
    ax.set_ylabel("cost gap over the expert")
    ax.legend()
    return ax
