r"""Spectral density without the matrix: stochastic Lanczos quadrature (SLQ).

Place in the package: engine, numeric linear algebra (arrays only; the operator comes from anywhere, e.g.
``symhess.hessian_operator``).

For a symmetric :math:`H\in\mathbb R^{n\times n}` with eigenpairs :math:`(\lambda_i, u_i)` and a unit
probe :math:`z`, the weighted spectral measure :math:`\mu_z=\sum_i (z^\top u_i)^2\delta_{\lambda_i}` has
:math:`E[\mu_z]=\frac1n\sum_i\delta_{\lambda_i}` (the empirical spectral measure) when
:math:`E[nzz^\top]=I`. Lanczos run for :math:`m` steps from :math:`z` gives the Gauss quadrature rule of
:math:`\mu_z`: nodes :math:`\theta_k` (Ritz values) and weights :math:`\tau_k=(e_1^\top s_k)^2`, which
match the moments of :math:`\mu_z` up to degree :math:`2m-1` (Golub & Meurant 2010). SLQ averages
these rules over :math:`n_v` independent probes (Ubaru, Chen & Saad, SIAM J. Matrix Anal. Appl. 38,
2017; Lin, Saad & Yang, SIAM Rev. 58, 2016):

.. math::

    \hat\mu = \frac{1}{n_v}\sum_{l=1}^{n_v}\sum_{k=1}^{m}\tau^{(l)}_k\,\delta_{\theta^{(l)}_k}.

**Error controls** (all are parameters of :func:`slq_density`):

* *Lanczos steps* :math:`m`: the quadrature error. Moments up to degree :math:`2m-1` are exact per
  probe; in Wasserstein-1 distance the quadrature error is at most
  :math:`\frac{12}{m-1/2}\,(\lambda_{\max}-\lambda_{\min})` (Chen, Trogdon & Ubaru, ICML 2021,
  arXiv:2105.06595, main theorem), and in practice far smaller; features narrower than the node spacing,
  about :math:`(\lambda_{\max}-\lambda_{\min})/m`, are not resolved.
* *Probes* :math:`n_v`: the sampling error. For probes uniform on the sphere,
  :math:`W_1(\hat\mu,\mu)\le t(\lambda_{\max}-\lambda_{\min})` with probability :math:`\ge1-\eta` once
  :math:`n_v\ge 4t^{-2}\ln(2n/\eta)/(n+2)` (same theorem; :func:`slq_error_bound`): the sampling error falls like
  :math:`1/\sqrt{n\,n_v}`, so for :math:`n\sim10^6` parameters a few probes suffice. The a posteriori
  standard error across probes is :meth:`SpectralDensity.cdf_stderr`.
* *Re-orthogonalisation*: ``"full"`` keeps the Lanczos vectors orthogonal to working precision
  (the theorem's setting; memory :math:`8mn` bytes per probe in flight); ``"none"`` saves that
  memory; the quadrature stays accurate in finite precision but converged outliers may appear as
  several nodes whose weights add up (Knizhnerman 1996; Chen 2024).
* *Gaussian broadening* :math:`\sigma` in :meth:`SpectralDensity.pdf`: the smoothed density
  :math:`\sum\tau\,\mathcal N(x;\theta,\sigma^2)` approximates the true density convolved with
  :math:`\mathcal N(0,\sigma^2)`; it is accurate when :math:`\sigma` is at least the node spacing,
  default :math:`\sigma=(\lambda_{\max}-\lambda_{\min})/m`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import wasserstein_distance as _scipy_w1

from .lanczos import REORTH, TraceEstimate, as_symmetric_operator, lanczos, random_probes

__all__ = ["SpectralDensity", "slq_density", "slq_error_bound", "spectral_wasserstein", "default_probes"]


def default_probes(n: int) -> int:
    r"""Default number of SLQ probes for an :math:`n\times n` operator: :math:`\lceil10^5/n\rceil` clipped to [2, 16].

    The sampling error of SLQ falls like :math:`1/\sqrt{n\,n_v}` (module docstring), so large operators
    need few probes: two for :math:`n\ge5\cdot10^4`, sixteen for :math:`n\le6250`.
    """
    return int(min(16, max(2, -(-100_000 // max(int(n), 1)))))


def slq_error_bound(n: int, n_steps: int, n_probes: int, eta: float = 0.05) -> float:
    r"""The a priori SLQ accuracy :math:`t` of Chen, Trogdon & Ubaru (ICML 2021, arXiv:2105.06595).

    With probability at least :math:`1-\eta` (probes uniform on the sphere, exact arithmetic),
    :math:`W_1(\hat\mu,\mu)\le t\,(\lambda_{\max}-\lambda_{\min})` with

    .. math::

        t = \max\Big(\frac{12}{m-\tfrac12},\ \sqrt{\frac{4\ln(2n/\eta)}{(n+2)\,n_v}}\Big),

    which inverts their :math:`m=\lceil 12t^{-1}+\tfrac12\rceil`, :math:`n_v=\lceil4(n+2)^{-1}t^{-2}\ln(2n\eta^{-1})\rceil`.
    The bound is a worst case over all spectra; observed errors are usually 10-100x smaller.
    """
    if n < 1 or n_steps < 1 or n_probes < 1 or not 0 < eta < 1:
        raise ValueError(f"need n, n_steps, n_probes >= 1 and 0 < eta < 1; got {n}, {n_steps}, {n_probes}, {eta}")
    return float(max(12.0 / (n_steps - 0.5), np.sqrt(4.0 * np.log(2 * n / eta) / ((n + 2) * n_probes))))


def spectral_wasserstein(eigs: np.ndarray, density: "SpectralDensity | np.ndarray") -> float:
    r"""Wasserstein-1 distance :math:`\int|F_1-F_2|\,dx` between the eigenvalues ``eigs`` (equal weights) and
    an SLQ density or a second set of eigenvalues."""
    eigs = np.asarray(eigs, dtype=float).ravel()
    if isinstance(density, SpectralDensity):
        keep = density.weights.ravel() > 0
        return float(_scipy_w1(eigs, density.nodes.ravel()[keep], None, density.weights.ravel()[keep]))
    return float(_scipy_w1(eigs, np.asarray(density, dtype=float).ravel()))


@dataclass(frozen=True)
class SpectralDensity:
    r"""An SLQ estimate of the spectral measure: per-probe Gauss rules and their average.

    Attributes
    ----------
    nodes : ndarray, shape (n_probes, m)
        Ritz values :math:`\theta^{(l)}_k` (unused slots after a breakdown have weight 0).
    weights : ndarray, shape (n_probes, m)
        Gauss weights :math:`\tau^{(l)}_k`; each row sums to 1.
    n : int
        Matrix size (number of eigenvalues).
    n_steps : int
        Lanczos steps requested.
    reorth : str
        Re-orthogonalisation used.
    probes : str
        Probe distribution.
    n_products : int
        Operator-vector products used.
    """

    nodes: np.ndarray
    weights: np.ndarray
    n: int
    n_steps: int
    reorth: str
    probes: str
    n_products: int

    @property
    def n_probes(self) -> int:
        """Number of probes :math:`n_v`."""
        return int(self.nodes.shape[0])

    @property
    def support(self) -> tuple[float, float]:
        """Smallest and largest node, inner estimates of :math:`\\lambda_{\\min}`, :math:`\\lambda_{\\max}`."""
        used = self.weights > 0
        return float(self.nodes[used].min()), float(self.nodes[used].max())

    def _per_probe_cdf(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        ind = self.nodes[:, :, None] <= x.ravel()[None, None, :]
        return np.einsum("lk,lkx->lx", self.weights, ind).reshape((self.n_probes,) + x.shape)

    def cdf(self, x: Any) -> np.ndarray:
        r"""Estimated fraction of eigenvalues :math:`\le x` (vectorised)."""
        return self._per_probe_cdf(x).mean(axis=0)

    def cdf_stderr(self, x: Any) -> np.ndarray:
        """Standard error of :meth:`cdf` from the spread across probes (NaN for one probe)."""
        if self.n_probes < 2:
            return np.full(np.shape(x), np.nan)
        return self._per_probe_cdf(x).std(axis=0, ddof=1) / np.sqrt(self.n_probes)

    def default_sigma(self) -> float:
        r"""Default broadening :math:`(\theta_{\max}-\theta_{\min})/m` (the Gauss-node spacing)."""
        lo, hi = self.support
        return (hi - lo) / self.n_steps if hi > lo else max(abs(hi), 1.0) * 1e-3

    def pdf(self, x: Any, sigma: float | None = None) -> np.ndarray:
        r"""Gaussian-broadened density :math:`\frac1{n_v}\sum_{l,k}\tau^{(l)}_k\,\mathcal N(x;\theta^{(l)}_k,\sigma^2)`."""
        sigma = self.default_sigma() if sigma is None else float(sigma)
        if not sigma > 0:
            raise ValueError(f"sigma must be positive, got {sigma}")
        x = np.asarray(x, dtype=float)
        z = (x.ravel()[None, :] - self.nodes.ravel()[:, None]) / sigma
        dens = (self.weights.ravel()[:, None] * np.exp(-0.5 * z * z)).sum(axis=0)
        return (dens / (self.n_probes * sigma * np.sqrt(2 * np.pi))).reshape(x.shape)

    def moment(self, p: int) -> float:
        r"""Estimated :math:`\frac1n\operatorname{tr}H^p` (exact per probe for :math:`p\le 2m-1`; unbiased over probes)."""
        return float((self.weights * self.nodes**p).sum(axis=1).mean())

    def trace(self) -> TraceEstimate:
        r"""Trace estimate :math:`n\,\hat\mu(\lambda)` with its standard error across probes."""
        per = self.n * (self.weights * self.nodes).sum(axis=1)
        err = float(per.std(ddof=1) / np.sqrt(per.size)) if per.size > 1 else float("nan")
        return TraceEstimate(float(per.mean()), err, self.n_probes)

    def counts(self, edges: Any) -> np.ndarray:
        """Expected number of eigenvalues in each bin ``(edges[i], edges[i+1]]``."""
        F = self.cdf(np.asarray(edges, dtype=float))
        return self.n * np.diff(F)

    def error_bound(self, eta: float = 0.05) -> float:
        r"""A priori :math:`W_1` bound :math:`t\,(\theta_{\max}-\theta_{\min})` (:func:`slq_error_bound`)."""
        lo, hi = self.support
        return slq_error_bound(self.n, self.n_steps, self.n_probes, eta) * (hi - lo)

    def wasserstein(self, eigs: Any) -> float:
        """:math:`W_1` distance to the measure of the given eigenvalues (see :func:`spectral_wasserstein`)."""
        return spectral_wasserstein(eigs, self)


def slq_density(
    A: Any,
    n_probes: int | None = None,
    n_steps: int = 60,
    *,
    reorth: str = "full",
    probes: str = "sphere",
    rng: Any = None,
    max_bytes: int | None = None,
) -> SpectralDensity:
    r"""Spectral density of a symmetric operator by stochastic Lanczos quadrature.

    Parameters
    ----------
    A : LinearOperator or matrix
        Symmetric, applied only through products (``symhess.hessian_operator``).
    n_probes : int, optional
        Probes :math:`n_v` (sampling error :math:`\propto 1/\sqrt{n\,n_v}`). Default
        :func:`default_probes`: :math:`n\,n_v\ge10^5` within :math:`2\le n_v\le16`.
    n_steps : int
        Lanczos steps :math:`m` per probe (quadrature error; moments to degree :math:`2m-1` exact).
    reorth : {"full", "none"}
        Re-orthogonalisation (see the module docstring).
    probes : {"sphere", "rademacher"}
        Probe distribution.
    rng : seed or Generator
        Probe randomness.
    max_bytes : int, optional
        Memory for stored Lanczos vectors (default 4 GiB); probes run in blocks that fit.

    Returns
    -------
    SpectralDensity
        ``cdf``, ``pdf`` (broadened), ``moment``, ``trace``, ``counts``, ``wasserstein``, ``error_bound``.

    Examples
    --------
    >>> import numpy as np
    >>> d = slq_density(np.diag(np.arange(1.0, 101.0)), n_probes=20, n_steps=30, rng=0)
    >>> bool(abs(d.moment(1) - 50.5) < 0.05 * 50.5)   # mean eigenvalue 50.5, 20 random probes
    True
    """
    op = as_symmetric_operator(A)
    n_probes = default_probes(op.shape[0]) if n_probes is None else n_probes
    if not (isinstance(n_probes, (int, np.integer)) and n_probes >= 1):
        raise ValueError(f"n_probes must be a positive integer, got {n_probes!r}")
    if reorth not in REORTH:
        raise ValueError(f"reorth={reorth!r} is unknown; choose one of {REORTH}")
    n = op.shape[0]
    if not (isinstance(n_steps, (int, np.integer)) and n_steps >= 1):
        raise ValueError(f"n_steps must be a positive integer, got {n_steps!r}")
    m = int(min(n_steps, n))
    rng = np.random.default_rng(rng)
    Z = random_probes(n, int(n_probes), rng, probes)
    budget = 4 * 2**30 if max_bytes is None else int(max_bytes)
    block = n_probes if reorth == "none" else max(1, min(n_probes, budget // max(1, 8 * m * n)))
    nodes, weights = np.zeros((n_probes, m)), np.zeros((n_probes, m))
    n_products = 0
    for b0 in range(0, n_probes, block):
        res = lanczos(op, Z[:, b0 : b0 + block], m, reorth=reorth, max_bytes=budget)
        n_products += res.n_products
        for c in range(res.alpha.shape[0]):
            theta, tau = res.ritz(c)
            nodes[b0 + c, : theta.size], weights[b0 + c, : tau.size] = theta, tau
            nodes[b0 + c, theta.size :] = theta[-1]
    return SpectralDensity(nodes, weights, int(n), int(m), reorth, probes, n_products)
