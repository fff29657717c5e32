"""The one place where input checks and their error messages live.

Every public function validates its non-MDP inputs through these helpers, so
that a bad argument always produces the same kind of message: the argument's
name, what was expected, and what was found.
"""

import numbers
import operator

import numpy as np
import scipy.sparse as sp

from . import _kernels

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
    "check_terminal",
    "input_dtype",
    "row_sum_tolerance",
]

#: Rows of transition matrices and policies must sum to 1 within this tolerance;
#: within it they are renormalised exactly, outside it they are rejected.
ROW_SUM_TOL = 1e-8


def _show(x):
    """repr of a value as a plain Python scalar, so messages read ``nan``, not ``np.float64(nan)``
    (numpy 2 changed the repr of its scalars; messages must not depend on the numpy version)."""
    return repr(x.item() if isinstance(x, np.generic) else x)


def _ragged_index(x, path=()):
    """The first index path at which a nested sequence's lengths differ, or None.

    Returns ``(path, expected_length, found_length)``: ``path`` names the element
    whose length differs from that of its first sibling.
    """
    if not isinstance(x, (list, tuple)) or not x:
        return None
    lengths = [len(e) if isinstance(e, (list, tuple, np.ndarray)) else None for e in x]
    for i, n in enumerate(lengths):
        if n != lengths[0]:
            return path + (i,), lengths[0], n
    for i, e in enumerate(x):
        found = _ragged_index(list(e) if isinstance(e, np.ndarray) else e, path + (i,))
        if found is not None:
            return found
    return None


def _length(n):
    return "a scalar" if n is None else f"length {n}"


def _raise_if_ragged(x, name):
    """``ValueError`` naming the first index where the nested sequence ``x`` is ragged, if it is."""
    ragged = _ragged_index(x)
    if ragged is not None:
        idx, want, got = ragged
        where = "".join(f"[{i}]" for i in idx)
        raise ValueError(
            f"{name} is a ragged nested sequence: {name}{where} has {_length(got)} where its first "
            f"sibling has {_length(want)}; every row must have the same length"
        ) from None


def as_float_array(x, name, *, ndim=None, real=True):
    """Return ``x`` as a float64 ndarray, or raise ``TypeError`` naming ``name``.

    Complex input is a ``TypeError`` (NumPy would drop the imaginary part with only
    a warning), except where ``real=False``: the functions that are analytic in
    their argument pass complex input through for complex-step differentiation.
    Anything that is not numeric is rejected; a ragged nested sequence gets a
    ``ValueError`` naming the first index where the lengths differ.
    """
    if sp.issparse(x):
        raise TypeError(f"{name} must be a dense array-like, got a scipy.sparse {type(x).__name__}")
    try:
        arr = np.asarray(x)
    except Exception as exc:  # numpy raises ValueError for ragged input, others for odd objects
        _raise_if_ragged(x, name)
        raise TypeError(f"{name} must be array-like, got {type(x).__name__}") from exc
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)
    ):
        if arr.dtype == object:
            _raise_if_ragged(x, name)
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        if real:
            raise TypeError(
                f"{name} must be real, got dtype {arr.dtype} (the imaginary part would be dropped; "
                "pass numpy.real(...) if that is intended)"
            )
    else:
        arr = arr.astype(np.float64, copy=False)
    if ndim is not None:
        ndims = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in ndims:
            want = " or ".join(str(n) for n in ndims)
            raise ValueError(f"{name} must be {want}-dimensional, got shape {arr.shape}")
    return arr


def input_dtype(x):
    """The dtype ``x`` arrives in (before any conversion to float64), or None."""
    dtype = getattr(x, "dtype", None)
    return dtype if isinstance(dtype, np.dtype) else None


def row_sum_tolerance(dtype, row_length):
    """Tolerance on a probability row's sum for input of ``dtype``.

    ``ROW_SUM_TOL`` (1e-8) for float64 and exact (integer, bool) input. Rows given
    in a lower precision (float32, float16) carry that precision's round-off: each
    entry is within eps/2 relative of the intended probability, so the sum of n
    entries is within ``n * eps`` of 1 (with room for the rounding of the sum
    itself); the tolerance is the larger of the two.
    """
    if dtype is not None and np.issubdtype(dtype, np.floating) and np.finfo(dtype).eps > np.finfo(np.float64).eps:
        return max(ROW_SUM_TOL, row_length * float(np.finfo(dtype).eps))
    return ROW_SUM_TOL


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


