r"""Counting rules for the effective number of parameters (the generic Hessian rank at the optimum).

Place in the package: the two-layer teacher-student family. The rule functions are pure Python integers; only
:func:`effective_parameters` touches an activation (and, where no rule is known, measures).

Why polynomial networks compress: for :math:`\sigma(z)=\sum_k c_kz^k` the network
:math:`f(x)=\sum_i v_i\sigma(w_i\cdot x)` is a polynomial in :math:`x`, :math:`\nabla_\theta f = J^\top\phi(x)`
with :math:`\phi` the monomials, and :math:`H = J^\top GJ` with :math:`G\succ0`, so the Hessian rank is
the rank of the coefficient map's Jacobian: the dimension of the set of polynomials the network can
represent, near the teacher. The rules (:math:`N_i` inputs, :math:`N_h` hidden units,
:math:`P = N_h(N_i+1)`):

* linear: :math:`N_i` (exact);
* :math:`z+\epsilon z^2`: eq. (14), :math:`\frac{N_i(N_i+3)}2 - \Theta(N_i-N_h)\frac{(N_i-N_h)(N_i-N_h+3)}2` (exact);
* :math:`z^d`: :math:`\dim\sigma_{N_h}(v_d(\mathbb P^{N_i-1}))`, the affine cone over the secant variety
  of the Veronese variety (Alexander–Hirschowitz; exact);
* degree :math:`n`: :math:`\min\{P, \sum_{k:c_k\ne0}\dim\sigma_{N_h}(v_k)\}\le\min\{P,\binom{N_i+n}{n}-1\}`
  (upper bound; attained except the measured sporadic cases :data:`KNOWN_DEFECTS`);
* erf, tanh: :math:`P` (full rank; exact: the unit functions are independent, see
  :mod:`symhess.two_layer.bias_counting`, Theorem 1; certified on every tested instance);
* ReLU: :math:`N_hN_i = P - N_h` (:math:`N_i\ge2`); 2 for :math:`N_i=1` (exact);
* other families: the activation's own rule, :meth:`~symhess.activations.Activation.counting_rule`
  (the ABReLU family: :math:`N_hN_i`, exact; sin, cos, rbf, exp, Gaussian: :math:`P`, exact; GELU:
  :math:`P`, exact).

**Pure powers.** :math:`f=\sum_iv_i(w_i\cdot x)^d` is a sum of :math:`N_h` (signed) :math:`d`-th powers
of linear forms, so the generic rank is the dimension of the affine cone over the secant variety
:math:`\sigma_{N_h}(v_d(\mathbb P^{N_i-1}))` (Terracini's lemma; real points are Zariski dense, so the
signs of :math:`v_i` for even :math:`d` do not matter, and for odd :math:`d` the :math:`v_i` can be
absorbed into :math:`w_i`). Alexander–Hirschowitz: for :math:`d\ge3` it is
:math:`\min\{N_hN_i,\binom{N_i+d-1}{d}\}`, except for :math:`(d, N_i, N_h) = (4,3,5), (4,4,9), (3,5,7),
(4,5,14)`, one less; for :math:`d=2` it is the dimension of symmetric matrices of rank
:math:`\le N_h`, :math:`N_hN_i-\binom{N_h}{2}` (:math:`N_h\le N_i`), the pure-:math:`z^2` rule.

**Biases** (hidden :math:`b_i` inside :math:`\sigma`, output :math:`b_0`). The paper conjectures
"+1" (the constant term of the polynomial). What holds (every case checked by exact ranks in
``tests/test_counting.py``):

* output bias only (no hidden biases), any polynomial :math:`\sigma`: **+1** exactly (the constant
  coefficient :math:`c_0\sum_iv_i+b_0` is the only one that sees :math:`b_0`, so
  :math:`\operatorname{rank}J = \operatorname{rank}J_{\deg\ge1}+1`);
* linear and :math:`z+\epsilon z^2` with hidden and/or output biases: **+1** exactly (upper bound: the
  compressed representation gains only the constant; lower bound: at :math:`b=0` the columns
  :math:`\partial/\partial b_i` add the constant direction, :math:`\partial F_0/\partial b_i=v_ic_1\neq0`);
* pure powers with hidden biases: :math:`(w_i\cdot x+b_i)^d=(\hat w_i\cdot\hat x)^d` with
  :math:`\hat x=(x,1)`, i.e. the pure-power network with :math:`N_i+1` inputs:
  :math:`\dim\sigma_{N_h}(v_d(\mathbb P^{N_i}))` — **not** +1 in general (:math:`z^2`: :math:`+N_h` for
  :math:`N_h\le N_i`); with the output bias too, one more unless that already fills all
  polynomials of degree :math:`\le d`; a general polynomial is first shifted (Tschirnhaus,
  :func:`tschirnhaus_shift`; the shift is absorbed into the :math:`b_i`);
* shifted activation :math:`cz^n+c_1z+c_0` with hidden biases: the upper bound
  :math:`\min\{P, \dim\sigma_{N_h+1}(v_n(\mathbb P^{N_i}))\}` (Terracini), attained at every size measured;
* other polynomials with hidden biases: no rule; bounded by :math:`\min\{P_b, \binom{N_i+n}{n}\}`
  and measured;
* non-polynomial activations, several outputs and frozen groups: :mod:`symhess.two_layer.bias_counting`
  (full rank for erf-like, tanh-like and sinusoidal units; one rescaling per unit for ReLU-like units
  and for exp's hidden bias; linear networks with several outputs).

**A constant term without biases** (:math:`\sigma(0)=c_0\ne0`, only for user-defined activations; the
built-in ones have none): :math:`c_0\sum_iv_i` adds one direction for pure powers and linear
(the per-unit rescaling symmetry moves :math:`\sum_iv_i`), none for :math:`z+\epsilon z^2` with
:math:`N_h\le N_i` (there :math:`\sum_iv_i=u^\top M^+u` is a function of the compressed parameters),
one for :math:`N_h>N_i` (measured), and at most one otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from math import comb
from typing import NamedTuple

import numpy as np

from ..activations import Activation, ActivationLike, activation as get_activation
from ..activations.base import RankRule
from ..activations.relu import ReLU
from ..errors import InvalidParameterError, InvalidTypeError, NoClosedFormError

__all__ = [
    "rule_match",
    "n_parameters", "linear_rank", "quadratic_rank", "pure_square_rank", "polynomial_bound",
    "veronese_secant_dimension", "AH_EXCEPTIONS", "pure_power_rank", "polynomial_rank_bound", "relu_rank",
    "polynomial_rule", "tschirnhaus_shift", "Rule", "KNOWN_DEFECTS", "ActivationProfile",
    "EffectiveParameters", "effective_parameters", "activation_profile", "measure_rank", "MEASURE_METHODS",
    "WIDER_KINDS", "polynomial_span_dimension", "wider_rule", "measure_wider_rank",
]

#: Alexander–Hirschowitz exceptional cases (degree d, number of variables n, number of summands k):
#: the secant variety has dimension one less than expected
AH_EXCEPTIONS: frozenset[tuple[int, int, int]] = frozenset({(4, 3, 5), (4, 4, 9), (3, 5, 7), (4, 5, 14)})


def _check(n_in: int, n_hidden: int) -> None:
    for name, val in (("n_in", n_in), ("n_hidden", n_hidden)):
        if isinstance(val, bool) or not isinstance(val, (int, np.integer)):
            raise InvalidTypeError(f"{name}={val!r} must be an integer")
        if val < 1:
            raise InvalidParameterError(f"{name}={val} must be >= 1")


def n_parameters(n_in: int, n_hidden: int, *, hidden_bias: bool = False, output_bias: bool = False) -> int:
    r""":math:`P = N_hN_i + N_h` (+ :math:`N_h` hidden biases, + 1 output bias)."""
    _check(n_in, n_hidden)
    return n_hidden * n_in + n_hidden + (n_hidden if hidden_bias else 0) + (1 if output_bias else 0)


def linear_rank(n_in: int, n_hidden: int) -> int:
    r"""Linear network: :math:`f = (W^\top v)\cdot x`, rank :math:`N_i` (Couto et al. eqs. 8-10)."""
    _check(n_in, n_hidden)
    return n_in


def quadratic_rank(n_in: int, n_hidden: int) -> int:
    r"""Eq. (14), :math:`\sigma = z+\epsilon z^2`, :math:`\epsilon\neq0`.

    .. math::

        N_{\rm eff} = \frac{N_i(N_i+3)}{2} - \Theta(N_i-N_h)\,\frac{(N_i-N_h)(N_i-N_h+3)}{2}.

    Examples
    --------
    >>> quadratic_rank(10, 20), quadratic_rank(30, 10), quadratic_rank(10, 5)
    (65, 265, 45)
    """
    _check(n_in, n_hidden)
    d = n_in - n_hidden
    return n_in * (n_in + 3) // 2 - (d * (d + 3) // 2 if d > 0 else 0)


def pure_square_rank(n_in: int, n_hidden: int) -> int:
    r"""Pure :math:`\sigma=z^2`: :math:`\frac{N_i(N_i+1)}2-\Theta(N_i-N_h)\frac{(N_i-N_h)(N_i-N_h+1)}2`."""
    _check(n_in, n_hidden)
    d = n_in - n_hidden
    return n_in * (n_in + 1) // 2 - (d * (d + 1) // 2 if d > 0 else 0)


def polynomial_bound(n_in: int, n_hidden: int, degrees) -> int:
    r"""The counting bound (Couto et al., Sec. 4): :math:`\min\{P, \sum_{k:c_k\neq0}\binom{N_i+k-1}{k}\}`.

    With every :math:`c_1..c_n` nonzero the sum is :math:`\binom{N_i+n}{n}-1` (hockey stick).
    """
    _check(n_in, n_hidden)
    degs = sorted(set(int(k) for k in degrees))
    if not degs or degs[0] < 1:
        raise InvalidParameterError(f"degrees={degrees!r} must be a nonempty set of integers >= 1")
    return min(n_parameters(n_in, n_hidden), sum(comb(n_in + k - 1, k) for k in degs))


def veronese_secant_dimension(n_vars: int, degree: int, k: int) -> int:
    r"""Dimension of the affine cone over :math:`\sigma_k(v_d(\mathbb P^{n-1}))`: generic sums of :math:`k` :math:`d`-th powers.

    Alexander–Hirschowitz theorem (with the classical :math:`d\le2` cases):

    * :math:`d=1`: :math:`\min(k, 1)\cdot n` — linear forms;
    * :math:`d=2`: :math:`kn-\binom k2` for :math:`k\le n`, else :math:`\binom{n+1}2` — symmetric
      matrices of rank :math:`\le k`;
    * :math:`d\ge3`: :math:`\min\{kn, \binom{n+d-1}{d}\}`, minus one for
      :math:`(d,n,k)\in\{(4,3,5),(4,4,9),(3,5,7),(4,5,14)\}` (:data:`AH_EXCEPTIONS`).

    Examples
    --------
    >>> veronese_secant_dimension(5, 3, 7)   # expected 35, defective
    34
    """
    if min(n_vars, degree) < 1 or k < 0:
        raise InvalidParameterError(f"need n_vars >= 1, degree >= 1, k >= 0; got {n_vars}, {degree}, {k}")
    full = comb(n_vars + degree - 1, degree)
    if k == 0:
        return 0
    if degree == 1:
        return n_vars
    if degree == 2:
        return k * n_vars - k * (k - 1) // 2 if k <= n_vars else full
    if n_vars == 1:
        return 1
    expected = min(k * n_vars, full)
    return expected - 1 if (degree, n_vars, k) in AH_EXCEPTIONS else expected


def pure_power_rank(n_in: int, n_hidden: int, degree: int) -> int:
    r"""Pure power :math:`\sigma=z^d`: :math:`\dim\sigma_{N_h}(v_d(\mathbb P^{N_i-1}))` (affine)."""
    _check(n_in, n_hidden)
    return veronese_secant_dimension(n_in, degree, n_hidden)


def polynomial_rank_bound(n_in: int, n_hidden: int, degrees) -> int:
    r"""Refined bound :math:`\min\{P, \sum_{k:c_k\neq0}\dim\sigma_{N_h}(v_k(\mathbb P^{N_i-1}))\}`.

    Each homogeneous part :math:`c_k\sum_iv_i(w_i\cdot x)^k` moves in the tangent space of a
    secant variety, so the differential's image lies in their direct sum. It is at most the counting bound
    and sees the Alexander–Hirschowitz defects (e.g. :math:`z+z^3` at :math:`(N_i,N_h)=(5,7)`: 39, not 40).
    """
    _check(n_in, n_hidden)
    degs = sorted(set(int(k) for k in degrees))
    if not degs or degs[0] < 1:
        raise InvalidParameterError(f"degrees={degrees!r} must be a nonempty set of integers >= 1")
    return min(n_parameters(n_in, n_hidden), sum(veronese_secant_dimension(n_in, k, n_hidden) for k in degs))


def relu_rank(n_in: int, n_hidden: int) -> int:
    r"""ReLU: :math:`N_hN_i` for :math:`N_i\ge2`; for :math:`N_i=1`, 2 (1 if :math:`N_h=1`).

    The rule is the activation's own (:meth:`symhess.activations.ReLU.counting_rule`, with its proof).
    """
    _check(n_in, n_hidden)
    return ReLU().counting_rule(n_in, n_hidden).value


# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ActivationProfile:
    r"""What the counting rules need to know about an activation.

    ``kind`` is ``"polynomial"``, the activation's name when it has a counting rule of its own
    (:meth:`~symhess.activations.Activation.counting_rule`: ``"erf"``, ``"tanh"``, ``"relu"``), or
    ``"other"``; for polynomials ``coeffs`` are :math:`c_0, c_1, \dots` as Fractions (``None`` for a
    symbolic coefficient).
    """

    kind: str
    coeffs: tuple = ()

    @property
    def degrees(self) -> tuple[int, ...]:
        return _degrees(self.coeffs)


def activation_profile(act: ActivationLike) -> ActivationProfile:
    """Classify an activation for the counting rules."""
    act = get_activation(act)
    if act.is_polynomial:
        coeffs = []
        for cf in act.polynomial_coeffs():
            if cf.is_Rational:
                coeffs.append(Fraction(int(cf.p), int(cf.q)))
            elif cf.is_number and cf == 0:
                coeffs.append(Fraction(0))
            else:
                coeffs.append(None)
        return ActivationProfile("polynomial", tuple(coeffs))
    if type(act).counting_rule is not Activation.counting_rule:
        return ActivationProfile(act.name)
    return ActivationProfile("other")


@dataclass(frozen=True)
class EffectiveParameters:
    r"""A counting rule's prediction of the Hessian rank at the optimum.

    Attributes
    ----------
    value : int
        Predicted rank (or the measured rank when ``status == "measured"``).
    rule : str
        Name of the rule (``"linear"``, ``"quadratic eq. (14)"``, ``"Alexander-Hirschowitz"``, ...).
    status : str
        ``"exact"`` (proved generic rank), ``"upper bound"``, ``"conjecture"`` (empirical claim,
        checked by certified ranks in the tests) or ``"measured"`` (no rule known).
    formula : str
        The formula, human-readable.
    n_params : int
        :math:`P` including biases.
    measured : RankResult or None
        The measurement, when one was made.
    """

    value: int
    rule: str
    status: str
    formula: str
    n_in: int
    n_hidden: int
    n_params: int
    measured: object = None
    note: str = ""
    n_teacher: int | None = None
    kind: str | None = None

    def __int__(self) -> int:
        return self.value

    @property
    def is_bound(self) -> bool:
        return self.status == "upper bound"

    def __str__(self) -> str:
        where = (f"(N_i, N_h) = ({self.n_in}, {self.n_hidden})" if self.n_teacher is None else
                 f"(N_i, N_t, N_s) = ({self.n_in}, {self.n_teacher}, {self.n_hidden}), {self.kind} minimum")
        s = f"N_eff = {self.value} of P = {self.n_params} for {where}: {self.rule} [{self.status}] {self.formula}"
        if self.note:
            s += f"\n  {self.note}"
        if self.measured is not None:
            s += f"\n  measured: {self.measured.rank} ({self.measured.status}, {self.measured.route})"
        return s


#: a rule's value, name, status (``exact``/``upper bound``/``conjecture``/``measured``), formula, note
Rule = RankRule


#: measured defects of the bound min(P, sum_k dim sigma_Nh(v_k)) for polynomials without biases:
#: (nonzero degrees, N_i, N_h) -> exact rank at random rational teachers (a certified lower bound of the
#: generic rank; found by scanning every degree pattern with top degree <= 5, N_i <= 6, P <= 150,
#: coefficients 1 -- for two-term patterns the coefficients can be scaled away, so the value holds for all)
KNOWN_DEFECTS: dict[tuple[tuple[int, ...], int, int], int] = {
    ((2, 3), 4, 6): 29, ((2, 4), 3, 5): 19, ((2, 4), 4, 9): 43, ((2, 4), 5, 14): 83,
    ((2, 3, 4), 2, 4): 11, ((2, 3, 4), 3, 8): 30, ((2, 3, 4), 4, 13): 64,
}


def _degrees(coeffs) -> tuple[int, ...]:
    """Degrees >= 1 whose coefficient is nonzero (``None`` = symbolic, taken as nonzero)."""
    return tuple(k for k, cf in enumerate(coeffs) if k >= 1 and (cf is None or cf != 0))


def _no_bias_rule(Ni: int, Nh: int, degs: tuple[int, ...]) -> Rule:
    if degs == (1,):
        return Rule(linear_rank(Ni, Nh), "linear", "exact", "N_i")
    if degs == (1, 2):
        return Rule(quadratic_rank(Ni, Nh), "quadratic eq. (14)", "exact",
                    "N_i(N_i+3)/2 - Theta(N_i-N_h)(N_i-N_h)(N_i-N_h+3)/2")
    if len(degs) == 1:
        d = degs[0]
        if d == 2:
            return Rule(pure_square_rank(Ni, Nh), "pure square", "exact",
                        "N_i(N_i+1)/2 - Theta(N_i-N_h)(N_i-N_h)(N_i-N_h+1)/2")
        exc = " (exceptional case: one less)" if (d, Ni, Nh) in AH_EXCEPTIONS else ""
        return Rule(pure_power_rank(Ni, Nh, d), "Alexander-Hirschowitz", "exact",
                    f"dim sigma_N_h(v_{d}(P^(N_i-1))) = min(N_h N_i, C(N_i+{d - 1},{d})){exc}")
    bound = polynomial_rank_bound(Ni, Nh, degs)
    formula = "min(P, sum_k dim sigma_N_h(v_k(P^(N_i-1))))  <=  min(P, C(N_i+n, n) - 1)"
    key = (degs, Ni, Nh)
    if key in KNOWN_DEFECTS:
        return Rule(KNOWN_DEFECTS[key], "polynomial bound (known defect)", "measured", formula,
                    f"the bound {bound} is not attained: the exact rank at random rational teachers is "
                    f"{KNOWN_DEFECTS[key]} (a sporadic defect, like the Alexander-Hirschowitz exceptions)")
    return Rule(bound, "polynomial bound", "upper bound", formula,
                "proved upper bound; attained at every size scanned (top degree <= 5, N_i <= 6, P <= 150) "
                "except the sporadic cases in KNOWN_DEFECTS")


def tschirnhaus_shift(coeffs) -> tuple[Fraction, tuple[Fraction, ...]]:
    r"""Coefficients of :math:`\tilde\sigma(z)=\sigma(z-\beta)`, :math:`\beta=c_{n-1}/(nc_n)`, which has no :math:`z^{n-1}` term.

    With hidden biases the shift is absorbed into :math:`b_i`, so :math:`\sigma` and :math:`\tilde\sigma`
    give the same network family.

    Examples
    --------
    >>> tschirnhaus_shift([0, 1, 1])[1]     # z + z^2 = (z + 1/2)^2 - 1/4
    (Fraction(-1, 4), Fraction(0, 1), Fraction(1, 1))
    """
    c = [Fraction(x) for x in coeffs]
    while len(c) > 1 and c[-1] == 0:
        c.pop()
    n = len(c) - 1
    if n < 1:
        raise InvalidParameterError(f"coefficients {list(coeffs)} are constant")
    beta = c[n - 1] / (n * c[n])
    out = [Fraction(0)] * (n + 1)
    for k, ck in enumerate(c):  # ck (z - beta)^k
        for j in range(k + 1):
            out[j] += ck * comb(k, j) * (-beta) ** (k - j)
    return beta, tuple(out)


def _hidden_bias_rule(Ni: int, Nh: int, coeffs, output_bias: bool) -> Rule:
    n = max(_degrees(coeffs))
    Pb = n_parameters(Ni, Nh, hidden_bias=True, output_bias=output_bias)
    fallback = Rule(min(Pb, comb(Ni + n, n)), "polynomial bound with biases", "upper bound",
                    f"min(P, C(N_i+{n},{n}))",
                    "proved upper bound (all polynomials of degree <= n); often not attained: measure")
    if any(cf is None for cf in coeffs):
        return fallback._replace(note="symbolic coefficients: only the counting bound is available")
    _, ct = tschirnhaus_shift(coeffs)
    K = {k for k, cf in enumerate(ct) if cf != 0}
    if not (K - {0}) <= {1, n}:
        return fallback
    full = comb(Ni + n, n)
    if 1 in K and n >= 2:  # tangent spaces at N_h generic points and at x_0 = (0, ..., 0, 1)
        return Rule(min(Pb, veronese_secant_dimension(Ni + 1, n, Nh + 1)),
                    "Alexander-Hirschowitz, N_i+1 variables, N_h+1 points", "upper bound",
                    f"min(P, dim sigma_(N_h+1)(v_{n}(P^N_i)))",
                    "shifted activation c z^n + c_1 z + c_0: proved upper bound (Terracini: the affine-linear "
                    "part, output bias included, lies in the tangent space at x_0 = (0, ..., 0, 1)); attained at "
                    "every size measured")
    base = veronese_secant_dimension(Ni + 1, n, Nh)
    plus = 1 if (0 in K or output_bias) else 0
    return Rule(min(base + plus, full), "Alexander-Hirschowitz, N_i+1 variables" + (" + constant" if plus else ""),
                "exact", f"min(dim sigma_N_h(v_{n}(P^N_i)) + {plus}, C(N_i+{n},{n}))",
                "(w.x + b) = (w, b).(x, 1): hidden biases make the shifted power a network with N_i+1 inputs")


def polynomial_rule(n_in: int, n_hidden: int, coeffs, *, hidden_bias: bool = False, output_bias: bool = False) -> Rule:
    r"""The counting rule for :math:`\sigma(z)=\sum_k c_kz^k` (``coeffs = [c_0, c_1, ...]``; ``None`` = symbolic nonzero).

    See the module docstring for the cases and their status.

    Examples
    --------
    >>> polynomial_rule(10, 5, [0, 1, 1]).value
    45
    >>> polynomial_rule(3, 2, [0, 0, 0, 1], hidden_bias=True).value   # z^3 with biases: 4 variables
    8
    """
    _check(n_in, n_hidden)
    degs = _degrees(coeffs)
    if not degs:
        raise InvalidParameterError(f"coefficients {list(coeffs)} have no nonzero term of degree >= 1")
    rule = _no_bias_rule(n_in, n_hidden, degs)
    if degs in ((1,), (1, 2)) and (hidden_bias or output_bias):  # the paper's "+1", proved here
        return rule._replace(value=rule.value + 1, rule=rule.rule + " + 1 (biases)", formula=f"({rule.formula}) + 1",
                             note="the constant term of the compressed polynomial; hidden and output biases "
                                  "together still add only 1")
    if hidden_bias:
        return _hidden_bias_rule(n_in, n_hidden, coeffs, output_bias)
    if output_bias:  # without hidden biases the constant coefficient c_0 sum(v) + b_0 is free: exactly +1
        return rule._replace(value=rule.value + 1, rule=rule.rule + " + output bias", formula=f"({rule.formula}) + 1")
    c0 = coeffs[0] if len(coeffs) else 0
    if c0 is None or c0 != 0:
        return _constant_term_rule(n_in, n_hidden, degs, rule)
    return rule


def _constant_term_rule(Ni: int, Nh: int, degs: tuple[int, ...], rule: Rule) -> Rule:
    r"""No biases but :math:`c_0=\sigma(0)
eq0`: the constant coefficient :math:`c_0\sum_iv_i` adds 0 or 1.

    :math:`J' = [J; c_0
abla_	heta s]` with :math:`s=\sum_iv_i`, so the rank grows by one iff some null
    vector of :math:`J` moves :math:`s`.
    """
    P = n_parameters(Ni, Nh)
    if len(degs) == 1:  # pure power (or linear): per-unit rescaling w_i -> l w_i, v_i -> l^-d v_i moves s
        return rule._replace(value=rule.value + 1, rule=rule.rule + " + constant", formula=f"({rule.formula}) + 1",
                             note="sigma(0) != 0: the rescaling symmetry of each unit changes c_0 sum(v), so the "
                                  "constant coefficient adds exactly one direction")
    if degs == (1, 2):
        if Nh <= Ni:
            return rule._replace(rule=rule.rule + " (constant adds nothing)",
                                 note="sigma(0) != 0 and N_h <= N_i: sum(v) = u^T M^+ u is a function of the "
                                      "compressed parameters (u, M), so the constant adds no direction")
        return rule._replace(value=rule.value + 1, rule=rule.rule + " + constant", status="conjecture",
                             formula=f"({rule.formula}) + 1",
                             note="sigma(0) != 0 and N_h > N_i: +1 (checked by exact ranks in the tests)")
    return Rule(min(P, rule.value + 1), rule.rule + " + constant", "upper bound", f"min(P, ({rule.formula}) + 1)",
                "sigma(0) != 0: the constant coefficient c_0 sum(v) adds at most one direction")


def rule_match(predicted: int | None, rule_status: str, measured: int, measured_status: str) -> str:
    """How a measured rank compares with a rule: ``"yes"``, ``"NO ..."`` (a mismatch), or a bound that holds.

    ``"below bound"`` / ``"lower bound"`` are consistent outcomes for an upper-bound rule or a
    lower-bound measurement; every string starting with ``"NO"`` is a mismatch; ``"no rule"`` where
    no rule is known.
    """
    if predicted is None:
        return "no rule"
    if rule_status == "upper bound":
        return "yes" if measured == predicted else ("below bound" if measured < predicted else "NO")
    if measured_status == "lower bound":
        return "yes" if measured == predicted else ("lower bound" if measured < predicted else "NO")
    if measured_status == "numerical" and measured != predicted:
        return "NO (float64 rank; check with --exact or --certify)"
    return "yes" if measured == predicted else "NO"


def effective_parameters(
    act: ActivationLike,
    n_in: int,
    n_hidden: int,
    *,
    hidden_bias: bool = False,
    output_bias: bool = False,
    measure: bool | None = None,
    rng: object = 0,
    n_teacher: int | None = None,
    kind: str | None = None,
    n_zero: int | None = None,
    input_cov: object = None,
    n_out: int = 1,
    trainable: object = None,
) -> EffectiveParameters:
    r"""The counting rule's prediction of the Hessian rank at the optimum, and which rule it is.

    Parameters
    ----------
    act : str or Activation
        The activation.
    n_in, n_hidden : int
        :math:`N_i`, :math:`N_h`.
    hidden_bias, output_bias : bool
        Network biases: hidden :math:`b_i` inside the activation, output :math:`b_0` (one per output).
        Polynomials: the rules below; other activations: :mod:`symhess.two_layer.bias_counting`
        (full rank for erf, tanh, sigmoid, softplus, SiLU, GELU, Gaussian and sinusoids; one null
        direction per unit for ReLU-like units and for exp's hidden bias).
    measure : bool, optional
        Also measure the rank at a random teacher (exact for polynomials, certified otherwise).
        Default: only where no rule is known (then the value *is* the measurement).
    rng : seed or Generator
        Teacher for the measurement.
    n_teacher : int, optional
        A teacher of width :math:`N_t\le N_h`: the rank at a generic point of the family ``kind`` of
        global minima of the wider student (:func:`wider_rule`).
    kind : {"zero", "split", "mixed"}, optional
        The family (default ``"zero"`` when ``n_teacher`` is given); see :func:`symhess.global_minimum`.
    n_zero : int, optional
        Number of zero units for ``kind="mixed"`` (default :math:`\lceil(N_h-N_t)/2\rceil`).
    input_cov : array_like, optional
        Input covariance :math:`\Sigma` (``(Ni, Ni)`` or its diagonal). With :math:`x=Fz`,
        :math:`FF^\top=\Sigma` of rank :math:`r`, every unit sees :math:`(F^\top w_i)\cdot z` and
        :math:`W\mapsto WF` maps onto the weights of a network on :math:`r` inputs, so the generic
        rank is the rule's value for :math:`N_i=r` (unchanged for a nonsingular :math:`\Sigma`); ``n_params``
        stays that of :math:`N_i` inputs. :math:`r` is the numerical rank of :math:`\Sigma`
        (eigenvalues above :math:`10^{-12}\lambda_{\max}`).
    n_out : int
        Number of outputs (``v`` of shape ``(n_out, Nh)``, one output bias per output).
    trainable : tuple of str, optional
        Trained groups, a subset of ``("W", "v", "b", "b_out")``: the rank of the frozen-rest Hessian.

    Returns
    -------
    EffectiveParameters

    Examples
    --------
    >>> e = effective_parameters("quadratic", 10, 5)
    >>> e.value, e.rule, e.status
    (45, 'quadratic eq. (14)', 'exact')
    >>> effective_parameters("erf", 3, 5, n_teacher=2, kind="zero").value   # N_t(N_i+1) + N_z
    11
    """
    act = get_activation(act)
    _check(n_in, n_hidden)
    if input_cov is not None:
        from .architecture import as_input_cov

        cov = as_input_cov(input_cov, n_in)
        lam = cov.sigma if cov.diagonal else np.linalg.eigvalsh(cov.sigma)
        r = int(np.sum(lam > 1e-12 * max(float(lam.max()), 0.0))) if lam.max() > 0 else 0
        if r == 0:
            raise InvalidParameterError("input_cov is zero: the inputs are constant and every weight is a null direction")
        kw = dict(hidden_bias=hidden_bias, output_bias=output_bias, measure=measure, rng=rng, n_teacher=n_teacher,
                  kind=kind, n_zero=n_zero, n_out=n_out, trainable=trainable)
        res = effective_parameters(act, r, n_hidden, **kw)
        if r == n_in:
            return res
        full = effective_parameters(act, n_in, n_hidden, **{**kw, "measure": False})
        note = (f"inputs of rank {r} < n_in = {n_in}: the rule at n_in = {r}; "
                f"{n_hidden * (n_in - r)} first-layer directions are null") + (f". {res.note}" if res.note else "")
        return replace(res, n_in=n_in, n_params=full.n_params, note=note)
    general = n_out != 1 or trainable is not None
    if n_teacher is not None or kind is not None:
        if general:
            raise InvalidParameterError("the rules for wider students are for one output with every group trained "
                                        "(n_out=1, trainable=None)")
        return _wider_effective_parameters(act, n_in, n_hidden, n_teacher, kind, n_zero, hidden_bias, output_bias,
                                           measure, rng)
    prof = activation_profile(act)
    Ni, Nh = n_in, n_hidden
    from .bias_counting import general_rule
    from .span_rank import network_layout

    P = network_layout(Ni, Nh, n_out=n_out, hidden_bias=hidden_bias, output_bias=output_bias,
                       trainable=trainable).n_params
    note = ""
    if prof.kind == "polynomial" and not general:
        value, rule, status, formula, note = polynomial_rule(
            Ni, Nh, prof.coeffs, hidden_bias=hidden_bias, output_bias=output_bias)
    elif general or hidden_bias or output_bias:  # biases, several outputs, frozen groups
        known = general_rule(act, Ni, Nh, hidden_bias=hidden_bias, output_bias=output_bias, n_out=n_out,
                             trainable=trainable)
        if known is not None:
            value, rule, status, formula, note = known
        else:
            value, rule, status, formula = None, "none known", "measured", "-"
    else:  # the activation's own rule, if it has one
        known = act.counting_rule(Ni, Nh)
        if known is not None:
            value, rule, status, formula, note = known
        else:
            value, rule, status, formula = None, "none known", "measured", "-"
    measured = None
    if measure or (measure is None and value is None):
        measured = measure_rank(act, Ni, Nh, hidden_bias=hidden_bias, output_bias=output_bias, rng=rng, n_out=n_out,
                                trainable=trainable)
        if value is None:
            value = measured.rank
            note = "no counting rule is known for this activation: the value is the measured rank"
    return EffectiveParameters(value, rule, status, formula, Ni, Nh, P, measured, note)


#: how measure_rank measures
MEASURE_METHODS = ("auto", "exact", "certify", "float")


def measure_rank(
    act: ActivationLike,
    n_in: int,
    n_hidden: int,
    *,
    method: str = "auto",
    hidden_bias: bool = False,
    output_bias: bool = False,
    rng: object = 0,
    route: str = "jacobian",
    n_out: int = 1,
    trainable: object = None,
    input_cov: object = None,
):
    r"""Measure the Hessian rank at a random rational teacher (:func:`symhess.rational_teacher`).

    ``n_out`` outputs (further rows of :math:`V` drawn like ``v``, one output bias each), the
    ``trainable`` groups and the input covariance ``input_cov`` as in :func:`effective_parameters`.
    With biases, several outputs or frozen groups, ``"certify"`` proves by point evaluation
    (:mod:`symhess.two_layer.span_rank`); with ``input_cov`` the exact and certified routes reduce
    :math:`\Sigma=L_rD_rL_r^\top` over :math:`\mathbb Q` (the entries of ``input_cov`` read exactly)
    and measure at the weights :math:`WL_r`.

    ``method``: ``"exact"`` (over :math:`\mathbb Q`, polynomials), ``"certify"`` (ball arithmetic),
    ``"float"`` (float64 with tolerance and gap), or ``"auto"`` (exact for polynomials with rational
    coefficients, certified otherwise). ``route`` is the exact route of
    :func:`~symhess.two_layer.rank.hessian_rank` (``"jacobian"``, ``"hessian"`` or ``"both"``).
    Returns a :class:`~symhess.two_layer.rank.RankResult`.
    """
    from .rational import rational_biases, rational_teacher
    from ..validation import as_rng
    from .rank import hessian_rank

    if method not in MEASURE_METHODS:
        raise InvalidParameterError(f"method={method!r} is unknown; choose one of {MEASURE_METHODS}")
    act = get_activation(act)
    _check(n_in, n_hidden)
    gen = as_rng(rng)
    W, v = rational_teacher(n_in, n_hidden, gen)
    b, b0 = rational_biases(n_hidden, gen)
    general = n_out != 1 or trainable is not None
    if n_out != 1:
        from .rational import DEFAULT_DENOMINATOR, _rational_normal

        if isinstance(n_out, bool) or not isinstance(n_out, (int, np.integer)) or n_out < 1:
            raise InvalidParameterError(f"n_out={n_out!r} must be a positive integer")
        v = np.vstack([v[None, :], _rational_normal(gen, np.sqrt(1.0 / n_hidden), (n_out - 1, n_hidden),
                                                    DEFAULT_DENOMINATOR)])
        b0 = np.concatenate([[b0], _rational_normal(gen, 1.0, (n_out - 1,), DEFAULT_DENOMINATOR)])
    bias = dict(hidden_bias=b if hidden_bias else None, output_bias=b0 if output_bias else None)
    prof = activation_profile(act)
    poly = prof.kind == "polynomial" and None not in prof.coeffs
    if method == "auto":
        method = "exact" if poly else "certify"
    if method == "exact":
        return hessian_rank(act, W, v, exact=True, route=route, trainable=trainable, input_cov=input_cov, **bias)
    if method == "certify":
        if (hidden_bias or output_bias) and poly:
            return hessian_rank(act, W, v, exact=True, trainable=trainable, input_cov=input_cov, **bias)
        if hidden_bias or output_bias or general:
            return hessian_rank(act, W, v, certify="points", trainable=trainable, input_cov=input_cov, **bias)
        return hessian_rank(act, W, v, certify=True, input_cov=input_cov)
    fl = lambda a: np.array(a, dtype=float)  # noqa: E731
    return hessian_rank(act, fl(W), fl(v), trainable=trainable, input_cov=input_cov,
                        hidden_bias=None if not hidden_bias else fl(b),
                        output_bias=None if not output_bias else (fl(b0) if n_out != 1 else float(b0)))


# ---------------------------------------------------------------------------------------------
# students wider than the teacher: the rank on the families of global minima
#: families of global minima with a counting rule
WIDER_KINDS = ("zero", "split", "mixed")


def polynomial_span_dimension(n_in: int, coeffs) -> int:
    r"""Dimension :math:`D` of :math:`\operatorname{span}\{\sigma(u\cdot x):u\in\mathbb R^{N_i}\}` for a polynomial :math:`\sigma`.

    Scaling :math:`u\to tu` separates the degrees, and the :math:`k`-th powers of linear forms span all
    forms of degree :math:`k`, so :math:`D=\sum_{k\ge1,\,c_k\ne0}\binom{N_i+k-1}{k}+[c_0\ne0]`.

    Examples
    --------
    >>> polynomial_span_dimension(3, [0, 1, 1])    # linear + quadratic forms in 3 variables
    9
    """
    _check(n_in, 1)
    degs = _degrees(coeffs)
    c0 = coeffs[0] if len(coeffs) else 0
    return sum(comb(n_in + k - 1, k) for k in degs) + (1 if (c0 is None or c0 != 0) else 0)


def wider_rule(matched: Rule, n_in: int, n_teacher: int, n_hidden: int, kind: str, n_zero: int | None = None,
               span_dimension: int | None = None) -> Rule:
    r"""The generic Hessian rank on a family of global minima of a student of width :math:`N_s\ge N_t`.

    With :math:`r_t` the rank at the teacher (``matched``, the width-:math:`N_t` rule), :math:`N_z` zero
    units and :math:`D` the dimension of :math:`\operatorname{span}\{\sigma(u\cdot x)\}`
    (:func:`polynomial_span_dimension`; ``None`` = infinite, e.g. erf):

    * ``"split"``: :math:`r_t`. *Proof*: copies of :math:`w^\star_g` contribute the functions
      :math:`\sigma(w^\star_g\cdot x)` and :math:`v_i\sigma'(w^\star_g\cdot x)x_j`, the teacher's own, and at
      least one copy has :math:`v_i\ne0` (the shares sum to 1), so the span of :math:`\nabla_\theta f`
      is the teacher's; :math:`\operatorname{rank}H=\dim\operatorname{span}\nabla_\theta f`.
    * ``"zero"``/``"mixed"``: :math:`\min(r_t+N_z, D)`. *Proof*: zero units add only
      :math:`\sigma(u_k\cdot x)` (their :math:`w`-derivatives carry :math:`v_k=0`); the teacher's span
      :math:`T` lies in :math:`V=\operatorname{span}\{\sigma(u\cdot x)\}` (:math:`\sigma'(w\cdot x)x_j` is the
      derivative of a curve in :math:`V`), and since the image of :math:`u\mapsto\sigma(u\cdot x)` spans
      :math:`V/T`, generic :math:`u_1..u_{N_z}` are independent modulo :math:`T` up to
      :math:`\dim V/T=D-r_t`.

    The status is the matched rule's (``exact`` when :math:`r_t` is proved). The rule holds at a
    generic teacher and generic zero-unit weights; a zero unit with :math:`u_k=\pm w^\star_g` is a
    split point (for odd :math:`\sigma`).
    """
    if kind not in WIDER_KINDS:
        raise InvalidParameterError(f"kind={kind!r} is unknown; choose one of {WIDER_KINDS}")
    if n_hidden < n_teacher:
        raise InvalidParameterError(f"n_hidden={n_hidden} < n_teacher={n_teacher}: a wider student needs N_s >= N_t")
    extra = n_hidden - n_teacher
    nz = {"zero": extra, "split": 0}.get(kind, -(-extra // 2) if n_zero is None else n_zero)
    if not 0 <= nz <= extra or (kind == "zero" and nz != extra) or (kind == "split" and nz != 0):
        raise InvalidParameterError(f"n_zero={n_zero} is not allowed for kind={kind!r} with N_s - N_t = {extra}")
    dim_family = nz * n_in + (extra - nz)
    n_null = nz * n_in + (extra - nz) * (n_in + 1)
    P = n_hidden * (n_in + 1)
    tail = (f"family dimension {dim_family}; {n_null} explicit null vectors (rank <= {P - n_null}); "
            f"matched rule: {matched.rule} = {matched.value} [{matched.status}]")
    if kind == "split":
        return Rule(matched.value, f"split units: the matched rank ({matched.rule})", matched.status,
                    "r_t (the rank at the teacher)", tail)
    if span_dimension is None:
        value, formula = matched.value + nz, "r_t + N_z"
    else:
        value, formula = min(matched.value + nz, span_dimension), f"min(r_t + N_z, D = {span_dimension})"
    return Rule(value, f"{nz} zero units over {matched.rule}", matched.status, formula, tail)


def _wider_effective_parameters(act, n_in, n_hidden, n_teacher, kind, n_zero, hidden_bias, output_bias, measure,
                                rng) -> EffectiveParameters:
    if n_teacher is None:
        raise InvalidParameterError(f"kind={kind!r} needs n_teacher (the teacher's width N_t <= n_hidden)")
    _check(n_in, n_teacher)
    kind = "zero" if kind is None else kind
    if hidden_bias or output_bias:
        raise InvalidParameterError("the rules for wider students are for networks without biases (hidden_bias/output_bias)")
    if n_teacher > n_hidden:
        raise InvalidParameterError(f"n_teacher={n_teacher} > n_hidden={n_hidden}: the student must be at least as wide")
    prof = activation_profile(act)
    base = effective_parameters(act, n_in, n_teacher, measure=False if prof.kind != "other" else None, rng=rng)
    matched = Rule(base.value, base.rule, base.status, base.formula, base.note)
    D = polynomial_span_dimension(n_in, prof.coeffs) if prof.kind == "polynomial" else None
    if prof.kind == "relu":  # N_i = 1: relu(u x) = u+ relu(x) + u- relu(-x) spans 2 functions (sign-dependent)
        D = 2 if n_in == 1 else None
        if kind != "split":
            matched = matched._replace(status="upper bound" if n_in == 1 else "conjecture")
    rule = wider_rule(matched, n_in, n_teacher, n_hidden, kind, n_zero, D)
    if prof.kind != "other":
        generic = effective_parameters(act, n_in, n_hidden, measure=False)
        rule = rule._replace(note=rule.note + f"; a generic width-{n_hidden} student: {generic.value} [{generic.status}]")
    P = n_parameters(n_in, n_hidden)
    measured = None
    if measure:
        measured = measure_wider_rank(act, n_in, n_teacher, n_hidden, kind, n_zero=n_zero, rng=rng)
    return EffectiveParameters(rule.value, rule.rule, rule.status, rule.formula, n_in, n_hidden, P, measured,
                               rule.note, n_teacher, kind)


def measure_wider_rank(act: ActivationLike, n_in: int, n_teacher: int, n_hidden: int, kind: str, *,
                       n_zero: int | None = None, method: str = "auto", rng: object = 0, route: str = "jacobian"):
    r"""Measure the Hessian rank at a random rational point of a family of global minima.

    The teacher is :func:`symhess.rational_teacher` (width :math:`N_t`), the point
    :func:`symhess.global_minimum` (dyadic shares and zero-unit weights). ``method``: ``"exact"``
    (over :math:`\mathbb Q`, polynomials), ``"certify"`` (explicit null vectors + ball Cholesky,
    :func:`~symhess.two_layer.minimum_hessian.certified_minimum_rank`), ``"float"``, or ``"auto"``.
    """
    from .minima import global_minimum
    from .rational import rational_teacher
    from ..validation import as_rng
    from .minimum_hessian import certified_minimum_rank
    from .rank import hessian_rank

    if method not in MEASURE_METHODS:
        raise InvalidParameterError(f"method={method!r} is unknown; choose one of {MEASURE_METHODS}")
    act = get_activation(act)
    gen = as_rng(rng)
    Wt, vt = rational_teacher(n_in, n_teacher, gen)
    W, v, st = global_minimum(Wt, vt, n_hidden, kind, gen, n_zero=n_zero, return_structure=True)
    if method == "auto":
        prof = activation_profile(act)
        method = ("exact" if prof.kind == "polynomial" and None not in prof.coeffs else
                  "float" if prof.kind == "relu" else "certify")
    if method == "exact":
        return hessian_rank(act, W, v, exact=True, route=route)
    if method == "certify":
        return certified_minimum_rank(act, W, v, st)
    return hessian_rank(act, W.astype(float), v.astype(float))
