r"""Rank and spectrum of the Hessian along training, and which global minimum training reaches.

Place in the pipeline: layer 6 (arrays; gradients and Hessians from :mod:`symhess.kernels`).

A student (any width :math:`N_s`, e.g. wider than the teacher) is trained from its initialisation
on the population loss by gradient flow :math:`\dot\theta=-\nabla\varepsilon` (BDF with the full
expected Hessian as Jacobian, integrated checkpoint to checkpoint) or by gradient descent. At every
checkpoint the full Hessian :math:`H(\theta)=E[\nabla f\nabla f^\top]+E[(f-f^\star)\nabla^2f]` is
assembled and recorded: its spectrum, the numerical rank
:math:`\#\{|\lambda|>\tau\lambda_{\max}\}` (``rank_rtol`` :math:`=\tau`, default :math:`10^{-9}`), the
same rank of the Gauss–Newton part, the smallest positive and the largest eigenvalue, and, for
polynomial activations with ``exact=True``, the exact rank of the Gauss–Newton part over
:math:`\mathbb Q` (a float64 point is a rational point).

At the end, :func:`~symhess.two_layer.minimum_hessian.classify_minimum` names the family reached (zero, split,
mixed, or "other": not one of them, or not converged), the point of that family next to the last
iterate is built (:func:`~symhess.two_layer.minimum_hessian.nearest_minimum`), and its Hessian is compared with
the last one. The loss tail is fitted, :math:`\varepsilon\propto e^{-rt}`, and compared with the
linearised prediction :math:`r=2\lambda^+_{\min}(H^\star)` (Couto et al. eq. 7). At split points
the prediction fails by construction: the degenerate null directions are flat to second order but
the loss is quartic along them, so the tail there is slower than any exponential with a rate of
:math:`2\lambda^+_{\min}`.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import InvalidParameterError
from ..activations import ActivationLike, activation as get_activation
from .assemble import expected_hessian
from .loss import population_gradient, population_loss
from ..validation import as_teacher, as_weights
from .minima import MinimumStructure
from .minimum_hessian import classify_minimum, nearest_minimum

__all__ = ["TrainingTrack", "track_training", "TRAIN_METHODS"]

#: how :func:`track_training` trains
TRAIN_METHODS = ("flow", "gd")


@dataclass
class TrainingTrack:
    r"""Quantities recorded by :func:`track_training` at its checkpoints.

    Attributes
    ----------
    times : ndarray
        Flow time (``"flow"``) or step (``"gd"``) of each checkpoint.
    loss : ndarray
        Population loss.
    rank, rank_gauss_newton : ndarray of int
        Numerical ranks :math:`\#\{|\lambda|>\tau\lambda_{\max}\}` of the full Hessian and of its
        Gauss–Newton part.
    exact_rank_gauss_newton : ndarray of int or None
        Exact rank over :math:`\mathbb Q` of the Gauss–Newton part (``exact=True``, polynomials).
    lambda_max, lambda_min_pos, lambda_min : ndarray
        Largest, smallest above :math:`\tau\lambda_{\max}`, and smallest (may be negative) eigenvalue.
    spectra : list of ndarray
        Full spectra (ascending).
    W, v : ndarray
        The last iterate.
    structure : MinimumStructure
        The family detected at the end (``kind == "other"``: none).
    W_min, v_min : ndarray or None
        The point of that family next to the last iterate.
    hessian_at_minimum : ndarray or None
        :math:`H` there (Gauss–Newton form, residual 0).
    hessian_gap : float or None
        :math:`\|H(\theta_{\rm last})-H(\theta_{\min})\|_2/\|H(\theta_{\min})\|_2`.
    fitted_rate, predicted_rate : float or None
        Fitted tail rate of the loss and :math:`2\lambda^+_{\min}(H(\theta_{\min}))`.
    """

    activation: str
    method: str
    rank_rtol: float
    times: np.ndarray
    loss: np.ndarray
    rank: np.ndarray
    rank_gauss_newton: np.ndarray
    lambda_max: np.ndarray
    lambda_min_pos: np.ndarray
    lambda_min: np.ndarray
    spectra: list = field(repr=False)
    W: np.ndarray = field(repr=False)
    v: np.ndarray = field(repr=False)
    W_teacher: np.ndarray = field(repr=False)
    v_teacher: np.ndarray = field(repr=False)
    exact_rank_gauss_newton: np.ndarray | None = None
    structure: MinimumStructure | None = None
    W_min: np.ndarray | None = field(default=None, repr=False)
    v_min: np.ndarray | None = field(default=None, repr=False)
    hessian_at_minimum: np.ndarray | None = field(default=None, repr=False)
    final_hessian: np.ndarray | None = field(default=None, repr=False)
    hessian_gap: float | None = None
    rank_at_minimum: int | None = None
    fitted_rate: float | None = None
    predicted_rate: float | None = None

    @property
    def n_hidden(self) -> int:
        return int(self.W.shape[0])

    @property
    def n_teacher(self) -> int:
        return int(self.W_teacher.shape[0])

    def rows(self) -> list[dict]:
        """One dict per checkpoint (the CSV rows)."""
        out = []
        for k, t in enumerate(self.times):
            out.append({
                "time": float(t), "loss": float(self.loss[k]), "rank": int(self.rank[k]),
                "rank_gauss_newton": int(self.rank_gauss_newton[k]),
                "exact_rank_gauss_newton": "" if self.exact_rank_gauss_newton is None
                else int(self.exact_rank_gauss_newton[k]),
                "lambda_max": float(self.lambda_max[k]), "lambda_min_pos": float(self.lambda_min_pos[k]),
                "lambda_min": float(self.lambda_min[k]),
            })
        return out

    def summary(self) -> dict:
        """The end of the run: family reached, rank there, rates (JSON-serialisable)."""
        st = self.structure
        return {
            "activation": self.activation, "method": self.method, "n_in": int(self.W.shape[1]),
            "n_teacher": self.n_teacher, "n_hidden": self.n_hidden, "rank_rtol": self.rank_rtol,
            "final_loss": float(self.loss[-1]),
            "family": None if st is None else st.kind,
            "teacher_unit": None if st is None else st.teacher_unit.tolist(),
            "shares": None if st is None else [float(x) for x in st.shares],
            "rank_at_minimum": self.rank_at_minimum, "hessian_gap": self.hessian_gap,
            "fitted_rate": self.fitted_rate, "predicted_rate": self.predicted_rate,
        }

    def write(self, stem: str | Path) -> tuple[Path, Path]:
        """Write ``stem.csv`` (checkpoints) and ``stem.json`` (summary, checkpoints and spectra)."""
        stem = Path(stem)
        stem.parent.mkdir(parents=True, exist_ok=True)
        csv_path, json_path = stem.with_suffix(".csv"), stem.with_suffix(".json")
        rows = self.rows()
        with open(csv_path, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        payload = {"summary": self.summary(), "checkpoints": rows,
                   "spectra": [s.tolist() for s in self.spectra]}
        json_path.write_text(json.dumps(payload, indent=1))
        return csv_path, json_path

    def plot(self, path: str | Path) -> Path:
        """Loss, rank and extreme eigenvalues against time (matplotlib, Agg)."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        t = np.maximum(self.times, self.times[self.times > 0].min() / 10 if np.any(self.times > 0) else 1.0)
        fig, ax = plt.subplots(1, 3, figsize=(13, 3.6))
        ax[0].loglog(t, np.maximum(self.loss, 1e-300), "k.-")
        if self.predicted_rate:
            tail = t[-1]
            ax[0].loglog(t, self.loss[-1] * np.exp(-self.predicted_rate * (t - tail)), "r--", lw=0.8,
                         label=r"$e^{-2\lambda^+_{\min}t}$ through the last point")
            ax[0].set_ylim(max(self.loss.min(), 1e-300) / 10, self.loss.max() * 10)
            ax[0].legend(fontsize=7)
        ax[0].set(xlabel="t", ylabel="population loss")
        ax[1].semilogx(t, self.rank, "b.-", label="full Hessian")
        ax[1].semilogx(t, self.rank_gauss_newton, "g.--", label="Gauss-Newton")
        if self.exact_rank_gauss_newton is not None:
            ax[1].semilogx(t, self.exact_rank_gauss_newton, "mx", label="Gauss-Newton, exact")
        if self.rank_at_minimum is not None:
            ax[1].axhline(self.rank_at_minimum, color="r", lw=0.8, label="rank at the minimum reached")
        ax[1].set(xlabel="t", ylabel=f"rank (|λ| > {self.rank_rtol:g} λ_max)")
        ax[1].legend(fontsize=7)
        ax[2].loglog(t, self.lambda_max, "k.-", label=r"$\lambda_{\max}$")
        ax[2].loglog(t, self.lambda_min_pos, "b.-", label=r"$\lambda^+_{\min}$")
        neg = self.lambda_min < 0
        if np.any(neg):
            ax[2].loglog(t[neg], -self.lambda_min[neg], "r.", label=r"$-\lambda_{\min}$ (negative)")
        ax[2].set(xlabel="t", ylabel="eigenvalue")
        ax[2].legend(fontsize=7)
        fam = self.structure.kind if self.structure is not None else "?"
        fig.suptitle(f"{self.activation}: N_i = {self.W.shape[1]}, N_t = {self.n_teacher}, N_s = {self.n_hidden}; "
                     f"reached: {fam} minimum", fontsize=9)
        fig.tight_layout()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110)
        plt.close(fig)
        return path


