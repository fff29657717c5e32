r"""Exact policy gradients on a known MDP, and the REINFORCE estimators of them.

Everything here is exact (one LU factorisation per evaluation, see
:mod:`tabular_rl.evaluation`) except the REINFORCE functions, which estimate the
finite-horizon gradient from sampled :class:`~tabular_rl.sampling.Trajectories`;
the tests check by exact trajectory enumeration that their expectation is
:func:`finite_horizon_policy_gradient`.

Conventions (docs/guide/policy_gradients.md#conventions):

* ``theta`` (S, A) are tabular softmax logits, :math:`\pi_\theta(a|s) \propto e^{\theta_{s,a}}`.
* :math:`J(\theta) = \mu^\top V^{\pi_\theta}` with unnormalised values.
* ``d`` is the **normalised** discounted visitation (sums to 1), so the
  gradient carries the factor :math:`1/(1-\gamma)`:
  :math:`\partial J/\partial\theta_{s,a} = d(s)\pi(a|s)A(s,a)/(1-\gamma)`.
* gamma = 1 (episodic MDP with terminal states, proper policy): ``softmax_objective``,
  ``policy_gradient``, ``direct_policy_gradient`` and the log-barrier pair use
  :math:`\eta(s)`, the expected number of visits before termination, in place of
  :math:`d(s)/(1-\gamma)` (the episodic policy gradient theorem). The Fisher
  information, the natural gradient and the ascent loops are defined with the
  factor :math:`1/(1-\gamma)` (step sizes, smoothness constants) and raise at gamma = 1.
* Finite horizon H counts decision steps t = 0..H-1 and keeps :math:`\gamma^t`
  in the objective :math:`J_H = E[\sum_{t<H}\gamma^t r_t]`, so its gradient (and
  every unbiased REINFORCE estimator of it) carries :math:`\gamma^t`.
"""

import dataclasses

import numpy as np
from scipy.special import logsumexp

from . import _validation as _v
from .sampling import check_trajectories
from .evaluation import _evaluate, _finite_horizon_backward
from . import _kernels
from .policies import log_softmax, softmax

__all__ = [
    "PolicyOptimizationHistory",
    "direct_policy_gradient",
    "fisher_information",
    "finite_horizon_policy_gradient",
    "log_barrier_gradient",
    "log_barrier_objective",
    "natural_policy_gradient",
    "natural_policy_gradient_ascent",
    "npg_log_normalizers",
    "policy_gradient",
    "policy_gradient_ascent",
    "reinforce_gradient",
    "reinforce_gradient_samples",
    "softmax_objective",
]

_REINFORCE_METHODS = ("full_return", "reward_to_go", "reward_to_go_without_gamma_t")


def _check_theta(theta, mdp, name="theta", *, real=True):
    theta = _v.as_float_array(theta, name, real=real)
    _v.check_shape(theta, mdp.shape, name, what="(softmax logits, one row per state)")
    _v.check_finite(theta, name)
    return theta


def _readonly(arr):
    arr = np.array(arr, copy=True)
    arr.setflags(write=False)
    return arr


def _advantage(pi, Q):
    """A = Q - sum_a pi Q: equal to Q - V^pi up to round-off, with sum_a pi A = 0 to round-off and exactly
    zero advantages when A = 1 (so single-action gradients are exactly 0)."""
    return Q - np.einsum("sa,sa->s", pi, Q)[:, None]


def _softmax_parts(mdp, theta, what, *, episodic=False):
    """Validated logits -> (pi, V, Q, adv, eta) from one factorisation; eta is the **unnormalised**
    visitation (d / (1 - gamma), or the expected visits before termination at gamma == 1)."""
    _v.check_infinite_horizon(mdp, what, episodic=episodic)
    pi = softmax(theta)
    V, Q, eta = _evaluate(mdp, pi, what=what)
    return pi, V, Q, _advantage(pi, Q), eta


def softmax_objective(mdp, theta):
    r"""The objective :math:`J(\theta) = \mu^\top V^{\pi_\theta}` of tabular softmax logits.

    Parameters
    ----------
    mdp : TabularMDP
        With ``gamma < 1``, or ``gamma == 1`` with terminal states (then pi must be proper).
    theta : array_like, shape (S, A)
        Logits; complex logits are passed through (complex-step derivatives).

    Returns
    -------
    float (complex for complex logits)

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), R=[[1.0, 0.0]], gamma=0.5)
    >>> softmax_objective(mdp, [[0.0, 0.0]])          # r_pi = 0.5, / (1 - 0.5)
    1.0
    """
    theta = _check_theta(theta, mdp, real=False)  # analytic in theta: complex step passes through
    _v.check_infinite_horizon(mdp, "softmax_objective", episodic=True)
    V = _evaluate(mdp, softmax(theta), visitation=False, what="softmax_objective")[0]
    J = mdp.mu @ V
    return J if np.iscomplexobj(J) else float(J)


