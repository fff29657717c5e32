r"""The concept registry: what each concept calls, on which inputs, against which reference, under
which tolerance, and the catalogue of known mistakes (each an implementation, tried on a failing
student's counterexample).

Everything here works on the plain arrays a student's function receives: ``P`` dense (S, A, S)
with ``P[s, a, s2]`` = P(s2|s, a), ``R`` the expected reward (S, A), ``pi`` (S, A) rows on the
simplex. The references are calls into the library; the mistakes are written out in NumPy as a
student would write them.
"""

import dataclasses
import typing

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .. import strategies as trs
from ..control import policy_iteration
from ..advantage_estimation import gae as _gae
from ..advantage_estimation import n_step_advantages
from ..evaluation import discounted_visitation, finite_horizon_values, q_values, policy_evaluation
from ..importance_sampling import ordinary_importance_sampling, per_decision_importance_sampling
from ..importance_sampling import weighted_importance_sampling
from ..maxent import maxent_backward_pass, maxent_forward_pass
from ..mdp import TabularMDP
from ..policies import softmax
from ..policy_gradients import policy_gradient
from ..ppo import ppo_clip_objective
from ..sampling import Trajectories, enumerate_trajectories

__all__ = ["Concept", "Mistake", "Tolerance", "TOLERANCES", "Variants", "concepts", "get_concept"]


# ------------------------------------------------------------------------------------ tolerances
def _r_max(x):
    return float(np.max(np.abs(x["R"]), initial=0.0))


def _horizon_eff(x):
    g = x["gamma"]
    return 1.0 / (1.0 - g) if g < 1 else 1.0


@dataclasses.dataclass(frozen=True, eq=False)
class Tolerance:
    r"""A published tolerance: ``|got - expected| <= atol * scale + rtol * |expected|`` entrywise.

    Attributes
    ----------
    name : str
    rtol : float
        Relative part.
    atol : float
        Absolute part, per unit of ``scale``.
    scale : str
        The problem's scale the absolute part is multiplied by (a formula in the inputs).
    reason : str
        Why this much slack: what a correct implementation's error can reach.
    scale_of : callable or None
        ``scale_of(inputs) -> float``; None for the scale 1.

    Examples
    --------
    >>> from tabular_rl import grading
    >>> tol = grading.TOLERANCES["values"]
    >>> tol.rtol, tol.atol, tol.scale
    (1e-06, 1e-06, '(1 + max|R|) / (1 - gamma)')
    >>> tol.absolute({"R": [[2.0]], "gamma": 0.5})     # 1e-6 * 3 / 0.5
    6e-06
    """

    name: str
    rtol: float
    atol: float
    scale: str
    reason: str
    scale_of: typing.Optional[typing.Callable] = None

    def absolute(self, inputs, atol=None):
        """The absolute tolerance ``atol * scale`` on these inputs (``atol`` overrides the coefficient)."""
        coef = self.atol if atol is None else float(atol)
        return coef * (1.0 if self.scale_of is None else float(self.scale_of(inputs)))


#: The tolerances: the library's own (its tests assert identities to these) and the slacker ones a
#: student's implementation is graded under, each with its reason.
TOLERANCES = {
    t.name: t
    for t in [
        Tolerance(
            "exact_solve", 0.0, 1e-10, "(1 + max|R|) / (1 - gamma)",
            "the library's own tests: one LU solve of I - gamma P_pi is accurate to about eps * kappa(I - gamma "
            "P_pi) <= eps (1 + gamma) / (1 - gamma) relative to |V| <= max|R| / (1 - gamma); 1e-10 leaves room "
            "for S, A and gamma up to 0.99. Not used to grade students (an iterative method cannot reach it).",
            lambda x: (1 + _r_max(x)) * _horizon_eff(x),
        ),
        Tolerance(
            "two_solves", 0.0, 1e-9, "(1 + max|R|) / (1 - gamma)^2",
            "the library's own tests for quantities built from two solves (a visitation times an advantage, "
            "the performance difference): the error of one solve is amplified by the other's 1 / (1 - gamma).",
            lambda x: (1 + _r_max(x)) * _horizon_eff(x) ** 2,
        ),
        Tolerance(
            "values", 1e-6, 1e-6, "(1 + max|R|) / (1 - gamma)",
            "students' iterative methods stop at a tolerance: value iteration stopped when ||V_k+1 - V_k|| < eps "
            "is within gamma eps / (1 - gamma) of V*, so a correct implementation stopped at eps = 1e-6 "
            "(or 1e-8) passes at every gamma, while every catalogued mistake is off by a multiple of the values.",
            lambda x: (1 + _r_max(x)) * _horizon_eff(x),
        ),
        Tolerance(
            "episodic_values", 1e-6, 1e-6, "(1 + max|R|) (1 + max_s E[steps to a terminal state])",
            "at gamma = 1 the values scale with the episode length, not 1 / (1 - gamma): |V| <= max|R| E[T]; the "
            "expected number of steps E[T] (under the evaluated policy, or an optimal one for value iteration) "
            "takes the place of 1 / (1 - gamma), so an iterative evaluation stopped at ||V_k+1 - V_k|| < 1e-8 "
            "passes, as in the discounted case.",
            lambda x: (1 + _r_max(x)) * (1 + _expected_steps(x)),
        ),
        Tolerance(
            "gradients", 1e-6, 1e-6, "(1 + max|R|) / (1 - gamma)^2",
            "the softmax gradient d pi A / (1 - gamma) is bounded by 2 max|R| / (1 - gamma)^2 and combines two "
            "solves (d and V); a student's iterative evaluation inside it errs on that scale.",
            lambda x: (1 + _r_max(x)) * _horizon_eff(x) ** 2,
        ),
        Tolerance(
            "distributions", 1e-6, 1e-6, "1",
            "a normalised visitation or a policy sums to 1 per row: a power series truncated at gamma^k < 1e-8 "
            "or an iterative solve errs by less than 1e-6.",
        ),
        Tolerance(
            "counts", 1e-6, 1e-6, "max(1, horizon)",
            "MaxEnt's D sums to the horizon H: H state distributions, each exact to round-off.",
            lambda x: max(1, int(x["horizon"])),
        ),
        Tolerance(
            "samples", 1e-5, 1e-5,
            "(1 + max|entries|) (1 + max ratio) length (ratio: PPO's largest ratio, or IS's largest possible "
            "trajectory weight; else 1)",
            "closed-form sums over sample arrays (GAE, PPO's clipped mean, importance sampling) are exact up to "
            "round-off; the slack admits float32 code (PyTorch's default, eps 1.2e-7 per operation over the "
            "segment), while every catalogued mistake is off by O(1).",
            lambda x: _sample_scale(x),
        ),
    ]
}


def _sample_scale(x):
    arrays = [np.asarray(v, dtype=np.float64) for k, v in x.items()
              if not k.startswith("_") and np.asarray(v).dtype.kind == "f" and np.asarray(v).ndim]
    size = max([a.shape[-1] for a in arrays] + [1])
    big = max([float(np.max(np.abs(a), initial=0.0)) for a in arrays] + [0.0])
    ratio = float(np.max(x["ratios"], initial=1.0)) if "ratios" in x else 1.0
    if "target" in x:  # importance weights: products of per-step ratios up to (max e / min b)^H
        H = np.asarray(x["actions"]).shape[1]
        b_min = float(np.min(x["behavior"][x["behavior"] > 0], initial=1.0))
        ratio = (1.0 / b_min) ** H
    return (1.0 + big) * (1.0 + ratio) * size


