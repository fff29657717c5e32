r"""Exact policy evaluation: values, Q, advantages, the objective J, discounted
visitation and occupancy, infinite and finite horizon.

Conventions (docs/guide/conventions.md#values-visitation-and-occupancy; the README's conventions table):

* Values are unnormalised: :math:`V^\pi(s) = E[\sum_{t\ge0}\gamma^t r(s_t,a_t) | s_0=s]`.
* :math:`J(\pi) = \mu^\top V^\pi`.
* ``discounted_visitation`` is **normalised**: :math:`d^\pi_\mu = (1-\gamma)\mu^\top(I-\gamma P_\pi)^{-1}`,
  summing to 1. ``discounted_visitation_unnormalized`` is :math:`d/(1-\gamma)` (TRPO's
  :math:`\rho_\pi`), summing to :math:`1/(1-\gamma)`.
* ``occupancy_measure`` is :math:`\rho(s,a) = d(s)\pi(a|s)`, summing to 1.
* A finite horizon H counts the H decision steps t = 0..H-1: :math:`V_H = 0`.
* gamma = 1 (episodic MDP with terminal states, proper policy): V solves
  :math:`(I - P_{TT})V_T = r_T` on the transient states T and is 0 on terminals;
  ``discounted_visitation_unnormalized`` is the expected number of visits before
  termination and ``discounted_visitation`` that divided by the expected episode length.

Every infinite-horizon quantity is one solve of :math:`(I - \gamma P_\pi)`: by LU
(``scipy.linalg.lu_factor`` dense, ``scipy.sparse.linalg.splu`` sparse), never an
inverse, or, for sparse MDPs too large to factorise (``solver="krylov"``, the default
above :data:`KRYLOV_MIN_STATES` states), by BiCGSTAB with a certificate: the returned V
satisfies :math:`\|V - V^\pi\|_\infty \le \|r_\pi + \gamma P_\pi V - V\|_\infty/(1-\gamma)`,
checked against the tolerance asked for (docs/guide/evaluation.md#certified-iterative-evaluation).
"""

import dataclasses
import warnings

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.csgraph as csgraph
import scipy.sparse.linalg as spla

from . import _kernels
from . import _validation as _v
from ._deprecation import renamed_keyword

__all__ = [
    "EvaluationCertificate",
    "FiniteHorizonEvaluation",
    "PolicyEvaluation",
    "advantages",
    "bellman_residual",
    "discounted_visitation",
    "discounted_visitation_unnormalized",
    "evaluate",
    "expected_return",
    "finite_horizon_values",
    "occupancy_measure",
    "policy_evaluation",
    "q_values",
    "state_distributions",
]

#: Column ordering for sparse LU; chosen by measurement (``python benchmarks/run.py --lu 256 512 1024``):
#: on slippery gridworlds, whose P_pi is structurally symmetric, the minimum-degree ordering of
#: A + A^T halves the fill of COLAMD and factors 1.4x (256x256), 3.2x (512x512) and 3.4x (1024x1024)
#: faster; NATURAL is 30x slower already at 256x256.
SPARSE_PERMC_SPEC = "MMD_AT_PLUS_A"


def _sparse_lu(M):
    r"""Sparse LU of a nonsingular M-matrix such as :math:`I - \gamma P_\pi`, pivoting on the diagonal.

    :math:`I - \gamma P_\pi` (gamma < 1) is strictly diagonally dominant by rows, and
    so is every symmetric permutation :math:`\Pi M \Pi^\top` of it; its transpose is
    then diagonally dominant by columns, for which Gaussian elimination without
    pivoting is stable with growth factor at most 2 (Wilkinson 1961; Higham,
    *Accuracy and Stability of Numerical Algorithms*, 2nd ed., 2002, Thm 9.9), and
    the same holds for a nonsingular M-matrix such as :math:`I - P_{TT}` of a proper
    policy (Funderlic & Plemmons 1981). So the fill-reducing ordering is applied
    symmetrically (``SymmetricMode``) and the pivot is always the diagonal
    (``diag_pivot_thresh=0``): the factors then depend only on the sparsity pattern,
    not on the policy's values. With SuperLU's default threshold partial pivoting a
    non-uniform policy pulled pivots off the diagonal and the factors of a 256x256
    slippery gridworld grew from 3.4 million to 67 million non-zeros (1.3 s became
    122 s). The callers keep their residual check and refinement step.
    """
    return spla.splu(M, permc_spec=SPARSE_PERMC_SPEC, diag_pivot_thresh=0.0,
                     options=dict(SymmetricMode=True))


#: Solvers of :func:`policy_evaluation` and :func:`evaluate`.
SOLVERS = ("auto", "lu", "krylov")

#: ``solver="auto"`` uses LU up to this many states and the certified Krylov solver above it
#: (sparse transitions only; dense ones are always factorised). Measured with
#: ``python benchmarks/run.py --solvers 256 512 1024`` on slippery gridworlds, gamma = 0.99:
#: BiCGSTAB is 2-3x faster from 65,536 states on, but LU's residual sits at round-off whatever
#: gamma, so LU stays the default while it takes seconds (1.5 s at 262,144 states, 11 s at
#: 1,048,576, where Krylov takes 2-4 s); see the README's Performance section.
KRYLOV_MIN_STATES = 1_000_000

#: Default relative tolerance of the certificate: the error bound on V must be at most
#: ``tol * ||r_pi||_inf * ||(I - gamma P_pi)^{-1}||_inf`` (``||r_pi||_inf / (1 - gamma)`` for gamma < 1).
DEFAULT_TOL = 1e-10

#: Default cap on BiCGSTAB iterations (matrix-vector products are twice this).
DEFAULT_MAX_ITER = 10_000


def _dot(a, b):
    # The unconjugated bilinear form (analytic in a complex-step perturbation). einsum's own
    # loop, not BLAS: OpenBLAS's threaded ddot spins when the machine is loaded (SciPy's
    # bicgstab, which calls it, took 5.3 s at 512x512 under load against 0.65 s single-threaded).
    return np.einsum("i,i->", a, b)