def policy_gradient(mdp, theta):
    r"""Exact gradient of :math:`J(\theta) = \mu^\top V^{\pi_\theta}` in tabular softmax logits.

    .. math::

        \frac{\partial J}{\partial\theta_{s,a}}
            = \frac{1}{1-\gamma}\, d^{\pi_\theta}_\mu(s)\, \pi_\theta(a|s)\, A^{\pi_\theta}(s,a),

    with :math:`d^{\pi}_\mu` the normalised discounted visitation (sums to 1).
    V, Q and d come from one LU factorisation of :math:`I-\gamma P_\pi`. Each row
    sums to 0 (the softmax is shift invariant) and states with d(s) = 0 get 0.

    At gamma == 1 (episodic MDP; a softmax policy is proper exactly when every
    state can reach a terminal state) the factor :math:`d/(1-\gamma)` becomes
    :math:`\eta(s)`, the expected number of visits to s before termination: the
    policy gradient theorem for episodic tasks (Sutton & Barto 2018, section 13.2),
    :math:`\partial J/\partial\theta_{s,a} = \eta(s)\pi(a|s)A(s,a)`.

    Parameters
    ----------
    mdp : TabularMDP
        With ``gamma < 1``, or ``gamma == 1`` with terminal states (then pi must be proper).
    theta : array_like, shape (S, A)
        Softmax logits.

    Returns
    -------
    ndarray, shape (S, A)

    Raises
    ------
    ValueError
        If ``theta`` does not have shape (S, A) or is not finite, or ``mdp.gamma == 1``.

    References
    ----------
    Agarwal, Kakade, Lee, Mahajan, "On the Theory of Policy Gradient Methods", JMLR 2021 (arXiv 1908.00261),
    eq. (10) and Lemma C.1; Sutton, McAllester, Singh, Mansour, NeurIPS 1999 (policy-gradient theorem).

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), R=[[1.0, 0.0]], gamma=0.5)
    >>> policy_gradient(mdp, [[0.0, 0.0]])            # d = 1, pi = 1/2, A = +-1/2, / (1 - 0.5)
    array([[ 0.5, -0.5]])

    Episodic, gamma = 1: action 0 ends the episode paying 1, action 1 pays -1 and
    stays; at pi = (1/2, 1/2), V(0) = 0 and state 0 is visited 2 times on average.

    >>> P = np.zeros((2, 2, 2)); P[0, 0, 1] = P[0, 1, 0] = P[1, :, 1] = 1.0
    >>> mdp = TabularMDP(P, R=[[1.0, -1.0], [0.0, 0.0]], gamma=1.0, mu=[1.0, 0.0], terminal=[1])
    >>> policy_gradient(mdp, np.zeros((2, 2)))         # eta = 2, pi = 1/2, A = +-1
    array([[ 1., -1.],
           [ 0.,  0.]])
    """
    theta = _check_theta(theta, mdp)
    pi, _, _, adv, eta = _softmax_parts(mdp, theta, "policy_gradient", episodic=True)
    return eta[:, None] * pi * adv


def direct_policy_gradient(mdp, pi):
    r"""Exact gradient of :math:`J(\pi) = \mu^\top V^\pi` in the direct parametrisation (pi as a free matrix).

    .. math::

        \frac{\partial J}{\partial\pi(a|s)} = \frac{1}{1-\gamma}\, d^\pi_\mu(s)\, Q^\pi(s,a).

    This is **Q, not A**: it differentiates :math:`\mu^\top(I-\gamma P_\pi)^{-1}r_\pi`
    as a function of an unconstrained (S, A) matrix. Along directions tangent to
    the simplex (rows summing to 0) Q and A give the same directional derivative.

    Parameters
    ----------
    mdp : TabularMDP
        With ``gamma < 1``, or ``gamma == 1`` with terminal states (then pi must be proper).
    pi : array_like, shape (S, A)

    Returns
    -------
    ndarray, shape (S, A)

    References
    ----------
    Agarwal et al., JMLR 2021, Sec. 4 (direct parametrisation; eq. numbering as in arXiv 1908.00261v5).

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), R=[[1.0, 0.0]], gamma=0.5)
    >>> direct_policy_gradient(mdp, [[0.5, 0.5]])     # Q = (1.5, 0.5), / (1 - 0.5)
    array([[3., 1.]])
    """
    pi = _v.check_policy(pi, mdp)
    _v.check_infinite_horizon(mdp, "direct_policy_gradient", episodic=True)
    _, Q, eta = _evaluate(mdp, pi, what="direct_policy_gradient")
    return eta[:, None] * Q