def _episodic_mdp(x, R=None, gamma=1.0):
    return TabularMDP(x["P"], x["R"] if R is None else R, gamma, terminal=x["terminal"])


def _expected_steps(x):
    """max_s E[steps to a terminal state] under x["pi"], or under an optimal policy when there is none."""
    mdp = _episodic_mdp(x)
    pi = x["pi"] if "pi" in x else policy_iteration(mdp).policy
    steps = policy_evaluation(mdp.with_(R=(~mdp.terminal).astype(np.float64)), pi)
    return float(np.max(steps, initial=0.0))


# ------------------------------------------------------------------------------------- mistakes
class Variants(dict):
    """A mistake's outputs for several settings of a knob (label -> output); the diagnosis names the one that
    matches. Returned by mistakes such as "stopped after k sweeps".

    Examples
    --------
    >>> import numpy as np
    >>> from tabular_rl import grading
    >>> sweeps = grading.concepts()["value_iteration"].mistakes[0]
    >>> out = sweeps.fn(dict(P=np.ones((1, 1, 1)), R=np.ones((1, 1)), gamma=0.5))
    >>> isinstance(out, grading.Variants), out["2 sweeps"]          # 1 + 0.5
    (True, array([1.5]))
    """


@dataclasses.dataclass(frozen=True, eq=False)
class Mistake:
    """A known mistake: a name, a one-line explanation a student can act on, and an implementation.

    Attributes
    ----------
    name : str
    explanation : str
    fn : callable
        ``fn(inputs) -> output`` (inputs: the dict the student's function was called with), or a
        :class:`Variants` of outputs.

    Examples
    --------
    >>> from tabular_rl import grading
    >>> m = grading.concepts()["gae"].mistakes[0]
    >>> m.name
    'one_minus_gamma_normalizer'
    >>> print(m)                                                     # doctest: +ELLIPSIS
    one_minus_gamma_normalizer: the k-step estimators averaged with weights (1 - gamma) lambda^(k-1): ...
    """

    name: str
    explanation: str
    fn: typing.Callable

    def __str__(self):
        return f"{self.name}: {self.explanation}"


# ------------------------------------------------------------------------------------- concepts
@dataclasses.dataclass(frozen=True, eq=False)
class Concept:
    """One gradable concept: the student's signature, inputs, reference, tolerance, comparison, mistakes.

    Attributes
    ----------
    name : str
    signature : str
        How the student's function is called, e.g. ``"fn(P, R, gamma, pi) -> V"``; arguments are
        passed positionally in this order, as plain NumPy arrays and Python floats/ints.
    layouts : str
        Shapes and conventions of the arguments and of the return value.
    reference : str
        The library call that computes the expected answer.
    tolerance : Tolerance
    comparison : str
        How the answer is compared (entrywise within the tolerance, or a custom rule).
    mistakes : tuple of Mistake
        The catalogue tried on a failing student's counterexample.
    inputs : hypothesis strategy
        Draws the inputs as a dict (keys in the signature's order; keys starting with ``_`` are
        context that is not passed to the student).
    expected_fn : callable
        ``expected_fn(inputs) -> expected output``.
    output : {"array", "scalar", "policy"}
    shape_of : callable
        ``shape_of(inputs) -> tuple``: the shape the output must have.
    identity : callable or None
        ``identity(inputs, got, call) -> str``: the identity the student's output violates, for the report.
    compare_fn : callable or None
        Custom comparison ``(expected, got, inputs, rtol, atol) -> None or (index, message)``.

    Examples
    --------
    >>> from tabular_rl import grading
    >>> c = grading.concepts()["policy_evaluation"]
    >>> c.signature, c.tolerance.name
    ('fn(P, R, gamma, pi) -> V', 'values')
    >>> [m.name for m in c.mistakes]
    ['reward_discounted', 'fixed_sweeps', 'uniform_policy']
    >>> print(c.describe())                                          # doctest: +ELLIPSIS
    policy_evaluation: fn(P, R, gamma, pi) -> V
      layouts:    P (S, A, S) with P[s, a, s2] = P(s2|s, a); R (S, A) expected reward r(s, a); ...
      reference:  tabular_rl.policy_evaluation(TabularMDP(P, R, gamma), pi)  (one LU solve of I - gamma P_pi)
      tolerance:  values: |got - expected| <= 1e-06 * scale + 1e-06 * |expected|, scale = (1 + max|R|) / (1 - gamma)
      comparison: entrywise within the tolerance
      known mistakes:
        - reward_discounted: gamma applied to the reward too (V = gamma V^pi): ...
        - fixed_sweeps: iterative evaluation stopped after a fixed number of sweeps from V = 0; ...
        - uniform_policy: evaluated the uniform random policy: the policy pi was not used in r_pi and P_pi
    """

    name: str
    signature: str
    layouts: str
    reference: str
    tolerance: Tolerance
    comparison: str
    mistakes: tuple
    inputs: object
    expected_fn: typing.Callable
    output: str
    shape_of: typing.Callable
    identity: typing.Optional[typing.Callable] = None
    compare_fn: typing.Optional[typing.Callable] = None

    @property
    def arg_names(self):
        """The argument names of the signature, in call order."""
        return [a.strip() for a in self.signature[self.signature.index("(") + 1:self.signature.index(")")].split(",")]

    def describe(self):
        """The concept's documentation as text: signature, layouts, reference, tolerance, comparison, mistakes."""
        tol = self.tolerance
        lines = [
            f"{self.name}: {self.signature}",
            f"  layouts:    {self.layouts}",
            f"  reference:  {self.reference}",
            f"  tolerance:  {tol.name}: |got - expected| <= {tol.atol:g} * scale + {tol.rtol:g} * |expected|, "
            f"scale = {tol.scale}",
            f"  comparison: {self.comparison}",
            "  known mistakes:",
        ]
        lines += [f"    - {m}" for m in self.mistakes]
        return "\n".join(lines)

    def __str__(self):
        return self.describe()


# ---------------------------------------------------------------------------- shared helpers
def _mdp(x, *, with_R=True):
    R = x["R"] if with_R else np.zeros(x["P"].shape[:2])
    return TabularMDP(x["P"], R, x["gamma"], mu=x.get("mu"))


def _P_pi(P, pi):
    return np.einsum("sa,sat->st", pi, P)


def _r_pi(R, pi):
    return np.einsum("sa,sa->s", pi, R)


def _solve(P, R, gamma, pi, rhs_scale=1.0):
    S = P.shape[0]
    return np.linalg.solve(np.eye(S) - gamma * _P_pi(P, pi), rhs_scale * _r_pi(R, pi))


def _optimal(x):
    return policy_iteration(_mdp(x))


@st.composite
def _mdp_inputs(draw, keys, *, max_states=4, max_actions=3):
    """Plain-array MDP inputs (P dense (S, A, S), R (S, A), gamma, mu, pi, theta), in ``keys``' order."""
    mdp = draw(trs.mdps(max_states=max_states, max_actions=max_actions, sparse=False,
                        reward_shape="state_action"))
    S, A = mdp.shape
    pool = dict(P=mdp.todense(), R=np.array(mdp.R), gamma=float(mdp.gamma), mu=np.array(mdp.mu))
    out = {}
    for k in keys:
        if k == "pi":
            out[k] = draw(trs.policies(S, A))
        elif k == "theta":
            out[k] = draw(trs.logits((S, A), bound=4.0))
        else:
            out[k] = pool[k]
    return out


