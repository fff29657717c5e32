"""The one place where input checks and their error messages live.

Every public function validates its non-MDP inputs through these helpers, so
that a bad argument always produces the same kind of message: the argument's
name, what was expected, and what was found.
"""

import numbers
import operator

import numpy as np
import scipy.sparse as sp

__all__ = [
    "ROW_SUM_TOL",
    "as_float_array",
    "check_distribution",
    "check_finite",
    "check_gamma",
    "check_infinite_horizon",
    "check_int",
    "check_nonnegative",
    "check_policy",
    "check_probability",
    "check_rng",
    "check_shape",
    "check_real",
    "check_trajectories",
]

#: Rows of transition matrices and policies must sum to 1 within this tolerance;
#: within it they are renormalised exactly, outside it they are rejected.
ROW_SUM_TOL = 1e-8


def _show(x):
    """repr of a value as a plain Python scalar, so messages read ``nan``, not ``np.float64(nan)``
    (numpy 2 changed the repr of its scalars; messages must not depend on the numpy version)."""
    return repr(x.item() if isinstance(x, np.generic) else x)


def as_float_array(x, name, *, ndim=None, real=False):
    """Return ``x`` as a float64 ndarray, or raise ``TypeError`` naming ``name``.

    Complex input is kept complex (complex-step differentiation passes through
    several functions) unless ``real`` is true, when it is a ``TypeError``;
    anything that is not numeric is rejected.
    """
    if sp.issparse(x):
        raise TypeError(f"{name} must be a dense array-like, got a scipy.sparse {type(x).__name__}")
    try:
        arr = np.asarray(x)
    except Exception as exc:  # pragma: no cover - numpy raises many types
        raise TypeError(f"{name} must be array-like, got {type(x).__name__}") from exc
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)
    ):
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        if real:
            raise TypeError(f"{name} must be real, got dtype {arr.dtype}")
    else:
        arr = arr.astype(np.float64, copy=False)
    if ndim is not None:
        ndims = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in ndims:
            want = " or ".join(str(n) for n in ndims)
            raise ValueError(f"{name} must be {want}-dimensional, got shape {arr.shape}")
    return arr


def check_shape(arr, shape, name, *, what=""):
    """Raise ``ValueError`` unless ``arr.shape == shape``."""
    shape = tuple(shape)
    if arr.shape != shape:
        suffix = f" {what}" if what else ""
        raise ValueError(f"{name} must have shape {shape}{suffix}, got {arr.shape}")
    return arr


def check_finite(arr, name):
    """Raise ``ValueError`` if ``arr`` holds NaN or infinity, naming the first bad index."""
    bad = ~np.isfinite(arr)
    if np.any(bad):
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{name} must be finite, got {_show(arr[idx])} at index {idx}")
    return arr


def check_nonnegative(arr, name):
    """Raise ``ValueError`` if ``arr`` has a negative entry, naming the first one."""
    neg = np.real(arr) < 0
    if np.any(neg):
        idx = tuple(int(i) for i in np.argwhere(neg)[0])
        raise ValueError(f"{name} must be non-negative, got {_show(arr[idx])} at index {idx}")
    return arr


def check_int(value, name, *, min_value=None, max_value=None):
    """Return ``value`` as a Python int; ``TypeError`` if not integral, ``ValueError`` if out of range."""
    if isinstance(value, (bool, np.bool_)):
        # bool is an Integral (operator.index(True) == 1): reject it explicitly.
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {_show(value)}")
    if not isinstance(value, (numbers.Integral, np.integer)):
        try:
            value = operator.index(value)
        except TypeError:
            raise TypeError(f"{name} must be an integer, got {type(value).__name__} {_show(value)}") from None
    value = int(value)
    if min_value is not None and value < min_value:
        raise ValueError(f"{name} == {value}, must be >= {min_value}")
    if max_value is not None and value > max_value:
        raise ValueError(f"{name} == {value}, must be <= {max_value}")
    return value


