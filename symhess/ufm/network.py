r"""The deep unconstrained-feature model (UFM): linear (closed-form optimum) and ReLU.

Place in the package: the unconstrained-feature-model family (NumPy/SciPy only). Reference: Garrod & Keating, "Unifying low
dimensional observations in deep learning through the deep linear unconstrained feature model"
(arXiv:2404.06106); the deep linear UFM of Dang et al. (2023); the deep (ReLU) UFM of Súkeník et al.
(2023). The mathematics, with every statement this module checks, is in ``docs/ufm.md``.

Objective (:math:`K` classes, :math:`n` samples per class, :math:`N=Kn`, width :math:`d\ge K`,
depth :math:`L`; :math:`Y=I_K\otimes\mathbf 1_n^\top`, columns grouped by class):

.. math::

    \mathcal L = \frac1{2N}\|W_L\sigma(\cdots\sigma(W_1H_1))-Y\|_F^2
      +\sum_{l=1}^L\frac{\lambda_{W_l}}2\|W_l\|_F^2+\frac{\lambda_{H_1}}2\|H_1\|_F^2,

:math:`\sigma=\mathrm{id}` (:class:`DeepLinearUFM`) or ReLU (``DeepUFM(..., activation="relu")``).
Shapes: :math:`W_l\in\mathbb R^{d\times d}` for :math:`l<L`, :math:`W_L\in\mathbb R^{K\times d}`,
:math:`H_1\in\mathbb R^{d\times N}`.

Vectorisation: parameter vectors and Hessians use ``order="C"`` (row-major, the symhess convention) by
default; ``order="F"`` gives the paper's column-major vec. :math:`\theta` is
:math:`(\mathrm{vec}W_1,\dots,\mathrm{vec}W_L,\mathrm{vec}H_1)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from ..validation import as_rng
from .calculus import (
    ACTIVATIONS_UFM, ForwardPass, _check_layer, backprop_maps, extended_gradients, forward, full_hessian_dense, gradient, layer_hessian_dense, layer_hessian_kronecker_factors, mse_loss,
)
from .collapse import (
    class_means, eigenvector_alignment, labels, natural_basis, nc1, orthogonal_frame_deviation, row_gram,
)
from .matrices import (
    PapyanDecomposition, backprop_error_moment, extended_backprop_errors, feature_moment, gradient_covariance, gradient_second_moment, papyan_decomposition, per_sample_gradients,
)
from .optimum import critical_beta, effective_beta
from .point import UFMPoint, check_order
from .theory import UFMTheory, ufm_theory
from .training import TrainingRun, run_gradient_descent

__all__ = ["DeepUFM", "DeepLinearUFM", "UFMOptimum"]


def _int(value: object, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}={value!r} must be an integer")
    if value < minimum:
        raise ValueError(f"{name}={value} must be >= {minimum}")
    return int(value)


def _reg(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}={value!r} must be a number")
    v = float(value)
    if not (np.isfinite(v) and v > 0):
        raise ValueError(f"{name}={value!r} must be finite and > 0 (the collapse theorems need every lambda > 0)")
    return v


@dataclass(frozen=True)
class UFMOptimum(UFMPoint):
    """A global minimiser of the deep linear UFM built in closed form, with its predicted constants.

    ``weights`` and ``features`` as in :class:`UFMPoint`; ``theory`` holds :math:`x^\\star`, :math:`\\tau`,
    the singular values and every predicted eigenvalue (:class:`UFMTheory`); ``frames`` are the
    orthonormal :math:`d\\times K` frames :math:`V_1,\\dots,V_L` (the class-mean directions of
    :math:`H_1,\\dots,H_L`).
    """

    theory: UFMTheory | None = None
    frames: tuple[np.ndarray, ...] = ()

    @property
    def x(self) -> float:
        """Optimal scale :math:`x^\\star`: :math:`W_L\\cdots W_1H_1 = x^\\star Y`."""
        return self.theory.x  # type: ignore[union-attr]

    @property
    def tau(self) -> float:
        """:math:`\\tau=\\lambda_{W_l}s_l^2=\\lambda_{H_1}s_H^2`."""
        return self.theory.tau  # type: ignore[union-attr]

    @property
    def singular_values(self) -> tuple[float, ...]:
        """The common nonzero singular value :math:`s_l` of each :math:`W_l`."""
        return self.theory.weight_singular_values  # type: ignore[union-attr]

    @property
    def objective(self) -> float:
        """:math:`\\mathcal L^\\star=\\tfrac12(1-x^\\star)(1+Lx^\\star)`."""
        return self.theory.objective  # type: ignore[union-attr]


class DeepUFM:
    r"""Deep unconstrained-feature model with MSE loss and L2 regularisation.

    Parameters
    ----------
    n_classes : int
        :math:`K\ge2`.
    n_per_class : int
        :math:`n\ge1` samples per class; :math:`N=Kn`.
    width : int
        Hidden width :math:`d\ge K`.
    depth : int
        Number of weight matrices :math:`L\ge1`.
    reg_w : float or sequence of L floats
        :math:`\lambda_{W_l} > 0` (one value for every layer, or one per layer).
    reg_h : float
        :math:`\lambda_{H_1} > 0`.
    activation : {"linear", "relu"}
        :math:`\sigma` between the separated layers (the classifier :math:`W_L` is linear).

    Examples
    --------
    >>> m = DeepUFM(3, 4, 8, 3, activation="relu")
    >>> run = m.train(steps=10, lr=0.1, rng=0, record_at=2)
    >>> run.nc1.shape
    (3, 3)
    """

    def __init__(self, n_classes: int, n_per_class: int, width: int, depth: int,
                 reg_w: float | Sequence[float] = 1e-3, reg_h: float = 1e-3, *, activation: str = "linear") -> None:
        self.n_classes = _int(n_classes, "n_classes", 2)
        self.n_per_class = _int(n_per_class, "n_per_class", 1)
        self.depth = _int(depth, "depth", 1)
        self.width = _int(width, "width", 1)
        if self.width < self.n_classes:
            raise ValueError(f"width={width} must be >= n_classes={n_classes} (the collapsed features need K directions)")
        if isinstance(reg_w, (str, bytes)):
            raise TypeError(f"reg_w={reg_w!r} must be a number or a sequence of {self.depth} numbers")
        if isinstance(reg_w, Sequence) or isinstance(reg_w, np.ndarray):
            regs = list(reg_w)
            if len(regs) != self.depth:
                raise ValueError(f"reg_w has {len(regs)} entries but depth={self.depth}; give one per layer or a single number")
            self.reg_w = tuple(_reg(r, f"reg_w[{i}]") for i, r in enumerate(regs))
        else:
            self.reg_w = (_reg(reg_w, "reg_w"),) * self.depth
        self.reg_h = _reg(reg_h, "reg_h")
        if activation not in ACTIVATIONS_UFM:
            raise ValueError(f"activation={activation!r} is not supported; use one of {ACTIVATIONS_UFM}")
        self.activation = activation
        self.labels = labels(self.n_classes, self.n_per_class)
        self.labels.setflags(write=False)

    # -- sizes ----------------------------------------------------------------------------------
    @property
    def n_samples(self) -> int:
        """:math:`N=Kn`."""
        return self.n_classes * self.n_per_class

    @property
    def shapes(self) -> list[tuple[int, int]]:
        """Shapes of :math:`W_1,\\dots,W_L,H_1` (:math:`\\theta` order)."""
        d, K, L = self.width, self.n_classes, self.depth
        return [(d, d)] * (L - 1) + [(K, d), (d, self.n_samples)]

    @property
    def n_params(self) -> int:
        return int(sum(a * b for a, b in self.shapes))

    def __repr__(self) -> str:
        regw = self.reg_w[0] if len(set(self.reg_w)) == 1 else list(self.reg_w)
        return (f"{type(self).__name__}(n_classes={self.n_classes}, n_per_class={self.n_per_class}, width={self.width}, "
                f"depth={self.depth}, reg_w={regw}, reg_h={self.reg_h}"
                + (f", activation={self.activation!r})" if type(self) is DeepUFM else ")"))

    # -- points ---------------------------------------------------------------------------------
    def as_point(self, point: object) -> UFMPoint:
        """Validate ``point`` (a :class:`UFMPoint`, a :class:`TrainingRun`, or ``(weights, features)``)
        against this model's shapes."""
        if isinstance(point, TrainingRun):
            point = point.final
        if isinstance(point, tuple) and len(point) == 2 and not isinstance(point, UFMPoint):
            point = UFMPoint(tuple(point[0]), point[1])
        if not isinstance(point, UFMPoint):
            raise TypeError(f"expected a UFMPoint (e.g. m.optimum() or run.final); got {type(point).__name__}")
        if point.shapes != self.shapes:
            raise ValueError(f"point has shapes {point.shapes} but this model needs {self.shapes} (W_1..W_L, H_1)")
        return point

    def random_point(self, rng: object = None, init_scale: float = 0.1, weight_scale: float = 1.0) -> UFMPoint:
        r"""I.i.d. Gaussian point: :math:`W_l` entries :math:`N(0, w^2/d)` (fan-in scaling, :math:`w=`
        ``weight_scale``), :math:`H_1` entries :math:`N(0, s^2)` with :math:`s=` ``init_scale``."""
        gen = as_rng(rng)
        s, w = float(init_scale), float(weight_scale)
        for name, val in (("init_scale", s), ("weight_scale", w)):
            if not (np.isfinite(val) and val > 0):
                raise ValueError(f"{name}={val} must be finite and > 0")
        d = self.width
        Ws = tuple(gen.normal(size=shape) * (w / np.sqrt(d)) for shape in self.shapes[:-1])
        H = gen.normal(size=self.shapes[-1]) * s
        return UFMPoint(Ws, H)

    # -- objective ------------------------------------------------------------------------------
    def forward(self, point: object) -> ForwardPass:
        """Features :math:`H_1..H_L`, pre-activations and output at ``point``."""
        return forward(self.as_point(point), self.activation)

    def mse(self, point: object) -> float:
        r"""The data term :math:`\|\hat Y-Y\|_F^2/(2N)`."""
        return mse_loss(self.forward(point), self.labels)

    def objective(self, point: object) -> float:
        r"""The full objective :math:`\mathcal L` (data term plus regularisers)."""
        p = self.as_point(point)
        reg = sum(lam / 2 * float((W * W).sum()) for lam, W in zip(self.reg_w, p.weights))
        return self.mse(p) + reg + self.reg_h / 2 * float((p.features**2).sum())

    def gradient(self, point: object) -> UFMPoint:
        """Gradient of :meth:`objective` (same shapes as the point)."""
        return gradient(self.as_point(point), self.labels, self.reg_w, self.reg_h, self.activation)

    def nc1(self, point: object) -> np.ndarray:
        """DNC1 metric of the features :math:`H_1,\\dots,H_L` (length ``depth``)."""
        return np.array([nc1(H, self.n_classes) for H in self.forward(point).features])

    def class_means(self, point: object, layer: int) -> np.ndarray:
        """Class means (``(d, K)``) of the features :math:`H_l`, ``layer`` in ``1..L+1`` (``L+1``: the output)."""
        fp = self.forward(point)
        L = self.depth
        if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not 1 <= layer <= L + 1:
            raise ValueError(f"feature layer={layer!r} must be an integer in 1..L+1 = 1..{L + 1}")
        H = fp.features[layer - 1] if layer <= L else fp.output
        return class_means(H, self.n_classes)

    def orthogonal_frame_deviation(self, point: object) -> np.ndarray:
        """Distance of the class means of :math:`H_1..H_L` from an orthogonal frame (0 at a linear optimum)."""
        return np.array([orthogonal_frame_deviation(H, self.n_classes) for H in self.forward(point).features])

    # -- training -------------------------------------------------------------------------------
    def train(self, steps: int = 20000, lr: float = 0.5, rng: object = 0, *, init: object = None,
              init_scale: float = 0.1, weight_scale: float = 1.0, record_at: int | Iterable[int] | None = None,
              track_layers: Iterable[int] | None = None, spectra: bool = True) -> TrainingRun:
        r"""Full-batch gradient descent from a random (or given) start, with collapse and spectra tracked.

        Parameters
        ----------
        steps : int
            Number of gradient steps.
        lr : float
            Step size :math:`\eta`.
        rng : None, int or numpy.random.Generator
            Seed of the random start (:meth:`random_point`).
        init : UFMPoint, optional
            Start here instead of at a random point.
        init_scale, weight_scale : float
            The random start: :math:`H_1` entries :math:`N(0, \text{init\_scale}^2)`, :math:`W_l` entries
            :math:`N(0, \text{weight\_scale}^2/d)`.
        record_at : int or iterable of int, optional
            Number of log-spaced checkpoints (default 40, plus steps 0 and ``steps``) or the explicit steps.
        track_layers : iterable of int, optional
            Weight layers whose spectra/alignments are recorded (default: all).
        spectra : bool
            Record the per-layer quantities at all (False: only objective, gradient norm, DNC1, balancedness).

        Returns
        -------
        TrainingRun
            The record, with ``run.final`` the last point (see :class:`~symhess.ufm.training.TrainingRun`).
        """
        start = self.random_point(rng, init_scale, weight_scale) if init is None else self.as_point(init)
        return run_gradient_descent(start, self.labels, self.reg_w, self.reg_h, steps=steps, lr=lr,
                                    activation=self.activation, record_at=record_at, track_layers=track_layers,
                                    spectra=spectra)

    # -- layer-wise matrices --------------------------------------------------------------------
    def layer_hessian(self, point: object, layer: int, *, order: str = "C", include_reg: bool = False) -> np.ndarray:
        r"""Dense Hessian of the MSE part with respect to :math:`\mathrm{vec}\,W_l` at any point.

        Linear: :math:`\frac1N(A_l^\top A_l)\otimes(H_lH_l^\top)` for ``order="C"`` (row-major vec),
        :math:`\frac1N(H_lH_l^\top)\otimes(A_l^\top A_l)` for ``order="F"`` (column-major);
        :math:`A_l=W_L\cdots W_{l+1}`. ReLU: the sample sum of such products with the masked maps
        :math:`A_{l,i}`. ``include_reg`` adds :math:`\lambda_{W_l}I`.
        """
        p = self.as_point(point)
        _check_layer(layer, self.depth)
        Hm = layer_hessian_dense(p, layer, self.activation, check_order(order))
        if include_reg:
            Hm[np.diag_indices_from(Hm)] += self.reg_w[layer - 1]
        return Hm

    def layer_spectrum(self, point: object, layer: int) -> np.ndarray:
        """Eigenvalues (descending) of the layer-wise MSE Hessian; for the linear model from the two
        Kronecker factors (:math:`d^2` products of two :math:`d`-sized spectra), else dense."""
        p = self.as_point(point)
        _check_layer(layer, self.depth)
        if self.activation == "linear":
            left, right = layer_hessian_kronecker_factors(p, layer)
            return np.sort(np.outer(np.linalg.eigvalsh(left), np.linalg.eigvalsh(right)).ravel())[::-1]
        return np.linalg.eigvalsh(self.layer_hessian(p, layer))[::-1]

    def backprop_map(self, point: object, layer: int) -> np.ndarray:
        """:math:`A_l` (``(K, d)``; ReLU: ``(N, K, d)``, one masked map per sample)."""
        p = self.as_point(point)
        _check_layer(layer, self.depth)
        return backprop_maps(p, layer, self.activation)

    def backprop_row_gram(self, point: object, layer: int, masked: bool = True) -> np.ndarray:
        r"""Gram matrix of the rows of :math:`A_l` (paper Appendix G.2): for ReLU with ``masked=True`` the
        data average of the masked maps :math:`A_{l,i}` (Table 4), else :math:`W_L\cdots W_{l+1}` (Table 3)."""
        p = self.as_point(point)
        _check_layer(layer, self.depth)
        act = self.activation if masked else "linear"
        return row_gram(backprop_maps(p, layer, act))

    def natural_basis(self, point: object, layer: int, order: str = "C") -> np.ndarray:
        r"""Unit vectors :math:`\mathrm{vec}(\hat{\bar h}_{l+1,c}\hat{\bar h}_{l,c'}^\top)`, shape ``(K, K, P_l)``."""
        p = self.as_point(point)
        _check_layer(layer, self.depth)
        fp = forward(p, self.activation)
        out = fp.features[layer] if layer < self.depth else fp.output
        return natural_basis(class_means(out, self.n_classes), class_means(fp.features[layer - 1], self.n_classes),
                             check_order(order))

    def eigvec_alignment(self, point: object, layer: int) -> np.ndarray:
        r"""``(K, K)`` alignments :math:`v^\top Hv/\|Hv\|` of the natural-basis vectors (paper Figure 4, Table 1)."""
        return eigenvector_alignment(self.layer_hessian(point, layer), self.natural_basis(point, layer))

    def mse_gradient(self, point: object, layer: int) -> np.ndarray:
        r"""MSE part of :math:`\nabla_{W_l}\mathcal L` (matrix shaped), :math:`\frac1N A_l^\top(\hat Y-Y)H_l^\top` for the linear model."""
        p = self.as_point(point)
        _check_layer(layer, self.depth)
        g = gradient(p, self.labels, [0.0] * self.depth, 0.0, self.activation)
        return np.array(g.weights[layer - 1])

    def gradient_coefficients(self, point: object, layer: int, basis: str = "natural") -> np.ndarray:
        r"""Coefficients of the unit descent direction :math:`-g/\|g\|` of the layer's MSE gradient.

        ``basis="natural"``: ``(K, K)`` coefficients in the natural basis (Figure 7; at a linear optimum
        :math:`1/\sqrt K` on the diagonal, 0 elsewhere). ``basis="eigen"``: coefficients on the top
        :math:`K^2` eigenvectors of the layer Hessian, largest eigenvalue first (Table 2; the sign of
        each eigenvector is fixed by making its largest entry positive).
        """
        g = self.mse_gradient(point, layer)
        gn = np.linalg.norm(g)
        if gn == 0:
            raise ValueError("the MSE gradient of this layer is exactly zero: no direction to expand")
        u = -g.ravel() / gn
        if basis == "natural":
            return self.natural_basis(point, layer) @ u
        if basis == "eigen":
            w, Q = np.linalg.eigh(self.layer_hessian(point, layer))
            Q = Q[:, ::-1][:, : self.n_classes**2]
            Q = Q * np.sign(Q[np.abs(Q).argmax(axis=0), np.arange(Q.shape[1])])
            return Q.T @ u
        raise ValueError(f"basis={basis!r}; use 'natural' or 'eigen'")

    def papyan_decomposition(self, point: object, layer: int, order: str = "C") -> PapyanDecomposition:
        """Papyan's within / cross / class decomposition of the layer-wise Hessian (Theorem 4.2)."""
        p = self.as_point(point)
        _check_layer(layer, self.depth)
        delta = extended_gradients(p, layer, self.activation, check_order(order))
        return papyan_decomposition(delta, self.n_classes)

    def gradient_moment(self, point: object, layer: int, *, centred: bool = False, order: str = "C") -> np.ndarray:
        r"""Second moment (``centred=False``) or covariance (``centred=True``) of per-sample MSE gradients
        of :math:`W_l` (Theorem E.1)."""
        p = self.as_point(point)
        _check_layer(layer, self.depth)
        g = per_sample_gradients(p, self.labels, layer, self.activation, check_order(order))
        return gradient_covariance(g) if centred else gradient_second_moment(g)

    def backprop_error_moment(self, point: object, layer: int) -> np.ndarray:
        r""":math:`\frac1N\sum_{i,k}e_{i,k}e_{i,k}^\top`, :math:`e_{i,k}=A_{l,i}^\top(\hat y_i-e_k)` (Theorem E.2)."""
        p = self.as_point(point)
        _check_layer(layer, self.depth)
        return backprop_error_moment(extended_backprop_errors(p, layer, self.activation))

    def feature_moment(self, point: object, layer: int) -> np.ndarray:
        r""":math:`\frac1NH_lH_l^\top` for feature layer ``l`` in ``1..L`` (Theorem E.3)."""
        fp = self.forward(point)
        _check_layer(layer, self.depth)
        return feature_moment(fp.features[layer - 1])