def _check_reg(reg):
    return _v.check_real(reg, "reg", low=0.0)


def log_barrier_objective(mdp, theta, reg):
    r"""Agarwal et al.'s log-barrier (relative-entropy) regularised objective.

    .. math::

        L_\lambda(\theta) = J(\theta) - \lambda\, E_{s\sim\mathrm{Unif}_S}
            \mathrm{KL}(\mathrm{Unif}_A \,\|\, \pi_\theta(\cdot|s))
          = J(\theta) + \frac{\lambda}{SA}\sum_{s,a}\log\pi_\theta(a|s) + \lambda\log A .

    Parameters
    ----------
    mdp : TabularMDP
        With ``gamma < 1``, or ``gamma == 1`` with terminal states (then pi must be proper).
    theta : array_like, shape (S, A)
    reg : float >= 0
        The regularisation strength :math:`\lambda`.

    Returns
    -------
    float

    References
    ----------
    Agarwal et al., JMLR 2021, eq. (12)-(13).

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), R=[[1.0, 0.0]], gamma=0.5)
    >>> log_barrier_objective(mdp, [[0.0, 0.0]], 0.1)  # uniform pi: the KL term is 0
    1.0
    """
    theta = _check_theta(theta, mdp, real=False)  # analytic in theta: complex step passes through
    reg = _check_reg(reg)
    S, A = mdp.shape
    J = softmax_objective(mdp, theta)
    L = J + reg / (S * A) * np.sum(log_softmax(theta)) + reg * np.log(A)
    return L if np.iscomplexobj(L) else float(L)


def log_barrier_gradient(mdp, theta, reg):
    r"""Exact gradient of :func:`log_barrier_objective` in the logits.

    .. math::

        \frac{\partial L_\lambda}{\partial\theta_{s,a}}
          = \frac{1}{1-\gamma} d^{\pi_\theta}_\mu(s)\pi_\theta(a|s)A^{\pi_\theta}(s,a)
            + \frac{\lambda}{S}\Big(\frac{1}{A} - \pi_\theta(a|s)\Big).

    Parameters
    ----------
    mdp : TabularMDP
        With ``gamma < 1``, or ``gamma == 1`` with terminal states (then pi must be proper).
    theta : array_like, shape (S, A)
    reg : float >= 0

    Returns
    -------
    ndarray, shape (S, A)

    References
    ----------
    Agarwal et al., JMLR 2021, eq. (14).

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), R=[[0.0, 0.0]], gamma=0.5)
    >>> log_barrier_gradient(mdp, [[np.log(3.0), 0.0]], 1.0)   # pulls pi = (3/4, 1/4) to uniform
    array([[-0.25,  0.25]])
    """
    theta = _check_theta(theta, mdp)
    reg = _check_reg(reg)
    pi, _, _, adv, eta = _softmax_parts(mdp, theta, "log_barrier_gradient", episodic=True)
    S, A = mdp.shape
    return eta[:, None] * pi * adv + (reg / S) * (1.0 / A - pi)


def fisher_information(mdp, theta):
    r"""The policy's Fisher information matrix for tabular softmax logits, as its S diagonal blocks.

    .. math::

        F(\theta) = E_{s\sim d^{\pi_\theta}_\mu} E_{a\sim\pi_\theta}
            [\nabla\log\pi_\theta(a|s)\nabla\log\pi_\theta(a|s)^\top],
        \qquad F_s = d^{\pi_\theta}_\mu(s)\,(\mathrm{diag}\,\pi_s - \pi_s\pi_s^\top).

    F is block diagonal in the row-major flattening of theta;
    ``scipy.linalg.block_diag(*blocks)`` is the full (SA, SA) matrix.

    Parameters
    ----------
    mdp : TabularMDP
        With ``gamma < 1``.
    theta : array_like, shape (S, A)

    Returns
    -------
    blocks : ndarray, shape (S, A, A)

    References
    ----------
    Agarwal et al., JMLR 2021, eq. (15); Kakade, "A Natural Policy Gradient", NeurIPS 2001.

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), R=[[1.0, 0.0]], gamma=0.5)
    >>> fisher_information(mdp, [[0.0, 0.0]])
    array([[[ 0.25, -0.25],
            [-0.25,  0.25]]])
    """
    theta = _check_theta(theta, mdp)
    _, _, _, _, eta = _softmax_parts(mdp, theta, "fisher_information")
    d = (1.0 - mdp.gamma) * eta
    pi = softmax(theta)
    eye = np.eye(mdp.n_actions)
    return d[:, None, None] * (pi[:, :, None] * eye - pi[:, :, None] * pi[:, None, :])