def check_terminal(terminal, n_states):
    """The terminal states as a fresh boolean mask of shape ``(n_states,)``.

    ``terminal`` is None (no terminal state), a boolean mask of shape (S,), or a
    1-d sequence of integer state indices in [0, S - 1] (duplicates allowed).
    """
    S = n_states
    if terminal is None:
        return np.zeros(S, dtype=bool)
    if sp.issparse(terminal):
        raise TypeError(f"terminal must be a boolean mask of shape ({S},) or a sequence of state indices, "
                        f"got a scipy.sparse {type(terminal).__name__}")
    if isinstance(terminal, (set, frozenset)):
        terminal = sorted(terminal)
    try:
        arr = np.asarray(terminal)
    except Exception as exc:  # pragma: no cover - numpy raises many types
        raise TypeError(f"terminal must be a boolean mask or a sequence of state indices, got {type(terminal).__name__}") from exc
    if arr.dtype == np.bool_:
        check_shape(arr, (S,), "terminal", what="(a boolean mask over states)")
        return arr.copy()
    if arr.ndim == 1 and arr.size == 0:
        return np.zeros(S, dtype=bool)
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(
            f"terminal must be a boolean mask of shape ({S},) or a 1-d sequence of integer state indices, "
            f"got {type(terminal).__name__} with dtype {arr.dtype}"
        )
    if arr.ndim != 1:
        raise ValueError(f"terminal must be a 1-d sequence of state indices in [0, {S - 1}], got shape {arr.shape}")
    bad = (arr < 0) | (arr >= S)
    if np.any(bad):
        raise ValueError(f"terminal holds state {int(arr[bad][0])}, must lie in [0, {S - 1}] for an MDP with {S} states")
    mask = np.zeros(S, dtype=bool)
    mask[arr] = True
    return mask


def check_infinite_horizon(mdp, what, *, episodic=False):
    """Raise ``ValueError`` if ``mdp.gamma == 1`` for an infinite-horizon quantity.

    ``episodic=True`` lets gamma == 1 through when the MDP has a terminal state (the
    caller then checks that its policy is proper); otherwise gamma == 1 raises, and
    the message says why when the MDP is episodic but ``what`` is not defined there.
    """
    if mdp.gamma < 1.0:
        return
    has_terminal = bool(np.any(mdp.terminal))
    if episodic and has_terminal:
        return
    if has_terminal:
        raise ValueError(
            f"{what} is an infinite-horizon quantity and needs gamma < 1, got gamma == 1; it is not defined for "
            "episodic (gamma = 1) tasks even with terminal states (its formula divides by 1 - gamma): "
            "build the MDP with gamma < 1 or use a finite-horizon function"
        )
    raise ValueError(
        f"{what} is an infinite-horizon quantity and needs gamma < 1, got gamma == 1; "
        "use a finite-horizon function (e.g. finite_horizon_values), build the MDP with gamma < 1, "
        "or mark its terminal states (TabularMDP(..., terminal=...)) to evaluate proper policies at gamma = 1"
    )


def _first_states(states, k=5):
    """'n states ... (first: [..])' text for an index array."""
    states = np.asarray(states)
    head = ", ".join(str(int(s)) for s in states[:k])
    more = ", ..." if states.size > k else ""
    return f"[{head}{more}]"


