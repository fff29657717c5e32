"""Helpers shared by the test modules: the tolerances of docs/guide/numerics.md#tolerances and the other-layout twin of an MDP."""

import numpy as np
import scipy.sparse as sp

from tabular_rl import TabularMDP


def scale(mdp):
    """(R, H_eff): the largest |r| and 1/(1 - gamma) (1 for gamma = 1)."""
    R = float(np.max(np.abs(mdp.R)))
    H = 1.0 / (1.0 - mdp.gamma) if mdp.gamma < 1 else 1.0
    return R, H


def tol1(mdp):
    """Single-solve identities: 1e-10 (1+R) H_eff (docs/guide/numerics.md#tolerances)."""
    R, H = scale(mdp)
    return 1e-10 * (1 + R) * H


def tol2(mdp):
    """Identities comparing two solves, and inequalities: 1e-9 (1+R) H_eff^2."""
    R, H = scale(mdp)
    return 1e-9 * (1 + R) * H**2


def tol_layout(mdp):
    """Dense versus sparse: the same numbers to 1e-12, scaled by the size of the values."""
    R, H = scale(mdp)
    return 1e-12 * (1 + R) * H


def twin(mdp):
    """The same MDP in the other layout (dense <-> sparse)."""
    S, A = mdp.shape
    if mdp.is_sparse:
        return TabularMDP(mdp.todense(), mdp.R, mdp.gamma, mu=mdp.mu)
    return TabularMDP(sp.csr_matrix(mdp.P.reshape(S * A, S)), mdp.R, mdp.gamma, mu=mdp.mu)


def count_minimize_calls(monkeypatch):
    """Patch scipy.optimize.minimize to record the ``method`` of every call; return the list it fills."""
    import scipy.optimize

    calls = []
    real = scipy.optimize.minimize

    def counting(*args, **kwargs):
        calls.append(kwargs.get("method"))
        return real(*args, **kwargs)

    monkeypatch.setattr(scipy.optimize, "minimize", counting)
    return calls


def concavity_modulus(grad, w0, h=1e-5):
    """Smallest eigenvalue of -Hessian at w0, the Hessian by central differences of the exact ``grad``:
    near a maximiser, ||w - w0|| <= ||grad(w)|| / modulus."""
    w0 = np.asarray(w0, dtype=float)
    hess = np.array([(grad(w0 + h * e) - grad(w0 - h * e)) / (2 * h) for e in np.eye(w0.size)])
    return float(np.min(np.linalg.eigvalsh(-(hess + hess.T) / 2)))
