r"""The standard normal and bivariate normal distribution functions as SymPy expressions.

Place in the package: engine, activations. Gaussian expectations with means (hidden biases) of
kinked or sigmoidal activations are written with

.. math::

    \Phi(x) = \tfrac12\big(1+\operatorname{erf}(x/\sqrt2)\big),\qquad
    \varphi(x) = e^{-x^2/2}/\sqrt{2\pi},\qquad
    \Phi_2(h, k; \rho) = P(X\le h,\ Y\le k),

:math:`(X, Y)` standard normal with correlation :math:`\rho`. :class:`BivariateNormalCDF` is an
unevaluated SymPy function that knows its derivatives,

.. math::

    \partial_h\Phi_2 = \varphi(h)\,\Phi\Big(\frac{k-\rho h}{\sqrt{1-\rho^2}}\Big),\qquad
    \partial_\rho\Phi_2 = \varphi_2(h, k; \rho)
    = \frac{1}{2\pi\sqrt{1-\rho^2}}\exp\Big(-\frac{h^2-2\rho hk+k^2}{2(1-\rho^2)}\Big),

so that expectations of derivatives follow by differentiating in the means; numerically it is
evaluated through Owen's T function (:func:`symhess.kernels.means.bivariate_normal_cdf`).
"""

from __future__ import annotations

import sympy as sp

__all__ = ["normal_cdf", "normal_pdf", "BivariateNormalCDF"]


def normal_cdf(x: sp.Expr) -> sp.Expr:
    r""":math:`\Phi(x)=\tfrac12(1+\operatorname{erf}(x/\sqrt2))`."""
    return (1 + sp.erf(x / sp.sqrt(2))) / 2


def normal_pdf(x: sp.Expr) -> sp.Expr:
    r""":math:`\varphi(x)=e^{-x^2/2}/\sqrt{2\pi}`."""
    return sp.exp(-x**2 / 2) / sp.sqrt(2 * sp.pi)


class BivariateNormalCDF(sp.Function):
    r""":math:`\Phi_2(h, k; \rho)=P(X\le h, Y\le k)` for standard normal :math:`X, Y` of correlation :math:`\rho`."""

    nargs = 3

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        h, k, rho = self.args
        r = sp.sqrt(1 - rho**2)
        if argindex == 1:
            return normal_pdf(h) * normal_cdf((k - rho * h) / r)
        if argindex == 2:
            return normal_pdf(k) * normal_cdf((h - rho * k) / r)
        if argindex == 3:
            return sp.exp(-(h**2 - 2 * rho * h * k + k**2) / (2 * r**2)) / (2 * sp.pi * r)
        raise sp.ArgumentIndexError(self, argindex)