def check_real(value, name, *, low=None, high=None, low_open=False, high_open=False):
    """Return ``value`` as a finite Python float within ``[low, high]`` (open ends optional)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {_show(value)}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    lo_ok = low is None or (value > low if low_open else value >= low)
    hi_ok = high is None or (value < high if high_open else value <= high)
    if not (lo_ok and hi_ok):
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        raise ValueError(f"{name} == {value:g}, must be in {left}{lo}, {hi}{right}")
    return value


def check_probability(value, name):
    """A real number in [0, 1]."""
    return check_real(value, name, low=0.0, high=1.0)


def check_gamma(gamma):
    """The discount factor: a real number in [0, 1]."""
    return check_real(gamma, "gamma", low=0.0, high=1.0)


def check_infinite_horizon(mdp, what):
    """Raise ``ValueError`` if ``mdp.gamma == 1`` for an infinite-horizon quantity."""
    if mdp.gamma >= 1.0:
        raise ValueError(
            f"{what} is an infinite-horizon quantity and needs gamma < 1, got gamma == 1; "
            "use a finite-horizon function (e.g. finite_horizon_values) or build the MDP with gamma < 1"
        )


def _normalise_rows(arr, name, index_names, *, tol=ROW_SUM_TOL):
    """Check that the last axis sums to 1 within ``tol``; return exactly renormalised rows."""
    sums = arr.sum(axis=-1)
    bad = ~(np.abs(sums - 1.0) <= tol)
    if np.any(bad):
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        where = ", ".join(str(i) for i in idx)
        label = f"{name}[{where}, :]" if idx else name
        raise ValueError(
            f"{label} sums to {_show(sums[idx])}; each {index_names} row must sum to 1 (tolerance {tol:g})"
        )
    return arr / sums[..., None]


def check_distribution(p, name, size):
    """A probability vector of shape ``(size,)``; renormalised exactly within tolerance."""
    p = as_float_array(p, name, ndim=1)
    check_shape(p, (size,), name)
    check_finite(p, name)
    check_nonnegative(p, name)
    return _normalise_rows(p, name, "distribution")


def check_policy(pi, mdp_or_shape, name="pi", *, horizon=None, time_varying=False):
    """Validate a policy and return it as a fresh float64 array.

    Parameters
    ----------
    pi : array_like
        Shape (S, A), or (H, S, A) when ``time_varying`` is true.
    mdp_or_shape : TabularMDP or tuple
        The MDP (or its ``(S, A)``) the policy must match.
    horizon : int, optional
        If given, a time-varying policy must have exactly this many steps.
    time_varying : bool
        Whether a time-varying (H, S, A) policy is accepted.

    Returns
    -------
    ndarray
        The policy with rows renormalised exactly (they sum to 1 within 1e-8).
    """
    if isinstance(mdp_or_shape, tuple):
        S, A = mdp_or_shape
    else:
        S, A = mdp_or_shape.n_states, mdp_or_shape.n_actions
    pi = as_float_array(pi, name)
    if pi.ndim == 3 and time_varying:
        H = pi.shape[0] if horizon is None else horizon
        check_shape(pi, (H, S, A), name, what=f"(a time-varying policy for horizon {H})")
    elif pi.ndim == 2 or not time_varying:
        check_shape(pi, (S, A), name, what="to match the MDP")
    else:
        H = "H" if horizon is None else horizon
        raise ValueError(f"{name} must have shape ({S}, {A}) or ({H}, {S}, {A}), got {pi.shape}")
    check_finite(pi, name)
    check_nonnegative(pi, name)
    return _normalise_rows(pi, name, "policy")


def check_rng(rng):
    """``rng`` must be a ``numpy.random.Generator``: no hidden global random state."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy.random.Generator (e.g. numpy.random.default_rng(0)), got {type(rng).__name__}"
        )
    return rng


def check_trajectories(trajectories, mdp_or_shape=None, name="trajectories"):
    """``trajectories`` must be a :class:`tabular_rl.Trajectories` whose indices fit the MDP.

    ``mdp_or_shape`` is the MDP or its ``(S, A)``; None skips the index check.
    """
    from .sampling import Trajectories  # sampling imports this module

    if not isinstance(trajectories, Trajectories):
        raise TypeError(
            f"{name} must be a tabular_rl.Trajectories (e.g. from rollout), got {type(trajectories).__name__}"
        )
    if mdp_or_shape is not None:
        if isinstance(mdp_or_shape, tuple):
            S, A = mdp_or_shape
        else:
            S, A = mdp_or_shape.n_states, mdp_or_shape.n_actions
        trajectories.check_against((S, A), name)
    return trajectories


def as_array(x, name):
    """``numpy.asarray(x)`` for non-float inputs (index arrays, masks); a ragged nested list or any
    other value NumPy cannot turn into a rectangular array is a ``ValueError`` naming ``name``
    (NumPy's own message does not say which argument it was)."""
    try:
        return np.asarray(x)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{name} must be a rectangular array (is it a ragged nested list?): {exc}") from None


#: Inputs that algorithms square or exponentiate (feature expectations in the apprenticeship and IRL
#: methods) must stay below this in magnitude: their squares, times horizons up to 1e10, stay far
#: from float64's 1.8e308 overflow.
MAX_FEATURE_MAGNITUDE = 1e100


def check_magnitude(arr, name, limit=MAX_FEATURE_MAGNITUDE):
    """Raise ``ValueError`` if an entry of ``arr`` exceeds ``limit`` in magnitude, naming the first one."""
    big = np.abs(arr) > limit
    if np.any(big):
        idx = tuple(int(i) for i in np.argwhere(big)[0])
        raise ValueError(
            f"{name} must have entries of magnitude at most {limit:g} (squared or exponentiated, larger "
            f"values overflow float64), got {_show(arr[idx])} at index {idx}; rescale {name}"
        )
    return arr
