r"""Counting rules for the effective number of parameters (the generic Hessian rank at the optimum).

Place in the pipeline: layer 6. The rule functions are pure Python integers; only
:func:`effective_parameters` touches an activation (and, where no rule is known, measures).

Why polynomial networks compress: for :math:`\sigma(z)=\sum_k c_kz^k` the network
:math:`f(x)=\sum_i v_i\sigma(w_i\cdot x)` is a polynomial in :math:`x`, :math:`\nabla_\theta f = J^\top\phi(x)`
with :math:`\phi` the monomials, and :math:`H = J^\top GJ` with :math:`G\succ0`, so the Hessian rank is
the rank of the coefficient map's Jacobian: the dimension of the set of polynomials the network can
represent, near the teacher. The rules (:math:`N_i` inputs, :math:`N_h` hidden units,
:math:`P = N_h(N_i+1)`):

=====================  ===============================================================  =============
activation             generic rank                                                     status
=====================  ===============================================================  =============
linear                 :math:`N_i`                                                      exact
:math:`z+\epsilon z^2`  eq. (14): :math:`\frac{N_i(N_i+3)}2 - \Theta(N_i-N_h)\frac{(N_i-N_h)(N_i-N_h+3)}2`  exact
:math:`z^d`            :math:`\dim\sigma_{N_h}(v_d(\mathbb P^{N_i-1}))` + 1 (affine cone; Alexander–Hirschowitz)  exact
degree :math:`n`       :math:`\min\{P, \sum_{k:c_k\ne0}\dim\sigma_{N_h}(v_k)\}\le\min\{P,\binom{N_i+n}{n}-1\}`  upper bound
erf, tanh              :math:`P` (full rank)                                            conjecture
ReLU                   :math:`N_hN_i = P - N_h` (:math:`N_i\ge2`); 2 for :math:`N_i=1`  exact
=====================  ===============================================================  =============

**Pure powers.** :math:`f=\sum_iv_i(w_i\cdot x)^d` is a sum of :math:`N_h` (signed) :math:`d`-th powers
of linear forms, so the generic rank is the dimension of the affine cone over the secant variety
:math:`\sigma_{N_h}(v_d(\mathbb P^{N_i-1}))` (Terracini's lemma; real points are Zariski dense, so the
signs of :math:`v_i` for even :math:`d` do not matter, and for odd :math:`d` the :math:`v_i` can be
absorbed into :math:`w_i`). Alexander–Hirschowitz: for :math:`d\ge3` it is
:math:`\min\{N_hN_i,\binom{N_i+d-1}{d}\}`, except for :math:`(d, N_i, N_h) = (4,3,5), (4,4,9), (3,5,7),
(4,5,14)`, one less; for :math:`d=2` it is the dimension of symmetric matrices of rank
:math:`\le N_h`, :math:`N_hN_i-\binom{N_h}{2}` (:math:`N_h\le N_i`), the pure-:math:`z^2` rule.

**Biases** (hidden :math:`b_i` inside :math:`\sigma`, output :math:`b_0`). The paper conjectures
"+1" (the constant term of the polynomial). What holds:

* output bias only, any polynomial :math:`\sigma` with :math:`\sigma(0)=0`: **+1** exactly (the
  constant coefficient is :math:`b_0` alone, so :math:`J` is block diagonal);
* linear and :math:`z+\epsilon z^2` with hidden and/or output biases: **+1** exactly (upper bound: the
  compressed representation gains only the constant; lower bound: at :math:`b=0` the columns
  :math:`\partial/\partial b_i` add the constant direction, :math:`\partial F_0/\partial b_i=v_ic_1\neq0`);
* pure powers with hidden biases: :math:`(w_i\cdot x+b_i)^d=(\hat w_i\cdot\hat x)^d` with
  :math:`\hat x=(x,1)`, i.e. the pure-power network with :math:`N_i+1` inputs:
  :math:`\dim\sigma_{N_h}(v_d(\mathbb P^{N_i}))` — *not* +1 in general (:math:`z^2`: :math:`+N_h` for
  :math:`N_h\le N_i`); with the output bias too, one more unless that already fills all
  polynomials of degree :math:`\le d`;
* other polynomials with hidden biases: no rule; bounded by :math:`\min\{P_b, \binom{N_i+n}{n}\}`
  and measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb

import numpy as np

from ..activations import Activation, ActivationLike, activation as get_activation
from ..errors import NoClosedFormError

__all__ = [
    "n_parameters", "linear_rank", "quadratic_rank", "pure_square_rank", "polynomial_bound",
    "veronese_secant_dimension", "AH_EXCEPTIONS", "pure_power_rank", "polynomial_rank_bound", "relu_rank",
    "biased_rank", "EffectiveParameters", "effective_parameters", "activation_profile",
]

#: Alexander–Hirschowitz exceptional cases (degree d, number of variables n, number of summands k):
#: the secant variety has dimension one less than expected
AH_EXCEPTIONS: frozenset[tuple[int, int, int]] = frozenset({(4, 3, 5), (4, 4, 9), (3, 5, 7), (4, 5, 14)})


def _check(n_in: int, n_hidden: int) -> None:
    for name, val in (("n_in", n_in), ("n_hidden", n_hidden)):
        if isinstance(val, bool) or not isinstance(val, (int, np.integer)):
            raise TypeError(f"{name}={val!r} must be an integer")
        if val < 1:
            raise ValueError(f"{name}={val} must be >= 1")


def n_parameters(n_in: int, n_hidden: int, *, hidden_bias: bool = False, output_bias: bool = False) -> int:
    r""":math:`P = N_hN_i + N_h` (+ :math:`N_h` hidden biases, + 1 output bias)."""
    _check(n_in, n_hidden)
    return n_hidden * n_in + n_hidden + (n_hidden if hidden_bias else 0) + (1 if output_bias else 0)


def linear_rank(n_in: int, n_hidden: int) -> int:
    r"""Linear network: :math:`f = (W^\top v)\cdot x`, rank :math:`N_i` (§A4)."""
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
    r"""The counting bound of §A6: :math:`\min\{P, \sum_{k:c_k\neq0}\binom{N_i+k-1}{k}\}`.

    With every :math:`c_1..c_n` nonzero the sum is :math:`\binom{N_i+n}{n}-1` (hockey stick).
    """
    _check(n_in, n_hidden)
    degs = sorted(set(int(k) for k in degrees))
    if not degs or degs[0] < 1:
        raise ValueError(f"degrees={degrees!r} must be a nonempty set of integers >= 1")
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
        raise ValueError(f"need n_vars >= 1, degree >= 1, k >= 0; got {n_vars}, {degree}, {k}")
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
    secant variety, so the differential's image lies in their direct sum. It is at most the §A6 bound
    and sees the Alexander–Hirschowitz defects (e.g. :math:`z+z^3` at :math:`(N_i,N_h)=(5,7)`: 39, not 40).
    """
    _check(n_in, n_hidden)
    degs = sorted(set(int(k) for k in degrees))
    if not degs or degs[0] < 1:
        raise ValueError(f"degrees={degrees!r} must be a nonempty set of integers >= 1")
    return min(n_parameters(n_in, n_hidden), sum(veronese_secant_dimension(n_in, k, n_hidden) for k in degs))


