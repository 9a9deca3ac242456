r"""The effective number of parameters of a deep network: the generic rank of the expected Hessian at the optimum.

Place in the package: the deep-network family. The rank of :math:`H=E_x[J^\top J]` at a generic
teacher is the dimension of the set of functions the architecture represents near it (for polynomial
activations: the dimension of the **neurovariety**, the Zariski closure of the image of
:math:`\theta\mapsto f_\theta`; generic rank of the differential = dimension of the image, in
characteristic 0). Rules, with :math:`P=\sum_lN_lN_{l-1}` and :math:`D` the degree of :math:`f`:

* **linear** (:math:`f=W_L\cdots W_1x`): the image is the determinantal variety of
  :math:`N_L\times N_0` matrices of rank :math:`\le r=\min_lN_l`, of dimension
  :math:`r(N_0+N_L-r)` (all matrices, :math:`N_0N_L`, when :math:`r=\min(N_0,N_L)`). Exact.
  "Parameters minus symmetries" would be :math:`P-\sum_{0<l<L}N_l^2` (one :math:`GL(N_l)` per hidden
  layer), which is right only when every hidden layer is a strict bottleneck in the sense that the
  :math:`GL` actions are free and independent — e.g. :math:`(2,5,2)` gives :math:`20-25<0` against the
  true :math:`4`: wide hidden layers make the symmetry group act with large stabilisers.
* **pure powers** :math:`\sigma(z)=z^d`, :math:`d\ge2` (the polynomial networks of Kileel, Trager and
  Bruna): the *expected dimension*

  .. math::

      \operatorname{edim} = \min\Big\{P-\sum_{0<l<L}N_l,\ N_L\binom{N_0+D-1}{D}\Big\},\qquad D=d^{L-1},

  parameters minus one rescaling per hidden unit, capped by the space of :math:`N_L`-tuples of forms
  of degree :math:`D`. Always an upper bound; equal for :math:`d` above an activation-degree
  threshold when no hidden width is 1 (Kileel–Trager–Bruna's high-degree conjecture, proved by
  Finkel–Rodriguez–Wu–Yahl), and *proved* (status ``"exact"``) for every :math:`d\ge2` when all widths are
  equal (Finkel et al., equi-width), for non-increasing widths :math:`N_0\ge\dots\ge N_{L-1}\ge2` with
  :math:`d\ge2` (:math:`d\ge3` when :math:`N_L=1`), and for :math:`d\ge2N_l-1` at every hidden width
  :math:`N_l\ge2` with :math:`N_0\ge2` (Usevich, Borsoi, Dérand and Clausel, "Identifiability of deep
  polynomial neural networks", Corollaries 16 and 17: finite identifiability, i.e. dimension
  :math:`P-\sum_{0<l<L}N_l`). At depth 2 with one output it is the Alexander–Hirschowitz count,
  defective for :math:`d=2` (symmetric matrices of rank :math:`\le N_1`) and the four sporadic cases.
  Where no theorem applies, the *split bound* can be smaller (:func:`_split_bound`:
  :math:`\dim V(N_0..N_l)+\dim V(N_l..N_L)-N_l` at a hidden layer :math:`l`, recursively).
  A **width-one hidden layer** :math:`l` makes :math:`f=c\,s(x)^k` with :math:`s` the single-output network
  of widths :math:`(N_0,\dots,N_l)`, :math:`c\in\mathbb R^{N_L}` and :math:`k=d^{L-l}` (everything after
  the bottleneck is homogeneous in one scalar), so the dimension is :math:`\dim(s)+N_L-1` (one common
  scale), recursively — exact when the rule for :math:`s` is.
* **quadratics** :math:`az^2+bz`, :math:`ab\ne0` (e.g. :math:`z+\epsilon z^2`): completing the square makes the
  network a :math:`z^2` network with biases tied to the weights; unit rescalings reach every biased
  :math:`z^2` network :math:`Z` up to an output constant, and :math:`f(0)=0` keeps the constants out, so the
  rank is :math:`\dim Z-N_L` (:math:`\dim Z` with an output bias, :math:`\dim Z-\max(0,N_L-N_{L-1})` with
  hidden biases only). Exact where :math:`\dim Z` is (two layers with one output: eq. (14); Corollary 28).
* **other polynomials** (mixed degrees, e.g. :math:`z+z^3`): no rescaling symmetry; the bound
  :math:`\min\{P, N_L\cdot\text{forms of the degrees }f\text{ can reach}\}` (:func:`_network_degrees`), or the
  split bound without the rescaling term when smaller (upper bounds).
* **erf, tanh** and the other smooth built-ins: :math:`P` (no continuous symmetry): a theorem at depth 2 (the
  activation's ``unit_family``, the two-layer independence theorems), a conjecture beyond, proved architecture
  by architecture by :func:`settled_by_measurement`.
* **ReLU-like**: :math:`P-\sum_{0<l<L}N_l` (rescaling symmetry): exact at depth 2, an upper bound beyond (dead
  units lose more).
* **biases**: an output bias adds exactly :math:`N_L` when every :math:`\sigma_l(0)=0`; deep linear networks with
  hidden biases have :math:`f=Ax+c` with :math:`\operatorname{rank}A\le\min_lN_l` and the rank of :math:`[A\ c]`
  bounded by the augmented widths (:func:`_biased_rule`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from math import comb

import numpy as np

from .weights import check_widths, layer_activations

__all__ = [
    "deep_linear_rank", "expected_dimension", "DeepEffectiveParameters", "deep_effective_parameters",
    "measure_deep_rank", "settled_by_measurement", "AH_EXCEPTIONS",
]

#: Alexander-Hirschowitz exceptions (degree, variables, summands): one less than expected
AH_EXCEPTIONS = frozenset({(4, 3, 5), (4, 4, 9), (3, 5, 7), (4, 5, 14)})


def deep_linear_rank(widths) -> int:
    r""":math:`r(N_0+N_L-r)` with :math:`r=\min_lN_l`: the dimension of :math:`N_L\times N_0` matrices of rank :math:`\le r`.

    Examples
    --------
    >>> deep_linear_rank((3, 4, 2, 1)), deep_linear_rank((4, 2, 5)), deep_linear_rank((2, 5, 2))
    (3, 14, 4)
    """
    w = check_widths(widths)
    r = min(w)
    return r * (w[0] + w[-1] - r)


def expected_dimension(widths, degree: int) -> int:
    r"""Expected dimension of the pure-power neurovariety: :math:`\min\{P-\sum_{0<l<L}N_l, N_L\binom{N_0+D-1}{D}\}`.

    Examples
    --------
    >>> expected_dimension((2, 2, 2), 2)   # P = 8, 2 rescalings, ambient 2 * 3 = 6
    6
    """
    w = check_widths(widths)
    D = int(degree) ** (len(w) - 2)
    P = sum(a * b for a, b in zip(w[:-1], w[1:]))
    return min(P - sum(w[1:-1]), w[-1] * comb(w[0] + D - 1, D))


def _two_layer_power(n_in: int, n_hidden: int, d: int) -> int:
    if d == 2:
        return n_hidden * n_in - comb(n_hidden, 2) if n_hidden <= n_in else comb(n_in + 1, 2)
    full = min(n_hidden * n_in, comb(n_in + d - 1, d))
    return full - 1 if (d, n_in, n_hidden) in AH_EXCEPTIONS else full


def _pure_power(act) -> int | None:
    if not act.is_polynomial:
        return None
    c = act.polynomial_coeffs()
    nz = [k for k, ck in enumerate(c) if ck != 0]
    return nz[0] if len(nz) == 1 and nz[0] >= 2 else None


@lru_cache(maxsize=256)
def _network_degrees(acts: tuple) -> set[int]:
    r"""The degrees of the homogeneous parts a polynomial network can have (no biases).

    The input is of degree 1; a hidden layer with activation :math:`\sum_{k\in K}c_kz^k` turns parts of
    degrees :math:`E` into parts of degrees :math:`\{e_1+\dots+e_k: k\in K, e_i\in E\}` (:math:`k=0`: degree 0).
    So :math:`f` lies in the forms of these degrees, e.g. :math:`\{1,3\}` for :math:`z+z^3` at depth 2 and
    :math:`\{1,3,5,7,9\}` at depth 3.
    """
    E = 1 << 1  # bit e set: degree e reachable
    for a in acts:
        ks = [k for k, ck in enumerate(a.polynomial_coeffs()) if ck != 0]
        sums, new = 1, 0  # sums: the (k-fold) sumset of E, as a bit set
        for k in range(max(ks) + 1):
            if k in ks:
                new |= sums
            if k < max(ks):
                sums = _sumset(sums, E)
        E = new
    return {e for e in range(E.bit_length()) if E >> e & 1}


def _sumset(A: int, B: int) -> int:
    """The sumset of two sets of nonnegative integers given as bit sets."""
    out, e = 0, 0
    while B:
        if B & 1:
            out |= A << e
        B >>= 1
        e += 1
    return out


@lru_cache(maxsize=4096)
def _split_bound(act, w: tuple[int, ...], d: int | None, start: int | None = None, hidden_bias: bool = False,
                 output_bias: bool = False) -> tuple[int, str] | None:
    r"""The smallest upper bound for :math:`z^d` from splitting the network at a hidden layer, or ``None``.

    At hidden layer :math:`l` the network is :math:`f=g(a(x))` with :math:`a=\sigma(h_l)` (:math:`N_l` forms; the
    map :math:`h_l\mapsto a` is finite) and :math:`g` the network of widths :math:`(N_l,\dots,N_L)` applied to
    :math:`a`. Rescaling the coordinates of :math:`a` and the inputs of :math:`g` inversely leaves :math:`f`
    unchanged and acts freely, so :math:`\dim V(w)\le\dim V(N_0..N_l)+\dim V(N_l..N_L)-N_l`, with both sides by
    their own rules (recursively; the two-layer tail with one output is the Alexander–Hirschowitz count).
    Splitting before the last hidden layer with one output gives
    :math:`(\dim V(N_0..N_{L-2})-N_{L-2})+\mathrm{AH}(N_{L-2},N_{L-1},d)`, the bound Massarenti's neurovariety
    toolkit (github.com/msslxa/Neurovariety) computes; e.g. :math:`z^2` on (5,5,3,1): :math:`20+12=32` against
    the expected 35. Other polynomial activations (``d=None``) have no such rescaling (a rescaled
    :math:`\sigma(h)` is not :math:`\sigma` of anything), but :math:`h\mapsto\sigma\circ h` is an immersion
    (its differential multiplies by the nonzero polynomial :math:`\sigma'(h)`), so
    :math:`\dim V(w)\le\dim V(N_0..N_l)+\dim V(N_l..N_L)`. With hidden biases the same holds with the bias
    :math:`b_l` in the head (as its output bias; it rescales with its unit) and the later biases in the tail.
    Returns the bound and its description when some split goes below ``start`` (default: the expected
    dimension).
    """
    L = len(w) - 1
    if L < 3:
        return None
    best = start if start is not None else expected_dimension(w, d)
    where = None
    for l in range(1, L):  # with hidden biases, b_l is the head's output bias (it rescales with the unit)
        head = _rule(layer_activations(act, l), w[: l + 1], hidden_bias and l > 1, hidden_bias)
        tail = _rule(layer_activations(act, L - l), w[l:], hidden_bias and L - l > 1, output_bias)
        value = head.value + tail.value - (w[l] if d is not None else 0)
        if value < best:
            best, where = value, (l, head, tail)
    if where is None:
        return None
    l, head, tail = where
    name = f"z^{d}" if d is not None else "polynomial"
    minus = f" - N_{l}" if d is not None else ""
    return best, (f"{name}, split at hidden layer {l}: f = g(a(x)) with a = sigma(h_{l}), dim V{w[: l + 1]} + "
                  f"dim V{w[l:]}{minus} = {head.value} + {tail.value}" + (f" - {w[l]}" if d is not None else "")
                  + f" [{head.status}; {tail.status}]")


def _shifted_square(act) -> bool:
    r"""True for :math:`\sigma(z)=\alpha z^2+\beta z` with :math:`\alpha\beta\ne0` (a square completed with a shift, :math:`\sigma(0)=0`)."""
    if not act.is_polynomial or act.degree != 2:
        return False
    c = act.polynomial_coeffs()
    return c[0] == 0 and c[1] != 0 and c[2] != 0


def _squares_with_all_biases(w: tuple[int, ...]) -> DeepEffectiveParameters:
    r"""The :math:`z^2` network with a bias in every layer (the reference family :math:`Z` of the quadratic rules).

    The biased pure-power rule with :math:`d=2`. Two layers, one output, it is exact: homogenising
    :math:`(w\cdot x+b)^2` gives the symmetric :math:`(N_0+1)\times(N_0+1)` matrices of rank :math:`\le N_1`, and the
    output bias adds :math:`ee^\top` (:math:`e` the homogenising coordinate), which lies in the tangent space
    :math:`\{S: u^\top Su'=0\ \forall u,u'\in\ker M\}` at a rank-:math:`N_1` matrix :math:`M` iff
    :math:`e\in\operatorname{range}M`, false at generic :math:`M` of rank :math:`N_1<N_0+1`: one more dimension.
    """
    return _biased_rule(layer_activations("poly:coeffs=[0,1]", len(w) - 1), w, True, True)


def _expected_dimension_theorem(w: tuple[int, ...], d: int) -> str | None:
    """The theorem proving that ``z^d`` on widths ``w`` (no width-one hidden layer) attains the expected dimension, if any."""
    L = len(w) - 1
    if len(set(w)) == 1 and w[0] > 1:
        return "equi-width: expected dimension for every degree (Finkel-Rodriguez-Wu-Yahl)"
    if all(a >= b for a, b in zip(w[:L - 1], w[1:L])) and w[L - 1] >= 2 and d >= (2 if w[-1] >= 2 else 3):
        return ("non-increasing widths N_0 >= ... >= N_{L-1} >= 2, d >= 2 (d >= 3 for one output): "
                "P - sum hidden widths (Usevich-Borsoi-Derand-Clausel, Corollary 16)")
    if all(n >= 2 for n in w[:L]) and d >= 2 * max(w[1:L]) - 1:
        return ("d >= 2 N_l - 1 for every hidden width: P - sum hidden widths "
                "(Usevich-Borsoi-Derand-Clausel, Corollary 17)")
    return None


@dataclass(frozen=True)
class DeepEffectiveParameters:
    r"""The counting rule's effective number of parameters of a deep architecture.

    Attributes
    ----------
    value : int
        The rule's rank (an upper bound when ``status`` says so).
    n_params : int
        :math:`P`.
    rule : str
        The rule's name and formula.
    status : str
        ``"exact"`` (a theorem), ``"upper bound"``, or ``"conjecture"``.
    symmetry_count : int
        :math:`P` minus the continuous symmetries the rule names (for comparison).
    measured : object or None
        A :class:`~symhess.deep.hessian.DeepRank` at a random rational teacher (``measure=True``).
    """

    value: int
    n_params: int
    rule: str
    status: str
    symmetry_count: int
    measured: object = None

    def __int__(self) -> int:
        return self.value

    def __str__(self) -> str:
        return f"{self.value} of P = {self.n_params} ({self.status}: {self.rule})"


def deep_effective_parameters(act, widths, *, measure: bool = False, rng: object = 0, hidden_bias: bool = False,
                              output_bias: bool = False, method: str | None = None) -> DeepEffectiveParameters:
    r"""Generic rank of the expected Hessian of a deep network: the rule (see the module docstring), optionally measured.

    Parameters
    ----------
    act : str, Activation or sequence
        One activation for every hidden layer, or one per hidden layer.
    widths : sequence of int
        :math:`(N_0, \dots, N_L)`.
    measure : bool
        Also measure the rank at a random rational teacher (:func:`measure_deep_rank`) and settle the rule with
        it (:func:`settled_by_measurement`).
    method : str, optional
        The measurement's route (see :func:`~symhess.deep.hessian.deep_hessian_rank`); default: modular points
        for polynomials, then the default route if they stay below the rule.
    hidden_bias, output_bias : bool
        Biases on every hidden layer, on the output (parameters after all weights; see
        :func:`_biased_rule` for the rules).

    Examples
    --------
    >>> str(deep_effective_parameters("linear", (3, 4, 2, 1)))
    '3 of P = 22 (exact: deep linear: r(N_0 + N_L - r), r = min width = 1)'
    >>> deep_effective_parameters("poly:coeffs=[0,0,0,1]", (2, 2, 2)).value
    6
    """
    w = check_widths(widths)
    L = len(w) - 1
    acts = layer_activations(act, L)
    out = _rule(acts, w, bool(hidden_bias and L > 1), bool(output_bias))
    if measure:
        kw = dict(rng=rng, hidden_bias=hidden_bias, output_bias=output_bias)
        if method is not None:
            m = measure_deep_rank(acts, w, method=method, **kw)
        else:
            m = measure_deep_rank(acts, w, method="points", **kw) if all(a.is_polynomial for a in acts) else None
            if m is None or m.rank < out.value:  # the points reach the rule's bound, or take the default route
                m = measure_deep_rank(acts, w, **kw)
        out = settled_by_measurement(out, m, acts)
    return out


def _vanishes_at_zero(act) -> bool:
    r""":math:`\sigma(0)=0`, exactly (polynomials) or for a registered family whose value at 0 is exactly 0."""
    if act.is_polynomial:
        return act.polynomial_coeffs()[0] == 0
    if act.unit_family is None:
        return False
    return float(np.asarray(act.numeric(0)(np.zeros(1)))[0]) == 0.0


def _rule(acts, w: tuple[int, ...], hidden_bias: bool, output_bias: bool) -> DeepEffectiveParameters:
    """The counting rule for validated widths and activations (see :func:`deep_effective_parameters`)."""
    L = len(w) - 1
    P = sum(a * b for a, b in zip(w[:-1], w[1:]))
    hidden = sum(w[1:-1])
    if L == 2:
        one = _one_hidden_layer(acts[0], w, hidden_bias, output_bias)
        if one is not None:
            return one
    if output_bias and not hidden_bias and all(_vanishes_at_zero(a) for a in acts):
        base = _rule(acts, w, False, False)
        return DeepEffectiveParameters(
            base.value + w[-1], base.n_params + w[-1],
            f"{base.rule}; plus the N_L = {w[-1]} output constants (sigma(0) = 0 makes f(0) = 0 and every gradient "
            "function vanish at 0, so constants are independent of them, at every teacher)",
            base.status, base.symmetry_count + w[-1])
    if hidden_bias or output_bias:
        out = _biased_rule(acts, w, hidden_bias, output_bias)
    elif L == 1 or all(a.is_polynomial and a.degree == 1 and a.polynomial_coeffs()[0] == 0 for a in acts):
        r = min(w)
        out = DeepEffectiveParameters(deep_linear_rank(w), P, f"deep linear: r(N_0 + N_L - r), r = min width = {r}",
                                      "exact", P - sum(n * n for n in w[1:-1]))
    elif all(_pure_power(a) is not None for a in acts) and len({_pure_power(a) for a in acts}) == 1:
        d = _pure_power(acts[0])
        ones = [l for l in range(1, L) if w[l] == 1]
        if ones:
            l = ones[-1]
            pre = deep_effective_parameters(acts[0], w[: l + 1])
            out = DeepEffectiveParameters(
                pre.value + w[-1] - 1, P,
                f"z^{d}, width-one bottleneck at layer {l}: f = c s(x)^k with s the network {w[: l + 1]} "
                f"({pre.value}) and c in R^{w[-1]}, minus one common scale: {pre.value} + N_L - 1",
                pre.status, P - hidden)
        elif L == 2 and w[-1] == 1:
            out = DeepEffectiveParameters(_two_layer_power(w[0], w[1], d), P,
                                          f"z^{d}, two layers: secant of the Veronese variety (Alexander-Hirschowitz)",
                                          "exact", P - hidden)
        else:
            edim = expected_dimension(w, d)
            theorem = _expected_dimension_theorem(w, d)
            status = "exact" if theorem else "upper bound"
            why = theorem or ("expected dimension; attained for high enough degree without width-one bottlenecks "
                              "(Kileel-Trager-Bruna, Finkel-Rodriguez-Wu-Yahl)")
            out = DeepEffectiveParameters(edim, P, f"z^{d}: min(P - sum hidden widths, N_L binom(N_0+D-1, D)), "
                                          f"D = {d ** (L - 1)}; {why}", status, P - hidden)
            split = None if theorem else _split_bound(acts[0], w, d)
            if split is not None:
                out = DeepEffectiveParameters(split[0], P, split[1], "upper bound", P - hidden)
    elif all(_shifted_square(a) for a in acts):
        Z = _squares_with_all_biases(w)
        out = DeepEffectiveParameters(
            Z.value - w[-1], P, f"quadratic a z^2 + b z (ab != 0): the z^2 network with biases in every layer "
            f"({Z.value}) minus the N_L output constants [{Z.status}: {Z.rule}]", Z.status, P)
        split = None if Z.status == "exact" or len(set(acts)) > 1 else _split_bound(acts[0], w, None, out.value)
        if split is not None:
            out = DeepEffectiveParameters(split[0], P, split[1], "upper bound", P)
    elif all(a.is_polynomial for a in acts):
        D = 1
        for a in acts:
            D *= a.degree
        if w[-1] * comb(w[0] + D - 1, w[0] - 1) >= P:  # the top-degree forms alone outnumber the parameters
            out = DeepEffectiveParameters(P, P, f"polynomial: P (the forms of degree D = {D} alone have dimension "
                                          ">= P)", "upper bound", P)
        else:
            degrees = _network_degrees(tuple(acts))
            amb = w[-1] * sum(comb(w[0] + e - 1, e) for e in degrees)
            shown = sorted(degrees) if len(degrees) <= 12 else f"{len(degrees)} degrees up to {D}"
            out = DeepEffectiveParameters(min(P, amb), P, f"polynomial: min(P, N_L x dim of the forms of the degrees "
                                          f"{shown} that f can have)", "upper bound", P)
        split = _split_bound(acts[0], w, None, out.value) if len(set(acts)) == 1 else None
        if split is not None:
            out = DeepEffectiveParameters(split[0], P, split[1], "upper bound", P)
    elif all(a.unit_family == "relu-like" for a in acts):
        out = DeepEffectiveParameters(P - hidden, P, "positively homogeneous units (ReLU-like): P - one rescaling per "
                                      "hidden unit", "upper bound", P - hidden)
    elif all(_analytic(a) for a in acts):
        out = DeepEffectiveParameters(P, P, "no continuous symmetry: P (full rank)", "conjecture", P)
    else:
        out = DeepEffectiveParameters(P, P, "the number of parameters (no rule for these activations)", "upper bound", P)
    return out


def _one_hidden_layer(act, w: tuple[int, ...], hidden_bias: bool, output_bias: bool) -> DeepEffectiveParameters | None:
    r"""Depth 2 (one hidden layer, any number of outputs): the unit-independence theorems of the activation's family.

    The two-layer network :math:`f=W_2\sigma(W_1x+b_1)+b_2`: for units whose functions and derivatives are
    independent at generic weights (``unit_family`` "gaussian tail", "poles", "frequencies") the gradient
    functions of every parameter are independent, with any number of outputs and biases: full rank. ``"exp"``:
    a hidden bias rescales the output weights (:math:`N_1` null directions). ``"relu-like"``: one rescaling
    per unit when it has a hidden bias or is ReLU on :math:`N_0\ge2` inputs; otherwise the activation's own
    rule for one output. The proofs are Theorems 1–3 of :mod:`symhess.two_layer.bias_counting`; ``None``
    where none applies (the general rules take over).
    """
    N0, N1, NL = w
    P = N0 * N1 + N1 * NL + (N1 if hidden_bias else 0) + (NL if output_bias else 0)
    fam = act.unit_family
    if fam in ("gaussian tail", "poles", "frequencies"):
        return DeepEffectiveParameters(P, P, f"one hidden layer, independent units ({fam}): full rank", "exact", P)
    if fam == "exp":
        null = N1 if hidden_bias else 0
        return DeepEffectiveParameters(P - null, P, "one hidden layer, exp: " + (
            "a hidden bias rescales the output weights, P - N_1" if null else "independent units: full rank"), "exact",
            P - null)
    if fam == "relu-like":
        if hidden_bias or (act.name == "relu" and N0 >= 2):
            return DeepEffectiveParameters(P - N1, P, "one hidden layer, positive homogeneity: P - one rescaling per "
                                           "unit (kinks on distinct hyperplanes)", "exact", P - N1)
        if NL == 1:
            base = act.counting_rule(N0, N1)
            if base is not None:
                extra = 1 if output_bias else 0
                return DeepEffectiveParameters(base.value + extra, P, f"one hidden layer: {base.rule} ({base.formula})"
                                               + (" + the output constant" if extra else ""), base.status,
                                               P - N1)
    return None


#: activations that are not real-analytic on the real line (kinks or jumps)
_NOT_ANALYTIC = frozenset({"relu", "abrelu", "leaky_relu", "abs", "sign", "step"})


def _analytic(act) -> bool:
    """True for activations known to be real-analytic on the whole real line (polynomials and the smooth built-ins)."""
    return act.is_polynomial or (act.name not in _NOT_ANALYTIC and act.name != "expr")


def settled_by_measurement(rule: DeepEffectiveParameters, measured, acts) -> DeepEffectiveParameters:
    r"""Attach a measured rank to a rule, and make the rule exact for this architecture when the measurement proves it.

    The rule's value :math:`u` is an upper bound on the rank at every teacher (symmetries, ambient space,
    :math:`P`). If the measurement at one teacher :math:`\theta_0` is *proved* to reach it (``measured.status``
    ``"exact"`` or ``"lower bound"``, not ``"numerical"``: an exact rank over :math:`\mathbb Q` or modulo a prime,
    or a nonsingular minor certified in ball arithmetic, equal to the bound), then the generic rank is :math:`u`: for a real-analytic activation a
    :math:`u\times u` minor of the Jacobian of :math:`\theta\mapsto(f_\theta(x_1),\dots,f_\theta(x_M))` (or of the
    coefficient map) is a real-analytic function of the weights, nonzero at :math:`\theta_0`, hence nonzero
    for almost every teacher; at every such teacher the functions :math:`\partial f/\partial\theta_p` span
    :math:`u` dimensions, so :math:`\operatorname{rank}E_x[J^\top J]=u`. The status becomes ``"exact"`` (a proof
    for this architecture, not for all architectures). For kinked activations (ReLU) nothing is upgraded:
    their rank is not constant on any set of full measure (dead units).

    Parameters
    ----------
    rule : DeepEffectiveParameters
        From :func:`deep_effective_parameters` (without ``measure``).
    measured : DeepRank
        From :func:`measure_deep_rank` for the same activations and widths.
    acts : sequence of Activation
        The hidden layers' activations.
    """
    from dataclasses import replace

    if (rule.status != "exact" and measured.status in ("exact", "lower bound") and measured.rank == rule.value
            and all(_analytic(a) for a in acts)):
        return replace(rule, status="exact", measured=measured,
                       rule=rule.rule + "; proved for this architecture: a certified rank at a random teacher "
                                        "reaches the bound, so almost every teacher does (analytic weights-to-"
                                        "function map)")
    return replace(rule, measured=measured)


def _biased_rule(acts, w: tuple[int, ...], hidden_bias: bool, output_bias: bool) -> DeepEffectiveParameters:
    r"""Rules with biases (:math:`h_l=W_la_{l-1}+b_l`).

    * linear with an output bias: :math:`f=Ax+c`, :math:`c` free: :math:`r(N_0+N_L-r)+N_L` (exact); with hidden
      biases only, :math:`[A\ c]` has rank bounded by the augmented widths (exact, see the code);
    * pure powers at depth 2 with one output and hidden biases only: :math:`(w\cdot x+b)^d` is the
      dehomogenisation of :math:`((w,b)\cdot(x,1))^d`, a linear isomorphism of the polynomial spaces, so the
      count is the two-layer one with :math:`N_0+1` inputs (exact);
    * pure powers :math:`z^d` and ReLU: one rescaling per hidden unit survives (the unit's bias scales with its
      weights), so :math:`P-\sum_{0<l<L}N_l`, capped for :math:`z^d` by :math:`N_Linom{N_0+D}{D}` (all
      polynomials of degree :math:`\le D`); **exact** when every layer has a bias and
      :math:`d\ge(2(N_l+1)-\min(N_l+1,N_{l+1}))/\min(N_l,N_0,\dots,N_{l-1})` for every hidden layer (Usevich,
      Borsoi, Dérand and Clausel, Corollary 28: finite identifiability);
    * other polynomials: :math:`\min\{P, N_Linom{N_0+D}{D}\}` (upper bound); erf, tanh: :math:`P` (conjecture).
    """
    L = len(w) - 1
    P = sum(a * b for a, b in zip(w[:-1], w[1:])) + (sum(w[1:-1]) if hidden_bias else 0) + (w[-1] if output_bias else 0)
    hidden = sum(w[1:-1])
    tag = ", ".join(t for t, on in (("hidden biases", hidden_bias), ("output bias", output_bias)) if on)
    if L == 1 or all(a.is_polynomial and a.degree == 1 and a.polynomial_coeffs()[0] == 0 for a in acts):
        if output_bias:
            value = deep_linear_rank(w) + w[-1]
            return DeepEffectiveParameters(value, P, f"deep linear with {tag}: f = A x + c, r(N_0 + N_L - r) + N_L",
                                           "exact", value)
        # f = A x + c, [A | c] = W_L (top rows of the augmented products [[W_l, b_l], [0, 1]]): rank A <= r = min
        # width, rank [A | c] <= r' = min(N_L, N_(L-1), N_0 + 1, N_l + 1 for 0 < l < L-1), so r' is r or r + 1.
        # r' = r: every N_L x (N_0 + 1) matrix of rank <= r; r' = r + 1: A of rank <= r and c free.
        r, r1 = min(w), min([w[-1], w[-2], w[0] + 1] + [n + 1 for n in w[1:-2]])
        value = r * (w[-1] + w[0] - r) + w[-1] if r1 > r else r * (w[-1] + w[0] + 1 - r)
        return DeepEffectiveParameters(value, P, f"deep linear with hidden biases: rank A <= r = {r}, rank [A c] <= "
                                       f"r' = {r1}: " + ("A of rank <= r and c free, r(N_L + N_0 - r) + N_L" if r1 > r
                                                         else "[A c] of rank <= r, r(N_L + N_0 + 1 - r)"),
                                       "exact", value)
    if all(_shifted_square(a) for a in acts):
        Z = _squares_with_all_biases(w)
        lost = 0 if output_bias else max(0, w[-1] - w[-2])
        return DeepEffectiveParameters(
            Z.value - lost, P, f"quadratic a z^2 + b z (ab != 0) with {tag}: the z^2 network with biases in every "
            f"layer ({Z.value})" + (f" minus N_L - N_(L-1) = {lost} output constants outside the last layer's columns"
                                    if lost else "") + f" [{Z.status}: {Z.rule}]", Z.status, P - hidden)
    powers = {_pure_power(a) for a in acts}
    if all(_pure_power(a) is not None for a in acts) and len(powers) == 1:
        d = powers.pop()
        D = d ** (L - 1)
        if L == 2 and w[-1] == 1 and hidden_bias and output_bias:
            # ((w, b).(x, 1))^d: the secant of the Veronese in N_0 + 1 variables, plus the constant e^d, a point
            # of the Veronese outside the tangent space at a generic point of the secant unless it fills
            # (forms singular at N_1 generic points do not all vanish at a further generic point)
            n = w[0] + 1
            sec = _two_layer_power(n, w[1], d)
            value = sec + (1 if sec < comb(n + d - 1, d) else 0)
            return DeepEffectiveParameters(value, P, f"z^{d} with {tag}, two layers: the secant of the Veronese "
                                           f"variety in N_0 + 1 = {n} variables (Alexander-Hirschowitz) plus the "
                                           "constant unless that fills", "exact", P - hidden)
        if L == 2 and w[-1] == 1 and hidden_bias and not output_bias:
            # (w.x + b)^d dehomogenises (w, b).(x, 1): the two-layer count with N_0 + 1 inputs, exactly
            value = _two_layer_power(w[0] + 1, w[1], d)
            return DeepEffectiveParameters(value, P, f"z^{d} with hidden biases, two layers: (w.x + b)^d is the "
                                           f"dehomogenised form ((w, b).(x, 1))^d, the count with N_0 + 1 = {w[0] + 1} "
                                           "inputs (Alexander-Hirschowitz)", "exact", P - hidden)
        value = min(P - hidden, w[-1] * comb(w[0] + D, D))
        proved = hidden_bias and output_bias and all(
            d >= (2 * (w[l] + 1) - min(w[l] + 1, w[l + 1])) / min(w[l], min(w[:l])) for l in range(1, L))
        rule = (f"z^{d} with {tag}: min(P - sum hidden widths, N_L binom(N_0+D, D)), D = {D}"
                + ("; degree above the bound of Usevich-Borsoi-Derand-Clausel, Corollary 28" if proved else ""))
        split = None if proved or not hidden_bias or len(set(acts)) > 1 else _split_bound(
            acts[0], w, d, value, hidden_bias, output_bias)
        if split is not None:
            return DeepEffectiveParameters(split[0], P, f"{split[1]} (with {tag})", "upper bound", P - hidden)
        return DeepEffectiveParameters(value, P, rule, "exact" if proved else "upper bound", P - hidden)
    if all(a.is_polynomial for a in acts):
        D = 1
        for a in acts:
            D *= a.degree
        value = min(P, w[-1] * comb(w[0] + D, w[0]))
        split = None if not hidden_bias or len(set(acts)) > 1 else _split_bound(
            acts[0], w, None, value, hidden_bias, output_bias)
        if split is not None:
            return DeepEffectiveParameters(split[0], P, f"{split[1]} (with {tag})", "upper bound", P)
        return DeepEffectiveParameters(value, P, f"polynomial of degree D = {D} with {tag}: min(P, N_L binom(N_0+D, D))",
                                       "upper bound", P)
    if all(a.unit_family == "relu-like" for a in acts):
        return DeepEffectiveParameters(P - hidden, P, f"positively homogeneous units (ReLU-like) with {tag}: P - one "
                                       "rescaling per hidden unit", "upper bound", P - hidden)
    if all(_analytic(a) for a in acts):
        return DeepEffectiveParameters(P, P, f"no continuous symmetry, {tag}: P (full rank)", "conjecture", P)
    return DeepEffectiveParameters(P, P, f"the number of parameters with {tag} (no rule for these activations)",
                                   "upper bound", P)


def measure_deep_rank(act, widths, *, method: str = "auto", rng: object = 0, hidden_bias: bool = False,
                      output_bias: bool = False):
    """The rank at a random rational teacher (dyadic entries near :math:`N(0, 1/N_{l-1})`, biases near
    :math:`N(0, 1)`), as a ``DeepRank``."""
    from .hessian import deep_hessian_rank
    from .weights import rational_deep_biases, rational_deep_teacher

    w = check_widths(widths)
    W = rational_deep_teacher(w, rng)
    biases = None
    if hidden_bias or output_bias:
        biases = rational_deep_biases(w, rng, hidden=hidden_bias, output=output_bias)
    return deep_hessian_rank(act, W, method=method, rng=rng, biases=biases)