def _values_shape(x):
    return (x["P"].shape[0],)


def _sa_shape(x):
    return x["P"].shape[:2]


def _fmt(v):
    return f"{float(v):.6g}"


# ------------------------------------------------------------------------- policy evaluation
def _pe_fixed_sweeps(x):
    P, R, g, pi = x["P"], x["R"], x["gamma"], x["pi"]
    P_pi, r_pi = _P_pi(P, pi), _r_pi(R, pi)
    out, V = Variants(), np.zeros(P.shape[0])
    for k in range(1, 1001):
        V = r_pi + g * P_pi @ V
        if k <= 10 or k in (20, 50, 100, 200, 500, 1000):
            out[f"{k} sweeps"] = V.copy()
    return out


def _pe_identity(x, got, call):
    P, R, g, pi = x["P"], x["R"], x["gamma"], x["pi"]
    res = _r_pi(R, pi) + g * _P_pi(P, pi) @ got - got
    s = int(np.argmax(np.abs(res)))
    return (f"Bellman equation V = r_pi + gamma P_pi V: your V's residual is {_fmt(res[s])} at state {s} "
            f"(max-norm {_fmt(np.max(np.abs(res)))}); V^pi's is 0")


_POLICY_EVALUATION = dict(
    name="policy_evaluation",
    signature="fn(P, R, gamma, pi) -> V",
    layouts="P (S, A, S) with P[s, a, s2] = P(s2|s, a); R (S, A) expected reward r(s, a); gamma float in [0, 0.99]; "
            "pi (S, A) rows on the simplex; returns V (S,), V(s) = E[sum_t gamma^t r_t | s_0 = s] (unnormalised)",
    reference="tabular_rl.policy_evaluation(TabularMDP(P, R, gamma), pi)  (one LU solve of I - gamma P_pi)",
    tolerance="values",
    comparison="entrywise within the tolerance",
    mistakes=(
        Mistake("reward_discounted", "gamma applied to the reward too (V = gamma V^pi): the reward of step 0 is "
                "not discounted, V = r_pi + gamma P_pi V",
                lambda x: _solve(x["P"], x["R"], x["gamma"], x["pi"], rhs_scale=x["gamma"])),
        Mistake("fixed_sweeps", "iterative evaluation stopped after a fixed number of sweeps from V = 0; iterate "
                "until ||V_k+1 - V_k|| is below a tolerance (or solve the linear system)", _pe_fixed_sweeps),
        Mistake("uniform_policy", "evaluated the uniform random policy: the policy pi was not used in r_pi and P_pi",
                lambda x: _solve(x["P"], x["R"], x["gamma"], np.full(x["pi"].shape, 1.0 / x["pi"].shape[1]))),
    ),
    inputs=_mdp_inputs(["P", "R", "gamma", "pi"]),
    expected_fn=lambda x: policy_evaluation(_mdp(x), x["pi"]),
    output="array",
    shape_of=_values_shape,
    identity=_pe_identity,
)


# ------------------------------------------------------------------------------- Q values
def _q_identity(x, got, call):
    P, R, g, pi = x["P"], x["R"], x["gamma"], x["pi"]
    V = np.einsum("sa,sa->s", pi, got)
    res = R + g * P @ V - got
    s, a = np.unravel_index(int(np.argmax(np.abs(res))), res.shape)
    return (f"Q = r + gamma P (sum_a pi Q): your Q's residual is {_fmt(res[s, a])} at (s, a) = ({s}, {a}); "
            "Q^pi's is 0")


_Q_VALUES = dict(
    name="q_values",
    signature="fn(P, R, gamma, pi) -> Q",
    layouts="as policy_evaluation; returns Q (S, A), Q(s, a) = r(s, a) + gamma sum_s2 P(s2|s, a) V^pi(s2)",
    reference="tabular_rl.q_values(TabularMDP(P, R, gamma), pi)",
    tolerance="values",
    comparison="entrywise within the tolerance",
    mistakes=(
        Mistake("reward_discounted", "gamma applied to the reward too (Q = gamma Q^pi): the reward of the first "
                "step is not discounted", lambda x: x["gamma"] * q_values(_mdp(x), x["pi"])),
        Mistake("next_value_undiscounted", "gamma missing from the backup: Q = r + P V^pi instead of "
                "r + gamma P V^pi",
                lambda x: x["R"] + x["P"] @ policy_evaluation(_mdp(x), x["pi"])),
        Mistake("optimal_backup", "backed up the optimal values V* (value iteration's max) instead of V^pi: "
                "Q = r + gamma P V*", lambda x: x["R"] + x["gamma"] * x["P"] @ _optimal(x).V),
    ),
    inputs=_mdp_inputs(["P", "R", "gamma", "pi"]),
    expected_fn=lambda x: q_values(_mdp(x), x["pi"]),
    output="array",
    shape_of=_sa_shape,
    identity=_q_identity,
)


# ---------------------------------------------------------------------------- value iteration
def _vi_fixed_sweeps(x):
    P, R, g = x["P"], x["R"], x["gamma"]
    out, V = Variants(), np.zeros(P.shape[0])
    for k in range(1, 1001):
        V = (R + g * P @ V).max(axis=1)
        if k <= 10 or k in (20, 50, 100, 200, 500, 1000):
            out[f"{k} sweeps"] = V.copy()
    return out


def _vi_identity(x, got, call):
    res = (x["R"] + x["gamma"] * x["P"] @ got).max(axis=1) - got
    s = int(np.argmax(np.abs(res)))
    return (f"Bellman optimality V = max_a (r + gamma P V): your V's residual is {_fmt(res[s])} at state {s}; "
            "V*'s is 0")


_VALUE_ITERATION = dict(
    name="value_iteration",
    signature="fn(P, R, gamma) -> V_star",
    layouts="P (S, A, S), R (S, A), gamma in [0, 0.99]; returns the optimal values V* (S,)",
    reference="tabular_rl.policy_iteration(TabularMDP(P, R, gamma)).V  (exact: V^pi* by an LU solve, not an "
              "iterate)",
    tolerance="values",
    comparison="entrywise within the tolerance (a value iteration stopped at ||V_k+1 - V_k|| < 1e-6 passes)",
    mistakes=(
        Mistake("fixed_sweeps", "stopped after a fixed number of sweeps from V = 0; iterate until "
                "||V_k+1 - V_k|| < eps (1 - gamma) / (2 gamma)", _vi_fixed_sweeps),
        Mistake("reward_discounted", "gamma applied to the reward too (V = gamma V*): the backup is "
                "max_a (r + gamma P V)", lambda x: x["gamma"] * _optimal(x).V),
        Mistake("action_average", "averaged over actions instead of taking the max (evaluated the uniform "
                "random policy)",
                lambda x: _solve(x["P"], x["R"], x["gamma"], np.full(x["R"].shape, 1.0 / x["R"].shape[1]))),
    ),
    inputs=_mdp_inputs(["P", "R", "gamma"]),
    expected_fn=lambda x: _optimal(x).V,
    output="array",
    shape_of=_values_shape,
    identity=_vi_identity,
)


# --------------------------------------------------------------------------- policy iteration
def _one_hot(actions, A):
    return np.eye(A)[np.asarray(actions, dtype=np.intp)]