def relu_rank(n_in: int, n_hidden: int) -> int:
    r"""ReLU: :math:`N_hN_i` for :math:`N_i\ge2`; for :math:`N_i=1`, 2 (1 if :math:`N_h=1`).

    Upper bound: positive homogeneity :math:`(w_i, v_i)\to(\lambda w_i, v_i/\lambda)` gives :math:`N_h`
    exact null vectors. Lower bound (:math:`N_i\ge2`, no two rows parallel or antiparallel, :math:`v_i\ne0`):
    :math:`\Theta(w_i\cdot x)x_j=\frac12x_j+\frac12\mathrm{sign}(w_i\cdot x)x_j`, and the even parts
    :math:`\mathrm{sign}(w_i\cdot x)x_j` are independent because each is singular on its own hyperplane.
    For :math:`N_i=1`, :math:`f` is linear on each half-line: 2 dimensions when the :math:`w_i` take both
    signs (1 when they share one).
    """
    _check(n_in, n_hidden)
    if n_in == 1:
        return 1 if n_hidden == 1 else 2
    return n_hidden * n_in


# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Profile:
    kind: str  # "polynomial", "erf", "tanh", "relu", "other"
    degrees: tuple[int, ...] = ()


def activation_profile(act: ActivationLike) -> _Profile:
    """Classify an activation for the counting rules (polynomials by their nonzero degrees)."""
    act = get_activation(act)
    if act.is_polynomial:
        coeffs = act.polynomial_coeffs()
        degs = tuple(k for k, cf in enumerate(coeffs) if cf != 0)
        if any(getattr(cf, "free_symbols", None) for cf in coeffs):
            degs = tuple(k for k, cf in enumerate(coeffs) if not (cf.is_number and cf == 0))
        return _Profile("polynomial", degs)
    if act.name in ("erf", "tanh", "relu"):
        return _Profile(act.name)
    return _Profile("other")


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

    def __int__(self) -> int:
        return self.value

    @property
    def is_bound(self) -> bool:
        return self.status == "upper bound"

    def __str__(self) -> str:
        s = (f"N_eff = {self.value} of P = {self.n_params} for (N_i, N_h) = ({self.n_in}, {self.n_hidden}): "
             f"{self.rule} [{self.status}] {self.formula}")
        if self.note:
            s += f"\n  {self.note}"
        if self.measured is not None:
            s += f"\n  measured: {self.measured.rank} ({self.measured.status}, {self.measured.route})"
        return s


