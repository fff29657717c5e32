"""The tour: ``python -m tabular_rl``.

A short walk through the library on one built-in gridworld, printing each
exact quantity beside a check that it satisfies its identity. Runs in seconds.

``python -m tabular_rl --plots DIR`` also writes the tour's figures to DIR as PNG
files (with :mod:`tabular_rl.plot`, which needs matplotlib: ``pip install -e ".[plot]"``);
without the option the tour imports no plotting code.
"""

import argparse
import os
import sys

import numpy as np

import tabular_rl as trl
from tabular_rl.gridworld import gridworld

#: The tour's world: start S, goal G (+1, absorbing), pit H (-1, absorbing), walls #.
TOUR_MAP = (
    "S...#",
    ".#..G",
    "...#H",
    "#....",
)


def tour_world():
    """The tour's gridworld: 10% slip, a step cost of 0.01, gamma = 0.9."""
    return gridworld(
        TOUR_MAP, slip=0.1, gamma=0.9, rewards={"G": 1.0, "H": -1.0}, terminal="GH", step_reward=-0.01
    )


def _check(ok):
    return "ok" if ok else "FAILED"


class _Printer:
    def __init__(self, out):
        self.out = out
        self.failures = 0

    def __call__(self, *lines):
        for line in lines:
            print(line, file=self.out)

    def heading(self, text):
        self("", text, "=" * len(text))

    def check(self, label, value, ok):
        self.failures += 0 if ok else 1
        self(f"  {label:<64s} {value:>18s}   [{_check(ok)}]")


def core_section(world, say):
    mdp = world.mdp
    say.heading("1. The MDP and its optimal policy")
    say(
        f"{mdp!r}: a {world.n_rows}x{world.n_cols} map, 4 moves that slip sideways with probability 0.1,",
        "a step cost of 0.01, +1 for reaching G and -1 for falling into H (both absorbing).",
        "",
        world.render_map(),
    )
    opt = trl.policy_iteration(mdp)
    res = trl.bellman_residual(mdp, opt.policy, opt.V)
    say("", "Optimal values V* (policy iteration: exact LU solves, no iterate):", world.render_values(opt.V))
    say("", "Optimal policy:", world.render_policy(opt.policy), "")
    say.check("Bellman residual ||r_pi + gamma P_pi V - V||_inf", f"{res:.1e}", res < 1e-12)
    greedy_gain = float(np.max(opt.Q.max(axis=1) - opt.V))
    say.check("no action improves on V* (max_a Q* - V*)", f"{greedy_gain:.1e}", greedy_gain < 1e-12)
    vi = trl.value_iteration(mdp, tol=1e-8)
    gap = float(np.max(np.abs(vi.V - opt.V)))
    say.check(f"value iteration within its bound {vi.error_bound:.1e} of V*", f"{gap:.1e}", gap <= vi.error_bound)

    say.heading("2. A softmax policy, evaluated exactly")
    rng = np.random.default_rng(0)
    theta = rng.normal(size=mdp.shape)
    pi = trl.softmax(theta)
    ev = trl.evaluate(mdp, pi)
    say("A random softmax policy pi = softmax(theta), theta ~ N(0, 1). Its values V^pi:", world.render_values(ev.V))
    say("", "Its normalised discounted visitation d = (1 - gamma) mu^T (I - gamma P_pi)^-1:")
    say(world.render_visitation(ev.d), "")
    res = trl.bellman_residual(mdp, pi, ev.V)
    say.check("Bellman residual of V^pi", f"{res:.1e}", res < 1e-12)
    say.check("sum_s d(s) = 1", f"{ev.d.sum():.15f}", abs(ev.d.sum() - 1) < 1e-12)
    centred = float(np.max(np.abs((pi * ev.adv).sum(axis=1))))
    say.check("advantages centred: max_s |sum_a pi A|", f"{centred:.1e}", centred < 1e-12)
    J_rho = float((ev.rho * mdp.R).sum() / (1 - mdp.gamma))
    say.check(f"J = mu.V = {ev.J:.6f} equals sum rho r / (1 - gamma)", f"{abs(J_rho - ev.J):.1e}",
              abs(J_rho - ev.J) < 1e-12)
    fh = trl.finite_horizon_values(mdp, pi, horizon=400)
    say.check("finite horizon H = 400 approaches J (gap <= gamma^H/(1-gamma))", f"{abs(fh.J - ev.J):.1e}",
              abs(fh.J - ev.J) <= mdp.gamma**400 / (1 - mdp.gamma) * np.max(np.abs(mdp.R)) + 1e-12)
    tr = trl.rollout(mdp, pi, n_episodes=4000, horizon=150, rng=np.random.default_rng(1))
    G = trl.discounted_returns(tr, mdp.gamma)
    se = G.std(ddof=1) / np.sqrt(G.size)
    say.check(f"Monte Carlo mean {G.mean():.4f} within 5 standard errors of J", f"{abs(G.mean() - ev.J) / se:.2f} se",
              abs(G.mean() - ev.J) <= 5 * se + mdp.gamma**150 / (1 - mdp.gamma))
    return opt, pi