def _pi_compare(expected, got, x, rtol, atol):
    """Optimal with ties: the mass put on actions worse than the max of Q* costs at most the tolerance."""
    res = _optimal(x)
    V, Q = res.V, res.Q
    gap = np.einsum("sa,sa->s", got, V[:, None] - Q)
    allowed = atol + rtol * np.abs(V)
    if np.all(gap <= allowed):
        return None
    s = int(np.argmax(gap - allowed))
    a = int(np.argmax(got[s] * (V[s] - Q[s])))
    return ((s,), f"state {s}: your policy takes action {a} (probability {_fmt(got[s, a])}), whose Q*(s, a) = "
                  f"{_fmt(Q[s, a])} is below max_a Q*(s, a) = {_fmt(V[s])} by {_fmt(V[s] - Q[s, a])}; "
                  f"expected cost sum_a pi(a|s) (V*(s) - Q*(s, a)) = {_fmt(gap[s])} > allowed {_fmt(allowed[s])} "
                  f"(optimal actions here: {np.flatnonzero(V[s] - Q[s] <= allowed[s]).tolist()})")


def _pi_identity(x, got, call):
    Vpi = _solve(x["P"], x["R"], x["gamma"], got)
    V = _optimal(x).V
    s = int(np.argmax(V - Vpi))
    return (f"V^pi <= V* with equality for an optimal policy: your policy's value falls short of V* by "
            f"{_fmt(V[s] - Vpi[s])} at state {s}")


def _argmin_policy(x):
    return policy_iteration(TabularMDP(x["P"], -np.asarray(x["R"]), x["gamma"])).policy


def _one_step_policy(x):
    S, A = x["R"].shape
    Q = q_values(_mdp(x), _one_hot(np.zeros(S, dtype=np.intp), A))
    return _one_hot(np.argmax(Q, axis=1), A)


_POLICY_ITERATION = dict(
    name="policy_iteration",
    signature="fn(P, R, gamma) -> pi",
    layouts="P (S, A, S), R (S, A), gamma in [0, 0.99]; returns an optimal policy, either (S,) integer actions or "
            "(S, A) probabilities (both accepted)",
    reference="tabular_rl.policy_iteration(TabularMDP(P, R, gamma))  (its Q* decides optimality)",
    tolerance="values",
    comparison="graded as optimal with ties allowed: at every state the policy may put its mass on any action "
               "whose Q*(s, a) is within the tolerance of max_a Q*(s, a)",
    mistakes=(
        Mistake("myopic", "greedy in the immediate reward r(s, a) (as if gamma = 0): the improvement step is "
                "argmax_a Q^pi(s, a)", lambda x: _one_hot(np.argmax(x["R"], axis=1), x["R"].shape[1])),
        Mistake("single_improvement", "stopped after one improvement step (greedy in Q of the initial policy, "
                "action 0 everywhere): repeat evaluation and improvement until the policy is stable",
                _one_step_policy),
        Mistake("minimizes", "argmin instead of argmax in the improvement step: the policy minimises the return",
                _argmin_policy),
    ),
    inputs=_mdp_inputs(["P", "R", "gamma"]),
    expected_fn=lambda x: _optimal(x).policy,
    output="policy",
    shape_of=_sa_shape,
    identity=_pi_identity,
    compare_fn=_pi_compare,
)


# ------------------------------------------------------------------------------ visitation
def _visitation_not_transposed(x):
    P, g, pi, mu = x["P"], x["gamma"], x["pi"], x["mu"]
    return (1 - g) * np.linalg.solve(np.eye(P.shape[0]) - g * _P_pi(P, pi), mu)


def _visitation_identity(x, got, call):
    P, g, pi, mu = x["P"], x["gamma"], x["pi"], x["mu"]
    res = (1 - g) * mu + g * _P_pi(P, pi).T @ got - got
    s = int(np.argmax(np.abs(res)))
    return (f"flow d = (1 - gamma) mu + gamma P_pi^T d and sum d = 1: your d sums to {_fmt(np.sum(got))} and its "
            f"flow residual is {_fmt(res[s])} at state {s}")


_DISCOUNTED_VISITATION = dict(
    name="discounted_visitation",
    signature="fn(P, gamma, pi, mu) -> d",
    layouts="P (S, A, S), gamma in [0, 0.99], pi (S, A), mu (S,) start distribution; returns the normalised "
            "d(s) = (1 - gamma) sum_t gamma^t Pr(s_t = s), shape (S,), summing to 1",
    reference="tabular_rl.discounted_visitation(TabularMDP(P, 0, gamma), pi, mu=mu)  (one transposed LU solve)",
    tolerance="distributions",
    comparison="entrywise within the tolerance",
    mistakes=(
        Mistake("unnormalized", "the unnormalised visitation sum_t gamma^t Pr(s_t = s), which sums to "
                "1 / (1 - gamma): multiply by (1 - gamma)",
                lambda x: discounted_visitation(_mdp(x, with_R=False), x["pi"], mu=x["mu"]) / (1 - x["gamma"])),
        Mistake("not_transposed", "solved (I - gamma P_pi) d = (1 - gamma) mu; the visitation is a row vector: "
                "d^T (I - gamma P_pi) = (1 - gamma) mu^T", _visitation_not_transposed),
        Mistake("one_step_late", "counted s_1, s_2, ... instead of s_0, s_1, ...: the start distribution mu is "
                "the t = 0 term",
                lambda x: _P_pi(x["P"], x["pi"]).T @ discounted_visitation(_mdp(x, with_R=False), x["pi"],
                                                                            mu=x["mu"])),
    ),
    inputs=_mdp_inputs(["P", "gamma", "pi", "mu"]),
    expected_fn=lambda x: discounted_visitation(_mdp(x, with_R=False), x["pi"], mu=x["mu"]),
    output="array",
    shape_of=_values_shape,
    identity=_visitation_identity,
)


# -------------------------------------------------------------------------------------- GAE
def _episode_lengths(terminated):
    """n_t: the steps available from t (to the end of the array, or through the first termination)."""
    T = terminated.shape[-1]
    n = np.empty(T, dtype=np.intp)
    nxt = T
    for t in range(T - 1, -1, -1):
        if terminated[t]:
            nxt = t + 1
        n[t] = nxt - t
    return n


def _gae_normalizer(x, c_of):
    """The boundary-weighted average of k-step estimators with normaliser c (1 - lambda is correct)."""
    r, v, g, lam, term = x["rewards"], x["values"], x["gamma"], x["lambda_"], x["terminated"]
    T = r.shape[0]
    n = _episode_lengths(term)
    est = np.stack([n_step_advantages(r, v, g, k, terminated=term) for k in range(1, T + 1)])  # (T, T)
    out = np.zeros(T)
    for t in range(T):
        out[t] = sum(c_of(g, lam) * lam ** (k - 1) * est[k - 1, t] for k in range(1, n[t])) \
            + lam ** (n[t] - 1) * est[n[t] - 1, t]
    return out


def _gae_ppo_exponent(x):
    """The PPO paper's eq. (11) as printed: the last delta weighted (gamma lambda)^(T-t+1), not ^(T-t-1)."""
    r, v, g, lam, term = x["rewards"], x["values"], x["gamma"], x["lambda_"], x["terminated"]
    T = r.shape[0]
    delta = r + g * np.where(term, 0.0, v[1:]) - v[:-1]
    out = _gae(r, v, g, lam, terminated=term)
    for t in range(T):
        if not np.any(term[t:T - 1]):  # the episode reaches the end of the segment
            out[t] += ((g * lam) ** (T - t + 1) - (g * lam) ** (T - t - 1)) * delta[T - 1]
    return out