def _ranks(eigs: np.ndarray, rtol: float) -> tuple[int, float]:
    lmax = float(np.max(np.abs(eigs)))
    nz = np.abs(eigs) > rtol * lmax
    pos = eigs[eigs > rtol * lmax]
    return int(nz.sum()), float(pos.min()) if pos.size else 0.0


def _is_odd(act) -> bool:
    """erf, tanh, and polynomials with odd powers only: sigma(-z) = -sigma(z), so (-w, -v) is a copy of (w, v)."""
    from .counting import activation_profile

    prof = activation_profile(act)
    if prof.kind == "polynomial":
        return all(c is not None and c == 0 for k, c in enumerate(prof.coeffs) if k % 2 == 0)
    return prof.kind in ("erf", "tanh")


def _tail_rate(times: np.ndarray, loss: np.ndarray) -> float | None:
    """Slope of -log(loss) over the last three checkpoints with loss above 1e-28 (None if too few)."""
    ok = loss > 1e-28
    t, l = times[ok], loss[ok]
    if t.size < 3:
        return None
    t, l = t[-3:], l[-3:]
    return float(-np.polyfit(t, np.log(l), 1)[0])


def track_training(
    act: ActivationLike,
    W0: np.ndarray,
    v0: np.ndarray,
    W_teacher: np.ndarray,
    v_teacher: np.ndarray,
    times: np.ndarray,
    *,
    method: str = "flow",
    lr: float | None = None,
    rtol: float = 1e-9,
    atol: float = 1e-13,
    rank_rtol: float = 1e-9,
    exact: bool = False,
    classify_tol: float = 1e-3,
    allow_sign_flip: bool | None = None,
    callback: Callable[[int, float], None] | None = None,
) -> TrainingTrack:
    r"""Train a student on the population loss and record the Hessian's rank and spectrum at checkpoints.

    Parameters
    ----------
    act : str or Activation
        Activation.
    W0, v0 : ndarray, shapes (Ns, Ni), (Ns,)
        Initialisation (any width; e.g. ``symhess.teacher(Ni, Ns, rng)`` draws).
    W_teacher, v_teacher : ndarray, shapes (Nt, Ni), (Nt,)
        Teacher.
    times : array_like
        Increasing checkpoints :math:`\ge0`: flow times (``"flow"``) or integer steps (``"gd"``).
    method : {"flow", "gd"}
        Gradient flow (BDF, exact Jacobian :math:`-H`) or gradient descent with step ``lr``.
    rtol, atol : float
        Integrator tolerances (flow).
    rank_rtol : float
        Numerical rank threshold :math:`\tau` relative to :math:`\lambda_{\max}`.
    exact : bool
        Also the exact rank over :math:`\mathbb Q` of the Gauss–Newton part (polynomial activations).
    classify_tol : float
        Tolerance of :func:`~symhess.two_layer.minimum_hessian.classify_minimum` at the end.
    allow_sign_flip : bool, optional
        Accept :math:`w_i=-w^\star_g` copies (default: for odd activations).
    callback : callable, optional
        ``callback(k, t)`` after checkpoint ``k`` (progress bars).

    Returns
    -------
    TrainingTrack
    """
    from scipy.integrate import solve_ivp

    from ..validation import as_positive
    from .dynamics import _check_times

    act = get_activation(act)
    if method not in TRAIN_METHODS:
        raise InvalidParameterError(f"method={method!r} is unknown; choose one of {TRAIN_METHODS}")
    W0, v0 = as_weights(W0, v0)
    Wt, vt = as_teacher(W_teacher, v_teacher, W0.shape[1])
    t = _check_times(times)
    rank_rtol = as_positive(rank_rtol, "rank_rtol")
    if method == "gd":
        if lr is None:
            raise InvalidParameterError("method='gd' needs a step size lr > 0")
        lr = as_positive(lr, "lr")
        if not np.allclose(t, np.round(t)):
            raise InvalidParameterError("with method='gd' the checkpoints are step counts: give integers")
    if exact and not act.is_polynomial:
        from ..errors import NoClosedFormError
        raise NoClosedFormError(f"exact=True needs a polynomial activation; {act.spec!r} is not one")
    shape = W0.shape
    Ns, Ni = shape

    def split(theta):
        return theta[: Ns * Ni].reshape(shape), theta[Ns * Ni:]

    def rhs(_t, theta):
        return -population_gradient(act, *split(theta), Wt, vt, method="expansion")

    def jac(_t, theta):
        return -expected_hessian(act, *split(theta), W_teacher=Wt, v_teacher=vt)

    theta = np.concatenate([W0.ravel(), v0])
    now = 0.0
    rec = {k: [] for k in ("loss", "rank", "gn", "lmax", "lminp", "lmin", "exact")}
    spectra = []
    H = None
    for k, tk in enumerate(t):
        if tk > now:
            if method == "flow":
                sol = solve_ivp(rhs, (now, float(tk)), theta, method="BDF", jac=jac, rtol=rtol, atol=atol)
                if not sol.success:
                    raise RuntimeError(f"gradient flow integration failed between t = {now:g} and {tk:g}: "
                                       f"{sol.message} (looser tolerances help past t ~ 1e4, e.g. rtol=1e-8, "
                                       "atol=1e-11)")
                theta = sol.y[:, -1]
            else:
                for _ in range(int(round(tk)) - int(round(now))):
                    theta = theta + lr * rhs(0.0, theta)
            now = float(tk)
        W, v = split(theta)
        H = expected_hessian(act, W, v, W_teacher=Wt, v_teacher=vt)
        G = expected_hessian(act, W, v)
        e = np.linalg.eigvalsh(H)
        r, lminp = _ranks(e, rank_rtol)
        rec["loss"].append(population_loss(act, W, v, Wt, vt))
        rec["rank"].append(r)
        rec["gn"].append(_ranks(np.linalg.eigvalsh(G), rank_rtol)[0])
        rec["lmax"].append(float(e[-1]))
        rec["lminp"].append(lminp)
        rec["lmin"].append(float(e[0]))
        if exact:
            from .rank import hessian_rank
            rec["exact"].append(hessian_rank(act, W, v, exact=True).rank)
        spectra.append(e)
        if callback is not None:
            callback(k, float(tk))
    W, v = split(theta)
    track = TrainingTrack(
        act.spec, method, rank_rtol, t, np.array(rec["loss"]), np.array(rec["rank"]), np.array(rec["gn"]),
        np.array(rec["lmax"]), np.array(rec["lminp"]), np.array(rec["lmin"]), spectra, W.copy(), v.copy(), Wt, vt,
        exact_rank_gauss_newton=np.array(rec["exact"]) if exact else None, final_hessian=H)
    flip = _is_odd(act) if allow_sign_flip is None else bool(allow_sign_flip)
    st = classify_minimum(W, v, Wt, vt, tol=classify_tol, allow_sign_flip=flip)
    track.structure = st
    track.fitted_rate = _tail_rate(t, track.loss)
    if st.kind != "other":
        Wm, vm = nearest_minimum(W, v, st, Wt, vt)
        Hm = expected_hessian(act, Wm, vm)
        em = np.linalg.eigvalsh(Hm)
        track.W_min, track.v_min, track.hessian_at_minimum = Wm, vm, Hm
        track.hessian_gap = float(np.linalg.norm(H - Hm, 2) / np.linalg.norm(Hm, 2))
        track.rank_at_minimum, lminp = _ranks(em, rank_rtol)
        track.predicted_rate = 2.0 * lminp
    return track