def natural_policy_gradient(mdp, theta):
    r"""The natural policy gradient direction for tabular softmax logits, in closed form.

    .. math::

        F(\theta)^\dagger \nabla_\theta J(\theta)
          = \frac{1}{1-\gamma}\Big(A^{\pi_\theta}(s,a) - \frac1A\sum_b A^{\pi_\theta}(s,b)\Big)
        \quad\text{on states with } d^{\pi_\theta}_\mu(s) > 0 .

    This is the minimum-norm solution (the uniform action mean, not the
    :math:`\pi`-weighted one, which is 0). It differs from Agarwal's update
    direction :math:`A/(1-\gamma)` by a per-state constant, so it gives the same
    policy. It is returned on **every** state, including those with d(s) = 0
    where the pseudo-inverse itself is 0: NPG's update needs no visitation.

    Parameters
    ----------
    mdp : TabularMDP
        With ``gamma < 1``.
    theta : array_like, shape (S, A)

    Returns
    -------
    ndarray, shape (S, A)

    References
    ----------
    Agarwal et al., JMLR 2021, eq. (15)-(16) and Lemma 5.1; Kakade, NeurIPS 2001.

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), R=[[1.0, 0.0]], gamma=0.5)
    >>> natural_policy_gradient(mdp, [[0.0, 0.0]])
    array([[ 1., -1.]])
    """
    theta = _check_theta(theta, mdp)
    _v.check_infinite_horizon(mdp, "natural_policy_gradient")
    pi = softmax(theta)
    V, Q, _ = _evaluate(mdp, pi, visitation=False)
    adv = _advantage(pi, Q)
    return (adv - adv.mean(axis=1, keepdims=True)) / (1.0 - mdp.gamma)


def finite_horizon_policy_gradient(mdp, theta, horizon):
    r"""Exact gradient of the finite-horizon objective of one stationary softmax policy.

    With :math:`J_H(\theta) = E[\sum_{t=0}^{H-1}\gamma^t r(s_t,a_t)]`, :math:`s_0\sim\mu`,
    the same :math:`\pi_\theta` at every step, and any gamma in [0, 1]:

    .. math::

        \frac{\partial J_H}{\partial\theta_{s,a}}
          = \sum_{t=0}^{H-1}\gamma^t d_t(s)\,\pi_\theta(a|s)\,A_t(s,a),
        \qquad A_t = Q_t - V_t,

    where :math:`d_t` is the undiscounted law of :math:`s_t` and :math:`Q_t, V_t` are
    the values of the remaining H - t steps (:func:`~tabular_rl.finite_horizon_values`).
    This is the expectation of every REINFORCE estimator in :func:`reinforce_gradient`.

    Parameters
    ----------
    mdp : TabularMDP
    theta : array_like, shape (S, A)
    horizon : int >= 0

    Returns
    -------
    ndarray, shape (S, A)

    References
    ----------
    Sutton et al., NeurIPS 1999 (policy-gradient theorem), finite-horizon form;
    docs/guide/policy_gradients.md#finite-horizon-gradient.

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), R=[[1.0, 0.0]], gamma=0.5)
    >>> finite_horizon_policy_gradient(mdp, [[0.0, 0.0]], 2)     # (1 + 0.5) * 1/2 * 1/2
    array([[ 0.375, -0.375]])
    """
    theta = _check_theta(theta, mdp)
    horizon = _v.check_int(horizon, "horizon", min_value=0)
    pi = softmax(theta)
    V, Q = _finite_horizon_backward(mdp, pi, horizon)
    d, _ = _kernels.forward_distributions(mdp, pi, horizon, mdp.mu)
    disc = mdp.gamma ** np.arange(horizon)
    adv = Q - V[:horizon, :, None]
    return pi * np.einsum("t,ts,tsa->sa", disc, d, adv)