def _gae_identity(x, got, call):
    r, v, g, lam, term = x["rewards"], x["values"], x["gamma"], x["lambda_"], x["terminated"]
    delta = r + g * np.where(term, 0.0, v[1:]) - v[:-1]
    nxt = np.append(got[1:], 0.0)
    res = got - (delta + g * lam * np.where(term, 0.0, nxt))
    t = int(np.argmax(np.abs(res)))
    return (f"recursion A_t = delta_t + gamma lambda (1 - terminated_t) A_t+1 with A_T = 0: your advantages' "
            f"residual is {_fmt(res[t])} at t = {t} (delta_t = {_fmt(delta[t])})")


_GAE = dict(
    name="gae",
    signature="fn(rewards, values, gamma, lambda_, terminated) -> advantages",
    layouts="rewards (T,) r_t for t = 0..T-1; values (T+1,) V(s_t) with values[T] bootstrapping the truncated end; "
            "gamma, lambda_ in [0, 1]; terminated (T,) bool, terminated[t] = the step out of s_t ended the episode "
            "(nothing bootstrapped through it); returns advantages (T,)",
    reference="tabular_rl.gae(rewards, values, gamma, lambda_, terminated=terminated)",
    tolerance="samples",
    comparison="entrywise within the tolerance",
    mistakes=(
        Mistake("one_minus_gamma_normalizer", "the k-step estimators averaged with weights (1 - gamma) "
                "lambda^(k-1): the normaliser is (1 - lambda) (the lecture slide's typo)",
                lambda x: _gae_normalizer(x, lambda g, lam: 1 - g)),
        Mistake("bootstrap_through_terminations", "bootstrapped through terminations: after terminated[t] there "
                "is no V(s_t+1) term and the recursion restarts (multiply by 1 - terminated[t])",
                lambda x: _gae(x["rewards"], x["values"], x["gamma"], x["lambda_"])),
        Mistake("ppo_paper_exponent", "the last TD error weighted (gamma lambda)^(T-t+1) as printed in the PPO "
                "paper's eq. (11); the exponent is T-t-1", _gae_ppo_exponent),
        Mistake("terminated_shifted", "used terminated[t + 1] at step t (CleanRL's dones[t + 1] indexing applied "
                "to a terminated mask); terminated[t] belongs to the step out of s_t",
                lambda x: _gae(x["rewards"], x["values"], x["gamma"], x["lambda_"],
                               terminated=np.append(x["terminated"][1:], False))),
        Mistake("no_bootstrap_at_end", "treated the end of the segment as a termination; it is a time-limit "
                "truncation and bootstraps from values[T]",
                lambda x: _gae(x["rewards"], x["values"], x["gamma"], x["lambda_"],
                               terminated=np.append(x["terminated"][:-1], True))),
    ),
    inputs=trs.gae_inputs(),
    expected_fn=lambda x: _gae(x["rewards"], x["values"], x["gamma"], x["lambda_"], terminated=x["terminated"]),
    output="array",
    shape_of=lambda x: x["rewards"].shape,
    identity=_gae_identity,
)


# --------------------------------------------------------------------------------------- PPO
def _ppo_identity(x, got, call):
    cpi = float(np.mean(x["ratios"] * x["advantages"]))
    return (f"L^CLIP <= L^CPI = mean(r A) = {_fmt(cpi)} (the clipped objective is a pessimistic bound) and "
            f"L^CLIP = mean(A) where every r = 1: yours is {_fmt(got)}")


_PPO = dict(
    name="ppo_clip_objective",
    signature="fn(ratios, advantages, epsilon) -> float",
    layouts="ratios (n,) r_i = pi_new(a_i|s_i) / pi_old(a_i|s_i) >= 0; advantages (n,); epsilon in [0, 0.5]; "
            "returns the mean of min(r A, clip(r, 1 - epsilon, 1 + epsilon) A), a float (to maximise)",
    reference="tabular_rl.ppo_clip_objective(ratios, advantages, epsilon)",
    tolerance="samples",
    comparison="within the tolerance",
    mistakes=(
        Mistake("clip_advantage", "clipped the advantage instead of the ratio: min(r A, clip(r, 1 - eps, 1 + eps) A) "
                "clips r", lambda x: float(np.mean(np.minimum(
                    x["ratios"] * x["advantages"],
                    x["ratios"] * np.clip(x["advantages"], 1 - x["epsilon"], 1 + x["epsilon"]))))),
        Mistake("max_instead_of_min", "max in place of min: the clipped objective is the pessimistic (smaller) "
                "of the two terms", lambda x: float(np.mean(np.maximum(
                    x["ratios"] * x["advantages"],
                    np.clip(x["ratios"], 1 - x["epsilon"], 1 + x["epsilon"]) * x["advantages"])))),
        Mistake("unclipped", "no clipping at all: mean(r A) is L^CPI, not L^CLIP",
                lambda x: float(np.mean(x["ratios"] * x["advantages"]))),
        Mistake("sum_instead_of_mean", "summed over samples instead of averaging",
                lambda x: ppo_clip_objective(x["ratios"], x["advantages"], x["epsilon"]) * x["ratios"].size),
        Mistake("negated_loss", "returned the loss to minimise (-L^CLIP); this concept asks for the objective "
                "(grade a loss with the adapter lambda r, A, eps: -loss(r, A, eps))",
                lambda x: -ppo_clip_objective(x["ratios"], x["advantages"], x["epsilon"])),
    ),
    inputs=trs.ppo_samples(),
    expected_fn=lambda x: ppo_clip_objective(x["ratios"], x["advantages"], x["epsilon"]),
    output="scalar",
    shape_of=lambda x: (),
    identity=_ppo_identity,
)


# --------------------------------------------------------------------------- policy gradient
def _pg_parts(x):
    mdp = _mdp(x)
    pi = softmax(x["theta"])
    V = policy_evaluation(mdp, pi)
    Q = q_values(mdp, pi)
    d = discounted_visitation(mdp, pi)
    return pi, V, Q, d


def _pg_mistake(kind):
    def fn(x):
        pi, V, Q, d = _pg_parts(x)
        g = x["gamma"]
        A = Q - V[:, None]
        if kind == "q":
            return d[:, None] * pi * Q / (1 - g)
        if kind == "no_factor":
            return d[:, None] * pi * A
        if kind == "direct":
            return d[:, None] * Q / (1 - g)
        return x["mu"][:, None] * pi * A / (1 - g)

    return fn


def _pg_identity(x, got, call):
    rows = got.sum(axis=1)
    s = int(np.argmax(np.abs(rows)))
    return (f"softmax shift invariance: each row of dJ/dtheta sums to 0; your row {s} sums to {_fmt(rows[s])}")


