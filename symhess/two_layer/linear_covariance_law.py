r"""The law of the nonzero Hessian eigenvalues of a linear teacher–student network with correlated inputs.

Place in the package: the two-layer teacher-student family (arrays only; NumPy and SciPy, no SymPy).

**Exact reduction (every size).** For :math:`f(x)=v^\top Wx`, :math:`x\sim N(0,\Sigma)`, the gradient is
:math:`\nabla_\theta f=Ax` with :math:`A=\binom{v\otimes I_{N_i}}{W}`, so at the optimum

.. math::

    H^\star=E[Axx^\top A^\top]=A\Sigma A^\top,\qquad H_{WW}=vv^\top\otimes\Sigma,\quad
    H_{Wv}=v\otimes\Sigma W^\top,\quad H_{vv}=W\Sigma W^\top,

and its nonzero eigenvalues are those of :math:`\Sigma^{1/2}A^\top A\,\Sigma^{1/2}` with
:math:`A^\top A=\|v\|^2I+W^\top W`:

.. math::

    \operatorname{spec}_{\neq0}H^\star=\operatorname{spec}\big(M_s\big),\qquad
    M_s=s\,\Sigma+\Sigma^{1/2}W^\top W\,\Sigma^{1/2},\qquad s=\|v\|^2 .

For :math:`\Sigma=I` this is :math:`s+\operatorname{spec}(W^\top W)`, eq. (15)'s shift plus Wishart. For
:math:`\Sigma\neq I` the shift no longer adds: it *multiplies* :math:`\Sigma`, and the spectrum is
:math:`\mu_\Sigma\boxtimes(\delta_s\boxplus\mathrm{MP})` (free multiplicative convolution, since
:math:`W^\top W` is orthogonally invariant), mixed over :math:`s\sim\sigma_v^2\chi^2_{N_h}`. A singular
:math:`\Sigma` of rank :math:`r` reduces to :math:`N_i=r` (the :math:`N_i-r` null directions give zero
eigenvalues); below, :math:`\tau_1,\dots,\tau_r>0` are the positive eigenvalues of :math:`\Sigma`.

**The law given s (deterministic equivalent).** With :math:`W^\top W=\sum_{k=1}^{N_h}w_kw_k^\top`,
:math:`w_k\sim N(0,\sigma_w^2I)`, the Sherman–Morrison step
:math:`w_k^\top\Sigma^{1/2}Q_{-k}\Sigma^{1/2}w_k\to\sigma_w^2\operatorname{tr}\Sigma Q` gives, for
:math:`z\in\mathbb C^+`,

.. math::

    m_s(z)=\frac1r\sum_{j=1}^r\frac{1}{\omega\tau_j-z},\qquad
    \omega=s+\frac{\sigma_w^2N_h}{1+\delta},\qquad
    \delta=\sigma_w^2\sum_{j=1}^r\frac{\tau_j}{\omega\tau_j-z},

one scalar equation :math:`(\omega-s)(1+\delta(\omega))=\sigma_w^2N_h` for :math:`\omega` (the branch with
:math:`\operatorname{Im}\delta>0`), and the density :math:`\rho_s(x)=\operatorname{Im}m_s(x+i0)/\pi`. For
:math:`\Sigma=I` it is the MP law of :math:`W^\top W` shifted by :math:`s`; with :math:`d` distinct
:math:`\tau_j` it is a polynomial equation of degree :math:`d+1` (a cubic for a two-level "spiked"
:math:`\Sigma`); for a power law it has no closed form and is solved numerically. The full law mixes over
the shift, :math:`\rho(\lambda)=\int p_\chi(s)\rho_s(\lambda)\,ds`; it is no longer a convolution.

**Exact atoms.** On an eigenspace of :math:`\Sigma` of dimension :math:`n_j>N_h` intersected with
:math:`\ker W` (dimension :math:`\ge n_j-N_h`), :math:`M_s` acts as :math:`s\tau_j`: a fraction
:math:`(n_j-N_h)_+/r` of the eigenvalues equals :math:`s\tau_j` exactly, at every size, and contributes
the scaled :math:`\chi^2` density :math:`p_\chi(\lambda/\tau_j)/\tau_j`: for :math:`\Sigma=I` the atom of
eq. (15).

**Spiked covariance: outliers in closed form.** For :math:`\Sigma=I+a\,P_k` with a fixed number
:math:`k` of spikes (:math:`N\to\infty`), the bulk is eq. (15) unchanged (a rank-:math:`k` perturbation)
and :math:`\lambda` is an outlier iff :math:`\det(K-\lambda\Sigma^{-1})=0`, :math:`K=sI+W^\top W`, i.e.
:math:`1+\lambda\frac{a}{1+a}m_K(\lambda)=0` with :math:`m_K` the shifted MP Stieltjes transform. With
:math:`c=\sigma_w^2N_h`, :math:`d=\sigma_w^2N_i`, the MP equation turns this into the quadratic

.. math::

    \lambda^2-(1+a)\Big(s+c+\frac da\Big)\lambda+\frac{(1+a)^2}{a}\,d\,s=0,

whose larger root is the outlier when it lies above the bulk edge :math:`s+(\sqrt c+\sqrt d)^2` and
solves the unsquared equation (:func:`spiked_outlier`); :math:`k` spikes give :math:`k` such outliers.
At the bulk edge the MP transform is :math:`m_K=-1/(\sqrt c\,(\sqrt c+\sqrt d))`, so the outlier exists iff

.. math::

    a>a_c(s)=\frac{\sqrt d\,(\sqrt c+\sqrt d)}{s+\sqrt c\,(\sqrt c+\sqrt d)}

(:func:`spiked_threshold`). At :math:`s=0` both reduce to the classical spiked sample covariance
(Baik–Ben Arous–Péché): :math:`a_c=\sqrt{N_i/N_h}` and :math:`\lambda=c(1+a)(1+d/(ca))`.
As :math:`a\to\infty`, :math:`\lambda\approx(1+a)(s+c)`, the variance along the spike times
:math:`E[s+\|We\|^2]`.

Numerics. :math:`\omega` is found by Newton's method along :math:`z=x+i\eta`, :math:`\eta` decreasing
geometrically from the spectral scale to :math:`10^{-10}` of it (each solution starts the next), vectorised
over :math:`x`; the poles of the exact atoms are subtracted before taking :math:`\operatorname{Im}`. The mixture
over :math:`s` uses the ``n_shift`` midpoint quantiles of :math:`\sigma_v^2\chi^2_{N_h}`; ``cdf`` integrates
the tabulated density on a logarithmic grid (its mass defect, the integration error, is
:attr:`LinearCovarianceLaw.mass_defect`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import special

from ..errors import InvalidParameterError, SymhessAccuracyWarning
from ..validation import check_size
from .linear_law import chi2_shift
from .teacher import teacher_variances

__all__ = ["LinearCovarianceLaw", "linear_covariance_law", "linear_covariance_moments", "spiked_outlier",
           "spiked_threshold", "conditional_stieltjes"]

#: final imaginary part of z, relative to the spectral scale
_ETA_FINAL = 1e-10
#: geometric ratio of the eta continuation and Newton steps per eta
_ETA_RATIO, _NEWTON_STEPS = 0.3, 8  # a ratio of 0.1 loses the poles of the atoms
#: points x times distinct eigenvalues per vectorised block
_BLOCK = 1 << 20


def _groups(tau: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values (relative tolerance 1e-12) and their multiplicities."""
    t = np.sort(tau)
    keys = np.concatenate([[True], np.diff(t) > 1e-12 * t[1:]])
    starts = np.flatnonzero(keys)
    counts = np.diff(np.append(starts, t.size))
    return t[starts], counts