@dataclasses.dataclass(frozen=True, eq=False)
class PolicyOptimizationHistory:
    r"""The iterates of an exact policy-optimisation loop (read-only arrays).

    Index k = 0..n_iterations; entry 0 is the starting point.

    Attributes
    ----------
    theta : ndarray, shape (S, A)
        The final logits.
    thetas : ndarray, shape (n_iterations + 1, S, A)
    policies : ndarray, shape (n_iterations + 1, S, A)
        :math:`\pi_k = \mathrm{softmax}(\theta_k)`.
    V : ndarray, shape (n_iterations + 1, S)
        :math:`V^{\pi_k}` (every start state, for per-state monotonicity).
    J : ndarray, shape (n_iterations + 1,)
        :math:`\mu^\top V^{\pi_k}` (the ascended objective without any regulariser).
    grad_norms : ndarray, shape (n_iterations + 1,)
        Euclidean norm of the gradient of the ascended objective at :math:`\theta_k`
        (for NPG: of the vanilla gradient :math:`\nabla_\theta J`).
    step_size : float

    Examples
    --------
    :func:`policy_gradient_ascent` and :func:`natural_policy_gradient_ascent` return one.
    One state, two actions paying 1 and 0, gamma = 0.5, one step of size 1 from the
    uniform policy (J = 0.5 / 0.5 = 1). The gradient is
    d(s) pi(a|s) A(s, a) / (1 - gamma) = 2 * 0.5 * (0.5, -0.5) = (0.5, -0.5).

    >>> import numpy as np
    >>> from tabular_rl import TabularMDP, policy_gradient_ascent
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), R=[[1.0, 0.0]], gamma=0.5)
    >>> hist = policy_gradient_ascent(mdp, n_iterations=1, step_size=1.0)
    >>> hist.thetas[:, 0]                                   # 0, then 0 + 1 * gradient
    array([[ 0. ,  0. ],
           [ 0.5, -0.5]])
    >>> hist.policies[1, 0]                                 # softmax: e / (1 + e), 1 / (1 + e)
    array([0.73105858, 0.26894142])
    >>> hist.J, round(float(hist.grad_norms[0]), 4)        # J_1 = 2 * 0.731; |(0.5, -0.5)| = sqrt(1/2)
    (array([1.        , 1.46211716]), 0.7071)
    """

    theta: np.ndarray
    thetas: np.ndarray
    policies: np.ndarray
    V: np.ndarray
    J: np.ndarray
    grad_norms: np.ndarray
    step_size: float


def _check_loop(mdp, theta0, n_iterations, what):
    _v.check_infinite_horizon(mdp, what)
    n_iterations = _v.check_int(n_iterations, "n_iterations", min_value=0)
    theta = np.zeros(mdp.shape) if theta0 is None else _check_theta(theta0, mdp, "theta0").copy()
    return theta, n_iterations


def _history(thetas, policies, Vs, Js, norms, step_size):
    return PolicyOptimizationHistory(
        theta=_readonly(thetas[-1]),
        thetas=_readonly(thetas),
        policies=_readonly(policies),
        V=_readonly(Vs),
        J=_readonly(Js),
        grad_norms=_readonly(norms),
        step_size=float(step_size),
    )


