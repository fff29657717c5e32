"""The tour: ``python -m tabular_rl``.

A short walk through the library on one built-in gridworld, printing each
exact quantity beside a check that it satisfies its identity. Runs in seconds.
"""

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


def main(argv=None, out=None):
    out = sys.stdout if out is None else out
    say = _Printer(out)
    say("tabular_rl " + trl.__version__ + ": exact tabular reinforcement learning, a tour.")
    world = tour_world()
    core_section(world, say)
    say("")
    if say.failures:
        say(f"{say.failures} check(s) FAILED.")
        return 1
    say("Every check passed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