def _newton(omega, z, s, t, n, var_w, c, max_steps):
    """Newton steps on (omega - s)(1 + delta(omega)) = c, kept on the branch Im omega <= 0; stops when converged."""
    for _ in range(max_steps):
        den = omega[:, None] * t - z[:, None]
        q = n * t / den
        S1 = q.sum(axis=1)
        S2 = (q * (t / den)).sum(axis=1)
        F = (omega - s) * (1.0 + var_w * S1) - c
        step = F / (1.0 + var_w * S1 - (omega - s) * var_w * S2)
        new = omega - step
        bad = ~np.isfinite(new) | (new.imag > 0)  # off the physical branch: half a step
        new = np.where(bad, omega - 0.5 * np.where(np.isfinite(step), step, 0.0), new)
        new = np.where(new.imag > 0, new.real + 0j, new)
        done = np.all(np.abs(new - omega) <= 1e-14 * np.abs(new))
        omega = new
        if done:
            break
    return omega


def _solve_omega(x: np.ndarray, s: np.ndarray, t: np.ndarray, n: np.ndarray, var_w: float, n_hidden: int,
                 scale: float) -> tuple[np.ndarray, np.ndarray]:
    r"""``(omega, z)`` at ``z = x + i eta_final`` by Newton continuation in eta (vectorised over x and s)."""
    c = var_w * n_hidden
    s = np.broadcast_to(np.asarray(s, dtype=float), x.shape)
    omega = (s + c).astype(complex)
    eta = scale
    while True:
        z = x + 1j * eta
        omega = _newton(omega, z, s, t, n, var_w, c, 30 if eta == scale else _NEWTON_STEPS)
        if eta <= _ETA_FINAL * scale:
            break
        eta = max(eta * _ETA_RATIO, _ETA_FINAL * scale)
    return omega, z