def policy_gradient_ascent(mdp, *, n_iterations=100, step_size=None, theta0=None, reg=0.0):
    r"""Exact softmax policy-gradient ascent, :math:`\theta_{k+1} = \theta_k + \eta\nabla_\theta L(\theta_k)`.

    The ascended objective is :math:`J(\theta)` (``reg = 0``) or Agarwal's
    log-barrier regularised :math:`L_\lambda` (``reg`` = :math:`\lambda > 0`). Every
    gradient is exact (:func:`policy_gradient`, :func:`log_barrier_gradient`).

    With rewards in [0, 1], J is :math:`8/(1-\gamma)^3`-smooth, so the default step
    :math:`\eta = (1-\gamma)^3/8` gives the ascent lemma
    :math:`J_{k+1} - J_k \ge (\eta/2)\|\nabla J_k\|^2` and monotone J. For other
    rewards the default scales by the reward span: :math:`\eta = (1-\gamma)^3 / (8\,(\max r - \min r))`
    (the gradient only sees advantages, which do not change when r is shifted).

    Parameters
    ----------
    mdp : TabularMDP
        With ``gamma < 1``.
    n_iterations : int >= 0
    step_size : float > 0, optional
    theta0 : array_like, shape (S, A), optional
        Default zeros (the uniform policy).
    reg : float >= 0
        Log-barrier strength; with ``reg > 0`` the default step is :math:`1/\beta_\lambda`,
        :math:`\beta_\lambda = 8\,\mathrm{span}(r)/(1-\gamma)^3 + 2\lambda/S` (Agarwal Lemma D.4).

    Returns
    -------
    PolicyOptimizationHistory

    References
    ----------
    Mei, Xiao, Szepesvari, Schuurmans, "On the Global Convergence Rates of Softmax Policy Gradient Methods",
    ICML 2020, Lemma 7 and Theorem 4; Agarwal et al., JMLR 2021, Lemma D.4 and Theorem 5.2.

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), R=[[1.0, 0.0]], gamma=0.5)
    >>> hist = policy_gradient_ascent(mdp, n_iterations=200, step_size=1.0)
    >>> bool(np.all(np.diff(hist.J) > 0)), round(float(hist.J[-1]), 3)
    (True, 1.99)
    """
    theta, n_iterations = _check_loop(mdp, theta0, n_iterations, "policy_gradient_ascent")
    reg = _check_reg(reg)
    S = mdp.n_states
    if step_size is None:
        span = float(np.max(mdp.R) - np.min(mdp.R))
        beta = 8.0 * (span if span > 0 else 1.0) / (1.0 - mdp.gamma) ** 3 + 2.0 * reg / S
        step_size = 1.0 / beta
    step_size = _v.check_real(step_size, "step_size", low=0.0, low_open=True)
    thetas, policies, Vs, Js, norms = [], [], [], [], []
    for k in range(n_iterations + 1):
        pi = softmax(theta)
        V, Q, eta = _evaluate(mdp, pi)
        grad = eta[:, None] * pi * _advantage(pi, Q)
        if reg > 0:
            grad = grad + (reg / S) * (1.0 / mdp.n_actions - pi)
        thetas.append(theta)
        policies.append(pi)
        Vs.append(V)
        Js.append(mdp.mu @ V)
        norms.append(np.linalg.norm(grad))
        if k < n_iterations:
            theta = theta + step_size * grad
    return _history(np.array(thetas), np.array(policies), np.array(Vs), np.array(Js), np.array(norms), step_size)


def natural_policy_gradient_ascent(mdp, *, step_size, n_iterations=100, theta0=None):
    r"""Exact natural policy gradient for softmax logits (Agarwal et al.'s NPG / soft policy iteration).

    .. math::

        \theta_{k+1} = \theta_k + \frac{\eta}{1-\gamma} A^{(k)},
        \qquad
        \pi_{k+1}(a|s) = \frac{\pi_k(a|s)\exp(\eta A^{(k)}(s,a)/(1-\gamma))}{Z_k(s)},

    the same update as :math:`\theta + \eta F^\dagger\nabla J` (up to per-state constants,
    see :func:`natural_policy_gradient`), independent of the visitation. From
    :math:`\theta_0 = 0` and rewards in [0, 1], for every start distribution
    :math:`\rho` and every k >= 1:
    :math:`V^*(\rho) - V^{(k)}(\rho) \le \log A/(\eta k) + 1/((1-\gamma)^2 k)` (Theorem 5.3),
    and :math:`V^{(k)}(s)` is non-decreasing at every state (Lemma 5.2).

    Parameters
    ----------
    mdp : TabularMDP
        With ``gamma < 1``.
    step_size : float > 0
        :math:`\eta`.
    n_iterations : int >= 0
    theta0 : array_like, shape (S, A), optional
        Default zeros (uniform policy, as Theorem 5.3 assumes).

    Returns
    -------
    PolicyOptimizationHistory
        ``grad_norms`` holds the norm of the vanilla gradient :math:`\nabla_\theta J` at each iterate.

    References
    ----------
    Agarwal et al., JMLR 2021, Lemma 5.1, Lemma 5.2 and Theorem 5.3; Kakade, NeurIPS 2001.

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), R=[[1.0, 0.0]], gamma=0.5)
    >>> hist = natural_policy_gradient_ascent(mdp, step_size=1.0, n_iterations=5)
    >>> hist.J.round(4)
    array([1.    , 1.7616, 1.964 , 1.9951, 1.9993, 1.9999])
    """
    theta, n_iterations = _check_loop(mdp, theta0, n_iterations, "natural_policy_gradient_ascent")
    step_size = _v.check_real(step_size, "step_size", low=0.0, low_open=True)
    thetas, policies, Vs, Js, norms = [], [], [], [], []
    for k in range(n_iterations + 1):
        pi = softmax(theta)
        V, Q, eta = _evaluate(mdp, pi)
        adv = _advantage(pi, Q)
        thetas.append(theta)
        policies.append(pi)
        Vs.append(V)
        Js.append(mdp.mu @ V)
        norms.append(np.linalg.norm(eta[:, None] * pi * adv))
        if k < n_iterations:
            theta = theta + step_size * adv / (1.0 - mdp.gamma)
    return _history(np.array(thetas), np.array(policies), np.array(Vs), np.array(Js), np.array(norms), step_size)


