r"""Closed-form predictions for a global optimum of the deep linear UFM (docs/ufm.md).

Place in the package: the unconstrained-feature-model family (pure Python floats).

Notation: :math:`x=x^\star` solves :math:`(1-x)x^{(L-1)/(L+1)}=\beta`,
:math:`\tau=(n\,x^2\lambda_{H_1}\prod_l\lambda_{W_l})^{1/(L+1)}`. Every factor has :math:`K` equal
nonzero singular values with :math:`\lambda_{W_l}s_l^2=\lambda_{H_1}s_H^2=\tau` (balancedness), and
:math:`s_H\prod_l s_l=\sqrt n\,x`. Derived quantities:

* class-mean norm of layer :math:`l` features, :math:`m_l=s_H\prod_{j<l}s_j/\sqrt n` (:math:`m_{L+1}=x`);
* back-propagation gain :math:`\alpha_l^2=\prod_{j>l}s_j^2`, the nonzero eigenvalue of :math:`A_l^\top A_l`;
* layer-wise Hessian (MSE part), Theorem 4.1: rank :math:`K^2`, single eigenvalue
  :math:`\mu_l=\alpha_l^2m_l^2/K=x^2\lambda_{W_l}/(K\tau)`;
* gradient (Theorem 4.3): :math:`\nabla_{W_l}\mathcal L_{\rm MSE}=-\lambda_{W_l}W_l
  =-\sqrt{\lambda_{W_l}\tau}\sum_c\hat{\bar h}_{l+1,c}\hat{\bar h}_{l,c}^\top`;
* weights (Theorem 4.4): :math:`W_lW_l^\top` has rank :math:`K`, eigenvalue :math:`\tau/\lambda_{W_l}`;
* gradient second moment (E.1): rank :math:`K`, eigenvalue :math:`(1-x)^2\mu_l`; covariance: rank
  :math:`K-1`, same eigenvalue;
* extended back-propagated errors (E.2): :math:`K-1` eigenvalues :math:`\alpha_l^2(1+x^2)` and one
  :math:`\alpha_l^2(1-x)^2`;
* features (E.3): :math:`\frac1NH_lH_l^\top` has rank :math:`K`, eigenvalue :math:`m_l^2/K`;
* full Hessian (derived here, docs/ufm.md): its Gauss–Newton part has :math:`K^2` eigenvalues
  :math:`\Lambda=\sum_l\mu_l+\mu_H` (:math:`\mu_H=x^2\lambda_{H_1}/(K\tau)`), :math:`K(N-K)` eigenvalues
  :math:`\mu_H` and no others (weights only: :math:`K^2` eigenvalues :math:`\sum_l\mu_l`); the residual
  part splits the :math:`K^2` outliers into :math:`K(K+1)/2` at :math:`\Lambda-\delta` and
  :math:`K(K-1)/2` at :math:`\Lambda+\delta`, to first order in :math:`1-x`, with
  :math:`\delta=\frac2K\,x(1-x)\,e_2(\lambda)/(\tau\,e_1(\lambda))` (elementary symmetric polynomials of
  the :math:`\lambda` of the factors included).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .optimum import collapse_scale, critical_beta, effective_beta

__all__ = ["UFMTheory", "ufm_theory"]


@dataclass(frozen=True)
class UFMTheory:
    """Predicted values at a global optimum (tuples are indexed by weight layer ``l-1``, or by
    feature layer ``l-1`` for :attr:`class_mean_norms` and :attr:`feature_moment_eigenvalues`)."""

    n_classes: int
    n_per_class: int
    depth: int
    reg_w: tuple[float, ...]
    reg_h: float
    beta: float
    beta_c: float
    x: float
    tau: float
    objective: float
    weight_singular_values: tuple[float, ...]
    feature_singular_value: float
    class_mean_norms: tuple[float, ...]
    backprop_gains: tuple[float, ...]
    hessian_eigenvalues: tuple[float, ...]
    feature_hessian_eigenvalue: float
    gradient_coefficients: tuple[float, ...]
    weight_eigenvalues: tuple[float, ...]
    gradient_moment_eigenvalues: tuple[float, ...]
    backprop_error_eigenvalues: tuple[tuple[float, float], ...]
    feature_moment_eigenvalues: tuple[float, ...]
    full_outlier: float
    full_split: float
    weights_outlier: float
    weights_split: float

    @property
    def hessian_rank(self) -> int:
        """Rank :math:`K^2` of every layer-wise MSE Hessian (Theorem 4.1)."""
        return self.n_classes**2

    @property
    def normalised_gradient_coefficient(self) -> float:
        r"""Natural-basis coefficient :math:`1/\sqrt K` of the unit descent direction :math:`-g/\|g\|`."""
        return 1.0 / math.sqrt(self.n_classes)

    def rows(self) -> list[tuple[str, float]]:
        """Flat (name, value) list, for reports."""
        out = [("beta", self.beta), ("beta_c", self.beta_c), ("x*", self.x), ("tau", self.tau),
               ("objective", self.objective), ("s_H", self.feature_singular_value),
               ("mu_H (H_1 block)", self.feature_hessian_eigenvalue)]
        for l in range(self.depth):
            i = l + 1
            out += [(f"s_{i}", self.weight_singular_values[l]), (f"mu_{i}", self.hessian_eigenvalues[l]),
                    (f"alpha_{i}^2", self.backprop_gains[l]), (f"grad coeff_{i}", self.gradient_coefficients[l]),
                    (f"eig W_{i}W_{i}^T", self.weight_eigenvalues[l]),
                    (f"eig grad moment_{i}", self.gradient_moment_eigenvalues[l]),
                    (f"eig backprop_{i} (x{self.n_classes - 1})", self.backprop_error_eigenvalues[l][0]),
                    (f"eig backprop_{i} (x1)", self.backprop_error_eigenvalues[l][1]),
                    (f"eig H_{i}H_{i}^T/N", self.feature_moment_eigenvalues[l])]
        out += [("full GN outlier (xK^2)", self.full_outlier), ("full split delta", self.full_split),
                ("weights GN outlier (xK^2)", self.weights_outlier), ("weights split delta", self.weights_split)]
        return out


def ufm_theory(n_classes: int, n_per_class: int, depth: int, reg_w, reg_h: float) -> UFMTheory:
    """Closed-form predictions; raises :class:`~symhess.ufm.optimum.RegularisationTooStrongError`
    above the threshold."""
    K, n, L = n_classes, n_per_class, depth
    reg_w = tuple(float(r) for r in reg_w)
    beta = effective_beta(K, n, reg_w, reg_h)
    x = collapse_scale(beta, L)
    # tau = (n x^2 lambda_H prod lambda_W)^(1/(L+1)), in logs
    tau = math.exp((math.log(n) + 2 * math.log(x) + math.log(reg_h) + sum(map(math.log, reg_w))) / (L + 1))
    s = tuple(math.sqrt(tau / lam) for lam in reg_w)
    s_h = math.sqrt(tau / reg_h)
    m = []
    acc = s_h / math.sqrt(n)
    for l in range(L + 1):
        m.append(acc)
        if l < L:
            acc *= s[l]
    gains = tuple(math.prod(sj * sj for sj in s[l + 1:]) for l in range(L))
    mu = tuple(x * x * lam / (K * tau) for lam in reg_w)
    mu_h = x * x * reg_h / (K * tau)

    def split(lams: tuple[float, ...]) -> float:
        e1 = sum(lams)
        e2 = sum(a * b for i, a in enumerate(lams) for b in lams[i + 1:])
        return 2.0 / K * x * (1 - x) * e2 / (tau * e1)

    return UFMTheory(
        n_classes=K, n_per_class=n, depth=L, reg_w=reg_w, reg_h=float(reg_h), beta=beta, beta_c=critical_beta(L),
        x=x, tau=tau, objective=0.5 * (1 - x) * (1 + L * x),
        weight_singular_values=s, feature_singular_value=s_h, class_mean_norms=tuple(m), backprop_gains=gains,
        hessian_eigenvalues=mu, feature_hessian_eigenvalue=mu_h,
        gradient_coefficients=tuple(-math.sqrt(lam * tau) for lam in reg_w),
        weight_eigenvalues=tuple(tau / lam for lam in reg_w),
        gradient_moment_eigenvalues=tuple((1 - x) ** 2 * u for u in mu),
        backprop_error_eigenvalues=tuple((g * (1 + x * x), g * (1 - x) ** 2) for g in gains),
        feature_moment_eigenvalues=tuple(mm * mm / K for mm in m[:L]),
        full_outlier=sum(mu) + mu_h, full_split=split(reg_w + (float(reg_h),)),
        weights_outlier=sum(mu), weights_split=split(reg_w),
    )