def policy_optimisation_section(world, opt, say):
    mdp = world.mdp
    say.heading("3. Policy optimisation, exactly")
    say("Exact softmax policy gradient dJ/dtheta(s, a) = d(s) pi(a|s) A(s, a) / (1 - gamma), from theta = 0:")
    pg = trl.policy_gradient_ascent(mdp, n_iterations=200, step_size=1.0)
    steps = [0, 10, 50, 100, 200]
    say("  step " + "".join(f"{k:>9d}" for k in steps))
    say("  J    " + "".join(f"{pg.J[k]:>9.4f}" for k in steps) + f"     (J* = {float(mdp.mu @ opt.V):.4f})")
    say.check("J never decreases along exact gradient ascent (smallest gain)", f"{np.min(np.diff(pg.J)):.1e}",
              bool(np.all(np.diff(pg.J) >= -1e-12)))

    say("", "PPO-clip (epsilon = 0.2) on the exact clipped surrogate, 10 epochs of gradient ascent per iteration.",
        "Beside each step, the CPO bounds of Achiam et al. (2017), Corollary 1 and its upper twin:",
        "  L -/+ 2 gamma eps / (1 - gamma)^2 E_{d_old}[TV(pi_new, pi_old)],  eps = max_s |E_{pi_new} A_old|", "")
    ppo = trl.ppo_clip_exact(mdp, np.zeros(mdp.shape), n_iterations=8, n_epochs=10, learning_rate=1.0, epsilon=0.2)
    h = ppo.history
    say(f"  {'iter':>4s} {'J':>9s} {'J - J_prev':>11s} {'CPO lower':>11s} {'CPO upper':>11s} {'KL':>9s} {'clipped':>8s}")
    say(f"  {0:>4d} {h.J[0]:>9.4f}")
    inside = True
    for i in range(1, len(h.J)):
        gain = h.J[i] - h.J[i - 1]
        inside &= bool(h.lower_bound[i - 1] - 1e-9 <= gain <= h.upper_bound[i - 1] + 1e-9)
        say(f"  {i:>4d} {h.J[i]:>9.4f} {gain:>11.4f} {h.lower_bound[i - 1]:>11.4f} {h.upper_bound[i - 1]:>11.4f} "
            f"{h.kl[i - 1]:>9.2e} {h.clip_fraction[i - 1]:>8.2%}")
    say("")
    say.check("every PPO step's improvement lies within its CPO bounds", "", inside)
    pi = ppo.policy
    pdl = trl.performance_difference(mdp, pi, trl.softmax(np.zeros(mdp.shape)))
    say.check("performance difference lemma: J(pi_new) - J(pi_0)", f"{abs(pdl - (ppo.J - h.J[0])):.1e}",
              abs(pdl - (ppo.J - h.J[0])) < 1e-9)
    say("", "The PPO policy after 8 iterations:", world.render_policy(pi))
    return pg, ppo