def _normalise_rows(arr, name, index_names, *, tol=ROW_SUM_TOL, dtype=None):
    """Check that the last axis sums to 1 within ``tol``; return exactly renormalised rows.

    ``dtype`` is the dtype the caller's array arrived in: for a lower-precision
    float the tolerance widens to its round-off (:func:`row_sum_tolerance`), and a
    row outside it is reported with the dtype named.
    """
    if dtype is not None:
        tol = max(tol, row_sum_tolerance(dtype, arr.shape[-1] if arr.ndim else 1))
    sums = arr.sum(axis=-1)
    bad = ~(np.abs(sums - 1.0) <= tol)
    if np.any(bad):
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        where = ", ".join(str(i) for i in idx)
        label = f"{name}[{where}, :]" if idx else name
        given = f" for {dtype} input" if dtype is not None and tol > ROW_SUM_TOL else ""
        raise ValueError(
            f"{label} sums to {_show(sums[idx])}; each {index_names} row must sum to 1 (tolerance {tol:g}{given})"
        )
    return arr / sums[..., None]


def check_distribution(p, name, size):
    """A probability vector of shape ``(size,)``; renormalised exactly within tolerance."""
    dtype = input_dtype(p)
    p = as_float_array(p, name, ndim=1)
    check_shape(p, (size,), name)
    check_finite(p, name)
    check_nonnegative(p, name)
    return _normalise_rows(p, name, "distribution", dtype=dtype)


def check_policy(pi, mdp_or_shape, name="pi", *, horizon=None, time_varying=False, real=True):
    """Validate a policy; return it as float64, without a copy when it is already valid.

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
    real : bool
        False where the caller is analytic in ``pi`` and passes complex-step
        perturbations through; otherwise complex input is a ``TypeError``.

    Returns
    -------
    ndarray
        A read-only view of ``pi`` itself when it is a C-contiguous float64 array
        whose rows are finite, non-negative and sum to 1 within round-off (4 A eps);
        otherwise a new array with the rows renormalised exactly (they must sum to
        1 within 1e-8, or within the round-off of a lower-precision input dtype).
    """
    if isinstance(mdp_or_shape, tuple):
        S, A = mdp_or_shape
    else:
        S, A = mdp_or_shape.n_states, mdp_or_shape.n_actions
    dtype = input_dtype(pi)
    pi = as_float_array(pi, name, real=real)
    if pi.ndim == 3 and time_varying:
        H = pi.shape[0] if horizon is None else horizon
        check_shape(pi, (H, S, A), name, what=f"(a time-varying policy for horizon {H})")
    elif pi.ndim == 2 or not time_varying:
        check_shape(pi, (S, A), name, what="to match the MDP")
    else:
        H = "H" if horizon is None else horizon
        raise ValueError(f"{name} must have shape ({S}, {A}) or ({H}, {S}, {A}), got {pi.shape}")
    if pi.dtype == np.float64 and pi.flags.c_contiguous and _rows_are_probabilities(pi):
        # Already valid to round-off: no copy (the common case, and the one that matters
        # for an (H, S, A) policy of hundreds of megabytes). Read-only, so that nothing
        # downstream can write into the caller's array.
        view = pi.view()
        view.setflags(write=False)
        return view
    check_finite(pi, name)
    check_nonnegative(pi, name)
    return _normalise_rows(pi, name, "policy", dtype=dtype)


def _rows_are_probabilities(arr):
    """True if every row (last axis) of the float64 C-contiguous ``arr`` is finite,
    non-negative and sums to 1 within round-off: ``4 n eps`` for a row of n entries.

    One blockwise pass, each block read from memory once, split across threads for large
    arrays (``_kernels.rows_are_probabilities``). False sends the caller down the slow path,
    which finds the first bad row and reports it, or renormalises rows that are off by more
    than round-off but within ``ROW_SUM_TOL``.
    """
    return _kernels.rows_are_probabilities(arr)


def check_rng(rng):
    """``rng`` must be a ``numpy.random.Generator``: no hidden global random state."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy.random.Generator (e.g. numpy.random.default_rng(0)), got {type(rng).__name__}"
        )
    return rng


def as_array(x, name):
    """``numpy.asarray(x)`` for non-float inputs (index arrays, masks); a ragged nested list or any
    other value NumPy cannot turn into a rectangular array is a ``ValueError`` naming ``name``
    (NumPy's own message does not say which argument it was)."""
    try:
        return np.asarray(x)
    except (ValueError, TypeError) as exc:
        _raise_if_ragged(x, name)  # the same message as for float arrays, with the first bad index
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