class DeepLinearUFM(DeepUFM):
    r"""Deep linear unconstrained-feature model: closed-form global optimum and its theorems.

    See :class:`DeepUFM` for the parameters (``activation`` is fixed to ``"linear"``).

    Examples
    --------
    >>> m = DeepLinearUFM(n_classes=3, n_per_class=4, width=8, depth=3, reg_w=1e-3, reg_h=1e-3)
    >>> opt = m.optimum()
    >>> [W.shape for W in opt.weights], opt.features.shape
    ([(8, 8), (8, 8), (3, 8)], (8, 12))
    >>> ev = np.linalg.eigvalsh(m.layer_hessian(opt, layer=2))
    >>> int((ev > 1e-9).sum()), bool(np.allclose(ev[-9:], m.theory().hessian_eigenvalues[1]))
    (9, True)
    """

    def __init__(self, n_classes: int, n_per_class: int, width: int, depth: int,
                 reg_w: float | Sequence[float] = 1e-3, reg_h: float = 1e-3) -> None:
        super().__init__(n_classes, n_per_class, width, depth, reg_w, reg_h, activation="linear")

    @property
    def beta(self) -> float:
        r""":math:`\beta=K(n\lambda_{H_1}\prod_l\lambda_{W_l})^{1/(L+1)}`."""
        return effective_beta(self.n_classes, self.n_per_class, self.reg_w, self.reg_h)

    @property
    def beta_c(self) -> float:
        r"""Threshold :math:`\beta_c=\frac1L(\frac{L-1}L)^{(L-1)/(L+1)}`; collapse needs :math:`\beta\le\beta_c`."""
        return critical_beta(self.depth)

    def theory(self) -> UFMTheory:
        """Closed-form predictions at the global optimum (raises above the threshold)."""
        return ufm_theory(self.n_classes, self.n_per_class, self.depth, self.reg_w, self.reg_h)

    def optimum(self, rng: object = None) -> UFMOptimum:
        r"""A global minimiser in closed form.

        .. math::

            H_1 = s_H V_1 Y/\sqrt n,\qquad W_l = s_l V_{l+1}V_l^\top\ (l<L),\qquad W_L = s_L V_L^\top,

        with orthonormal :math:`d\times K` frames :math:`V_l` (the first :math:`K` coordinate axes, or
        random ones drawn from ``rng``); every global minimiser has this form.

        Raises
        ------
        RegularisationTooStrongError
            If :math:`\beta>\beta_c`: then the only global minimiser is 0.
        """
        th = self.theory()
        d, K, L, n = self.width, self.n_classes, self.depth, self.n_per_class
        if rng is None:
            frames = [np.eye(d)[:, :K] for _ in range(L)]
        else:
            gen = as_rng(rng)
            frames = [np.linalg.qr(gen.normal(size=(d, K)))[0] for _ in range(L)]
        frames.append(np.eye(K))  # V_{L+1}: the output frame is fixed by the labels
        H = th.feature_singular_value * frames[0] @ (self.labels / np.sqrt(n))
        Ws = tuple(th.weight_singular_values[l] * frames[l + 1] @ frames[l].T for l in range(L))
        return UFMOptimum(Ws, H, theory=th, frames=tuple(frames[:L]))

    def full_hessian(self, point: object, *, order: str = "C", include_reg: bool = False, part: str = "full",
                     max_bytes: int | None = None) -> np.ndarray:
        r"""Dense Hessian of the MSE part in all of :math:`\theta=(W_1,\dots,W_L,H_1)`.

        ``part``: ``"full"`` (default), ``"gauss_newton"`` (:math:`J^\top J/N`) or ``"residual"`` (the terms
        linear in :math:`\hat Y-Y`); ``include_reg`` adds the regulariser's :math:`\lambda I`. The weights-only
        Hessian is the leading ``sum(d_{l+1} d_l)`` block. Raises :class:`~symhess.errors.MemoryLimitError` if
        the dense matrix would not fit.
        """
        p = self.as_point(point)
        regs = (self.reg_w, self.reg_h) if include_reg else (None, None)
        return full_hessian_dense(p, self.labels, check_order(order), *regs, max_bytes=max_bytes, part=part)