_POLICY_GRADIENT = dict(
    name="policy_gradient",
    signature="fn(P, R, gamma, mu, theta) -> grad",
    layouts="P (S, A, S), R (S, A), gamma in [0, 0.99], mu (S,), theta (S, A) softmax logits "
            "(pi(a|s) proportional to exp theta[s, a]); returns dJ/dtheta (S, A) of J = mu^T V^pi: "
            "d(s) pi(a|s) A(s, a) / (1 - gamma) with the normalised visitation d",
    reference="tabular_rl.policy_gradient(TabularMDP(P, R, gamma, mu=mu), theta)",
    tolerance="gradients",
    comparison="entrywise within the tolerance",
    mistakes=(
        Mistake("q_in_place_of_advantage", "d pi Q / (1 - gamma): the softmax gradient weights pi(a|s) by the "
                "advantage Q - V (the score's mean is subtracted), not by Q", _pg_mistake("q")),
        Mistake("missing_one_over_one_minus_gamma", "d pi A without the factor 1 / (1 - gamma) that goes with the "
                "normalised visitation", _pg_mistake("no_factor")),
        Mistake("direct_parametrization", "d Q / (1 - gamma) is the gradient in the direct parametrisation (pi as "
                "free parameters); the softmax chain rule gives d pi A / (1 - gamma)", _pg_mistake("direct")),
        Mistake("start_distribution", "weighted states by the start distribution mu instead of the discounted "
                "visitation d", _pg_mistake("mu")),
    ),
    inputs=_mdp_inputs(["P", "R", "gamma", "mu", "theta"]),
    expected_fn=lambda x: policy_gradient(_mdp(x), x["theta"]),
    output="array",
    shape_of=_sa_shape,
    identity=_pg_identity,
)


# ----------------------------------------------------------------------------------- MaxEnt
def _maxent_mdp(x):
    return TabularMDP(x["P"], np.zeros(x["P"].shape[:2]), 1.0)


def _logsumexp(z, axis):
    m = np.max(z, axis=axis, keepdims=True)
    return (m + np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))).squeeze(axis)


def _maxent_backward_variant(kind):
    """Backward passes as students write them, in log space; kind in hard_max, mce, successor."""

    def fn(x):
        P, r, H = x["P"], x["state_rewards"], x["horizon"]
        S, A = P.shape[:2]
        V = np.zeros(S)
        out = np.empty((H, S, A))
        for t in range(H - 1, -1, -1):
            if kind == "successor":  # log Z_a(s) = log sum_k P(k|s,a) exp(r(k) + log Z_k)
                z = r + V
                m = np.max(z)
                Q = m + np.log(P @ np.exp(z - m))
            else:  # Q = r(s) + sum_k P(k|s,a) V(k)  (expectation of the log, not log of the expectation)
                Q = r[:, None] + P @ V
            out[t] = softmax(Q)
            V = Q.max(axis=1) if kind == "hard_max" else _logsumexp(Q, axis=1)
        return out

    return fn


@st.composite
def _backward_inputs(draw):
    P = draw(_mdp_inputs(["P"], max_states=3))["P"]
    rewards = hnp.arrays(np.float64, (P.shape[0],), elements=st.floats(-3, 3, allow_nan=False, allow_subnormal=False))
    return dict(P=P, state_rewards=draw(rewards), horizon=draw(st.integers(1, 3)))


def _maxent_stationary(x):
    pi = maxent_backward_pass(_maxent_mdp(x), x["state_rewards"], x["horizon"])
    return np.broadcast_to(pi[:1], pi.shape).copy()


_MAXENT_BACKWARD = dict(
    name="maxent_backward_pass",
    signature="fn(P, state_rewards, horizon) -> policy",
    layouts="P (S, A, S), state_rewards (S,) r(s) paid by the current state at t = 0..H-1 (s_H is not rewarded), "
            "horizon H >= 1; Z_s,H = 1 everywhere (no terminal set); returns the time-indexed local action "
            "probabilities pi_t(a|s) = Z_a,t(s) / Z_s,t, shape (H, S, A)",
    reference="tabular_rl.maxent_backward_pass(TabularMDP(P, 0, 1.0), state_rewards, horizon)",
    tolerance="distributions",
    comparison="entrywise within the tolerance",
    mistakes=(
        Mistake("hard_max", "backed up with a hard max (value iteration) instead of the soft backup log Z_s = "
                "log sum_a Z_a(s)", _maxent_backward_variant("hard_max")),
        Mistake("stationary", "one stationary policy (Algorithm 1 as printed) used at every step; the "
                "finite-horizon model needs pi_t for each t", _maxent_stationary),
        Mistake("expected_log_backup", "backed up E[log Z] (the maximum-causal-entropy soft value iteration) "
                "instead of log E[Z]: Z_a(s) = e^r(s) sum_k P(k|s, a) Z_k (they agree on deterministic MDPs)",
                _maxent_backward_variant("mce")),
        Mistake("successor_reward", "paid r(s_t+1) on the step out of s_t; the model rewards the current state "
                "(s_H is not rewarded)", _maxent_backward_variant("successor")),
    ),
    inputs=_backward_inputs(),
    expected_fn=lambda x: maxent_backward_pass(_maxent_mdp(x), x["state_rewards"], x["horizon"]),
    output="array",
    shape_of=lambda x: (x["horizon"],) + x["P"].shape[:2],
)


def _forward_variant(kind):
    def fn(x):
        P, pol, H, mu = x["P"], x["pi"], x["horizon"], x["mu"]
        D_t, total = mu.copy(), np.zeros_like(mu)
        for t in range(H + (kind == "h_plus_one")):
            total += D_t
            pi_t = pol if pol.ndim == 2 else pol[0 if kind == "stationary" else min(t, H - 1)]
            if kind == "printed_indices":  # D_t+1(s) = sum_a pi(a|s) sum_k P(k|s, a) D_t(k)
                D_t = np.einsum("sa,sak,k->s", pi_t, P, D_t)
            else:
                D_t = np.einsum("s,sa,sak->k", D_t, pi_t, P)
        return total

    return fn


@st.composite
def _forward_inputs(draw):
    x = draw(_mdp_inputs(["P"], max_states=3))
    S, A = x["P"].shape[:2]
    # Up to 5 steps: a forward pass that uses pi_0 at every step differs from the right one only
    # from D_2 on (H >= 3), so with H <= 3 that mistake hid in most draws.
    H = draw(st.integers(1, 5))
    time_varying = draw(st.booleans())
    pol = draw(trs.time_varying_policies(H, S, A) if time_varying else trs.policies(S, A))
    return dict(P=x["P"], pi=pol, horizon=H, mu=draw(trs.distributions(S)))


def _forward_identity(x, got, call):
    return (f"mass conservation: each D_t sums to 1, so D sums to the horizon {x['horizon']}; yours sums to "
            f"{_fmt(np.sum(got))}")


_MAXENT_FORWARD = dict(
    name="maxent_forward_pass",
    signature="fn(P, pi, horizon, mu) -> D",
    layouts="P (S, A, S), pi (S, A) stationary or (H, S, A) time-indexed, horizon H >= 1, mu (S,) start "
            "distribution; returns the expected state visitation counts D(s) = sum_{t=0}^{H-1} D_t(s), shape (S,), "
            "summing to H, with D_0 = mu and D_t+1(s2) = sum_s,a D_t(s) pi_t(a|s) P(s2|s, a)",
    reference="tabular_rl.maxent_forward_pass(TabularMDP(P, 0, 1.0), pi, horizon, mu=mu)",
    tolerance="counts",
    comparison="entrywise within the tolerance",
    mistakes=(
        Mistake("printed_indices", "Algorithm 1's printed step 5 (D_t+1(s) = sum_a sum_k D_t(k) pi(a|s) "
                "P(k|s, a)) pulls mass backwards; the corrected step pushes it forward: D_t+1(s2) = "
                "sum_s,a D_t(s) pi_t(a|s) P(s2|s, a)", _forward_variant("printed_indices")),
        Mistake("h_plus_one", "summed H + 1 distributions D_0..D_H; the H rewarded steps are t = 0..H-1",
                _forward_variant("h_plus_one")),
        Mistake("stationary", "used the first step's policy at every step; a time-indexed policy (H, S, A) "
                "gives pi_t at step t", _forward_variant("stationary")),
    ),
    inputs=_forward_inputs(),
    expected_fn=lambda x: maxent_forward_pass(_maxent_mdp(x), x["pi"], x["horizon"], mu=x["mu"]),
    output="array",
    shape_of=lambda x: (x["P"].shape[0],),
    identity=_forward_identity,
)


