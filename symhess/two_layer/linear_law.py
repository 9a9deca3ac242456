r"""The law of the nonzero Hessian eigenvalues of a linear teacher–student network (eq. 15).

Place in the package: the two-layer teacher-student family (arrays only; NumPy and SciPy, no SymPy).

For :math:`f(x)=v^\top Wx`, :math:`W\in\mathbb R^{N_h\times N_i}`, at the optimum the expected
Hessian is :math:`H^\star = AA^\top` with :math:`A=\binom{v\otimes I_{N_i}}{W}`, so its
:math:`N_i` nonzero eigenvalues are those of :math:`\|v\|^2 I_{N_i} + W^\top W`
(Couto et al. eqs. 8-10). For a Gaussian teacher, :math:`W_{ij}\sim N(0,\sigma_w^2)`,
:math:`v_i\sim N(0,\sigma_v^2)`, the shift and the Wishart part are independent:

.. math::

    \lambda = s + \mu,\qquad s=\|v\|^2\sim\sigma_v^2\chi^2_{N_h},\qquad
    \mu\in\operatorname{spec}(W^\top W)\ \xrightarrow{\ N\to\infty\ }\
    \Big(1-\tfrac{N_h}{N_i}\Big)_{+}\delta_0 + p_{\rm MP},

.. math::

    p_{\rm MP}(\mu)=\frac{\sqrt{(\mu_+-\mu)(\mu-\mu_-)}}{2\pi\sigma_w^2N_i\,\mu}
    \mathbf 1_{[\mu_-,\mu_+]}(\mu),\qquad \mu_\pm=\sigma_w^2\big(\sqrt{N_h}\pm\sqrt{N_i}\big)^2,

whose mass is :math:`\min(1, N_h/N_i)`. Hence (Couto et al., eq. 15 and Section 3.1)

.. math::

    \rho_+(\lambda) = \Big(1-\frac{N_h}{N_i}\Big)_{+}\,p_\chi(\lambda)
      + \int_{\mu_-}^{\mu_+} p_{\rm MP}(\mu)\,p_\chi(\lambda-\mu)\,d\mu .

The atom (the *exact* :math:`\chi^2` component, :math:`N_i-N_h` eigenvalues equal to :math:`s`
when :math:`N_h<N_i`) is exact at every size; the Marchenko–Pastur part is the large-size law
(its Kolmogorov distance to the finite-size Wishart spectrum is :math:`O(1/N)`).

Numerics. The convolution integral is done by double-exponential (tanh–sinh) quadrature on
panels whose ends are the MP edges, the point :math:`\mu=\lambda` (where :math:`p_\chi` has its
:math:`s^{N_h/2-1}` end point) and :math:`\lambda - s_q` for quantiles :math:`s_q` of the shift
(so a narrow :math:`\chi^2`, large :math:`N_h`, is resolved). Every factor with an end-point
singularity is evaluated from the node's *distance* to the panel end, so the
:math:`\sqrt{\cdot}` edges of MP, the :math:`\mu^{-1/2}` hard edge at :math:`N_h=N_i` and the
:math:`s^{-1/2}` singularity of :math:`\chi^2_1` lose no digits. Against a 30-digit mpmath
evaluation of eq. (15) the relative error of ``pdf`` is ~1e-14 for comparable :math:`N_i, N_h` and
grows to ~1e-8 for very narrow shifts (:math:`N_h\gg N_i`, e.g. (3, 200)); ``cdf`` agrees with
QUADPACK integration of ``pdf`` to 1e-8 (tests/test_linear_law.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from math import comb

import numpy as np
from scipy import special

from ..validation import as_rng, check_size
from .teacher import teacher_variances
from ..errors import InvalidParameterError

__all__ = ["LinearSpectrumLaw", "linear_spectrum_law", "ks_distance", "ks_critical_value"]

#: quantile levels of the shift whose positions become panel ends of the convolution quadrature
_SHIFT_QUANTILES = np.array([1e-4, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99, 0.9999])
#: tanh-sinh step and half-width of the (truncated) t-range: nodes reach 1e-37 of the panel ends
_DE_STEP, _DE_TMAX = 1.0 / 8.0, 4.0
#: evaluation points per vectorised block (bounds the temporary arrays to ~10 MB)
_CHUNK = 1024


def _de_rule(step: float = _DE_STEP, tmax: float = _DE_TMAX):
    r"""Tanh–sinh nodes on [0, 1] as (distance to 0, distance to 1, weight).

    :math:`x(t)=\tfrac12(1+\tanh(\tfrac\pi2\sinh t))`; the distances are computed without
    cancellation, :math:`x = 1/(1+e^{-2u})`, :math:`1-x = 1/(1+e^{2u})`.
    """
    t = np.arange(-tmax, tmax + step / 2, step)
    u = 0.5 * np.pi * np.sinh(t)
    d0 = special.expit(2 * u)
    d1 = special.expit(-2 * u)
    w = step * 0.25 * np.pi * np.cosh(t) / np.cosh(u) ** 2
    return d0, d1, w


_D0, _D1, _W = _de_rule()


def chi2_shift(kind: str, s: np.ndarray, n_hidden: int, var_v: float) -> np.ndarray:
    r"""pdf, cdf or sf (``kind``) at ``s`` of the shift :math:`s=\lVert v\rVert^2\sim\sigma_v^2\chi^2_{N_h}`."""
    k, scale = 0.5 * n_hidden, 2.0 * var_v
    pos = s > 0
    z = np.where(pos, s, 1.0) / scale
    if kind == "pdf":
        with np.errstate(divide="ignore", over="ignore"):
            val = np.exp((k - 1) * np.log(z) - z - special.gammaln(k)) / scale
        return np.where(pos, val, 0.0)
    if kind == "cdf":
        return np.where(pos, special.gammainc(k, z), 0.0)
    return np.where(pos, special.gammaincc(k, z), 1.0)  # sf


@dataclass(frozen=True)
class LinearSpectrumLaw:
    r"""Distribution of one nonzero Hessian eigenvalue of a random linear teacher (eq. 15).

    Build it with :func:`linear_spectrum_law`. It behaves like a frozen ``scipy.stats``
    distribution: ``pdf``, ``cdf``, ``sf``, ``ppf`` and ``rvs`` are vectorised, ``mean``,
    ``var``, ``std`` and ``moment`` are exact (closed-form moments of :math:`\chi^2` and the
    Narayana moments of MP).

    Attributes
    ----------
    n_in, n_hidden : int
        :math:`N_i` and :math:`N_h`.
    var_w, var_v : float
        Teacher variances :math:`\sigma_w^2` (entries of ``W``) and :math:`\sigma_v^2` (of ``v``).
    """

    n_in: int
    n_hidden: int
    var_w: float
    var_v: float
    _breaks: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        shape_k, scale = 0.5 * self.n_hidden, 2.0 * self.var_v
        object.__setattr__(self, "_breaks", scale * special.gammaincinv(shape_k, _SHIFT_QUANTILES))

    # -- the two ingredients ---------------------------------------------------------------
    @property
    def atom_weight(self) -> float:
        r"""Fraction :math:`(1-N_h/N_i)_+` of nonzero eigenvalues that equal the shift :math:`s` exactly."""
        return max(0.0, 1.0 - self.n_hidden / self.n_in)

    @property
    def mp_edges(self) -> tuple[float, float]:
        r"""Edges :math:`\mu_\pm=\sigma_w^2(\sqrt{N_h}\pm\sqrt{N_i})^2` of the MP part."""
        a, b = np.sqrt(self.n_hidden), np.sqrt(self.n_in)
        return float(self.var_w * (a - b) ** 2), float(self.var_w * (a + b) ** 2)

    @property
    def n_params(self) -> int:
        """:math:`P=N_hN_i+N_h`; the Hessian has :math:`N_i` nonzero and :math:`P-N_i` zero eigenvalues."""
        return self.n_hidden * self.n_in + self.n_hidden

    @property
    def zero_fraction(self) -> float:
        r"""Weight :math:`1-N_i/P` of the atom at zero in the spectrum of all :math:`P` eigenvalues."""
        return 1.0 - self.n_in / self.n_params

    def shift_pdf(self, s: np.ndarray) -> np.ndarray:
        r""":math:`p_\chi(s)`, the density of :math:`s=\|v\|^2\sim\sigma_v^2\chi^2_{N_h}`."""
        return self._shift("pdf", np.asarray(s, dtype=float))

    def mp_pdf(self, mu: np.ndarray) -> np.ndarray:
        r"""Continuous MP part :math:`p_{\rm MP}(\mu)` (mass :math:`\min(1,N_h/N_i)`; the atom at 0 is omitted)."""
        mu = np.asarray(mu, dtype=float)
        lo, hi = self.mp_edges
        inside = (mu > lo) & (mu < hi)
        m = np.where(inside, mu, 0.5 * (lo + hi))
        return np.where(inside, np.sqrt((hi - m) * (m - lo)) / (2 * np.pi * self.var_w * self.n_in * m), 0.0)

    def _shift(self, kind: str, s: np.ndarray) -> np.ndarray:
        return chi2_shift(kind, s, self.n_hidden, self.var_v)

    # -- the convolution -------------------------------------------------------------------
    def _convolve(self, x: np.ndarray, kind: str) -> np.ndarray:
        r""":math:`\int p_{\rm MP}(\mu)\,G(x-\mu)\,d\mu` for G the shift's pdf, cdf or sf (vectorised)."""
        flat = x.reshape(-1)
        out = np.empty(flat.shape)
        for k in range(0, flat.size, _CHUNK):
            out[k:k + _CHUNK] = self._convolve_flat(flat[k:k + _CHUNK], kind)
        return out.reshape(x.shape)

    def _convolve_flat(self, xs: np.ndarray, kind: str) -> np.ndarray:
        lo, hi = self.mp_edges
        cuts = np.concatenate([np.full((xs.size, 1), lo), np.full((xs.size, 1), hi), xs[:, None],
                               xs[:, None] - self._breaks[None, :]], axis=1)
        cuts = np.sort(np.clip(cuts, lo, hi), axis=1)
        a, b = cuts[:, :-1, None], cuts[:, 1:, None]  # panels (n, n_panels, 1)
        length = b - a
        da, db = length * _D0, length * _D1  # node distances to the panel ends, no cancellation
        from_lo = (a - lo) + da  # mu - mu_-
        to_hi = (hi - b) + db  # mu_+ - mu
        mu = lo + from_lo
        with np.errstate(divide="ignore", invalid="ignore"):
            mp = np.sqrt(to_hi * from_lo) / (2 * np.pi * self.var_w * self.n_in * mu)
        mp = np.where(mu > 0, mp, 0.0)
        xc = xs[:, None, None]
        left = b <= xc  # panel lies left of mu = x: the shift x - mu is positive there
        gap = np.where(left, (xc - b) + db, 1.0)  # x - mu, measured from the panel's right end
        g = self._shift(kind, gap)
        if kind == "pdf" or kind == "cdf":
            g = np.where(left, g, 0.0)
        else:  # sf: s > x - mu < 0 is certain
            g = np.where(left, g, 1.0)
        return (np.sum(mp * g * _W, axis=2) * length[..., 0]).sum(axis=1)

    def _mixture(self, kind: str, x: np.ndarray) -> np.ndarray:
        """``kind`` ("pdf", "cdf" or "sf") of the continuous part plus the atom's shifted component."""
        x = np.asarray(x, dtype=float)
        out = self._convolve(x, kind)
        if self.atom_weight:
            out = out + self.atom_weight * self._shift(kind, x)
        return out

    def pdf(self, x: np.ndarray) -> np.ndarray:
        r"""Density :math:`\rho_+(\lambda)` of a nonzero eigenvalue (vectorised)."""
        return self._mixture("pdf", x)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        r"""Distribution function :math:`P(\lambda\le x)` (vectorised)."""
        return np.clip(self._mixture("cdf", x), 0.0, 1.0)

    def sf(self, x: np.ndarray) -> np.ndarray:
        r"""Survival function :math:`P(\lambda > x)`, accurate in the far right tail (vectorised)."""
        return np.clip(self._mixture("sf", x), 0.0, 1.0)

    def ppf(self, q: np.ndarray) -> np.ndarray:
        """Quantile function: the :math:`x` with ``cdf(x) = q``, by safeguarded Newton (vectorised)."""
        q = np.asarray(q, dtype=float)
        if np.any((q < 0) | (q > 1) | ~np.isfinite(q)):
            raise InvalidParameterError("ppf needs probabilities in [0, 1]")
        grid_x, grid_f = self._table
        x = np.interp(q, grid_f, grid_x)
        lo = np.zeros_like(x)
        hi = np.full_like(x, grid_x[-1])
        for _ in range(60):
            f = self.cdf(x) - q
            lo = np.where(f < 0, x, lo)
            hi = np.where(f >= 0, x, hi)
            p = self.pdf(x)
            with np.errstate(divide="ignore", invalid="ignore"):
                step = x - f / p
            bisect = 0.5 * (lo + hi)
            x_new = np.where((p > 0) & (step > lo) & (step < hi), step, bisect)
            if np.all(np.abs(x_new - x) <= 1e-13 * np.maximum(1.0, np.abs(x))):
                x = x_new
                break
            x = x_new
        return np.where(q == 0, 0.0, np.where(q == 1, np.inf, x))

    @cached_property
    def _table(self) -> tuple[np.ndarray, np.ndarray]:
        hi = self.mean() + 12 * self.std() + self.mp_edges[1]
        xs = np.linspace(0.0, hi, 257)
        return xs, self.cdf(xs)

    # -- sampling and moments ---------------------------------------------------------------
    def rvs(self, size: int | tuple[int, ...] = 1, rng: object = None) -> np.ndarray:
        r"""Independent draws of :math:`s+\mu` from the law itself (not from finite teachers).

        :math:`s=\sigma_v^2\chi^2_{N_h}`; :math:`\mu=0` with probability ``atom_weight``, otherwise
        from :math:`p_{\rm MP}` by exact rejection sampling from a Beta(1/2, 3/2) proposal.
        """
        gen = as_rng(rng)
        shape = (size,) if np.isscalar(size) else tuple(size)
        n = int(np.prod(shape))
        s = self.var_v * gen.chisquare(self.n_hidden, size=n)
        mu = np.zeros(n)
        in_mp = gen.random(n) >= self.atom_weight
        mu[in_mp] = self._sample_mp(int(in_mp.sum()), gen)
        return (s + mu).reshape(shape)

    def _sample_mp(self, n: int, gen: np.random.Generator) -> np.ndarray:
        r"""Exact draws from the normalised MP part.

        With :math:`\mu=\mu_-+\Delta B`, the density is :math:`\propto B^{1/2}(1-B)^{1/2}/\mu`; the
        proposal :math:`B\sim\mathrm{Beta}(1/2,3/2)\propto B^{-1/2}(1-B)^{1/2}` leaves the
        acceptance probability :math:`\Delta B/\mu\le1`.
        """
        lo, hi = self.mp_edges
        out = np.empty(0)
        while out.size < n:
            m = max(64, int(1.5 * (n - out.size)) + 16)
            B = gen.beta(0.5, 1.5, size=m)
            mu = lo + (hi - lo) * B
            keep = gen.random(m) * mu < (hi - lo) * B
            out = np.concatenate([out, mu[keep]])
        return out[:n]

    def _shift_moment(self, k: int) -> float:
        r""":math:`E[s^k]=\sigma_v^{2k}\,N_h(N_h+2)\cdots(N_h+2k-2)`."""
        return float(np.prod([self.var_v * (self.n_hidden + 2 * r) for r in range(k)]))

    def _mp_moment(self, m: int) -> float:
        r""":math:`E[\mu^m]` over all :math:`N_i` eigenvalues (atom included): Narayana polynomials.

        :math:`E[\mu^m]=(\sigma_w^2N_h)^m\sum_{r=0}^{m-1}\frac{1}{r+1}\binom mr\binom{m-1}r(N_i/N_h)^r`.
        """
        if m == 0:
            return 1.0
        y = self.n_in / self.n_hidden
        nar = sum(comb(m, r) * comb(m - 1, r) / (r + 1) * y**r for r in range(m))
        return float((self.var_w * self.n_hidden) ** m * nar)

    def moment(self, n: int) -> float:
        r"""Raw moment :math:`E[\lambda^n]=\sum_k\binom nk E[s^k]E[\mu^{n-k}]` (exact)."""
        n = int(n)
        if n < 0:
            raise InvalidParameterError(f"moment order n={n} must be >= 0")
        return float(sum(comb(n, k) * self._shift_moment(k) * self._mp_moment(n - k) for k in range(n + 1)))

    def mean(self) -> float:
        r""":math:`E[\lambda]=N_h(\sigma_v^2+\sigma_w^2)` (exact also for finite teachers)."""
        return self.moment(1)

    def var(self) -> float:
        """Variance of a nonzero eigenvalue under the law."""
        return self.moment(2) - self.moment(1) ** 2

    def std(self) -> float:
        """Standard deviation of a nonzero eigenvalue under the law."""
        return float(np.sqrt(self.var()))

    def support(self) -> tuple[float, float]:
        r"""Lower end of the support (0 with an atom or :math:`N_h=N_i`, else :math:`\mu_-`) and :math:`\infty`."""
        return (0.0 if self.atom_weight else self.mp_edges[0]), float("inf")


