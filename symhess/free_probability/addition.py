r"""Free additive convolution for the Pennington–Bahri Hessian model, derived with SymPy.

Place in the package: the free-probability family (imports ``symhess.symbols``, ``symhess.errors`` and the
activation helpers; never NumPy arrays). The numeric law built from these formulas is
:func:`symhess.pennington_bahri` (``symhess.free_probability.law``); the coefficients are compiled
in ``symhess.free_probability.coefficients``.

The model (formulas.md Part B; Pennington & Bahri 2017; Tanner's lecture slides, seed 002) splits
the Hessian of a two-layer network at a critical point of energy :math:`\epsilon` into

.. math::

    H = H_0 + H_1,\qquad H_0\ \text{Wishart (Marchenko–Pastur, ratio }\phi,\ \text{scale }\sigma),
    \qquad H_1\ \text{freely independent of } H_0 .

Free independence makes R-transforms add, :math:`R_H = R_{H_0} + R_{H_1}`, and the Stieltjes
transform :math:`G(\zeta)=\int\rho(t)\,dt/(\zeta-t)` solves :math:`R_H(G) + 1/G = \zeta`.
Writing :math:`R_H = N(G)/D(G)` in lowest terms with :math:`D(0)=1`, this is the polynomial
equation

.. math::

    P(G,\zeta) \;=\; \zeta\,G\,D(G) - G\,N(G) - D(G) \;=\; 0 ,

linear in :math:`\zeta`, so that :math:`\zeta = K(G) = R_H(G) + 1/G` is the functional inverse of
:math:`G`. The R-transforms used (argument :math:`w`):

* ``"linear"`` (no activation, the base model): :math:`R_{H_0}=\sigma/(1-\sigma\phi w)`,
  :math:`R_{H_1}=2\epsilon w` (semicircle of variance :math:`2\epsilon`); :math:`P` is a cubic.
* ``"relu"`` (the slides' ReLU variant): the same :math:`R_{H_0}` and
  :math:`R_{H_1}=\epsilon\phi w/(2-\epsilon\phi^2 w^2)` (the slides write :math:`\tau=\phi`);
  :math:`P` is a quartic.

The critical energy :math:`\epsilon_c` is where the left spectral edge reaches 0: there
:math:`P(\cdot,0)` has a double root, so :math:`\epsilon_c` is the positive root of the
discriminant :math:`\operatorname{disc}_G P(G,0)` (a quadratic in :math:`\epsilon`). Near it the
index obeys the 3/2 law :math:`\alpha\simeq\alpha_0|(\epsilon-\epsilon_c)/\epsilon_c|^{3/2}`
with :math:`\alpha_0=\tfrac{2}{3\pi}\sqrt{2P_\zeta/P_{GG}}\,(\kappa\epsilon_c)^{3/2}`,
:math:`\kappa=P_\epsilon/P_\zeta`, all derivatives at :math:`(G_c, 0, \epsilon_c)`.

References
----------
.. [PB17] J. Pennington and Y. Bahri, "Geometry of Neural Network Loss Surfaces via Random
   Matrix Theory", ICML 2017 (abstract: 3/2 law, ratio :math:`\phi`).
.. [T] J. Tanner, "Random DNN training landscape: Hessian eigenvalues", Oxford C6.5 lecture
   slides (seed 002): the R-transforms above and both :math:`\epsilon_c` formulas.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Union

import mpmath
import sympy as sp

from ..errors import SymhessError
from ..symbols import G, zeta
from ..symbols import energy as EPS, mp_scale as SIGMA, phi as PHI

__all__ = [
    "PB_ACTIVATIONS",
    "FreeSumModel",
    "r_marchenko_pastur",
    "r_semicircle",
    "r_relu_residual",
    "stieltjes_polynomial",
    "free_cumulants",
    "moments_from_cumulants",
    "pennington_bahri_model",
    "slides_critical_energy",
    "critical_energy",
    "index_prefactor",
    "critical_g",
    "exact_parameter",
]

#: the H1 laws of the Pennington–Bahri model, by activation of the two-layer network
PB_ACTIVATIONS = ("linear", "relu")

Number = Union[int, float, str, sp.Expr]


# -- R-transforms ------------------------------------------------------------------------------
def r_marchenko_pastur(w: sp.Expr = G, ratio: sp.Expr = PHI, scale: sp.Expr = SIGMA) -> sp.Expr:
    r"""R-transform of the Marchenko–Pastur law of ratio :math:`\phi` and scale :math:`\sigma`.

    .. math:: R_{\rm MP}(w) = \frac{\sigma}{1-\sigma\phi w},

    the law of :math:`JJ^\top` with :math:`J\in\mathbb R^{n\times p}` of i.i.d.
    :math:`N(0,\sigma/p)` entries, :math:`\phi=n/p`; edges :math:`\sigma(1\pm\sqrt\phi)^2` and an
    atom :math:`(1-1/\phi)_+` at 0 (formulas.md Part B, source S6; the slides' :math:`\rho_{MP}`).
    Its free cumulants are :math:`\kappa_k = \sigma^k\phi^{k-1}`.
    """
    return scale / (1 - scale * ratio * w)


def r_semicircle(w: sp.Expr = G, variance: sp.Expr = 2 * EPS) -> sp.Expr:
    r"""R-transform of the semicircle law of variance :math:`v` (default :math:`2\epsilon`): :math:`R(w)=v\,w`."""
    return variance * w


def r_relu_residual(w: sp.Expr = G, eps: sp.Expr = EPS, tau: sp.Expr = PHI) -> sp.Expr:
    r"""R-transform of the ReLU network's :math:`H_1` in the slides' model.

    .. math:: R_{H_1}(w) = \frac{\epsilon\tau w}{2-\epsilon\tau^2 w^2}
              = \lambda\Big(\tfrac12\frac{a}{1-aw}+\tfrac12\frac{-a}{1+aw}\Big),
              \quad \lambda = 1/\tau,\ a^2 = \epsilon\tau^2/2,

    i.e. a compound free Poisson law of rate :math:`1/\tau` with jumps :math:`\pm a`
    (free cumulants :math:`\kappa_{2k} = \tau^{2k-1}(\epsilon/2)^k`, odd ones 0). It has an
    atom :math:`(1-1/\tau)_+` at 0. The slides set :math:`\tau=\phi`.
    """
    return eps * tau * w / (2 - eps * tau**2 * w**2)


def stieltjes_polynomial(r_transform: sp.Expr, w: sp.Symbol = G) -> sp.Poly:
    r"""The polynomial equation :math:`P(G,\zeta)=0` of :math:`R(G)+1/G=\zeta`.

    With :math:`R = N/D` in lowest terms and :math:`D(0)=1`,
    :math:`P = \zeta\,G\,D(G) - G\,N(G) - D(G)` (a polynomial in :math:`G` whose coefficients are
    linear in :math:`\zeta`).

    Parameters
    ----------
    r_transform : sympy.Expr
        A rational function of ``w`` analytic at 0.
    w : sympy.Symbol
        Its argument.

    Returns
    -------
    sympy.Poly
        :math:`P` as a polynomial in :data:`symhess.symbols.G`.

    Examples
    --------
    >>> from symhess.symbols import G, zeta, phi, energy
    >>> P = stieltjes_polynomial(r_marchenko_pastur(scale=1) + r_semicircle())
    >>> sp.expand(P.as_expr() - (2*energy*phi*G**3 - (2*energy + zeta*phi)*G**2
    ...                           + (zeta + phi - 1)*G - 1))
    0
    """
    r = sp.cancel(sp.together(r_transform.subs(w, G)))
    num, den = sp.fraction(r)
    d0 = den.subs(G, 0)
    if d0 == 0:
        raise SymhessError(f"R-transform {r_transform} has a pole at 0; it is no R-transform")
    num, den = sp.expand(num / d0), sp.expand(den / d0)
    poly = sp.Poly(sp.expand(zeta * G * den - G * num - den), G)
    return poly


# -- moments (an independent route to the law's moments) --------------------------------------
def free_cumulants(r_transform: sp.Expr, order: int, w: sp.Symbol = G) -> list[sp.Expr]:
    r"""Free cumulants :math:`\kappa_1..\kappa_k`: :math:`R(w)=\sum_{k\ge1}\kappa_k w^{k-1}`."""
    ser = sp.series(r_transform, w, 0, order).removeO()
    return [sp.simplify(ser.coeff(w, k - 1)) for k in range(1, order + 1)]


def moments_from_cumulants(kappa: list[sp.Expr]) -> list[sp.Expr]:
    r"""Moments :math:`m_1..m_k` from free cumulants :math:`\kappa_1..\kappa_k`.

    Solves the functional relation of the moment series :math:`M(x)=\sum_{n\ge0} m_n x^n`,

    .. math:: M(x) = 1 + \sum_{k\ge1}\kappa_k\,x^k M(x)^k

    (the moment–free-cumulant formula, a sum over non-crossing partitions), order by order:
    the coefficient of :math:`x^n` on the right involves only :math:`m_0..m_{n-1}`.
    """
    order = len(kappa)
    m = [sp.Integer(1)]

    def mul(p: list, q: list, n: int) -> list:
        out = [sp.Integer(0)] * (n + 1)
        for i, pi in enumerate(p[: n + 1]):
            for j, qj in enumerate(q[: n + 1 - i]):
                out[i + j] += pi * qj
        return out

    for n in range(1, order + 1):
        total = sp.Integer(0)
        power = [sp.Integer(1)]  # M^k truncated at order n - k
        for k in range(1, n + 1):
            power = mul(power, m, n)
            total += kappa[k - 1] * power[n - k]
        m.append(sp.expand(total))
    return m[1:]


# -- the model ---------------------------------------------------------------------------------
def _not_a_positive_monomial(factor: sp.Expr) -> bool:
    """True for factors that can vanish for positive parameters (not c * eps^a phi^b sigma^c)."""
    syms = factor.free_symbols
    if not syms:
        return False
    return not (all(s.is_positive for s in syms) and sp.Poly(factor, *syms).is_monomial)


@dataclass(frozen=True)
class FreeSumModel:
    r"""The Wishart + :math:`H_1` model for one activation, with its derived quantities.

    Attributes
    ----------
    activation : str
        ``"linear"`` (Wigner :math:`H_1`) or ``"relu"`` (block off-diagonal :math:`H_1`).
    r_h0, r_h1 : sympy.Expr
        R-transforms in :data:`symhess.symbols.G`, parameters
        :data:`~symhess.symbols.phi`, :data:`~symhess.symbols.energy`,
        :data:`~symhess.symbols.SIGMA`.
    """

    activation: str
    r_h0: sp.Expr
    r_h1: sp.Expr

    @property
    def params(self) -> tuple[sp.Symbol, sp.Symbol, sp.Symbol]:
        """Parameter symbols in the order of every compiled function: ``(phi, energy, mp_scale)``."""
        return (PHI, EPS, SIGMA)

    @property
    def r_transform(self) -> sp.Expr:
        r""":math:`R_H = R_{H_0} + R_{H_1}` (free independence)."""
        return self.r_h0 + self.r_h1

    @cached_property
    def polynomial(self) -> sp.Poly:
        r""":math:`P(G,\zeta)` from :func:`stieltjes_polynomial` (cubic for linear, quartic for ReLU)."""
        return stieltjes_polynomial(self.r_transform)

    @cached_property
    def coefficients(self) -> tuple[tuple[sp.Expr, sp.Expr], ...]:
        r"""``((a_0, b_0), ..., (a_d, b_d))`` with :math:`P=\sum_k (a_k + \zeta b_k)G^k`."""
        d = self.polynomial.degree()
        out = []
        for k in range(d + 1):
            ck = sp.expand(self.polynomial.as_expr().coeff(G, k))
            out.append((sp.expand(ck.subs(zeta, 0)), sp.expand(ck.coeff(zeta, 1))))
            if sp.expand(ck - out[-1][0] - zeta * out[-1][1]) != 0:
                raise SymhessError(f"coefficient of G^{k} is not linear in zeta: {ck}")
        return tuple(out)

    @cached_property
    def discriminant_at_zero(self) -> sp.Expr:
        r"""Factored :math:`\operatorname{disc}_G P(G, 0)`."""
        p0 = sp.Poly(self.polynomial.as_expr().subs(zeta, 0), G)
        return sp.factor(sp.discriminant(p0, G))

    @cached_property
    def critical_quadratic(self) -> sp.Poly:
        r"""The factor of the discriminant that can vanish: a quadratic in :math:`\epsilon`."""
        _, factors = sp.factor_list(self.discriminant_at_zero)
        keep = [f for f, _ in factors if EPS in f.free_symbols and _not_a_positive_monomial(f)]
        if len(keep) != 1:
            raise SymhessError(f"expected one non-trivial discriminant factor, got {keep}")
        q = sp.Poly(keep[0], EPS)
        if q.degree() != 2:
            raise SymhessError(f"critical factor is not quadratic in epsilon: {q}")
        return q

    @cached_property
    def critical_energy(self) -> sp.Expr:
        r"""The derived :math:`\epsilon_c(\phi,\sigma)`, valid for :math:`0<\phi<1`.

        The quadratic :meth:`critical_quadratic` has roots of opposite signs for
        :math:`0<\phi<1` (their product is negative, checked symbolically in the tests), and
        :math:`\epsilon_c` is the positive one.
        """
        a, b, c = self.critical_quadratic.all_coeffs()
        disc = sp.factor(b**2 - 4 * a * c)
        root = _sqrt_of_factored(disc)
        candidates = [(-b + root) / (2 * a), (-b - root) / (2 * a)]
        probe = {PHI: sp.Rational(1, 2), SIGMA: sp.Integer(1)}
        positive = [r for r in candidates if sp.N(r.subs(probe), 30) > 0]
        if len(positive) != 1:
            raise SymhessError(f"expected exactly one positive critical energy, got {candidates}")
        return _tidy(positive[0])

    @cached_property
    def energy_on_double_root(self) -> sp.Expr:
        r""":math:`\epsilon(G)` solving :math:`P(G,0)=0` (P is linear in :math:`\epsilon`)."""
        p0 = sp.expand(self.polynomial.as_expr().subs(zeta, 0))
        lin = sp.Poly(p0, EPS)
        if lin.degree() != 1:
            raise SymhessError("P(G, 0) is not linear in the energy")
        beta, alpha = lin.all_coeffs()
        return sp.cancel(-alpha / beta)

    @cached_property
    def critical_g_polynomial(self) -> sp.Poly:
        r"""Double roots of :math:`P(\cdot,0)` as the zeros of :math:`d\epsilon(G)/dG` (a second route to :math:`\epsilon_c`)."""
        num, _ = sp.fraction(sp.cancel(sp.diff(self.energy_on_double_root, G)))
        return sp.Poly(sp.factor(num), G)

    def edge_expansion(self) -> dict[str, sp.Expr]:
        r"""Derivatives of :math:`P` at the edge, as functions of :math:`G` (to evaluate at :math:`G_c`).

        Returns ``{"P_zeta", "P_GG", "P_eps", "eps"}`` with :math:`\epsilon=\epsilon(G)` substituted.
        """
        P = self.polynomial.as_expr()
        eps_g = self.energy_on_double_root
        at = {zeta: 0, EPS: eps_g}
        return {
            "P_zeta": sp.cancel(sp.diff(P, zeta).subs(at)),
            "P_GG": sp.cancel(sp.diff(P, G, 2).subs(at)),
            "P_eps": sp.cancel(sp.diff(P, EPS).subs(at)),
            "eps": eps_g,
        }

    @cached_property
    def index_prefactor_in_g(self) -> sp.Expr:
        r""":math:`\alpha_0` as an expression in :math:`G_c`, :math:`\phi`, :math:`\sigma`.

        .. math:: \alpha_0 = \frac{2}{3\pi}\sqrt{\frac{2P_\zeta}{P_{GG}}}
                  \Big(\frac{P_\epsilon}{P_\zeta}\epsilon_c\Big)^{3/2} .
        """
        e = self.edge_expansion()
        amp = sp.sqrt(sp.cancel(2 * e["P_zeta"] / e["P_GG"]))
        shift = sp.cancel(e["P_eps"] / e["P_zeta"] * e["eps"])
        return 2 / (3 * sp.pi) * amp * shift ** sp.Rational(3, 2)

    @cached_property
    def index_prefactor_function(self):
        r""":meth:`index_prefactor_in_g` compiled for mpmath: ``f(G_c, phi, sigma)`` (30-digit evaluation)."""
        return sp.lambdify((G, PHI, SIGMA), self.index_prefactor_in_g, modules="mpmath")


def _sqrt_of_factored(expr: sp.Expr) -> sp.Expr:
    r"""``sqrt(expr)`` written as :math:`\sqrt c\,f^{3/2}` when ``expr`` factors as :math:`c f^3`.

    ``f`` is oriented to be positive at small :math:`\phi` (so the rewrite holds on the physical
    range :math:`0<\phi<1`, where it is checked in the tests).
    """
    coeff, factors = sp.factor_list(expr)
    outside = sp.Integer(1)
    rest = []
    for f, e in factors:
        if f.is_Symbol and f.is_positive:
            outside *= f ** sp.Rational(e, 2)
        else:
            rest.append((f, e))
    if len(rest) == 1 and rest[0][1] == 3:
        f = rest[0][0]
        if sp.N(f.subs({PHI: sp.Rational(1, 100), SIGMA: 1})) < 0:
            f, coeff = -f, -coeff
        if coeff > 0:
            return outside * sp.sqrt(coeff) * f ** sp.Rational(3, 2)
    return sp.sqrt(expr)


def _tidy(expr: sp.Expr) -> sp.Expr:
    return sp.factor_terms(sp.together(expr))


@lru_cache(maxsize=None)
def pennington_bahri_model(activation: str = "linear") -> FreeSumModel:
    r"""The symbolic Pennington–Bahri model for ``activation`` in :data:`PB_ACTIVATIONS`.

    Examples
    --------
    >>> m = pennington_bahri_model("linear")
    >>> m.polynomial.degree(), pennington_bahri_model("relu").polynomial.degree()
    (3, 4)
    """
    name = _activation_name(activation)
    r_h0 = r_marchenko_pastur()
    r_h1 = r_semicircle() if name == "linear" else r_relu_residual()
    return FreeSumModel(name, r_h0, r_h1)


def _activation_name(activation: object) -> str:
    spec = getattr(activation, "spec", activation)
    if not isinstance(spec, str):
        raise TypeError(f"activation={activation!r} must be one of {PB_ACTIVATIONS}")
    name = spec.strip().lower()
    if name not in PB_ACTIVATIONS:
        raise ValueError(
            f"activation={activation!r}: the Pennington-Bahri model has H1 laws for {PB_ACTIVATIONS} only "
            "('linear': Wigner H1 of the network without activation; 'relu': the slides' block "
            "off-diagonal H1)"
        )
    return name


def slides_critical_energy(activation: str = "linear") -> sp.Expr:
    r"""The critical energy as printed on the lecture slides (typed in; for comparison only).

    .. math::
        \epsilon_c^{\rm lin} = \tfrac1{16}\big(1-20\phi-8\phi^2+(1+8\phi)^{3/2}\big),\qquad
        \epsilon_c^{\rm ReLU} = \frac{\sigma^2(27-18\xi-\xi^2+8\xi^{3/2})}{32\phi(1-\phi)^3},
        \ \xi = 1+16\phi-8\phi^2 .

    The slides write :math:`\tau` for :math:`\phi`; the linear formula has :math:`\sigma=1`,
    so it is returned multiplied by :math:`\sigma^2` (the scaling :math:`H\to\sigma H` maps
    :math:`\epsilon\to\sigma^2\epsilon`).
    """
    name = _activation_name(activation)
    if name == "linear":
        return SIGMA**2 * (1 - 20 * PHI - 8 * PHI**2 + (1 + 8 * PHI) ** sp.Rational(3, 2)) / 16
    xi = 1 + 16 * PHI - 8 * PHI**2
    return SIGMA**2 * (27 - 18 * xi - xi**2 + 8 * xi ** sp.Rational(3, 2)) / (32 * PHI * (1 - PHI) ** 3)


# -- public scalar functions -------------------------------------------------------------------
def exact_parameter(value: Number, name: str, *, allow_zero: bool = False) -> sp.Expr:
    """An exact positive (or non-negative) SymPy number from ``value`` (a float by its repr)."""
    if isinstance(value, bool):
        raise TypeError(f"{name}={value!r} must be a real number, not a bool")
    if isinstance(value, sp.Basic):
        expr = sp.sympify(value)
    elif isinstance(value, int):
        expr = sp.Integer(value)
    elif isinstance(value, float) or hasattr(value, "dtype"):
        try:
            f = float(value)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name}={value!r} must be a real number") from exc
        if f != f or f in (float("inf"), float("-inf")):
            raise ValueError(f"{name}={value!r} must be finite")
        expr = sp.Rational(repr(f))
    elif isinstance(value, str):
        try:
            expr = sp.Rational(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name}={value!r} is not a number") from exc
    else:
        raise TypeError(f"{name}={value!r} must be a real number")
    if not expr.is_number or not expr.is_real or not expr.is_finite:
        raise ValueError(f"{name}={value!r} must be a finite real number")
    if expr < 0 or (expr == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name}={value!r} must be {bound}")
    return expr


def critical_energy(
    phi: Number | None = None,
    activation: str = "linear",
    *,
    scale: Number = 1,
    symbolic: bool = False,
) -> float | sp.Expr:
    r"""Critical energy :math:`\epsilon_c(\phi)` of the Pennington–Bahri model.

    Below :math:`\epsilon_c` the spectrum of :math:`H=H_0+H_1` is non-negative (index 0); above it
    a fraction :math:`\alpha\simeq\alpha_0|(\epsilon-\epsilon_c)/\epsilon_c|^{3/2}` of eigenvalues
    is negative. The value is *derived*: the positive root of the discriminant of
    :math:`P(G,0)` (module docstring); for the linear model it equals

    .. math:: \epsilon_c = \frac{\sigma^2}{16}\Big(1-20\phi-8\phi^2+(1+8\phi)^{3/2}\Big),

    and for ReLU the slides' :math:`\sigma^2(27-18\xi-\xi^2+8\xi^{3/2})/(32\phi(1-\phi)^3)`,
    :math:`\xi=1+16\phi-8\phi^2` (both equalities proved in the tests). For :math:`\phi\ge1`
    the Wishart part has an atom at 0 (or a hard edge at 0 when :math:`\phi=1`), so every
    :math:`\epsilon>0` gives negative eigenvalues and :math:`\epsilon_c=0`.

    Parameters
    ----------
    phi : float, str or sympy.Expr, optional
        Ratio of parameters to data points, :math:`\phi>0`. With ``symbolic=True`` it may be
        omitted to get the expression in the symbol :data:`symhess.symbols.phi`.
    activation : {"linear", "relu"}
        Which :math:`H_1` law.
    scale : float
        Marchenko–Pastur scale :math:`\sigma` (mean eigenvalue of :math:`H_0`); the linear
        slides formula has :math:`\sigma=1`, the ReLU one shows :math:`\sigma^2`.
    symbolic : bool
        Return a SymPy expression (exact; floats are read by their decimal repr).

    Returns
    -------
    float or sympy.Expr

    Examples
    --------
    >>> round(critical_energy(0.5), 12)
    0.011271242969
    >>> critical_energy(symbolic=True)
    -phi**2/2 - 5*phi/4 + (8*phi + 1)**(3/2)/16 + 1/16
    """
    model = pennington_bahri_model(activation)
    s = exact_parameter(scale, "scale")
    expr = model.critical_energy.subs(SIGMA, s)
    if phi is None:
        if not symbolic:
            raise TypeError("critical_energy needs phi unless symbolic=True")
        return expr
    p = exact_parameter(phi, "phi")
    if p >= 1:
        return sp.Integer(0) if symbolic else 0.0
    if symbolic:
        # exact: radsimp only rewrites radicals (nsimplify would *identify* a nearby closed form)
        return sp.radsimp(sp.expand(expr.subs(PHI, p)))
    # evalf on exact input: adaptive precision, so no cancellation as phi -> 1
    return float(sp.N(expr.subs(PHI, p), 20))


def index_prefactor(phi: Number, activation: str = "linear", *, scale: Number = 1) -> float:
    r"""The 3/2-law amplitude :math:`\alpha_0(\phi)`: :math:`\alpha\simeq\alpha_0|(\epsilon-\epsilon_c)/\epsilon_c|^{3/2}`.

    Derived from the local expansion of :math:`P` at the double root :math:`G_c` of
    :math:`P(\cdot,0)` at :math:`\epsilon_c` (module docstring). For the linear model this is
    formulas.md's :math:`\frac{4}{3\pi}\epsilon_c G_c^2\sqrt{(1-\phi G_c)/(1-3\phi G_c)}`; it does
    not depend on ``scale``. Defined for :math:`0<\phi<1`.
    """
    model = pennington_bahri_model(activation)
    p = exact_parameter(phi, "phi")
    s = exact_parameter(scale, "scale")
    if p >= 1:
        raise ValueError(f"phi={phi!r}: the 3/2 law and alpha_0 exist only for 0 < phi < 1")
    g_c = critical_g(p, model.activation, scale=s)
    with mpmath.workdps(30):
        value = model.index_prefactor_function(mpmath.mpf(str(g_c)), mpmath.mpf(str(sp.N(p, 40))),
                                               mpmath.mpf(str(sp.N(s, 40))))
    return float(mpmath.re(value))


def critical_g(phi_value: sp.Expr, activation: str = "linear", *, scale: sp.Expr = 1) -> sp.Expr:
    r"""The double root :math:`G_c<0` of :math:`P(\cdot, 0)` at :math:`\epsilon=\epsilon_c` (high-precision float).

    Selected among the zeros of :math:`d\epsilon/dG` on the double-root curve as the real,
    negative one whose energy equals the discriminant's :math:`\epsilon_c`.
    """
    model = pennington_bahri_model(activation)
    subs = {PHI: sp.sympify(phi_value), SIGMA: sp.sympify(scale)}
    eps_c = sp.N(model.critical_energy.subs(subs), 30)
    poly = sp.Poly(model.critical_g_polynomial.as_expr().subs(subs), G)
    best = None
    for root in poly.nroots(n=30):
        if abs(sp.im(root)) > 1e-20 or sp.re(root) >= 0:
            continue
        e = sp.N(model.energy_on_double_root.subs(subs).subs(G, sp.re(root)), 30)
        err = abs(e - eps_c)
        if best is None or err < best[0]:
            best = (err, sp.re(root))
    if best is None or best[0] > 1e-15 * max(1, abs(eps_c)):
        raise SymhessError(f"no negative double root with energy eps_c={eps_c} at phi={phi_value}")
    return best[1]