# ----------------------------------------------------------------------- importance sampling
@st.composite
def _is_inputs(draw):
    mdp = draw(trs.mdps(max_states=3, max_actions=2, sparse=False, reward_shape="state_action",
                        gamma=trs.gammas(max_value=1.0)))
    S, A = mdp.shape
    H = draw(st.integers(1, 2))  # two steps tell per-decision from ordinary IS; more only slows the search
    behavior = softmax(draw(trs.logits((S, A), bound=2.0)))  # full support: covers any target
    target = draw(trs.policies(S, A, bound=4.0, deterministic=False))  # no zeros: every ratio is finite
    tr = draw(trs.trajectories(mdp, behavior, horizon=H, max_episodes=3))
    return dict(states=np.array(tr.states), actions=np.array(tr.actions), rewards=np.array(tr.rewards),
                target=target, behavior=behavior, gamma=float(mdp.gamma), _mdp=mdp)


def _traj(x):
    return Trajectories(x["states"], x["actions"], x["rewards"])


def _is_args(x):
    return _traj(x), x["target"], x["behavior"], x["gamma"]


def _is_identity(x, got, call):
    """Unbiasedness, exactly: the student's estimate on each single episode behavior can produce, weighted by its
    probability, against J_H(target)."""
    mdp = x["_mdp"]
    H = x["actions"].shape[1]
    tr, p = enumerate_trajectories(mdp, x["behavior"], H)
    J = finite_horizon_values(mdp, x["target"], H).J
    if tr.n_episodes > 64:
        return f"unbiasedness E_b[estimate] = J_H(target) = {_fmt(J)} (too many episodes to enumerate here)"
    total = 0.0
    for i in range(tr.n_episodes):
        one = dict(x, states=np.array(tr.states[i:i + 1]), actions=np.array(tr.actions[i:i + 1]),
                   rewards=np.array(tr.rewards[i:i + 1]))
        value = call(one)
        if value is None:
            return f"unbiasedness E_b[estimate] = J_H(target) = {_fmt(J)} (your function failed on one episode)"
        total += p[i] * value
    return (f"unbiasedness, exactly over the {tr.n_episodes} episodes behavior can produce: E_b[your estimate on one "
            f"episode] = {_fmt(total)}; J_H(target) = {_fmt(J)} (ordinary and per-decision IS are unbiased)")


def _is_variant(kind):
    def fn(x):
        tr, e, b, g = _is_args(x)
        H = tr.horizon
        s, a = tr.states[:, :H], tr.actions
        rho = e[s, a] / b[s, a]
        disc = tr.rewards * g ** np.arange(H)
        if kind == "inverted":
            return float(np.mean(np.prod(1.0 / rho, axis=1) * disc.sum(axis=1)))
        if kind == "undiscounted":
            return float(np.mean(np.prod(rho, axis=1) * tr.rewards.sum(axis=1)))
        if kind == "previous_ratios":  # r_t weighted by c_{t-1}: a_t's own ratio left out
            c = np.cumprod(np.concatenate([np.ones((tr.n_episodes, 1)), rho[:, :-1]], axis=1), axis=1)
            return float(np.mean(np.sum(c * disc, axis=1)))
        raise ValueError(kind)

    return fn


_LAYOUTS_IS = ("states (N, H+1) int s_0..s_H, actions (N, H) int, rewards (N, H) r_t = r(s_t, a_t): N episodes "
               "drawn from behavior; target, behavior (S, A) policies (behavior covers target); gamma in [0, 1]; "
               "returns a float estimating J_H(target) = E_target[sum_{t<H} gamma^t r_t]")

_IMPORTANCE_SAMPLING = dict(
    name="importance_sampling",
    signature="fn(states, actions, rewards, target, behavior, gamma) -> estimate",
    layouts=_LAYOUTS_IS + ": the ordinary (trajectory-wise) estimate mean_i W_i G_i with "
            "W_i = prod_t target(a_t|s_t) / behavior(a_t|s_t) and G_i = sum_t gamma^t r_t",
    reference="tabular_rl.ordinary_importance_sampling(Trajectories(states, actions, rewards), target, behavior, "
              "gamma)",
    tolerance="samples",
    comparison="the estimate on the given episodes, within the tolerance: an exact function of the episodes (no "
               "sampling noise enters the grade); episodes are drawn from behavior's support, and the report checks "
               "unbiasedness exactly over the enumerated episodes",
    mistakes=(
        Mistake("per_decision", "weighted each reward r_t by the ratios up to t only (per-decision IS); ordinary "
                "IS weights the whole return by the full-trajectory ratio",
                lambda x: per_decision_importance_sampling(*_is_args(x))),
        Mistake("weighted", "normalised by the sum of the weights (weighted IS, biased); ordinary IS divides by N",
                lambda x: weighted_importance_sampling(*_is_args(x))),
        Mistake("inverted_ratio", "used behavior / target; the ratio is target(a|s) / behavior(a|s)",
                _is_variant("inverted")),
        Mistake("undiscounted", "ignored gamma: the return is sum_t gamma^t r_t", _is_variant("undiscounted")),
    ),
    inputs=_is_inputs(),
    expected_fn=lambda x: ordinary_importance_sampling(*_is_args(x)),
    output="scalar",
    shape_of=lambda x: (),
    identity=_is_identity,
)

_PER_DECISION_IMPORTANCE_SAMPLING = dict(
    _IMPORTANCE_SAMPLING,
    name="per_decision_importance_sampling",
    layouts=_LAYOUTS_IS + ": the per-decision estimate mean_i sum_t gamma^t c_t r_t with c_t = prod_{k<=t} "
            "target(a_k|s_k) / behavior(a_k|s_k)",
    reference="tabular_rl.per_decision_importance_sampling(Trajectories(states, actions, rewards), target, "
              "behavior, gamma)",
    mistakes=(
        Mistake("full_trajectory_ratio", "weighted every reward by the full-trajectory ratio (ordinary IS); "
                "per-decision IS weights r_t by the ratios of the actions up to t only",
                lambda x: ordinary_importance_sampling(*_is_args(x))),
        Mistake("previous_ratios", "weighted r_t by the ratios before t (c_t-1); r_t depends on a_t, so its ratio "
                "is included: c_t = prod_{k<=t}", _is_variant("previous_ratios")),
        Mistake("weighted", "normalised by the sum of the trajectory weights (weighted IS) instead of N",
                lambda x: weighted_importance_sampling(*_is_args(x))),
    ),
    expected_fn=lambda x: per_decision_importance_sampling(*_is_args(x)),
)


# ---------------------------------------------------------------------- episodic (gamma = 1)
@st.composite
def _episodic_inputs(draw, with_policy):
    """An episodic MDP (gamma = 1, terminal states absorbing with zero reward) as plain arrays; a proper policy
    for policy evaluation; for value iteration every policy is proper (so V* is finite and VI converges)."""
    mdp = draw(trs.episodic_mdps(max_states=4, max_actions=3, sparse=False, all_proper=not with_policy))
    x = dict(P=mdp.todense(), R=np.array(mdp.R), terminal=np.array(mdp.terminal))
    if with_policy:
        x["pi"] = draw(trs.proper_policies(mdp, bound=2.0))
    return x