def conditional_stieltjes(z: np.ndarray, s: float, cov_eigs, n_hidden: int, var_w: float) -> np.ndarray:
    r"""The deterministic equivalent :math:`m_s(z)=\frac1r\sum_j(\omega\tau_j-z)^{-1}` at points of :math:`\mathbb C^+`.

    Newton continuation from :math:`z+i\,\text{scale}` down to ``z`` (each ``z`` with ``Im z > 0``);
    ``cov_eigs`` are the eigenvalues of :math:`\Sigma` (zeros dropped).
    """
    z = np.atleast_1d(np.asarray(z, dtype=complex))
    if np.any(z.imag <= 0):
        raise InvalidParameterError("conditional_stieltjes needs Im z > 0")
    tau = np.asarray(cov_eigs, dtype=float)
    tau = tau[tau > 0]
    t, n = _groups(tau)
    c = var_w * n_hidden
    scale = float(t.max() * (s + var_w * (np.sqrt(n_hidden) + np.sqrt(tau.size)) ** 2))
    omega = np.full(z.shape, s + c, dtype=complex)
    eta = scale
    while True:
        omega = _newton(omega, z + 1j * eta, s, t, n, var_w, c, 30 if eta == scale else _NEWTON_STEPS)
        if eta == 0.0:
            break
        eta = eta * _ETA_RATIO if eta * _ETA_RATIO > 1e-3 * z.imag.min() else 0.0
    return np.sum(n / (omega[:, None] * t - z[:, None]), axis=1) / tau.size