def npg_log_normalizers(mdp, theta, step_size):
    r"""NPG's per-state log normalisers :math:`\log Z(s) = \log\sum_a\pi(a|s)\exp(\eta A(s,a)/(1-\gamma))`.

    Lemma 5.2 of Agarwal et al.: :math:`V^{(k+1)}(\mu) - V^{(k)}(\mu) \ge \frac{1-\gamma}{\eta} E_{s\sim\mu}\log Z_k(s) \ge 0`
    (:math:`\log Z \ge 0` by Jensen since :math:`\sum_a\pi A = 0`). Computed in log space.

    Parameters
    ----------
    mdp : TabularMDP
        With ``gamma < 1``.
    theta : array_like, shape (S, A)
    step_size : float > 0

    Returns
    -------
    ndarray, shape (S,)

    References
    ----------
    Agarwal et al., JMLR 2021, Lemma 5.1-5.2.

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import TabularMDP
    >>> mdp = TabularMDP(np.ones((1, 2, 1)), R=[[1.0, 0.0]], gamma=0.5)
    >>> npg_log_normalizers(mdp, [[0.0, 0.0]], 1.0).round(6)       # log cosh(1)
    array([0.433781])
    """
    theta = _check_theta(theta, mdp)
    step_size = _v.check_real(step_size, "step_size", low=0.0, low_open=True)
    _v.check_infinite_horizon(mdp, "npg_log_normalizers")
    pi = softmax(theta)
    Q = _evaluate(mdp, pi, visitation=False)[1]
    return logsumexp(log_softmax(theta) + step_size * _advantage(pi, Q) / (1.0 - mdp.gamma), axis=1)


# --------------------------------------------------------------------------- REINFORCE


def _check_baseline(baseline, S, H):
    """A baseline of shape (S,) or (H, S), returned as (H, S)."""
    b = _v.as_float_array(baseline, "baseline")
    if b.shape == (S,):
        b = np.broadcast_to(b, (H, S))
    elif b.shape != (H, S):
        raise ValueError(
            f"baseline must have shape ({S},) (per state) or ({H}, {S}) (per step and state), got {b.shape}"
        )
    _v.check_finite(b, "baseline")
    return b