def imitation_section(world, say):
    say.heading("4. Imitation learning and inverse RL")
    # MaxEnt IRL (2008) is exact on deterministic dynamics (docs/guide/maxent.md#stochastic-dynamics), so this part uses the
    # tour's map without slip; for stochastic dynamics use mce_irl (maximum causal entropy).
    world = gridworld(TOUR_MAP, slip=0.0, gamma=0.9, rewards={"G": 1.0, "H": -1.0}, terminal="GH")
    mdp = world.mdp
    phi = world.cell_type_features()
    types = world.cell_types
    w_true = np.array([{"G": 1.0, "H": -1.0}.get(t, 0.0) for t in types])
    horizon = 10
    expert = trl.maxent_backward_pass(mdp, phi @ w_true, horizon)
    mu = np.full(mdp.n_states, 1.0 / mdp.n_states)
    demos = trl.rollout(mdp, expert, n_episodes=2000, horizon=horizon, rng=np.random.default_rng(2), mu=mu)
    say("On the same map without slip, an expert that follows the MaxEnt model of a state reward on the cell",
        f"types {types} (weights {w_true.tolist()}) gives 2000 demonstrations of {horizon} steps from every cell;",
        "as in the paper's Algorithm 1, only paths that are in a terminal cell (G or H) at the last step count.")
    visits = np.bincount(demos.states[:, :horizon].ravel(), minlength=mdp.n_states) / demos.n_episodes
    say("", "The demonstrations: mean number of steps per episode spent in each cell", world.render_visitation(visits))
    first = " -> ".join(f"({r},{c})" for r, c in world.cell_of_state[demos.states[0]])
    say(f"and the first of them, cell by cell: {first}", "",
        "MaxEnt IRL (Ziebart et al. 2008) recovers the reward by gradient ascent on the exact log-likelihood:")
    res = trl.maxent_irl(mdp, phi, demos, horizon)
    # The cell types partition the states, so a constant shift of the weights changes nothing:
    # both rewards are shown relative to their value on '.' cells.
    base = types.index(".")
    say("", "True reward (relative to '.'):", world.render_values(phi @ (w_true - w_true[base])))
    say("", "Recovered reward (relative to '.'):", world.render_values(phi @ (res.weights - res.weights[base])), "")
    counts = trl.trajectory_feature_counts(mdp, demos, phi, gamma=1.0).mean(axis=0)
    start = np.bincount(demos.states[:, 0], minlength=mdp.n_states) / demos.n_episodes
    learner_visits = trl.maxent_forward_pass(mdp, res.policy, horizon, mu=start)
    model = learner_visits @ phi
    err = float(np.max(np.abs(counts - model)))
    say.check(f"converged in {res.n_iterations} steps; feature matching max |f~ - sum_s D(s) f(s)|", f"{err:.1e}",
              bool(res.converged) and err < 1e-6)

    say("", "Behaviour cloning vs DAgger on the 'recoverable drift' MDP (docs/guide/imitation.md#the-drift-mdp):",
        "a learner that errs with probability eps = 1e-3 where the expert would not; cost = steps spent off track.", "")
    eps = 1e-3
    drift = trl.drift_mdp()
    say(f"  {'T':>4s} {'BC cost':>10s} {'T^2 eps':>9s} {'DAgger cost':>12s} {'T eps':>8s}")
    ok = True
    costs = {}
    for T in (10, 20, 40, 80):
        bc = -trl.finite_horizon_values(drift, trl.drift_bc_learner(eps), T).J
        dg = -trl.finite_horizon_values(drift, trl.drift_dagger_learner(eps), T).J
        costs[T] = (bc, dg)
        ok &= abs(bc - trl.drift_bc_cost(T, eps)) < 1e-12 and abs(dg - trl.drift_dagger_cost(T, eps)) < 1e-12
        ok &= bc <= T * T * eps and dg <= T * eps
        say(f"  {T:>4d} {bc:>10.5f} {T * T * eps:>9.3f} {dg:>12.5f} {T * eps:>8.3f}")
    say("")
    say.check("exact costs equal the closed forms and respect T^2 eps and T eps", "", ok)
    say.check("doubling T: BC cost grows ~4x (quadratic), DAgger ~2x (linear)",
              f"{costs[80][0] / costs[40][0]:.2f}x, {costs[80][1] / costs[40][1]:.2f}x",
              costs[80][0] / costs[40][0] > 3.5 and costs[80][1] / costs[40][1] < 2.1)
    return dict(world=world, expert_visits=visits, learner_visits=learner_visits, costs=costs, epsilon=eps)


def episodic_section(say):
    say.heading("5. Episodic tasks at gamma = 1, exactly")
    # Sutton & Barto (2018), Example 4.1: two terminal corners, -1 per step, the equiprobable random policy.
    world = gridworld(["T...", "....", "....", "...T"], gamma=1.0, rewards={}, terminal="T", step_reward=-1.0)
    mdp = world.mdp
    pi = trl.uniform(*mdp.shape)
    V = trl.policy_evaluation(mdp, pi)
    say("Sutton & Barto's 4x4 gridworld (Example 4.1): T cells are terminal (TabularMDP(..., terminal=...)),",
        "every step costs 1, gamma = 1. The random policy is proper (it ends with probability 1), so its values",
        "are one LU solve of (I - P_TT) V_T = r_T on the transient states:", world.render_values(V, fmt="{:.1f}"))
    horizon = 100
    fh = trl.finite_horizon_values(mdp, pi, horizon).V[0]
    gap = float(np.max(np.abs(fh - V)))
    say("", f"finite_horizon_values at the H = {horizon} a user might guess instead:", world.render_values(fh, fmt="{:.3f}"),
        "")
    T = np.flatnonzero(~mdp.terminal)
    P_TT = mdp.transition_matrix(pi).toarray()[np.ix_(T, T)]
    rho = float(np.max(np.abs(np.linalg.eigvals(P_TT))))
    tail = np.linalg.matrix_power(P_TT, horizon) @ V[T]  # V - V_H = P_TT^H V exactly
    golden = np.array([0, -14, -20, -22, -14, -18, -20, -20, -20, -20, -18, -14, -22, -20, -14, 0], dtype=float)
    say.check("the book's -14, -18, -20, -22 (max error)", f"{np.max(np.abs(V - golden)):.1e}",
              np.max(np.abs(V - golden)) < 1e-10)
    say.check(f"H = {horizon} is off by max|V - V_H| (rho(P_TT) = {rho:.4f})", f"{gap:.3f}",
              abs(gap - float(np.max(np.abs(tail)))) < 1e-10)
    eta = trl.discounted_visitation_unnormalized(mdp, pi)
    L = float(mdp.mu @ trl.policy_evaluation(mdp.with_(R=np.ones(mdp.n_states)), pi))
    say.check("expected visits before termination sum to the episode length", f"{eta.sum():.4f}",
              abs(eta.sum() - L) < 1e-10)
    opt = trl.policy_iteration(mdp)
    say("", "Optimal values (policy iteration from a proper policy, Bertsekas & Tsitsiklis 1991):",
        world.render_values(opt.V, fmt="{:.1f}"))