@dataclass(frozen=True)
class LinearCovarianceLaw:
    r"""Law of one nonzero expected-Hessian eigenvalue of a random linear teacher with inputs :math:`N(0,\Sigma)`.

    Build it with :func:`linear_covariance_law`. ``pdf`` and ``cdf`` are vectorised (interpolated from a
    table on a logarithmic grid, plus the exact :math:`\chi^2` components of the atoms); ``mean`` is
    exact; ``moment`` integrates the table.

    Attributes
    ----------
    n_in, n_hidden : int
        :math:`r` (the rank of :math:`\Sigma`) and :math:`N_h`.
    var_w, var_v : float
        Teacher variances.
    cov_eigs : ndarray
        The positive eigenvalues :math:`\tau_j` of :math:`\Sigma`, ascending.
    n_shift, n_grid : int
        Quantile nodes of the shift and grid points of the table.
    """

    n_in: int
    n_hidden: int
    var_w: float
    var_v: float
    cov_eigs: np.ndarray = field(repr=False)
    n_shift: int = 32
    n_grid: int = 1200
    _table: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_table", self._build())

    # -- ingredients ----------------------------------------------------------------------------------
    @property
    def atoms(self) -> tuple[np.ndarray, np.ndarray]:
        r"""``(tau_j, weight_j)``: the fraction :math:`(n_j-N_h)_+/r` of eigenvalues equal to :math:`s\tau_j` exactly."""
        t, n = _groups(self.cov_eigs)
        w = np.maximum(n - self.n_hidden, 0) / self.n_in
        keep = w > 0
        return t[keep], w[keep]

    def shift_nodes(self) -> np.ndarray:
        r"""Midpoint quantiles :math:`F^{-1}((k-\frac12)/n)` of :math:`s\sim\sigma_v^2\chi^2_{N_h}`."""
        q = (np.arange(self.n_shift) + 0.5) / self.n_shift
        return 2.0 * self.var_v * special.gammaincinv(0.5 * self.n_hidden, q)

    def _shift(self, kind: str, s: np.ndarray) -> np.ndarray:
        return chi2_shift(kind, s, self.n_hidden, self.var_v)

    def conditional_pdf(self, x: np.ndarray, s) -> np.ndarray:
        r"""Continuous part of :math:`\rho_s(x)` (the density given the shift; the atoms' poles removed).

        ``s`` is a number or an array broadcast against ``x``.
        """
        x = np.asarray(x, dtype=float)
        xs, ss = np.broadcast_arrays(x, np.asarray(s, dtype=float))
        xs, ss = xs.ravel(), ss.ravel()
        t, n = _groups(self.cov_eigs)
        ta, wa = self.atoms
        scale = self._scale(float(ss.max()))
        out = np.empty(xs.size)
        step = max(1, _BLOCK // t.size)
        for k in range(0, xs.size, step):
            xb, sb = xs[k:k + step], ss[k:k + step]
            omega, z = _solve_omega(xb, sb, t, n, self.var_w, self.n_hidden, scale)
            m = np.sum(n / (omega[:, None] * t - z[:, None]), axis=1) / self.n_in
            if ta.size:  # subtract the exact poles -w/(z - s tau)
                m = m + np.sum(wa / (z[:, None] - sb[:, None] * ta), axis=1)
            out[k:k + step] = np.clip(m.imag / np.pi, 0.0, None)
        return out.reshape(np.broadcast_shapes(x.shape, np.shape(s)))

    def conditional_cdf(self, x: np.ndarray, s: float, n_grid: int | None = None) -> np.ndarray:
        r""":math:`P(\lambda\le x\mid s)`: the conditional density integrated on a logarithmic grid, plus the atoms' steps."""
        x = np.asarray(x, dtype=float)
        s = float(s)
        ta, wa = self.atoms
        lo = 0.5 * s * self.cov_eigs.min()
        hi = 1.1 * self._scale(s)
        grid = np.geomspace(lo, hi, n_grid or self.n_grid)
        dens = self.conditional_pdf(grid, s)
        cum = np.concatenate([[0.0], np.cumsum(0.5 * (dens[1:] + dens[:-1]) * np.diff(grid))])
        out = np.interp(x, grid, cum, left=0.0, right=cum[-1])
        for t_j, w_j in zip(ta, wa):
            out = out + w_j * (x >= s * t_j)
        return np.clip(out, 0.0, 1.0)

    def _scale(self, s: float) -> float:
        return float(self.cov_eigs.max() * (s + self.var_w * (np.sqrt(self.n_hidden) + np.sqrt(self.n_in)) ** 2))

    def _build(self):
        s_nodes = self.shift_nodes()
        tau = self.cov_eigs
        lo = 0.5 * tau.min() * 2.0 * self.var_v * special.gammaincinv(0.5 * self.n_hidden, 1e-9)
        hi = 1.1 * tau.max() * (2.0 * self.var_v * special.gammaincinv(0.5 * self.n_hidden, 1 - 1e-9)
                                + self.var_w * (np.sqrt(self.n_hidden) + np.sqrt(self.n_in)) ** 2)
        grid = np.geomspace(lo, hi, self.n_grid)
        dens = self.conditional_pdf(grid[None, :], s_nodes[:, None]).mean(axis=0)
        # cumulative trapezoid in x
        cum = np.concatenate([[0.0], np.cumsum(0.5 * (dens[1:] + dens[:-1]) * np.diff(grid))])
        cont_mass = 1.0 - float(self.atoms[1].sum())
        defect = cum[-1] - cont_mass
        return grid, dens, cum, defect

    @property
    def mass_defect(self) -> float:
        """Integral of the tabulated continuous part minus its exact mass (the table's integration error)."""
        return float(self._table[3])

    # -- the law ----------------------------------------------------------------------------------------
    def pdf(self, x: np.ndarray) -> np.ndarray:
        r"""Density :math:`\rho(\lambda)` of a nonzero eigenvalue (vectorised)."""
        x = np.asarray(x, dtype=float)
        grid, dens, _, _ = self._table
        out = np.interp(x, grid, dens, left=0.0, right=0.0)
        for ta, wa in zip(*self.atoms):
            out = out + wa * self._shift("pdf", x / ta) / ta
        return out

    def cdf(self, x: np.ndarray) -> np.ndarray:
        r"""Distribution function :math:`P(\lambda\le x)` (vectorised)."""
        x = np.asarray(x, dtype=float)
        grid, _, cum, _ = self._table
        out = np.interp(x, grid, cum, left=0.0, right=cum[-1])
        for ta, wa in zip(*self.atoms):
            out = out + wa * self._shift("cdf", x / ta)
        return np.clip(out, 0.0, 1.0)

    def mean(self) -> float:
        r""":math:`E[\lambda]=N_h(\sigma_v^2+\sigma_w^2)\,\overline{\tau}` (exact at every size)."""
        return float(self.n_hidden * (self.var_v + self.var_w) * self.cov_eigs.mean())

    def moment(self, k: int) -> float:
        r""":math:`E[\lambda^k]` from the table (continuous part) and the atoms' exact :math:`\chi^2` moments."""
        k = int(k)
        if k < 0:
            raise InvalidParameterError(f"moment order k={k} must be >= 0")
        grid, dens, _, _ = self._table
        f = grid**k * dens
        out = float(np.sum(0.5 * (f[1:] + f[:-1]) * np.diff(grid)))
        shift_k = float(np.prod([self.var_v * (self.n_hidden + 2 * r) for r in range(k)]))
        for ta, wa in zip(*self.atoms):
            out += wa * ta**k * shift_k
        return out


def linear_covariance_law(n_in: int, n_hidden: int, input_cov, var_w: float | None = None,
                          var_v: float | None = None, *, n_shift: int = 32, n_grid: int = 1200) -> LinearCovarianceLaw:
    r"""The law of the nonzero expected-Hessian eigenvalues of a random linear teacher, inputs :math:`N(0,\Sigma)`.

    .. math::

        \rho(\lambda)=\sum_j\frac{(n_j-N_h)_+}{r}\frac{p_\chi(\lambda/\tau_j)}{\tau_j}
        +\int p_\chi(s)\,\rho_s(\lambda)\,ds,\qquad s\sim\sigma_v^2\chi^2_{N_h},

    with :math:`\rho_s` the deterministic equivalent of :math:`\operatorname{spec}(s\Sigma+\Sigma^{1/2}W^\top W\Sigma^{1/2})`
    (module docstring). For :math:`\Sigma=I` it is eq. (15) (:func:`~symhess.two_layer.linear_law.linear_spectrum_law`).

    Parameters
    ----------
    n_in, n_hidden : int
        :math:`N_i`, :math:`N_h`.
    input_cov : array_like
        :math:`\Sigma`, shape ``(Ni, Ni)``, or its diagonal, shape ``(Ni,)``; only its eigenvalues matter
        (the teacher's law is rotation invariant). Zero eigenvalues reduce :math:`N_i` to the rank.
    var_w, var_v : float, optional
        Teacher variances; default :math:`1/N_i` and :math:`1/N_h`.
    n_shift, n_grid : int
        Quantile nodes of the shift and points of the logarithmic table.

    Returns
    -------
    LinearCovarianceLaw

    Examples
    --------
    >>> law = linear_covariance_law(20, 40, np.arange(1, 21) ** -1.0, n_shift=8, n_grid=300)
    >>> bool(np.isclose(law.mean(), (1 + 40 / 20) * np.mean(np.arange(1, 21) ** -1.0)))  # N_h (1/N_h + 1/N_i) tr(Sigma) / r
    True
    """
    from .architecture import as_input_cov

    n_in = check_size(n_in, "n_in")
    n_hidden = check_size(n_hidden, "n_hidden")
    cov = as_input_cov(input_cov, n_in)
    if cov is None:
        tau = np.ones(n_in)
    else:
        tau = np.sort(cov.sigma if cov.diagonal else np.linalg.eigvalsh(cov.sigma))
    tau = tau[tau > 1e-12 * max(float(tau.max()), 0.0)]
    if tau.size == 0:
        raise InvalidParameterError("input_cov is zero: every Hessian eigenvalue is zero")
    var_w, var_v = teacher_variances(n_in, n_hidden, var_w, var_v)
    for name, val in (("n_shift", n_shift), ("n_grid", n_grid)):
        if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < 2:
            raise InvalidParameterError(f"{name}={val!r} must be an integer >= 2")
    law = LinearCovarianceLaw(int(tau.size), n_hidden, var_w, var_v, tau, int(n_shift), int(n_grid))
    if abs(law.mass_defect) > 1e-3:
        import warnings

        warnings.warn(f"the tabulated law misses mass {law.mass_defect:.2g}; raise n_grid", SymhessAccuracyWarning,
                      stacklevel=2)
    return law


def linear_covariance_moments(n_in: int, n_hidden: int, input_cov, var_w: float | None = None,
                              var_v: float | None = None) -> tuple[float, float]:
    r"""Exact finite-size :math:`E[\lambda]` and :math:`E[\lambda^2]` of a nonzero eigenvalue (over :math:`r` eigenvalues).

    With :math:`m_k=\frac1r\operatorname{tr}\Sigma^k`, :math:`E s=\sigma_v^2N_h`,
    :math:`Es^2=\sigma_v^4N_h(N_h+2)` and the Wishart moment
    :math:`E\operatorname{tr}(G^\top G\Sigma G^\top G\Sigma)=N_h(N_h+1)\operatorname{tr}\Sigma^2+N_h(\operatorname{tr}\Sigma)^2`:

    .. math::

        E[\lambda]=N_h(\sigma_v^2+\sigma_w^2)m_1,\qquad
        E[\lambda^2]=\big(Es^2+2\,Es\,\sigma_w^2N_h\big)m_2+\sigma_w^4\big(N_h(N_h+1)m_2+N_hr\,m_1^2\big).
    """
    from .architecture import as_input_cov

    n_in = check_size(n_in, "n_in")
    n_hidden = check_size(n_hidden, "n_hidden")
    var_w, var_v = teacher_variances(n_in, n_hidden, var_w, var_v)
    cov = as_input_cov(input_cov, n_in)
    tau = np.ones(n_in) if cov is None else (cov.sigma if cov.diagonal else np.linalg.eigvalsh(cov.sigma))
    tau = tau[tau > 1e-12 * max(float(tau.max()), 0.0)]
    r, Nh = tau.size, n_hidden
    m1, m2 = float(tau.mean()), float(np.mean(tau**2))
    Es, Es2 = var_v * Nh, var_v**2 * Nh * (Nh + 2)
    return (Nh * (var_v + var_w) * m1,
            (Es2 + 2 * Es * var_w * Nh) * m2 + var_w**2 * (Nh * (Nh + 1) * m2 + Nh * r * m1**2))


def spiked_outlier(n_in: int, n_hidden: int, strength: float, s, var_w: float | None = None) -> np.ndarray:
    r"""The outlier eigenvalue of a spike :math:`\tau=1+a` (``strength`` :math:`a>0`) given the shift :math:`s`; NaN below threshold.

    The larger root of :math:`\lambda^2-(1+a)(s+c+d/a)\lambda+(1+a)^2ds/a=0`,
    :math:`c=\sigma_w^2N_h`, :math:`d=\sigma_w^2N_i`, kept when it lies above the bulk edge
    :math:`s+(\sqrt c+\sqrt d)^2` and solves :math:`1+\lambda\frac a{1+a}m_K(\lambda)=0` with the real
    branch of the shifted MP Stieltjes transform (large :math:`N_i,N_h` at fixed ratio, finitely many spikes).
    """
    n_in = check_size(n_in, "n_in")
    n_hidden = check_size(n_hidden, "n_hidden")
    a = float(strength)
    if not (np.isfinite(a) and a > 0):
        raise InvalidParameterError(f"strength={strength!r} must be > 0 (a spike above the bulk)")
    var_w, _ = teacher_variances(n_in, n_hidden, var_w, None)
    s = np.asarray(s, dtype=float)
    c, d = var_w * n_hidden, var_w * n_in
    B = (1 + a) * (s + c + d / a)
    C = (1 + a) ** 2 * d * s / a
    lam = 0.5 * (B + np.sqrt(np.maximum(B * B - 4 * C, 0.0)))
    edge = s + (np.sqrt(c) + np.sqrt(d)) ** 2
    # the real branch of m_K outside the support: m_X(u) for X = sigma_w^2 G^T G, u = lam - s > edge - s
    u = lam - s
    y, sc = n_in / n_hidden, c
    zeta = u / sc
    disc = np.sqrt(np.maximum((zeta - 1 - y) ** 2 - 4 * y, 0.0))
    m_y = (1 - y - zeta + disc) / (2 * y * zeta)  # the root that behaves as -1/zeta at infinity
    resid = 1 + lam * a / (1 + a) * m_y / sc
    ok = (lam > edge * (1 + 1e-12)) & (np.abs(resid) < 1e-8)
    return np.where(ok, lam, np.nan)


def spiked_threshold(n_in: int, n_hidden: int, s, var_w: float | None = None) -> np.ndarray:
    r"""The spike strength :math:`a_c(s)=\sqrt d(\sqrt c+\sqrt d)/(s+\sqrt c(\sqrt c+\sqrt d))` above which an outlier separates.

    :math:`c=\sigma_w^2N_h`, :math:`d=\sigma_w^2N_i`; at :math:`s=0`, :math:`a_c=\sqrt{N_i/N_h}` (BBP).
    """
    n_in = check_size(n_in, "n_in")
    n_hidden = check_size(n_hidden, "n_hidden")
    var_w, _ = teacher_variances(n_in, n_hidden, var_w, None)
    s = np.asarray(s, dtype=float)
    if np.any(s < 0):
        raise InvalidParameterError("the shift s = |v|^2 must be >= 0")
    rc, rd = np.sqrt(var_w * n_hidden), np.sqrt(var_w * n_in)
    return rd * (rc + rd) / (s + rc * (rc + rd))