def reinforce_gradient_samples(trajectories, theta, gamma, *, method="reward_to_go", baseline=None):
    r"""Per-episode REINFORCE gradient samples for tabular softmax logits, shape (N, S, A).

    For an episode :math:`s_0, a_0, r_0, \dots, s_H` and
    :math:`\nabla_\theta\log\pi_\theta(a|s) = e_s\otimes(e_a - \pi_\theta(\cdot|s))`:

    .. math::

        g_{\text{full\_return}} &= \sum_{t=0}^{H-1}\nabla\log\pi(a_t|s_t)\sum_{t'=0}^{H-1}\gamma^{t'}r_{t'}, \\
        g_{\text{reward\_to\_go}} &= \sum_{t=0}^{H-1}\nabla\log\pi(a_t|s_t)\,\gamma^t\big(G_t - b_t(s_t)\big),
        \qquad G_t = \sum_{t'=t}^{H-1}\gamma^{t'-t}r_{t'}, \\
        g_{\text{reward\_to\_go\_without\_gamma\_t}} &=
            \sum_{t=0}^{H-1}\nabla\log\pi(a_t|s_t)\big(G_t - b_t(s_t)\big).

    The first two are unbiased for :func:`finite_horizon_policy_gradient`, the
    gradient of :math:`J_H = E[\sum_{t<H}\gamma^t r_t]`: the :math:`\gamma^t` factor
    belongs to the discounted objective's gradient (causality drops the rewards
    before t; a baseline that does not depend on :math:`a_t` adds zero mean). The
    third drops :math:`\gamma^t`, as most implementations (and the GAE paper's
    :math:`g^\gamma`) do: it is **biased** for the discounted objective's gradient
    when gamma < 1 and H >= 2 (Thomas 2014; Nota & Thomas 2020); it is offered
    under this name for comparison.

    Parameters
    ----------
    trajectories : Trajectories
        N episodes of H steps, sampled from :math:`\pi_\theta` (stationary).
    theta : array_like, shape (S, A)
        Softmax logits of the policy that generated the episodes.
    gamma : float in [0, 1]
    method : {"full_return", "reward_to_go", "reward_to_go_without_gamma_t"}
    baseline : array_like, shape (S,) or (H, S), optional
        :math:`b(s)` or :math:`b_t(s)`; only with the reward-to-go methods.

    Returns
    -------
    ndarray, shape (N, S, A)

    Raises
    ------
    ValueError
        Unknown ``method``; a baseline with ``"full_return"``; a baseline of the wrong shape;
        state or action indices outside ``theta``'s shape.
    TypeError
        If ``trajectories`` is not a :class:`~tabular_rl.Trajectories`.

    References
    ----------
    Williams, "Simple statistical gradient-following algorithms", Machine Learning 1992; Thomas, "Bias in natural
    actor-critic algorithms", ICML 2014; Nota & Thomas, "Is the policy gradient a gradient?", AAMAS 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import Trajectories
    >>> tr = Trajectories(states=[[0, 0, 0]], actions=[[0, 1]], rewards=[[1.0, 2.0]])
    >>> reinforce_gradient_samples(tr, [[0.0, 0.0]], 0.5)[0]      # (1/2)(1 + 0.5*2) - (1/2)(0.5*2)
    array([[ 0.5, -0.5]])
    """
    if method not in _REINFORCE_METHODS:
        raise ValueError(f"method must be one of {_REINFORCE_METHODS}, got {method!r}")
    theta = _v.as_float_array(theta, "theta", ndim=2)
    _v.check_finite(theta, "theta")
    S, A = theta.shape
    if A < 1:
        raise ValueError(f"theta must have at least one action column, got shape {theta.shape}")
    try:
        check_trajectories(trajectories, (S, A))
    except ValueError as exc:
        # S and A come from theta here (there is no MDP): the culprit may be either argument.
        raise ValueError(f"{exc} (S, A) = {theta.shape} is the shape of theta") from None
    gamma = _v.check_real(gamma, "gamma", low=0.0, high=1.0)
    N, H = trajectories.n_episodes, trajectories.horizon
    r = trajectories.rewards
    disc = gamma ** np.arange(H)
    # G_t = r_t + gamma G_{t+1} (backward, no division by gamma^t); gamma^t G_t = sum_{t' >= t} gamma^{t'} r_{t'}.
    G = np.zeros((N, H))
    running = np.zeros(N)
    for t in range(H - 1, -1, -1):
        running = r[:, t] + gamma * running
        G[:, t] = running
    s, a = trajectories.states[:, :H], trajectories.actions
    if method == "full_return":
        if baseline is not None:
            raise ValueError("baseline is only used with method='reward_to_go' or 'reward_to_go_without_gamma_t'")
        W = np.repeat(G[:, :1], H, axis=1)
    else:
        b = np.zeros((H, S)) if baseline is None else _check_baseline(baseline, S, H)
        W = G - b[np.arange(H)[None, :], s]
        if method == "reward_to_go":
            W = disc * W
    pi = softmax(theta)
    out = np.zeros((N, S, A), dtype=np.result_type(theta, W))
    n = np.broadcast_to(np.arange(N)[:, None], (N, H))
    np.add.at(out, (n, s, a), W)
    np.add.at(out, (n, s), -W[..., None] * pi[s])
    return out


def reinforce_gradient(trajectories, theta, gamma, *, method="reward_to_go", baseline=None):
    r"""The REINFORCE estimate of the finite-horizon softmax gradient: the mean of :func:`reinforce_gradient_samples`.

    .. math::

        \hat g = \frac1N\sum_{i=1}^N \sum_{t=0}^{H-1}\nabla_\theta\log\pi_\theta(a^i_t|s^i_t)\,\gamma^t\big(G^i_t - b_t(s^i_t)\big)

    (for the default ``method="reward_to_go"``). Unbiased for
    :func:`finite_horizon_policy_gradient` with ``"full_return"`` and
    ``"reward_to_go"``; see :func:`reinforce_gradient_samples` for every method,
    the :math:`\gamma^t` convention and the biased ``"reward_to_go_without_gamma_t"``.

    Parameters
    ----------
    trajectories, theta, gamma, method, baseline
        As in :func:`reinforce_gradient_samples`.

    Returns
    -------
    ndarray, shape (S, A)

    References
    ----------
    Williams, Machine Learning 1992; Sutton & Barto (2018), Sec. 13.3-13.4.

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import Trajectories
    >>> tr = Trajectories(states=[[0, 0], [0, 0]], actions=[[0], [1]], rewards=[[1.0], [0.0]])
    >>> reinforce_gradient(tr, [[0.0, 0.0]], 0.9)
    array([[ 0.25, -0.25]])
    """
    g = reinforce_gradient_samples(trajectories, theta, gamma, method=method, baseline=baseline)
    return g.mean(axis=0)