def _polynomial_rule(Ni: int, Nh: int, degs: tuple[int, ...]) -> tuple[int, str, str, str]:
    """(value, rule, status, formula) for a polynomial with nonzero coefficient degrees ``degs`` (no bias)."""
    nz = tuple(k for k in degs if k >= 1)
    if nz == (1,):
        return linear_rank(Ni, Nh), "linear", "exact", "N_i"
    if nz == (1, 2):
        return (quadratic_rank(Ni, Nh), "quadratic eq. (14)", "exact",
                "N_i(N_i+3)/2 - Theta(N_i-N_h)(N_i-N_h)(N_i-N_h+3)/2")
    if len(nz) == 1:
        d = nz[0]
        if d == 2:
            return (pure_square_rank(Ni, Nh), "pure square", "exact",
                    "N_i(N_i+1)/2 - Theta(N_i-N_h)(N_i-N_h)(N_i-N_h+1)/2")
        exc = " (exceptional case: one less)" if (d, Ni, Nh) in AH_EXCEPTIONS else ""
        return (pure_power_rank(Ni, Nh, d), "Alexander-Hirschowitz", "exact",
                f"dim sigma_N_h(v_{d}(P^(N_i-1))) = min(N_h N_i, C(N_i+{d - 1},{d})){exc}")
    return (polynomial_rank_bound(Ni, Nh, nz), "polynomial bound", "upper bound",
            "min(P, sum_k dim sigma_N_h(v_k(P^(N_i-1))))  <=  min(P, C(N_i+n, n) - 1)")


def biased_rank(n_in: int, n_hidden: int, degrees, *, hidden_bias: bool, output_bias: bool) -> tuple[int, str, str, str]:
    """(value, rule, status, formula) for a polynomial network with biases (see the module docstring)."""
    Ni, Nh = n_in, n_hidden
    nz = tuple(k for k in degrees if k >= 1)
    base, rule, status, formula = _polynomial_rule(Ni, Nh, nz)
    if not hidden_bias and not output_bias:
        return base, rule, status, formula
    if not hidden_bias:  # output bias only: the constant coefficient is b_0 alone
        return base + 1, rule + " + output bias", status, f"({formula}) + 1"
    if nz in ((1,), (1, 2)):
        return base + 1, rule + " + biases", "exact", f"({formula}) + 1"
    if len(nz) == 1:
        d = nz[0]
        hom = veronese_secant_dimension(Ni + 1, d, Nh)
        if output_bias:
            return (min(hom + 1, comb(Ni + d, d)), "Alexander-Hirschowitz, N_i+1 variables, + output bias", "exact",
                    f"min(dim sigma_N_h(v_{d}(P^N_i)) + 1, C(N_i+{d},{d}))")
        return hom, "Alexander-Hirschowitz, N_i+1 variables", "exact", f"dim sigma_N_h(v_{d}(P^N_i))"
    n = max(nz)
    P = n_parameters(Ni, Nh, hidden_bias=True, output_bias=output_bias)
    return (min(P, comb(Ni + n, n)), "polynomial bound with biases", "upper bound", f"min(P, C(N_i+{n},{n}))")