def write_plots(directory, world, opt, pg, ppo, imitation):
    """Save the tour's figures in ``directory`` (created if missing); return the paths written.

    Needs matplotlib (:mod:`tabular_rl.plot`); imported here only, so the tour without
    ``--plots`` never imports it.
    """
    import matplotlib.pyplot as plt

    from tabular_rl import plot

    os.makedirs(directory, exist_ok=True)
    written = []

    def save(fig, name):
        path = os.path.join(directory, name)
        fig.savefig(path, dpi=100)
        plt.close(fig)
        written.append(path)

    fig, (left, right) = plt.subplots(1, 2, figsize=(10.0, 3.6), layout="constrained")
    plot.values(world, opt.V, left).set_title("optimal values V*")
    plot.policy(world, opt.policy, right).set_title("optimal policy")
    save(fig, "values_and_policy.png")

    fig, ax = plt.subplots(figsize=(6.4, 4.0), layout="constrained")
    J_star = float(world.mdp.mu @ opt.V)
    plot.learning_curve(pg, J_star, ax, label="softmax policy gradient (step 1)")
    plot.learning_curve(ppo, None, ax, label="PPO-clip (eps 0.2, 10 epochs)")
    ax.set_title("exact policy optimisation on the tour's world")
    save(fig, "learning_curves.png")

    axes = plot.visitation_comparison(imitation["world"], imitation["expert_visits"], imitation["learner_visits"])
    axes[0].figure.suptitle("MaxEnt IRL: expected visits per cell over 10 steps")
    save(axes[0].figure, "maxent_visitation.png")

    fig, ax = plt.subplots(figsize=(6.4, 4.0), layout="constrained")
    T = sorted(imitation["costs"])
    plot.compounding_error(T, [imitation["costs"][t][0] for t in T], [imitation["costs"][t][1] for t in T], ax,
                           epsilon=imitation["epsilon"])
    ax.set_title("behaviour cloning vs DAgger on the drift MDP")
    save(fig, "compounding_error.png")
    return written


def _parse(argv):
    parser = argparse.ArgumentParser(
        prog="python -m tabular_rl",
        description="A tour of tabular_rl: exact quantities on a gridworld, each beside a check of its identity.",
    )
    parser.add_argument("--plots", metavar="DIR", default=None,
                        help='also write the tour\'s figures to DIR as PNG files (needs matplotlib: '
                             'pip install -e ".[plot]")')
    return parser.parse_args(argv)


def main(argv=None, out=None):
    """Run the tour, printing to ``out`` (default stdout); return 0 if every check passed, else 1.

    ``argv`` (default ``sys.argv[1:]``) takes ``--plots DIR``: also write the figures there.
    """
    args = _parse(argv)
    out = sys.stdout if out is None else out
    say = _Printer(out)
    say("tabular_rl " + trl.__version__ + ": exact tabular reinforcement learning, a tour.")
    world = tour_world()
    opt, _ = core_section(world, say)
    pg, ppo = policy_optimisation_section(world, opt, say)
    imitation = imitation_section(world, say)
    episodic_section(say)
    say("")
    if args.plots is not None:
        written = write_plots(args.plots, world, opt, pg, ppo, imitation)
        say("Figures written: " + ", ".join(written), "")
    if say.failures:
        say(f"{say.failures} check(s) FAILED.")
        return 1
    say("Every check passed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