def linear_spectrum_law(
    n_in: int, n_hidden: int, var_w: float | None = None, var_v: float | None = None
) -> LinearSpectrumLaw:
    r"""The law of the nonzero expected-Hessian eigenvalues of a random linear teacher (eq. 15).

    .. math::

        \rho_+(\lambda)=\Big(1-\frac{N_h}{N_i}\Big)_{+}p_\chi(\lambda)
        +\int p_{\rm MP}(\mu)\,p_\chi(\lambda-\mu)\,d\mu,\qquad
        s\sim\sigma_v^2\chi^2_{N_h},\quad \mu_\pm=\sigma_w^2(\sqrt{N_h}\pm\sqrt{N_i})^2 .

    Parameters
    ----------
    n_in, n_hidden : int
        Input dimension :math:`N_i` and hidden width :math:`N_h`.
    var_w, var_v : float, optional
        Teacher variances; default :math:`1/N_i` and :math:`1/N_h` (the law is then the scaled
        :math:`\chi^2_{N_h}/N_h` convolved with the MP law scaled by :math:`N_h/N_i`).

    Returns
    -------
    LinearSpectrumLaw

    References
    ----------
    Couto et al., arXiv:2512.15606, Section 3.1, eqs. (8)-(10) and (15).

    Examples
    --------
    >>> law = linear_spectrum_law(10, 20)
    >>> round(law.mean(), 12), round(float(law.cdf(1e3)), 12)
    (3.0, 1.0)
    """
    n_in = check_size(n_in, "n_in")
    n_hidden = check_size(n_hidden, "n_hidden")
    return LinearSpectrumLaw(
        n_in, n_hidden, *teacher_variances(n_in, n_hidden, var_w, var_v)
    )


def ks_distance(samples: np.ndarray, cdf) -> float:
    r"""Kolmogorov–Smirnov distance :math:`\sup_x|F_n(x)-F(x)|` of a sample to a continuous ``cdf``."""
    x = np.sort(np.asarray(samples, dtype=float).ravel())
    if x.size == 0:
        raise InvalidParameterError("ks_distance needs at least one sample")
    F = np.asarray(cdf(x), dtype=float)
    n = x.size
    i = np.arange(1, n + 1)
    return float(max(np.max(i / n - F), np.max(F - (i - 1) / n)))


def ks_critical_value(n: int, alpha: float) -> float:
    r"""Exact one-sample KS critical value: :math:`P(D_n > d) = \alpha` for i.i.d. draws from ``F``."""
    from scipy import stats

    if not 0 < alpha < 1:
        raise InvalidParameterError(f"alpha={alpha} must lie in (0, 1)")
    return float(stats.kstwo.ppf(1 - alpha, int(n)))