def _episodic_sweeps(optimal):
    def fn(x):
        P, R = x["P"], x["R"]
        out, V = Variants(), np.zeros(P.shape[0])
        for k in range(1, 1001):
            Q = R + P @ V
            V = Q.max(axis=1) if optimal else np.einsum("sa,sa->s", x["pi"], Q)
            if k <= 10 or k in (20, 50, 100, 200, 500, 1000):
                out[f"{k} sweeps"] = V.copy()
        return out

    return fn


def _episodic_discounted(optimal):
    def fn(x):
        out = Variants()
        for g in (0.9, 0.95, 0.99):
            mdp = _episodic_mdp(x, gamma=g)
            out[f"gamma = {g}"] = policy_iteration(mdp).V if optimal else policy_evaluation(mdp, x["pi"])
        return out

    return fn


def _episodic_identity(optimal):
    def fn(x, got, call):
        Q = x["R"] + x["P"] @ got
        backup = Q.max(axis=1) if optimal else np.einsum("sa,sa->s", x["pi"], Q)
        res = np.where(x["terminal"], got, backup - got)
        s = int(np.argmax(np.abs(res)))
        what = "max_a (r + P V)" if optimal else "r_pi + P_pi V"
        return (f"V = {what} at transient states and V = 0 at terminal ones (gamma = 1): your V's residual is "
                f"{_fmt(res[s])} at state {s}{' (terminal)' if x['terminal'][s] else ''}")

    return fn


_EPISODIC_LAYOUTS = ("P (S, A, S), R (S, A), terminal (S,) bool: terminal states are absorbing with zero reward "
                     "(their rows of P and R already say so); gamma = 1 (undiscounted, episodic)")

_EPISODIC_POLICY_EVALUATION = dict(
    name="episodic_policy_evaluation",
    signature="fn(P, R, terminal, pi) -> V",
    layouts=_EPISODIC_LAYOUTS + "; pi (S, A) a proper policy (it reaches a terminal state with probability 1); "
            "returns V (S,), the expected undiscounted return to termination, 0 at terminal states",
    reference="tabular_rl.policy_evaluation(TabularMDP(P, R, 1.0, terminal=terminal), pi)  (one LU solve of the "
              "transient block I - P_TT)",
    tolerance="episodic_values",
    comparison="entrywise within the tolerance",
    mistakes=(
        Mistake("fixed_sweeps", "iterative evaluation stopped after a fixed number of sweeps from V = 0; iterate "
                "until ||V_k+1 - V_k|| is below a tolerance (or solve the transient block)", _episodic_sweeps(False)),
        Mistake("discounted", "discounted with gamma < 1; the episodic task is undiscounted (gamma = 1)",
                _episodic_discounted(False)),
        Mistake("uniform_policy", "evaluated the uniform random policy: the policy pi was not used",
                lambda x: policy_evaluation(_episodic_mdp(x), np.full(x["pi"].shape, 1.0 / x["pi"].shape[1]))),
    ),
    inputs=_episodic_inputs(True),
    expected_fn=lambda x: policy_evaluation(_episodic_mdp(x), x["pi"]),
    output="array",
    shape_of=_values_shape,
    identity=_episodic_identity(False),
)

_EPISODIC_VALUE_ITERATION = dict(
    name="episodic_value_iteration",
    signature="fn(P, R, terminal) -> V_star",
    layouts=_EPISODIC_LAYOUTS + "; every policy is proper in the inputs drawn; returns the optimal values V* (S,), "
            "0 at terminal states",
    reference="tabular_rl.policy_iteration(TabularMDP(P, R, 1.0, terminal=terminal)).V  (exact, from a proper "
              "starting policy)",
    tolerance="episodic_values",
    comparison="entrywise within the tolerance",
    mistakes=(
        Mistake("fixed_sweeps", "stopped after a fixed number of sweeps from V = 0; iterate until "
                "||V_k+1 - V_k|| is below a tolerance", _episodic_sweeps(True)),
        Mistake("discounted", "discounted with gamma < 1; the episodic task is undiscounted (gamma = 1)",
                _episodic_discounted(True)),
        Mistake("action_average", "averaged over actions instead of taking the max (evaluated the uniform "
                "random policy)",
                lambda x: policy_evaluation(_episodic_mdp(x), np.full(x["R"].shape, 1.0 / x["R"].shape[1]))),
    ),
    inputs=_episodic_inputs(False),
    expected_fn=lambda x: policy_iteration(_episodic_mdp(x)).V,
    output="array",
    shape_of=_values_shape,
    identity=_episodic_identity(True),
)


# ------------------------------------------------------------------------------------ registry
_DEFINITIONS = [
    _POLICY_EVALUATION, _Q_VALUES, _VALUE_ITERATION, _POLICY_ITERATION, _DISCOUNTED_VISITATION, _GAE, _PPO,
    _POLICY_GRADIENT, _MAXENT_BACKWARD, _MAXENT_FORWARD, _IMPORTANCE_SAMPLING, _PER_DECISION_IMPORTANCE_SAMPLING,
    _EPISODIC_POLICY_EVALUATION, _EPISODIC_VALUE_ITERATION,
]

_REGISTRY = {d["name"]: Concept(**dict(d, tolerance=TOLERANCES[d["tolerance"]])) for d in _DEFINITIONS}


def concepts():
    """The concept registry: name -> :class:`Concept` (signature, layouts, reference, tolerance, mistakes).

    Returns
    -------
    dict
        A fresh dict (the concepts themselves are frozen), in the order of the module's table.

    Examples
    --------
    >>> from tabular_rl import grading
    >>> for c in grading.concepts().values():
    ...     print(f"{c.name:34s} {c.signature}")
    policy_evaluation                  fn(P, R, gamma, pi) -> V
    q_values                           fn(P, R, gamma, pi) -> Q
    value_iteration                    fn(P, R, gamma) -> V_star
    policy_iteration                   fn(P, R, gamma) -> pi
    discounted_visitation              fn(P, gamma, pi, mu) -> d
    gae                                fn(rewards, values, gamma, lambda_, terminated) -> advantages
    ppo_clip_objective                 fn(ratios, advantages, epsilon) -> float
    policy_gradient                    fn(P, R, gamma, mu, theta) -> grad
    maxent_backward_pass               fn(P, state_rewards, horizon) -> policy
    maxent_forward_pass                fn(P, pi, horizon, mu) -> D
    importance_sampling                fn(states, actions, rewards, target, behavior, gamma) -> estimate
    per_decision_importance_sampling   fn(states, actions, rewards, target, behavior, gamma) -> estimate
    episodic_policy_evaluation         fn(P, R, terminal, pi) -> V
    episodic_value_iteration           fn(P, R, terminal) -> V_star
    """
    return dict(_REGISTRY)


def get_concept(concept):
    """A :class:`Concept` from its name (or the concept itself), with a ``KeyError`` listing the names.

    Examples
    --------
    >>> from tabular_rl import grading
    >>> grading.get_concept("gae").signature
    'fn(rewards, values, gamma, lambda_, terminated) -> advantages'
    """
    if isinstance(concept, Concept):
        return concept
    try:
        return _REGISTRY[concept]
    except (KeyError, TypeError):
        raise KeyError(f"unknown concept {concept!r}; the concepts are {', '.join(_REGISTRY)}") from None