def _bicgstab(apply, b, atol, max_iter):
    r"""BiCGSTAB (van der Vorst 1992) for ``apply(x) = b`` from x = 0, restarted from its iterate
    whenever the recurrence claims convergence that the true residual does not confirm.

    Returns ``(x, true residual max-norm, iterations)``; the caller certifies.
    """
    x = np.zeros_like(b)
    res = b.copy()
    it = 0
    while True:
        rnorm = np.max(np.abs(res), initial=0.0)
        if rnorm <= atol or it >= max_iter:
            return x, rnorm, it
        r = res
        rhat = res.copy()
        p = np.zeros_like(b)
        v = np.zeros_like(b)
        rho_old = alpha = omega = 1.0
        while it < max_iter:
            it += 1
            rho = _dot(rhat, r)
            if rho == 0.0 or omega == 0.0:       # breakdown: restart from x with a new shadow residual
                break
            beta = (rho / rho_old) * (alpha / omega)
            p -= omega * v
            p *= beta
            p += r
            v = apply(p)
            denom = _dot(rhat, v)
            if denom == 0.0:
                break
            alpha = rho / denom
            r -= alpha * v                       # r is s from here on
            x += alpha * p
            if np.max(np.abs(r)) <= atol:
                break
            t = apply(r)
            tt = _dot(t, t)
            omega = _dot(t, r) / tt if tt != 0.0 else 0.0
            x += omega * r
            r -= omega * t
            if np.max(np.abs(r)) <= atol:
                break
            rho_old = rho
        res = b - apply(x)                       # the true residual: the recurrence's drifts


@dataclasses.dataclass(frozen=True)
class EvaluationCertificate:
    r"""What a solve of :math:`(I - \gamma P_\pi)V = r_\pi` guarantees about its V.

    For any vector V, :math:`V - V^\pi = (I-\gamma P_\pi)^{-1}(V - r_\pi - \gamma P_\pi V)`, so

    .. math:: \|V - V^\pi\|_\infty \le \|(I-\gamma P_\pi)^{-1}\|_\infty
              \,\|r_\pi + \gamma P_\pi V - V\|_\infty,

    with :math:`\|(I-\gamma P_\pi)^{-1}\|_\infty = 1/(1-\gamma)` for gamma < 1 (Puterman 1994,
    Thm 6.3.1). ``error_bound`` is this bound with the computed residual enlarged by the
    round-off of computing it, :math:`(k+2)u(\|r_\pi\|_\infty + (1+\gamma)\|V\|_\infty)` with k the
    most non-zeros in a row of :math:`P_\pi` and u the unit round-off (Higham 2002, section 3.5).
    At gamma == 1 (episodic, proper policy) the norm is the longest expected time to termination :math:`\|t\|_\infty`, :math:`(I - P_{TT})t = 1`, bounded from a
    computed :math:`\hat t` with residual :math:`\delta < 1` by :math:`\|\hat t\|_\infty/(1-\delta)`.

    Attributes
    ----------
    solver : str
        ``"lu"`` (a direct solve) or ``"krylov"`` (BiCGSTAB, certified by this bound).
    residual : float
        :math:`\|r_\pi + \gamma P_\pi V - V\|_\infty`, recomputed from the returned V.
    error_bound : float
        The bound above on :math:`\|V - V^\pi\|_\infty`.
    scale : float
        :math:`\|r_\pi\|_\infty\,\|(I-\gamma P_\pi)^{-1}\|_\infty`, a bound on :math:`\|V^\pi\|_\infty`.
    tol : float
        The relative tolerance asked for.
    n_iterations : int
        BiCGSTAB iterations (0 for LU).

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import policy_evaluation, uniform
    >>> from tabular_rl.gridworld import open_grid
    >>> mdp = open_grid(20, slip=0.2, gamma=0.9)
    >>> V, cert = policy_evaluation(mdp, uniform(400, 4), solver="krylov", return_certificate=True)
    >>> cert.solver, cert.certified, bool(cert.error_bound <= 1e-10 * cert.scale)
    ('krylov', True, True)
    """

    solver: str
    residual: float
    error_bound: float
    scale: float
    tol: float
    n_iterations: int

    @property
    def certified(self):
        """Whether ``error_bound <= tol * scale``."""
        return bool(self.error_bound <= self.tol * self.scale)


def _check_solver(solver, tol, max_iter):
    if not isinstance(solver, str) or solver not in SOLVERS:
        raise ValueError(f"solver must be one of {SOLVERS}, got {solver!r}")
    tol = _v.check_real(tol, "tol", low=0.0, high=1.0, low_open=True, high_open=True)
    return solver, tol, _v.check_int(max_iter, "max_iter", min_value=1)