def effective_parameters(
    act: ActivationLike,
    n_in: int,
    n_hidden: int,
    *,
    hidden_bias: bool = False,
    output_bias: bool = False,
    measure: bool | None = None,
    rng: object = 0,
) -> EffectiveParameters:
    r"""The counting rule's prediction of the Hessian rank at the optimum, and which rule it is.

    Parameters
    ----------
    act : str or Activation
        The activation.
    n_in, n_hidden : int
        :math:`N_i`, :math:`N_h`.
    hidden_bias, output_bias : bool
        Network biases (polynomial activations).
    measure : bool, optional
        Also measure the rank at a random teacher (exact for polynomials, certified otherwise).
        Default: only where no rule is known (then the value *is* the measurement).
    rng : seed or Generator
        Teacher for the measurement.

    Returns
    -------
    EffectiveParameters

    Examples
    --------
    >>> e = effective_parameters("quadratic", 10, 5)
    >>> e.value, e.rule, e.status
    (45, 'quadratic eq. (14)', 'exact')
    """
    act = get_activation(act)
    _check(n_in, n_hidden)
    prof = activation_profile(act)
    Ni, Nh = n_in, n_hidden
    P = n_parameters(Ni, Nh, hidden_bias=hidden_bias, output_bias=output_bias)
    note = ""
    if (hidden_bias or output_bias) and prof.kind != "polynomial":
        raise NoClosedFormError(
            f"effective_parameters with biases needs a polynomial activation; {act.spec!r} is not one "
            "(biases are modelled through the polynomial coefficient map only)"
        )
    if prof.kind == "polynomial":
        value, rule, status, formula = biased_rank(Ni, Nh, prof.degrees, hidden_bias=hidden_bias, output_bias=output_bias)
        if any(getattr(cf, "free_symbols", None) for cf in act.polynomial_coeffs()):
            note = "symbolic coefficients: the rule assumes every symbolic coefficient is nonzero"
    elif prof.kind in ("erf", "tanh"):
        value, rule, status, formula = P, "full rank", "conjecture", "P = N_h(N_i+1)"
        note = ("paper Sec. 5 (erf); certified (ball arithmetic) on every drawn instance in the tests; "
                "float64 ranks undercount (smallest eigenvalues down to 1e-35 of the largest)")
    elif prof.kind == "relu":
        value, rule, status, formula = relu_rank(Ni, Nh), "ReLU homogeneity", "exact", (
            "N_h N_i (N_i >= 2; teacher rows pairwise non-parallel); 2 for N_i = 1 (w_i of both signs)")
    else:
        value, rule, status, formula = None, "none known", "measured", "-"
    measured = None
    if measure or (measure is None and value is None):
        measured = _measure(act, Ni, Nh, hidden_bias, output_bias, rng)
        if value is None:
            value = measured.rank
            note = "no counting rule is known for this activation: the value is the measured rank"
    return EffectiveParameters(value, rule, status, formula, Ni, Nh, P, measured, note)


def _measure(act: Activation, Ni: int, Nh: int, hidden_bias: bool, output_bias: bool, rng):
    from ..model.rational import rational_biases, rational_teacher
    from ..model.teacher import as_rng
    from .rank import hessian_rank

    gen = as_rng(rng)
    W, v = rational_teacher(Ni, Nh, gen)
    if act.is_polynomial:
        b, b0 = rational_biases(Nh, gen)
        return hessian_rank(act, W, v, exact=True, hidden_bias=b if hidden_bias else None,
                            output_bias=b0 if output_bias else None)
    return hessian_rank(act, W, v, certify=True)
