r"""The :class:`Activation` contract: a SymPy expression plus optional closed-form hooks.

Place in the package: engine, activations (imports SymPy, NumPy, ``symhess.symbols``, ``symhess.errors``).

An activation is a frozen (hashable) dataclass, so it can key caches of compiled kernels.
Subclasses implement :meth:`Activation.expr` and may override the hooks

* :meth:`Activation.pair_kernel` — the base kernel :math:`K_{00}(q_1, q_2, c) = E[\sigma(u)\sigma(v)]`;
* :meth:`Activation.gaussian_pair` — :math:`K_{ab} = E[\sigma^{(a)}(u)\sigma^{(b)}(v)]` directly;
* :meth:`Activation.gaussian_single` — :math:`E[(\sigma^{(a)}\sigma^{(b)})^{(m)}(h)]`, :math:`h\sim N(0,q)`;
* :meth:`Activation.gaussian_pair_means`, :meth:`Activation.gaussian_single_means` — the same with
  means (pre-activations with hidden biases).

A hook that returns ``None`` means "no closed form here"; the expectation layer then takes the
generic route (Price's theorem from the base kernel, exact moments for polynomials, and finally
numerical quadrature with a :class:`~symhess.errors.QuadratureWarning`). A hook never returns
an approximation.

What the rest of the package knows about an activation also lives here, as hooks with the same
``None`` convention, so that a new activation is one file plus its registration:

* :meth:`Activation.counting_rule` — the generic Hessian rank of the two-layer network at the optimum
  (``None``: polynomials take the generic polynomial rule, others are measured);
* :meth:`Activation.symbolic_parameters` — the paper's symbols for the parameters (export);
* :meth:`Activation.determinant_alpha` — :math:`\alpha` of the abbreviation :math:`\tilde\Delta` (LaTeX notation);
* :meth:`Activation.instantiate` — symbolic parameters replaced by values (the checker).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from functools import lru_cache
from typing import Callable, ClassVar, Mapping, NamedTuple

import numpy as np
import sympy as sp

from ..symbols import z
from ..errors import InvalidParameterError

__all__ = [
    "Activation", "RankRule", "full_rank_rule", "to_exact", "GAUSSIAN_EXPONENTS_PROOF",
    "singular_hyperplane_proof"]

#: spellings of non-finite numbers that SymPy would otherwise read as symbol names
_NOT_SYMBOLS = frozenset({"inf", "infinity", "nan", "none"})


def to_exact(value: object, name: str) -> sp.Expr:
    """Convert a parameter value to an exact SymPy number (floats by their decimal repr).

    Parameters
    ----------
    value : int, float, Fraction, str or sympy.Expr
        The value; a float ``0.3`` becomes the rational ``3/10`` (its shortest decimal form), so that
        exact routes see the number the user typed.
    name : str
        Parameter name, used in error messages.
    """
    from ..errors import ActivationParameterError

    if isinstance(value, bool):
        raise ActivationParameterError(f"parameter {name}={value!r} must be a number, not a bool")
    if isinstance(value, sp.Basic):
        expr = value
    elif isinstance(value, (int, np.integer)):
        expr = sp.Integer(int(value))
    elif isinstance(value, (float, np.floating)):
        if not np.isfinite(value):
            raise ActivationParameterError(f"parameter {name}={value!r} must be finite")
        expr = sp.Rational(repr(float(value)))
    elif isinstance(value, str):
        # exact numbers ("1/3", "0.3" -> 3/10, "sqrt(2)/2") or symbolic parameters ("epsilon")
        try:
            expr = sp.sympify(value, rational=True)
        except (sp.SympifyError, TypeError, SyntaxError) as exc:
            raise ActivationParameterError(f"parameter {name}={value!r} is not a number or a symbol") from exc
        if not isinstance(expr, sp.Expr):
            raise ActivationParameterError(f"parameter {name}={value!r} is not a number or a symbol")
        bad = sorted(s.name for s in expr.free_symbols if s.name.lower() in _NOT_SYMBOLS)
        if bad:
            raise ActivationParameterError(f"parameter {name}={value!r} must be finite")
        expr = expr.subs({s: sp.Symbol(s.name, real=True) for s in expr.free_symbols})
    else:
        try:
            expr = sp.Rational(value)  # fractions.Fraction and friends
        except (TypeError, ValueError) as exc:
            raise ActivationParameterError(
                f"parameter {name}={value!r} has type {type(value).__name__}; expected a number"
            ) from exc
    if expr.is_number and (expr.has(sp.nan, sp.zoo, sp.oo, -sp.oo) or not expr.is_finite):
        raise ActivationParameterError(f"parameter {name}={value!r} must be finite")
    return expr


class RankRule(NamedTuple):
    """A counting rule's answer: the rank, the rule's name, its status, the formula and a note.

    ``status`` is ``"exact"`` (a proved generic rank), ``"upper bound"``, ``"conjecture"`` (checked by
    certified ranks in the tests) or ``"measured"``.
    """

    value: int
    rule: str
    status: str
    formula: str
    note: str = ""


def full_rank_rule(n_in: int, n_hidden: int, why: str) -> tuple[int, str, str, str, str]:
    r"""The full-rank rule ``(P, rule, "exact", formula, note)`` for units whose gradients are independent.

    At the optimum the rank is the dimension of the span of the gradient functions
    :math:`\{\sigma(w_i\cdot x),\ \sigma'(w_i\cdot x)\,x_j\}`; ``why`` names the proof that these are
    linearly independent at generic teacher weights.
    """
    return (n_hidden * (n_in + 1), "full rank", "exact", "P = N_h(N_i+1)", why)


#: why Gaussian-type units (erf, GELU) are independent: exponential polynomials with distinct exponents
GAUSSIAN_EXPONENTS_PROOF = (
    "the unit functions are independent at generic weights (rows nonzero, pairwise non-(anti)parallel): "
    "on a generic line x = t d + x0 they are polynomials times exp(-s^2 (a_i t + b_i)^2) with distinct "
    "exponents, independent exponential polynomials; certified on every drawn instance in the tests"
)


def singular_hyperplane_proof(kind: str) -> str:
    """Why units with complex singularities (``kind``: "pole", "branch-point") are independent."""
    return (
        "the unit functions are independent at generic weights (rows nonzero, pairwise non-(anti)parallel): "
        f"continued to complex inputs, the unit of largest |w_i . d| has a {kind} hyperplane w_i . x = z* "
        "(Im z* != 0) no other unit shares, on which its terms must cancel alone; this forces its "
        "coefficients to 0, and so on unit by unit; certified on every drawn instance in the tests"
    )


@dataclass(frozen=True)
class Activation:
    r"""A scalar nonlinearity :math:`\sigma(z)` with optional closed-form Gaussian integrals.

    Subclasses are frozen dataclasses whose fields are the activation's parameters (exact SymPy
    numbers or symbols). Register them with :func:`symhess.activations.register_activation`.
    """

    name: ClassVar[str] = "activation"
    #: True where pair kernels blow up as the correlation tends to +-1 (ReLU): kernels clamp it.
    singular_at_parallel: ClassVar[bool] = False
    #: True where the derivative at 0 is undefined, so a zero row of W has no Hessian (ReLU).
    undefined_at_zero: ClassVar[bool] = False
    #: True where :math:`\sigma(rz) = r\sigma(z)` for :math:`r>0` (ReLU): numeric routes may normalise rows
    positively_homogeneous: ClassVar[bool] = False
    #: pair kernels (a, b) that diverge at :math:`|\rho| = 1` but whose sum in every Stein template tends to 0
    parallel_singular_keys: ClassVar[frozenset] = frozenset()
    #: why the units :math:`\sigma(w_i\cdot x+b_i)` and their derivatives are linearly independent at generic weights,
    #: as a family name the counting rules of every architecture use: ``"gaussian tail"`` (exponential polynomials
    #: on generic lines), ``"poles"`` (complex singular hyperplanes no other unit shares), ``"frequencies"``
    #: (distinct frequencies), ``"exp"`` (a hidden bias rescales the output weight), ``"relu-like"`` (positive
    #: homogeneity, kinks at distinct hyperplanes); ``None``: no such theorem is known for it here
    unit_family: ClassVar[str | None] = None
    #: example specs (``"erf:scale=0.5"``) that the registry-wide contract tests run; at least one per activation
    examples: ClassVar[tuple[str, ...]] = ()

    # -- numerical integration ----------------------------------------------------------------
    def analytic_strip(self) -> float | None:
        r"""Half-width :math:`d` of the strip :math:`|\operatorname{Im} z| < d` where :math:`\sigma` is analytic.

        The distance from the real axis to the nearest complex singularity of :math:`\sigma` (poles of
        :math:`\tanh` at :math:`i\pi/2`, so :math:`d=\pi/2`). It sets the step of the trapezoidal rule
        used when no closed form exists (:mod:`symhess.kernels.quadrature`). ``None``: entire, or not
        known (the quadrature then uses a default step and checks itself by refinement).
        """
        return None

    def saturation(self) -> tuple[float, float, float] | None:
        r"""Limits and decay rate ``(lower, upper, rate)`` of a saturating activation, or ``None``.

        :math:`\sigma(t)\to` ``lower`` as :math:`t\to-\infty` and ``upper`` as :math:`t\to+\infty`, and
        :math:`|\sigma(t)-\lim|` and every derivative :math:`|\sigma^{(n)}(t)|`, :math:`n\ge1`, fall like
        :math:`e^{-\mathrm{rate}\,|t|}` (tanh: ``(-1, 1, 2)``). It lets the quadrature integrate on the
        activation's own length scale, so Gaussian expectations stay accurate at any variance
        (:mod:`symhess.kernels.quadrature`). ``None``: not saturating or not known (the quadrature then
        resolves the Gaussian's scale and refuses variances it cannot resolve).
        """
        return None

    def numeric_derivatives(self, orders: tuple[int, ...], x: np.ndarray) -> dict[int, np.ndarray]:
        r"""``{n: sigma^(n)(x)}`` for every ``n`` in ``orders`` (subclasses may share work between orders)."""
        return {n: self.numeric(n)(x) for n in orders}

    # -- the expression ---------------------------------------------------------------------
    def expr(self, x: sp.Expr = z) -> sp.Expr:
        r"""Return :math:`\sigma(x)` as a SymPy expression."""
        raise NotImplementedError

    def derivative(self, order: int, x: sp.Expr = z) -> sp.Expr:
        r"""Return :math:`\sigma^{(order)}(x)`."""
        if order < 0:
            raise InvalidParameterError(f"derivative order={order} must be >= 0")
        return sp.diff(self.expr(z), z, order).subs(z, x) if order else self.expr(x)

    @property
    def is_polynomial(self) -> bool:
        """Whether :math:`\\sigma` is a polynomial in ``z`` (exact moment routes apply)."""
        return bool(self.expr(z).is_polynomial(z))

    def polynomial_coeffs(self) -> list[sp.Expr]:
        r"""Coefficients :math:`[c_0, c_1, \dots, c_n]` of :math:`\sigma(z)=\sum_k c_k z^k`.

        Raises
        ------
        ValueError
            If the activation is not a polynomial.
        """
        if not self.is_polynomial:
            raise InvalidParameterError(f"activation {self.spec!r} is not a polynomial")
        poly = sp.Poly(self.expr(z), z)
        return list(reversed(poly.all_coeffs()))

    @property
    def degree(self) -> int | None:
        """Polynomial degree, or ``None`` for a non-polynomial activation."""
        if not self.is_polynomial:
            return None
        return int(sp.Poly(self.expr(z), z).degree())

    # -- parameters ---------------------------------------------------------------------------
    @property
    def params(self) -> dict[str, object]:
        """The activation's parameters by name."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def spec(self) -> str:
        """Canonical string form, accepted by :func:`symhess.activation` (``"quadratic:eps=1/2"``)."""
        parts = []
        for key, val in self.params.items():
            if isinstance(val, tuple):
                val = "[" + ",".join(str(v) for v in val) + "]"
            parts.append(f"{key}={val}")
        return self.name + (":" + ",".join(parts) if parts else "")

    def __str__(self) -> str:
        return self.spec

    @property
    def symbolic_params(self) -> dict[str, object]:
        """The parameters that are symbols rather than numbers (kept for derivations)."""
        out = {}
        for key, val in self.params.items():
            vals = val if isinstance(val, tuple) else (val,)
            if any(isinstance(x, sp.Basic) and x.free_symbols for x in vals):
                out[key] = val
        return out

    def require_numeric(self) -> None:
        """Raise if a parameter is a symbol: numeric routes (kernels, spectra, ranks) need values.

        Raises
        ------
        ActivationParameterError
            Naming the symbolic parameters; symbols are kept for derivations only.
        """
        from ..errors import ActivationParameterError

        sym = self.symbolic_params
        if sym:
            names = ", ".join(f"{k}={v}" for k, v in sym.items())
            raise ActivationParameterError(
                f"activation {self.spec!r} has symbolic parameter(s) {names}: numeric routes need a number "
                f"(e.g. {self.name}:{next(iter(sym))}=0.5); symbols are for derivations only"
            )

    def variance_scale(self) -> float:
        r"""Factor :math:`s^2` by which the activation scales pre-activation variances (1 by default).

        ``erf(s z)`` sees the variance :math:`s^2 q`; numeric routes check that this stays in float64 range.
        """
        return 1.0

    # -- closed-form hooks (None = no closed form) -------------------------------------------
    def pair_kernel(self, q1: sp.Expr, q2: sp.Expr, c: sp.Expr) -> sp.Expr | None:
        r"""Base kernel :math:`K_{00}=E[\sigma(u)\sigma(v)]`, :math:`(u,v)\sim N(0,[[q_1,c],[c,q_2]])`."""
        return None

    def gaussian_pair(self, a: int, b: int, q1: sp.Expr, q2: sp.Expr, c: sp.Expr) -> sp.Expr | None:
        r"""Closed form of :math:`K_{ab}=E[\sigma^{(a)}(u)\sigma^{(b)}(v)]`, or ``None``."""
        return None

    def gaussian_single(self, a: int, b: int, m: int, q: sp.Expr) -> sp.Expr | None:
        r"""Closed form of :math:`E[(\sigma^{(a)}\sigma^{(b)})^{(m)}(h)]`, :math:`h\sim N(0,q)`, or ``None``."""
        return None

    def gaussian_pair_means(
        self, m1: sp.Expr, m2: sp.Expr, q1: sp.Expr, q2: sp.Expr, c: sp.Expr, partner: "Activation | None" = None,
        orders: tuple[int, int] = (0, 0),
    ) -> sp.Expr | None:
        r"""Closed form of :math:`E[\sigma^{(a)}(u)\tau^{(b)}(v)]` with means, ``orders`` :math:`=(a,b)`, or ``None``.

        :math:`(u,v)\sim N\big((m_1,m_2),[[q_1,c],[c,q_2]]\big)` (pre-activations with hidden biases),
        :math:`\tau` = ``partner`` (``None``: :math:`\sigma` itself). Orders without a formula here follow
        by differentiating a lower one in the means, :math:`E[\sigma^{(a)}(u)\tau^{(b)}(v)]=
        \partial_{m_1}^{a-a'}\partial_{m_2}^{b-b'}E[\sigma^{(a')}(u)\tau^{(b')}(v)]`
        (:mod:`symhess.expectation.means`), so the ``(0, 0)`` formula alone serves every order; shorter
        formulas for higher orders only make the kernels smaller.
        """
        return None

    def gaussian_single_means(self, orders: tuple[int, ...], m: sp.Expr, q: sp.Expr) -> sp.Expr | None:
        r"""Closed form of :math:`E[\prod_k\sigma^{(o_k)}(h)]`, :math:`h\sim N(m,q)`, ``orders`` of length 1 or 2, or ``None``.

        Derivatives of the product follow by differentiating in :math:`m`. Activations whose pair
        formula stays finite at :math:`u=v` need not give the products (the pair at :math:`c=q_1=q_2`,
        :math:`m_1=m_2` serves).
        """
        return None

    def gaussian_four_point(self, orders: tuple[int, int, int, int], C: sp.Matrix) -> sp.Expr | None:
        r"""Closed form of :math:`E[\prod_{a=1}^4\sigma^{(o_a)}(y_a)]`, :math:`y\sim N(0,C)`, or ``None``.

        ``C`` is the symmetric 4x4 matrix of :func:`symhess.expectation.four_point.covariance_matrix`.
        """
        return None


    # -- what the families, the export and the checker know (None = not known) --------------
    def counting_rule(self, n_in: int, n_hidden: int) -> RankRule | None:
        r"""Generic rank of the expected Hessian at the optimum of :math:`f(x)=\sum_i v_i\sigma(w_i\cdot x)`.

        For :math:`N_i` = ``n_in`` inputs and :math:`N_h` = ``n_hidden`` hidden units, no biases (the
        effective number of parameters, :func:`symhess.effective_parameters`). ``None``: no rule is
        known here; polynomial activations then take the generic polynomial rule of
        :mod:`symhess.two_layer.counting` and others are measured.
        """
        return None

    def symbolic_parameters(self) -> dict[str, object] | None:
        r"""The parameters as the paper's symbols (:math:`\epsilon`, :math:`s`, :math:`c_k`), or ``None`` (none).

        Used by :func:`symhess.export.document.symbolic_activation`, e.g. for :math:`z+\epsilon z^2`
        with a symbolic :math:`\epsilon` as printed in the paper.
        """
        return None

    def determinant_alpha(self) -> sp.Expr | None:
        r""":math:`\alpha` of the abbreviation :math:`\tilde\Delta_{ik}=(1+\alpha Q_{ii})(1+\alpha Q_{kk})-\alpha^2Q_{ik}^2`.

        The determinant that the closed forms of this activation are written with (:math:`2s^2` for
        :math:`\mathrm{erf}(sz)`); ``None``: the activation's formulas have none.
        """
        return None

    def instantiate(self, values: Mapping[sp.Symbol, object]) -> "Activation":
        """The activation with its symbolic parameters replaced by ``values`` (exact where possible).

        The checker draws values for the free symbols of a formula (``epsilon``, ``s``, ``c_1``, ...) and
        instantiates the activation with them; parameters without free symbols stay as they are.
        """
        params, changed = {}, False
        for name, val in self.params.items():
            if isinstance(val, sp.Basic) and val.free_symbols:
                val = val.xreplace({k: sp.nsimplify(v) for k, v in values.items() if k in val.free_symbols})
                changed = True
            elif isinstance(val, tuple) and any(isinstance(x, sp.Basic) and x.free_symbols for x in val):
                val = tuple(x.xreplace(dict(values)) for x in val)
                changed = True
            params[name] = val
        return type(self)(**params) if changed else self

    def symbolic(self) -> "Activation":
        """The activation with :meth:`symbolic_parameters` in place of its numeric parameters."""
        changes = self.symbolic_parameters()
        return replace(self, **changes) if changes else self

    # -- numerics -----------------------------------------------------------------------------
    def numeric(self, order: int = 0) -> Callable[[np.ndarray], np.ndarray]:
        r"""Vectorised NumPy callable for :math:`\sigma^{(order)}` (used by quadrature and Monte Carlo)."""
        return _numeric(self, order)


@lru_cache(maxsize=None)
def _numeric(act: Activation, order: int) -> Callable[[np.ndarray], np.ndarray]:
    expr = act.derivative(order, z)
    if expr.has(sp.DiracDelta):
        raise InvalidParameterError(
            f"derivative {order} of {act.spec!r} is a distribution ({expr}); it has no pointwise values"
        )
    # modules=['scipy', 'numpy']: 'numpy' alone maps erf to math.erf, which fails on arrays.
    fn = sp.lambdify(z, expr, modules=["scipy", "numpy"])

    def evaluate(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        return np.broadcast_to(np.asarray(fn(x), dtype=float), x.shape)

    return evaluate