def _reach_pattern(mdp, pi):
    """Boolean CSR (S, S): entry (s, s2) is stored iff pi(a|s) P(s2|s, a) > 0 for some a.

    Built from the non-zero patterns of pi and P (no products of probabilities, so no
    underflow and no tolerance)."""
    S, A = mdp.shape
    on = np.asarray(pi != 0).ravel()
    cols = np.flatnonzero(on)
    weights = sp.csr_matrix(
        (np.ones(cols.size), (cols // A, cols)), shape=(S, S * A)
    )
    if mdp.is_sparse:
        M = mdp._P_flat
        P_bool = sp.csr_matrix((np.ones(M.nnz), M.indices, M.indptr), shape=M.shape)
    else:
        P_bool = sp.csr_matrix(mdp._P_flat != 0, dtype=np.float64)
    return (weights @ P_bool).tocsr()


def _reaches(pattern, targets):
    """Boolean mask of the states from which the graph ``pattern`` (s -> s2 where stored) has a path
    into ``targets``: one breadth-first search on the reversed graph from an added super-node."""
    S = pattern.shape[0]
    if not np.any(targets):
        return np.zeros(S, dtype=bool)
    rev = pattern.T.tocsr()
    hub = sp.csr_matrix((np.ones(int(np.count_nonzero(targets))), np.flatnonzero(targets),
                         [0, int(np.count_nonzero(targets))]), shape=(1, S))
    G = sp.bmat([[rev, sp.csr_matrix((S, 1))], [hub, sp.csr_matrix((1, 1))]], format="csr")
    order = csgraph.breadth_first_order(G, S, directed=True, return_predecessors=False)
    mask = np.zeros(S + 1, dtype=bool)
    mask[order] = True
    return mask[:S]


def _never_terminating(mdp, pi):
    """States from which ``pi`` reaches no terminal state (decided on the graph of P_pi)."""
    return np.flatnonzero(~_reaches(_reach_pattern(mdp, pi), mdp.terminal))


def _improper_message(what, stuck, name="pi"):
    return (
        f"{what} with gamma == 1 needs a proper policy (one that reaches a terminal state with probability 1 "
        f"from every state), but {len(stuck)} state{'s' if len(stuck) != 1 else ''} never reach a terminal state "
        f"under {name} (first: {_v._first_states(stuck)}); their return is undefined or infinite. This holds even "
        "where those states earn zero reward: a policy that never terminates is improper whatever it earns. "
        "Change the policy, use gamma < 1, or use a finite horizon (finite_horizon_values)"
    )


class _ImproperPolicy(ValueError):
    """The ``ValueError`` for an improper policy at gamma == 1, carrying the states that never terminate
    (so that callers such as policy and value iteration need not search the graph again)."""

    def __init__(self, message, stuck):
        super().__init__(message)
        self.stuck = stuck


class _Resolvent:
    r"""One LU factorisation of :math:`I - \gamma P_\pi`, solved from either side.

    With gamma == 1 (an episodic MDP and a proper policy, checked on the graph of
    :math:`P_\pi`) it factors the transient block :math:`I - P_{TT}` instead, and
    ``solve`` returns 0 on the terminal states: V = 0 there, and the expected number
    of visits to a terminal state before termination is 0.
    """

    def __init__(self, mdp, pi, what="this quantity", name="pi", *, solver="auto", tol=DEFAULT_TOL,
                 max_iter=DEFAULT_MAX_ITER):
        _v.check_infinite_horizon(mdp, what, episodic=True)
        self.gamma = mdp.gamma
        P_pi = mdp._transition_matrix(pi)
        S = mdp.n_states
        self.n_states = S
        self.keep = None
        if solver == "auto":
            solver = "krylov" if (sp.issparse(P_pi) and S >= KRYLOV_MIN_STATES) else "lu"
        self.method, self.tol, self.max_iter = solver, tol, max_iter
        self.n_iterations = 0
        self.capped = False
        self._norm = None
        if self.gamma >= 1.0:
            stuck = _never_terminating(mdp, pi)
            if stuck.size:
                raise _ImproperPolicy(_improper_message(what, stuck, name), stuck)
            self.keep = np.flatnonzero(~mdp.terminal)
            P_pi = P_pi[self.keep][:, self.keep] if sp.issparse(P_pi) else P_pi[np.ix_(self.keep, self.keep)]
        self.P_pi = P_pi
        n = P_pi.shape[0]
        if n == 0:
            self._solve = lambda b, trans: np.zeros_like(b)
        elif solver == "krylov":
            self._solve = self._krylov
        elif sp.issparse(P_pi):
            M = (sp.identity(n, dtype=P_pi.dtype, format="csc") - self.gamma * P_pi).tocsc()
            self._lu = _sparse_lu(M)
            self._solve = lambda b, trans: self._lu.solve(np.ascontiguousarray(b), trans=trans)
        else:
            M = np.eye(n) - self.gamma * P_pi
            lu = sla.lu_factor(M, check_finite=False)
            self._solve = lambda b, trans: sla.lu_solve(lu, b, trans=(0 if trans == "N" else 1), check_finite=False)

    def _apply(self, x, trans):
        if trans == "N":
            return x - self.gamma * (self.P_pi @ x)
        return x - self.gamma * (self.P_pi.T @ x)

    def _krylov(self, b, trans):
        """BiCGSTAB to the residual ``tol * ||b||_inf`` (the certificate's relative tolerance)."""
        bnorm = np.max(np.abs(b), initial=0.0)
        if bnorm == 0.0:
            return np.zeros_like(b)
        # Solve for b scaled to max-norm in [1, 2) by a power of two (exact), so that the inner
        # products neither underflow (tiny rewards) nor overflow (huge ones).
        scale = np.ldexp(1.0, int(np.frexp(bnorm)[1]) - 1)
        # Half the tolerance: the certificate adds the residual's own round-off (``certificate``),
        # at most 6 u (1 + 2 / (1 - gamma)) ||b||, which fits in the other half for gamma < 0.99999.
        atol = 0.5 * self.tol * bnorm / scale
        x, res, it = _bicgstab(lambda v: self._apply(v, trans), b / scale, atol, self.max_iter)
        x *= scale
        res *= scale
        atol *= scale
        self.n_iterations += it
        if res > atol:
            self.capped = True
            warnings.warn(
                f"BiCGSTAB stopped after max_iter={self.max_iter} iterations with residual {res:.3g} above its "
                f"target {atol:.3g} (tol/2 * ||b||_inf): the result is not certified to tol={self.tol:g}; "
                "raise max_iter, loosen tol, or use solver='lu'",
                RuntimeWarning,
                stacklevel=5,
            )
        return x

    def norm_bound(self):
        r"""An upper bound on :math:`\|(I-\gamma P_\pi)^{-1}\|_\infty`: 1/(1 - gamma), or at gamma == 1
        :math:`\|\hat t\|_\infty/(1-\delta)` from the expected times to termination (inf if delta >= 1)."""
        if self._norm is None:
            if self.keep is None:
                self._norm = 1.0 / (1.0 - self.gamma)
            elif self.keep.size == 0:
                self._norm = 0.0
            else:
                ones = np.ones(self.keep.size)
                t = self._solve(ones, "N")
                delta = np.max(np.abs(ones - self._apply(t, "N")))
                self._norm = float(np.max(np.abs(t)) / (1.0 - delta)) if delta < 1.0 else np.inf
        return self._norm

    def certificate(self, V, b):
        """The :class:`EvaluationCertificate` of V as a solution of (I - gamma P_pi) V = b."""
        if self.keep is not None:
            V, b = V[self.keep], b[self.keep]
        residual = float(np.max(np.abs(b - self._apply(V, "N")), initial=0.0))
        norm = self.norm_bound()
        bnorm = float(np.max(np.abs(b), initial=0.0))
        # The residual is itself computed in floating point: each entry sums k + 2 terms (k the most
        # non-zeros in a row of P_pi), so it is within (k + 2) u (|b| + (1 + gamma)|V|) of the exact
        # one (Higham 2002, section 3.5); the bound adds that.
        P = self.P_pi
        k = int(np.diff(P.indptr).max(initial=0)) if sp.issparse(P) else P.shape[1]
        u = np.finfo(float).eps / 2
        vnorm = float(np.max(np.abs(V), initial=0.0))
        slack = (k + 2) * u * (bnorm + (1.0 + self.gamma) * vnorm)
        return EvaluationCertificate(solver=self.method, residual=residual,
                                     error_bound=(residual + slack) * norm if (residual + slack) else 0.0,
                                     scale=bnorm * norm if bnorm else 0.0, tol=self.tol,
                                     n_iterations=self.n_iterations)

    def solve(self, b, trans="N"):
        """Solve (I - gamma P_pi) x = b (``trans='N'``) or its transpose (``'T'``), with one
        step of iterative refinement if the residual is above round-off. At gamma == 1 the
        system is the transient block's and x = 0 on the terminal states."""
        if self.keep is None:
            return self._refined(b, trans, np.max(np.abs(b)) / (1.0 - self.gamma) if b.size else 0.0)
        x = np.zeros(b.shape, dtype=np.result_type(b, self.P_pi.dtype))
        if self.keep.size:
            x[self.keep] = self._refined(np.ascontiguousarray(b[self.keep]), trans, None)
        return x

    def _refined(self, b, trans, scale):
        x = self._solve(b, trans)
        if self.method == "krylov":
            return x                             # certified by the caller (``certificate``)
        if scale is None:
            # gamma = 1: no 1/(1 - gamma); the residual is compared with the size of b and of x.
            scale = (np.max(np.abs(b)) + 2.0 * np.max(np.abs(x))) if b.size else 0.0
        res = b - self._apply(x, trans)
        tol = 1e-13 * (1.0 + scale)
        if np.max(np.abs(res), initial=0.0) > tol:
            x = x + self._solve(res, trans)
            res = b - self._apply(x, trans)
            if np.max(np.abs(res), initial=0.0) > 1e3 * tol:
                hint = ("the MDP may be nearly undiscounted (gamma close to 1): lower gamma or use a finite horizon"
                        if self.keep is None else
                        "the policy may take extremely long to terminate (I - P_TT nearly singular)")
                warnings.warn(
                    f"linear solve residual {np.max(np.abs(res)):.3g} exceeds {1e3 * tol:.3g} after refinement; "
                    + hint,
                    RuntimeWarning,
                    stacklevel=4,
                )
        return x


def _visitation_unnormalized(mdp, solver, mu):
    r"""The unnormalised visitation :math:`\eta = \mu^\top(I-\gamma P_\pi)^{-1}` from a factorisation.

    gamma < 1: :math:`\eta(s) = \sum_t\gamma^t\Pr(s_t=s) = d(s)/(1-\gamma)`. gamma == 1: the expected
    number of visits to s before termination (0 on terminal states). Either way
    :math:`J = \sum_s \eta(s) r_\pi(s)`, and this is the weight of every formula that the
    discounted case writes as :math:`d/(1-\gamma)`.
    """
    return solver.solve(np.asarray(mu, dtype=np.result_type(solver.P_pi.dtype, float)), "T")


def _normalise_visitation(mdp, eta, what="discounted_visitation"):
    """d from eta: (1 - gamma) eta, or at gamma == 1 eta divided by its sum (the expected episode length)."""
    if mdp.gamma < 1.0:
        return (1.0 - mdp.gamma) * eta
    total = np.sum(eta)
    if not np.real(total) > 0:
        raise ValueError(
            f"{what} with gamma == 1 is normalised by the expected episode length, which is 0: mu puts all its "
            "mass on terminal states; give a mu with mass on a non-terminal state"
        )
    return eta / total


@dataclasses.dataclass(frozen=True, eq=False)
class PolicyEvaluation:
    r"""Everything exact about one stationary policy, from one factorisation.

    Attributes
    ----------
    V : ndarray, shape (S,)
        :math:`V^\pi = (I - \gamma P_\pi)^{-1} r_\pi`.
    Q : ndarray, shape (S, A)
        :math:`Q^\pi = r + \gamma P V^\pi`.
    adv : ndarray, shape (S, A)
        :math:`A^\pi = Q^\pi - V^\pi`.
    J : float
        :math:`\mu^\top V^\pi`.
    d : ndarray, shape (S,)
        Normalised discounted state visitation, sums to 1.
    rho : ndarray, shape (S, A)
        Normalised occupancy :math:`d(s)\pi(a|s)`, sums to 1.
    certificate : EvaluationCertificate
        Which solver computed V and the bound on its error.

    Examples
    --------
    :func:`evaluate` returns one. A single state with two actions paying 0 and 1,
    the uniform policy and gamma = 0.5: each step pays 0.5 on average, so
    V = 0.5 / (1 - 0.5) = 1.

    >>> import numpy as np
    >>> from tabular_rl import TabularMDP, evaluate
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), R=[[0.0, 1.0]], gamma=0.5)
    >>> ev = evaluate(mdp, [[0.5, 0.5]])
    >>> ev.V, ev.J
    (array([1.]), 1.0)
    >>> ev.Q                                                # r + 0.5 * V
    array([[0.5, 1.5]])
    >>> ev.adv, ev.rho                                      # Q - V; d(s) pi(a|s)
    (array([[-0.5,  0.5]]), array([[0.5, 0.5]]))
    """

    V: np.ndarray
    Q: np.ndarray
    adv: np.ndarray
    J: float
    d: np.ndarray
    rho: np.ndarray
    certificate: EvaluationCertificate = None


def _evaluate(mdp, pi, *, visitation=True, what="policy evaluation", name="pi", solver="auto", tol=DEFAULT_TOL,
              max_iter=DEFAULT_MAX_ITER, certify=False):
    """(V, Q, eta) of a validated policy from one factorisation (or Krylov solves); eta is the
    **unnormalised** visitation of ``_visitation_unnormalized`` (None unless ``visitation``).
    With ``certify``, (V, Q, eta, EvaluationCertificate of V)."""
    res = _Resolvent(mdp, pi, what, name, solver=solver, tol=tol, max_iter=max_iter)
    r_pi = np.einsum("sa,sa->s", pi, mdp.R)
    V = res.solve(r_pi)
    Q = mdp.R + mdp.gamma * mdp.expected_next(V)
    eta = _visitation_unnormalized(mdp, res, mdp.mu) if visitation else None
    if not certify:
        return V, Q, eta
    cert = res.certificate(V, r_pi)
    # Krylov: tol is the stopping target, and a result short of it warns (once: a capped solve has
    # warned already). LU is a direct solve whose accuracy tol does not change: its certificate
    # reports it (``certified``), and it warns only when refinement fails (``_refined``).
    if res.method == "krylov" and not cert.certified and not res.capped:
        warnings.warn(
            f"{what}: the krylov solution's error bound {cert.error_bound:.3g} exceeds tol * scale = "
            f"{cert.tol * cert.scale:.3g} (tol={cert.tol:g}); the system is ill-conditioned (gamma close to 1, "
            "or a policy that takes very long to terminate): loosen tol or use solver='lu'",
            RuntimeWarning,
            stacklevel=3,
        )
    return V, Q, eta, cert


def evaluate(mdp, pi, *, solver="auto", tol=DEFAULT_TOL, max_iter=DEFAULT_MAX_ITER):
    """Exact evaluation of a stationary policy: V, Q, advantages, J, d and rho.

    One LU factorisation of :math:`I-\\gamma P_\\pi` serves both V (a solve) and the
    visitation (a transposed solve). With gamma == 1 (episodic MDP, proper policy) the
    factorisation is that of the transient block :math:`I - P_{TT}`, V = 0 on terminal
    states, and d is the expected number of visits before termination divided by the
    expected episode length (see :func:`discounted_visitation`). With
    ``solver="krylov"`` both are certified BiCGSTAB solves instead, as in
    :func:`policy_evaluation`; ``result.certificate`` says which one V is.

    Parameters
    ----------
    mdp : TabularMDP
        With ``gamma < 1``, or ``gamma == 1`` and terminal states.
    pi : array_like, shape (S, A)
        At gamma == 1, a proper policy.
    solver : {"auto", "lu", "krylov"}
        As in :func:`policy_evaluation`.
    tol : float
        Relative tolerance of the certificate, in (0, 1).
    max_iter : int
        Cap on BiCGSTAB iterations per solve.

    Returns
    -------
    PolicyEvaluation

    Raises
    ------
    ValueError
        If gamma == 1 and the MDP has no terminal state or ``pi`` is improper, or
        gamma == 1 and ``mdp.mu`` puts all its mass on terminal states.

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP, evaluate
    >>> mdp = TabularMDP(np.ones((1, 1, 1)), R=[1.0], gamma=0.5)
    >>> ev = evaluate(mdp, [[1.0]])
    >>> ev.V, ev.J, ev.d
    (array([2.]), 2.0, array([1.]))

    Episodic, gamma = 1: state 0 stays with probability 1/2, else ends in terminal state 1.

    >>> P = np.array([[[0.5, 0.5]], [[0.0, 1.0]]])
    >>> ev = evaluate(TabularMDP(P, R=[-1.0, 0.0], gamma=1.0, mu=[1.0, 0.0], terminal=[1]), [[1.0], [1.0]])
    >>> ev.V, ev.d                                          # 2 steps expected, all spent in state 0
    (array([-2.,  0.]), array([1., 0.]))
    """
    pi = _v.check_policy(pi, mdp)
    solver, tol, max_iter = _check_solver(solver, tol, max_iter)
    V, Q, eta, cert = _evaluate(mdp, pi, what="evaluate", solver=solver, tol=tol, max_iter=max_iter, certify=True)
    d = _normalise_visitation(mdp, eta, "evaluate")
    adv = Q - V[:, None]
    J = float(np.real(mdp.mu @ V)) if not np.iscomplexobj(V) else mdp.mu @ V
    return PolicyEvaluation(V=V, Q=Q, adv=adv, J=J, d=d, rho=d[:, None] * pi, certificate=cert)


def policy_evaluation(mdp, pi, *, solver="auto", tol=DEFAULT_TOL, max_iter=DEFAULT_MAX_ITER,
                      return_certificate=False):
    r"""State values of a stationary policy by an exact linear solve, direct or certified.

    .. math:: V^\pi = (I - \gamma P_\pi)^{-1} r_\pi

    ``solver="lu"`` is a direct solve: LU (``scipy.linalg.lu_factor`` for dense
    transitions, ``scipy.sparse.linalg.splu`` for sparse ones), with one step of
    iterative refinement when the residual exceeds round-off. Never an explicit
    inverse, never value iteration.

    ``solver="krylov"`` (sparse MDPs too large to factorise) runs BiCGSTAB and
    certifies its answer: for any V,

    .. math:: \|V - V^\pi\|_\infty \le \frac{\|r_\pi + \gamma P_\pi V - V\|_\infty}{1 - \gamma},

    and the residual is recomputed from the returned V and required to be at most
    ``tol/2`` :math:`\|r_\pi\|_\infty` (the other half covers the residual's own
    round-off), so the error is at most ``tol`` times
    :math:`\|r_\pi\|_\infty/(1-\gamma)`, the bound on :math:`\|V^\pi\|_\infty`. If
    ``max_iter`` iterations do not reach it, a ``RuntimeWarning`` names the settings
    to change. ``solver="auto"`` (the default) is LU for dense MDPs and for sparse
    ones below :data:`KRYLOV_MIN_STATES` states, Krylov above.

    With ``gamma == 1`` (an episodic task: the MDP has terminal states) the policy
    must be **proper**: from every state it reaches a terminal state with
    probability 1. This is decided on the graph of :math:`P_\pi` (every
    non-terminal state has a path of positive-probability transitions into the
    terminal set), not by a numerical tolerance. Then, with T the transient
    (non-terminal) states,

    .. math:: (I - P_{TT})\, V_T = r_T,\qquad V = 0 \text{ on terminal states},

    the expected total reward until termination (the stochastic shortest path
    value; Bertsekas & Tsitsiklis 1991). :math:`I - P_{TT}` is non-singular
    exactly when the policy is proper.

    Parameters
    ----------
    mdp : TabularMDP
        With ``gamma < 1``, or ``gamma == 1`` and terminal states.
    pi : array_like, shape (S, A)
        At gamma == 1, a proper policy.
    solver : {"auto", "lu", "krylov"}
        Direct solve, certified BiCGSTAB, or LU below :data:`KRYLOV_MIN_STATES`
        sparse states and Krylov above.
    tol : float
        Relative tolerance of the certificate, in (0, 1): the error bound must be at
        most ``tol * ||r_pi||_inf * ||(I - gamma P_pi)^{-1}||_inf``. Default 1e-10.
        For ``"lu"`` it only sets ``certificate.certified``: a direct solve is as
        accurate as the system's conditioning allows, and its bound says how accurate.
    max_iter : int
        Cap on BiCGSTAB iterations (``"krylov"`` only). Default 10,000.
    return_certificate : bool
        Also return the :class:`EvaluationCertificate` (for either solver).

    Returns
    -------
    V : ndarray, shape (S,)
    certificate : EvaluationCertificate
        Only with ``return_certificate=True``.

    Raises
    ------
    ValueError
        If ``mdp.gamma == 1`` and the MDP has no terminal state, or ``pi`` is improper
        (the message names the states that never terminate, even if they earn zero
        reward), or ``pi`` is not a policy for ``mdp``.

    References
    ----------
    Bertsekas & Tsitsiklis, "An analysis of stochastic shortest path problems",
    Mathematics of Operations Research 16(3), 1991. Puterman, *Markov Decision
    Processes*, 1994, sections 6.1 and 7.1 (total reward criterion).
    van der Vorst, "Bi-CGSTAB: a fast and smoothly converging variant of Bi-CG for
    the solution of nonsymmetric linear systems", SIAM J. Sci. Stat. Comput. 13(2), 1992.

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP, policy_evaluation
    >>> P = np.array([[[0.0, 1.0]], [[0.0, 1.0]]])        # 0 -> 1 -> 1 -> ...
    >>> mdp = TabularMDP(P, R=[1.0, 2.0], gamma=0.5)
    >>> policy_evaluation(mdp, [[1.0], [1.0]])              # 1 + 0.5 * 4, 2 / (1 - 0.5)
    array([3., 4.])

    gamma = 1 with a terminal state: a three-state corridor 0 -> 1 -> 2 paying -1 per step.

    >>> P = np.zeros((3, 1, 3)); P[0, 0, 1] = P[1, 0, 2] = P[2, 0, 2] = 1.0
    >>> mdp = TabularMDP(P, R=[-1.0, -1.0, 0.0], gamma=1.0, terminal=[2])
    >>> policy_evaluation(mdp, np.ones((3, 1)))
    array([-2., -1.,  0.])

    The certified iterative solver, and what it guarantees:

    >>> from tabular_rl import uniform
    >>> from tabular_rl.gridworld import open_grid
    >>> big = open_grid(30, slip=0.2, gamma=0.99)
    >>> V, cert = policy_evaluation(big, uniform(900, 4), solver="krylov", return_certificate=True)
    >>> cert.solver, cert.certified, bool(np.max(np.abs(V - policy_evaluation(big, uniform(900, 4)))) <= cert.error_bound)
    ('krylov', True, True)
    """
    pi = _v.check_policy(pi, mdp)
    solver, tol, max_iter = _check_solver(solver, tol, max_iter)
    out = _evaluate(mdp, pi, visitation=False, what="policy_evaluation", solver=solver, tol=tol, max_iter=max_iter,
                    certify=return_certificate)
    return (out[0], out[3]) if return_certificate else out[0]


def q_values(mdp, pi):
    r"""Action values :math:`Q^\pi(s,a) = r(s,a) + \gamma\sum_{s'}P(s'|s,a)V^\pi(s')`, shape (S, A).

    At gamma == 1 (episodic MDP), ``pi`` must be proper, as in :func:`policy_evaluation`.

    Examples
    --------
    One state, two actions paying 0 and 1, gamma = 0.5. The uniform policy earns 0.5
    a step, so V = 0.5 / (1 - 0.5) = 1 and Q(a) = r(a) + 0.5 * 1.

    >>> import numpy as np
    >>> from tabular_rl import TabularMDP, q_values
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), R=[[0.0, 1.0]], gamma=0.5)
    >>> q_values(mdp, [[0.5, 0.5]])
    array([[0.5, 1.5]])
    """
    pi = _v.check_policy(pi, mdp)
    return _evaluate(mdp, pi, visitation=False, what="q_values")[1]


def advantages(mdp, pi):
    r"""Advantages :math:`A^\pi = Q^\pi - V^\pi`, shape (S, A); :math:`\sum_a\pi(a|s)A^\pi(s,a)=0`.

    At gamma == 1 (episodic MDP), ``pi`` must be proper, as in :func:`policy_evaluation`.

    Examples
    --------
    The MDP of :func:`q_values`: Q = [0.5, 1.5] and V = 1 under the uniform policy.

    >>> import numpy as np
    >>> from tabular_rl import TabularMDP, advantages
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), R=[[0.0, 1.0]], gamma=0.5)
    >>> advantages(mdp, [[0.5, 0.5]])                       # Q - V; averages to 0 under pi
    array([[-0.5,  0.5]])
    """
    pi = _v.check_policy(pi, mdp)
    V, Q, _ = _evaluate(mdp, pi, visitation=False, what="advantages")
    return Q - V[:, None]


def expected_return(mdp, pi):
    r"""The objective :math:`J(\pi) = \mu^\top V^\pi = E[\sum_t\gamma^t r_t]`, a float.

    At gamma == 1 (episodic MDP, proper ``pi``) it is the expected undiscounted return of an episode.

    Examples
    --------
    The chain 0 -> 1 -> 1 -> ... of :func:`policy_evaluation` has V = [3, 4]; J averages
    V over the start distribution.

    >>> import numpy as np
    >>> from tabular_rl import TabularMDP, expected_return
    >>> P = np.array([[[0.0, 1.0]], [[0.0, 1.0]]])
    >>> expected_return(TabularMDP(P, R=[1.0, 2.0], gamma=0.5, mu=[1.0, 0.0]), [[1.0], [1.0]])
    3.0
    >>> expected_return(TabularMDP(P, R=[1.0, 2.0], gamma=0.5, mu=[0.5, 0.5]), [[1.0], [1.0]])   # (3 + 4) / 2
    3.5
    """
    pi = _v.check_policy(pi, mdp)
    V = _evaluate(mdp, pi, visitation=False, what="expected_return")[0]
    return float(mdp.mu @ V) if not np.iscomplexobj(V) else mdp.mu @ V


def discounted_visitation(mdp, pi, *, mu=None):
    r"""Normalised state visitation, summing to 1: discounted (gamma < 1) or per episode (gamma == 1).

    .. math:: d^\pi_\mu(s) = (1-\gamma)\sum_{t\ge0}\gamma^t \Pr(s_t = s),\qquad
              d^{\pi\top}_\mu = (1-\gamma)\,\mu^\top (I-\gamma P_\pi)^{-1}

    computed by one transposed LU solve. This is the d of Agarwal et al. (2021)
    and Achiam et al. (2017); TRPO's unnormalised :math:`\rho_\pi` is
    :func:`discounted_visitation_unnormalized`.

    At gamma == 1 (episodic MDP, proper policy) there is no factor 1 - gamma:
    :math:`\eta(s) = E[\#\{t : s_t = s\}]`, the expected number of visits to s
    before termination (:func:`discounted_visitation_unnormalized`, 0 on terminal
    states), and :math:`d = \eta / \sum_s\eta(s)`, divided by the expected episode
    length :math:`L = \sum_s \eta(s)` (the number of decisions taken in
    non-terminal states). This is the "on-policy distribution" of Sutton & Barto
    (2018), section 9.2.

    Parameters
    ----------
    mdp : TabularMDP
        With ``gamma < 1``, or ``gamma == 1`` and terminal states.
    pi : array_like, shape (S, A)
        At gamma == 1, a proper policy.
    mu : array_like, shape (S,), optional
        Start distribution; default ``mdp.mu``. At gamma == 1 it must put mass on
        some non-terminal state (else L = 0 and d is undefined: ``ValueError``).

    Returns
    -------
    d : ndarray, shape (S,)

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP, discounted_visitation
    >>> P = np.array([[[0.0, 1.0]], [[0.0, 1.0]]])
    >>> mdp = TabularMDP(P, R=[0.0, 0.0], gamma=0.75, mu=[1.0, 0.0])
    >>> discounted_visitation(mdp, [[1.0], [1.0]])          # 1 - gamma at the start, the rest after
    array([0.25, 0.75])

    gamma = 1: the corridor 0 -> 1 -> 2 (terminal) visits 0 and 1 once each.

    >>> P = np.zeros((3, 1, 3)); P[0, 0, 1] = P[1, 0, 2] = P[2, 0, 2] = 1.0
    >>> mdp = TabularMDP(P, R=[-1.0, -1.0, 0.0], gamma=1.0, mu=[1.0, 0.0, 0.0], terminal=[2])
    >>> discounted_visitation(mdp, np.ones((3, 1)))
    array([0.5, 0.5, 0. ])
    """
    eta = _checked_visitation_unnormalized(mdp, pi, mu, "discounted_visitation")
    return _normalise_visitation(mdp, eta, "discounted_visitation")


def discounted_visitation_unnormalized(mdp, pi, *, mu=None):
    r"""Unnormalised visitation :math:`\eta(s) = \sum_t \gamma^t\Pr(s_t=s)`: sums to :math:`1/(1-\gamma)`,
    or at gamma == 1 to the expected episode length.

    gamma < 1: TRPO's :math:`\rho_\pi = d/(1-\gamma)`. gamma == 1 (episodic MDP, proper
    policy): the expected number of visits to each state before termination, 0 on
    terminal states, from :math:`\eta_T^\top = \mu_T^\top (I - P_{TT})^{-1}` (one LU solve).
    Either way :math:`J = \sum_s \eta(s) r_\pi(s)`.

    Parameters
    ----------
    mdp : TabularMDP
        With ``gamma < 1``, or ``gamma == 1`` and terminal states.
    pi : array_like, shape (S, A)
        At gamma == 1, a proper policy.
    mu : array_like, shape (S,), optional
        Start distribution; default ``mdp.mu``.

    Returns
    -------
    eta : ndarray, shape (S,)

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP, discounted_visitation_unnormalized
    >>> P = np.array([[[0.5, 0.5]], [[0.0, 1.0]]])         # leave state 0 with probability 1/2
    >>> mdp = TabularMDP(P, R=[-1.0, 0.0], gamma=1.0, mu=[1.0, 0.0], terminal=[1])
    >>> discounted_visitation_unnormalized(mdp, [[1.0], [1.0]])   # 2 visits expected
    array([2., 0.])
    """
    return _checked_visitation_unnormalized(mdp, pi, mu, "discounted_visitation_unnormalized")


def _checked_visitation_unnormalized(mdp, pi, mu, what):
    """eta of a caller's ``pi`` from ``mu`` (default ``mdp.mu``), both validated here: one factorisation."""
    pi = _v.check_policy(pi, mdp)
    mu = mdp.mu if mu is None else _v.check_distribution(mu, "mu", mdp.n_states)
    return _visitation_unnormalized(mdp, _Resolvent(mdp, pi, what), mu)


def occupancy_measure(mdp, pi):
    r"""Normalised state-action occupancy :math:`\rho^\pi(s,a) = d^\pi_\mu(s)\pi(a|s)`, summing to 1.

    It satisfies the normalised Bellman flow
    :math:`\sum_a\rho(s',a) = (1-\gamma)\mu(s') + \gamma\sum_{s,a}P(s'|s,a)\rho(s,a)`,
    and :math:`J = \sum_{s,a}\rho(s,a) r(s,a) / (1-\gamma)`. At gamma == 1 (episodic
    MDP, proper policy) d is the per-episode visitation of :func:`discounted_visitation`
    and :math:`J = L \sum_{s,a}\rho(s,a) r(s,a)` with L the expected episode length.

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP, occupancy_measure
    >>> P = np.zeros((3, 1, 3)); P[0, 0, 1] = P[1, 0, 2] = P[2, 0, 2] = 1.0
    >>> mdp = TabularMDP(P, R=[-1.0, -1.0, 0.0], gamma=1.0, mu=[1.0, 0.0, 0.0], terminal=[2])
    >>> occupancy_measure(mdp, np.ones((3, 1)))[:, 0]
    array([0.5, 0.5, 0. ])
    """
    pi = _v.check_policy(pi, mdp)
    return discounted_visitation(mdp, pi)[:, None] * pi


def bellman_residual(mdp, pi, V):
    r"""Max-norm residual :math:`\|r_\pi + \gamma P_\pi V - V\|_\infty` of the Bellman equation.

    Parameters
    ----------
    mdp : TabularMDP
    pi : array_like, shape (S, A)
    V : array_like, shape (S,)

    Returns
    -------
    float

    Examples
    --------
    The chain 0 -> 1 -> 1 -> ... of :func:`policy_evaluation`: its values [3, 4] leave
    no residual; V = 0 leaves the largest reward, 2.

    >>> import numpy as np
    >>> from tabular_rl import TabularMDP, bellman_residual
    >>> P = np.array([[[0.0, 1.0]], [[0.0, 1.0]]])
    >>> mdp = TabularMDP(P, R=[1.0, 2.0], gamma=0.5)
    >>> bellman_residual(mdp, [[1.0], [1.0]], [3.0, 4.0])
    0.0
    >>> bellman_residual(mdp, [[1.0], [1.0]], [0.0, 0.0])  # max(|1 - 0|, |2 - 0|)
    2.0
    """
    pi = _v.check_policy(pi, mdp)
    V = _v.check_shape(_v.as_float_array(V, "V"), (mdp.n_states,), "V")
    _v.check_finite(V, "V")
    backup = np.einsum("sa,sa->s", pi, mdp.R + mdp.gamma * mdp.expected_next(V))
    return float(np.max(np.abs(backup - V)))


@dataclasses.dataclass(frozen=True, eq=False)
class FiniteHorizonEvaluation:
    r"""Finite-horizon evaluation over decision steps t = 0..H-1.

    Attributes
    ----------
    V : ndarray, shape (H+1, S)
        :math:`V_t`, with :math:`V_H = 0`; :math:`V_t` counts the rewards of steps t..H-1.
    Q : ndarray, shape (H, S, A)
        :math:`Q_t = r + \gamma P V_{t+1}`.
    d : ndarray, shape (H, S)
        Undiscounted forward state distributions :math:`d_0 = \mu`,
        :math:`d_{t+1} = d_t P_{\pi_t}`; each row sums to 1.
    J : float
        :math:`\mu^\top V_0 = \sum_t \gamma^t d_t^\top r_{\pi_t}`.

    Examples
    --------
    :func:`finite_horizon_values` returns one. The chain 0 -> 1 -> 1 -> ... paying 1 in
    state 0 and 2 in state 1, for 2 steps at gamma = 1, started in state 0:

    >>> import numpy as np
    >>> from tabular_rl import TabularMDP, finite_horizon_values
    >>> P = np.array([[[0.0, 1.0]], [[0.0, 1.0]]])
    >>> mdp = TabularMDP(P, R=[1.0, 2.0], gamma=1.0, mu=[1.0, 0.0])
    >>> ev = finite_horizon_values(mdp, [[1.0], [1.0]], horizon=2)
    >>> ev.V                                                # V_0 = [1 + 2, 2 + 2], V_1 = r, V_2 = 0
    array([[3., 4.],
           [1., 2.],
           [0., 0.]])
    >>> ev.d, ev.J                                          # in state 0 at t = 0, state 1 at t = 1
    (array([[1., 0.],
           [0., 1.]]), 3.0)
    """

    V: np.ndarray
    Q: np.ndarray
    d: np.ndarray
    J: float


def _finite_horizon_backward(mdp, pi, horizon):
    S, A = mdp.shape
    V = np.zeros((horizon + 1, S), dtype=np.result_type(pi, float))
    Q = np.empty((horizon, S, A), dtype=V.dtype)
    for t in range(horizon - 1, -1, -1):
        Q[t] = mdp.R + mdp.gamma * mdp.expected_next(V[t + 1])
        pi_t = pi if pi.ndim == 2 else pi[t]
        V[t] = np.einsum("sa,sa->s", pi_t, Q[t])
    return V, Q


def finite_horizon_values(mdp, pi, horizon, *, mu=None):
    r"""Exact finite-horizon evaluation of a stationary or time-varying policy, any gamma in [0, 1].

    Decision steps are t = 0..H-1; the value counts the rewards of those H steps:

    .. math::
        V_H = 0,\quad Q_t = r + \gamma P V_{t+1},\quad V_t(s) = \sum_a \pi_t(a|s) Q_t(s,a),

        d_0 = \mu,\quad d_{t+1}^\top = d_t^\top P_{\pi_t},\quad
        J = \mu^\top V_0 = \sum_{t=0}^{H-1}\gamma^t d_t^\top r_{\pi_t}.

    Parameters
    ----------
    mdp : TabularMDP
    pi : array_like, shape (S, A) or (horizon, S, A)
    horizon : int >= 0
    mu : array_like, shape (S,), optional
        Start distribution for ``d`` and ``J``; default ``mdp.mu``.

    Returns
    -------
    FiniteHorizonEvaluation

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP, finite_horizon_values
    >>> mdp = TabularMDP(np.ones((1, 1, 1)), R=[1.0], gamma=1.0)
    >>> ev = finite_horizon_values(mdp, [[1.0]], horizon=3)
    >>> ev.V[:, 0], ev.J                                    # 3 rewards to go at t = 0, none at t = 3
    (array([3., 2., 1., 0.]), 3.0)
    """
    horizon = _v.check_int(horizon, "horizon", min_value=0)
    # Analytic in pi: complex-step perturbations pass through to V, Q and J.
    pi = _v.check_policy(pi, mdp, horizon=horizon, time_varying=True, real=False)
    mu = mdp.mu if mu is None else _v.check_distribution(mu, "mu", mdp.n_states)
    V, Q = _finite_horizon_backward(mdp, pi, horizon)
    d, _ = _kernels.forward_distributions(mdp, pi, horizon, mu)
    return FiniteHorizonEvaluation(V=V, Q=Q, d=d, J=float(np.real(mu @ V[0])))


@renamed_keyword("p0", "mu")
def state_distributions(mdp, pi, horizon, *, mu=None):
    r"""Undiscounted state distributions :math:`d_t`, t = 0..horizon-1, shape (horizon, S).

    :math:`d_0 = \mu` (the keyword ``mu``, default ``mdp.mu``; ``p0`` is a deprecated alias,
    removed in 0.3.0) and :math:`d_{t+1}(s') = \sum_{s,a} d_t(s)\pi_t(a|s)P(s'|s,a)`; each row sums to 1.

    Examples
    --------
    State 0 stays with probability 1/2, else moves to the absorbing state 1: the mass
    left in state 0 halves every step.

    >>> import numpy as np
    >>> from tabular_rl import TabularMDP, state_distributions
    >>> P = np.array([[[0.5, 0.5]], [[0.0, 1.0]]])
    >>> mdp = TabularMDP(P, R=[0.0, 0.0], gamma=0.9)
    >>> state_distributions(mdp, [[1.0], [1.0]], 3, mu=[1.0, 0.0])
    array([[1.  , 0.  ],
           [0.5 , 0.5 ],
           [0.25, 0.75]])
    """
    horizon = _v.check_int(horizon, "horizon", min_value=0)
    pi = _v.check_policy(pi, mdp, horizon=horizon, time_varying=True)
    mu = mdp.mu if mu is None else _v.check_distribution(mu, "mu", mdp.n_states)
    return _kernels.forward_distributions(mdp, pi, horizon, mu)[0]
