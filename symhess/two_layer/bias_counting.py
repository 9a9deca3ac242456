r"""Counting rules with hidden and output biases, several outputs and frozen groups, beyond polynomials.

Place in the package: the two-layer teacher-student family (pure Python integers; the activation is only
inspected for its family).

Network :math:`f_o(x)=\sum_iV_{oi}\sigma(u_i)+b_{0,o}`, :math:`u_i=w_i\cdot x+b_i`; the Hessian rank at the
optimum is the dimension of the span of the gradient functions (:mod:`symhess.two_layer.span_rank`):
per unit :math:`V_{oi}\sigma'(u_i)x_j`, :math:`\sigma(u_i)`, :math:`V_{oi}\sigma'(u_i)` (hidden bias), and the
constants :math:`\delta_{oo'}` (output biases). A combination :math:`c` of the trained parameters is null iff,
for every output :math:`o`,

.. math::

    \sum_i\big[a_{oi}\,\sigma(u_i)+p_{oi}(x)\,\sigma'(u_i)\big]+e_o=0,\qquad
    a_{oi}=c_{V_{oi}},\quad p_{oi}(x)=V_{oi}\,(c_{w_i}\cdot x+c_{b_i}),\quad e_o=c_{b_{0,o}}.

Generic weights below means: :math:`w_i\ne0`, :math:`(w_i,b_i)\ne\pm(w_k,b_k)` for :math:`i\ne k`
(for kinked units: the hyperplanes :math:`u_i=0` pairwise distinct), every column :math:`V_{\cdot i}\ne0`,
and :math:`b_i\ne0`. The theorems (each proved instance by instance by certified ranks in
``tests/test_bias_counting.py``):

**Theorem 1 (independent units: full rank).** For :math:`\sigma\in\{\mathrm{erf},\tanh,\text{sigmoid},
\text{softplus},\text{SiLU},\text{GELU},e^{-s^2z^2/2},\sin(sz+\varphi)\}` the functions
:math:`\{\sigma(u_i),\sigma'(u_i)x_j,\sigma'(u_i)\}_i\cup\{1\}` are linearly independent at generic
weights, so the rank is the number of trained parameters, with or without either bias, for any
number of outputs and any trained subset. *Proofs.* (a) erf, GELU, Gaussian: restrict to a generic
line :math:`x=td+x_0`, :math:`u_i=\alpha_it+\beta_i`; after one (erf) or two (GELU) derivatives in
:math:`t`, which remove :math:`e_o` and GELU's affine part, the identity reads
:math:`\sum_iq_i(t)e^{-\kappa(\alpha_it+\beta_i)^2}=0` with polynomials :math:`q_i`, and the exponents
differ by non-constant polynomials unless :math:`(\alpha_k,\beta_k)=\pm(\alpha_i,\beta_i)`; exponential
polynomials with such exponents are independent over :math:`\mathbb C[t]`, so every :math:`q_i=0`, whose
coefficients force :math:`c_{w_i}\cdot d=0`, :math:`c_{w_i}\cdot x_0+c_{b_i}=0`, :math:`a_{oi}=0` (erf:
:math:`q_i=a_{oi}\alpha_i+\gamma_i-2\alpha_i(\alpha_it+\beta_i)(\gamma_it+\delta_i)` up to a factor) for an open set
of lines, hence :math:`c=0`. (b) tanh, sigmoid, SiLU (simple poles), softplus (logarithmic branch
points) at :math:`u\in z^\ast+2\pi i\mathbb Z`-type sets off the real axis: continue the identity to
:math:`\mathbb C^{N_i}`; some unit has a singular hyperplane :math:`u_i=z^\ast` that no other unit shares (the
unit of largest :math:`\lVert w_i\rVert` along a direction has the singularity nearest the real
points); there :math:`a\,\sigma(u)+p(x)\sigma'(u)` must be regular, which forces :math:`p` to vanish on
the hyperplane, :math:`p=\mu(u_i-z^\ast)` with :math:`\mu` real (real coefficients) and
:math:`\mu\operatorname{Im}z^\ast=0`, so :math:`p=0` and :math:`a=0`; remove the unit and repeat; finally
:math:`e_o=0`. (c) :math:`\sin`: over :math:`\mathbb C` the functions are
:math:`e^{\pm isw_i\cdot x}` times affine functions, with distinct frequencies :math:`\pm sw_i` and
:math:`0` for the constant. In every case the constant is independent of the units: **an output bias
adds exactly** :math:`n_{\rm out}` **and hidden biases add** :math:`N_h` — the paper's "+1" holds for
the output bias and fails for hidden biases (the rank stays full: :math:`P` grows by :math:`N_h`).

**Theorem 2 (exp: the hidden bias is a rescaling).** :math:`e^{s(w\cdot x+b)}=e^{sb}e^{sw\cdot x}`, so
:math:`\partial f/\partial b_i=s\,V_{\cdot i}\,\partial f/\partial V_{\cdot i}`: :math:`N_h` null vectors
:math:`(c_{b_i}=1, c_{V_{oi}}=-sV_{oi})` when both ``b`` and ``v`` are trained, and nothing else
(the functions :math:`e^{sw_i\cdot x}\{1,x_j\}` with distinct :math:`w_i`, and the constant, frequency
0, are independent). Hidden biases add **0**, an output bias adds :math:`n_{\rm out}`.

**Theorem 3 (ReLU-like units** :math:`a\min(z,0)+b\max(z,0)`, :math:`a\ne b`: ReLU, leaky ReLU,
:math:`|z|` **with hidden biases).** :math:`\sigma(u)=\sigma'(u)u` (positive homogeneity), so per unit
:math:`\sigma(u_i)` lies in the span of :math:`\sigma'(u_i)(x,1)`, and the rescaling
:math:`(w_i,b_i,V_{\cdot i})\to(\lambda w_i,\lambda b_i,V_{\cdot i}/\lambda)` is a null vector when ``W``,
``b`` and ``v`` are all trained. Nothing else is null: across the hyperplane :math:`u_i=0` (distinct
for distinct units) only unit :math:`i` jumps, by :math:`(b-a)\,p(x)`, so :math:`p` vanishes on it,
:math:`p=\lambda u_i`; the rest is :math:`\sum_i\lambda_i\sigma(u_i)+e`, whose gradient jumps by
:math:`(b-a)\lambda_iw_i` across :math:`u_i=0`, so :math:`\lambda_i=0` and :math:`e=0`. With a frozen
nonzero bias the rescaling is not allowed (it moves :math:`b_i`) and the rank is full. Rank
:math:`P-N_h` (all of ``W``, ``b``, ``v`` trained) or :math:`P` — for every :math:`N_i\ge1`: hidden biases
add :math:`N_h`, the output bias 1 (:math:`n_{\rm out}`). Without hidden biases (ReLU, :math:`N_i\ge2`) the
same jump argument on the hyperplanes through 0 gives :math:`P-N_h` when ``W`` and ``v`` are trained;
the output bias adds :math:`n_{\rm out}` (the units are positively homogeneous of degree 1, a constant is
of degree 0).

**Theorem 4 (linear, several outputs).** :math:`f=VWx+(Vb+b_0)`: the image is the set of
:math:`n_{\rm out}\times N_i` matrices of rank :math:`\le r=\min(N_h,N_i,n_{\rm out})`, of dimension
:math:`r(n_{\rm out}+N_i-r)` (the multiplication map is a submersion onto it at factors of full rank),
plus the constant: with hidden biases only :math:`V[W\,|\,b]` is an :math:`n_{\rm out}\times(N_i+1)`
matrix of rank :math:`\le r'=\min(N_h,N_i+1,n_{\rm out})`, :math:`r'(n_{\rm out}+N_i+1-r')`; with an
output bias :math:`r(n_{\rm out}+N_i-r)+n_{\rm out}`. One output: :math:`N_i+1` with any bias (**+1 holds**).

Other activations and trained subsets: no rule here (``None``); the rank is measured.
"""

from __future__ import annotations

from ..activations import Activation
from ..activations.base import RankRule
from ..activations.relu import ReLU
from .span_rank import Layout, network_layout

__all__ = ["activation_family", "general_rule", "FAMILIES"]

#: families with a rule, and the theorem behind each (module docstring)
FAMILIES = {
    "gaussian tail": "Theorem 1(a): exponential polynomials on generic lines",
    "poles": "Theorem 1(b): singular hyperplanes off the real points",
    "frequencies": "Theorem 1(c): distinct frequencies",
    "exp": "Theorem 2: the hidden bias is a rescaling of v",
    "relu-like": "Theorem 3: positive homogeneity and the kinks",
    "linear": "Theorem 4: matrices of bounded rank",
}


def activation_family(act: Activation) -> str | None:
    """The family of :data:`FAMILIES` an activation belongs to (its ``unit_family`` hook, or linear), or ``None``."""
    if act.unit_family is not None:
        return act.unit_family
    if act.is_polynomial:
        try:
            c = act.polynomial_coeffs()
        except Exception:  # symbolic coefficients
            return None
        if all(x == 0 for k, x in enumerate(c) if k != 1) and len(c) > 1 and c[1] != 0:
            return "linear"
    return None


def _linear_value(lay: Layout) -> int:
    Ni, Nh, n = lay.n_in, lay.n_hidden, lay.n_out
    r = min(Nh, Ni, n)
    if lay.output_bias:
        return r * (n + Ni - r) + n
    if lay.hidden_bias:
        r1 = min(Nh, Ni + 1, n)
        return r1 * (n + Ni + 1 - r1)
    return r * (n + Ni - r)


def general_rule(act: Activation, n_in: int, n_hidden: int, *, hidden_bias: bool = False, output_bias: bool = False,
                 n_out: int = 1, trainable: object = None) -> RankRule | None:
    r"""The generic Hessian rank with biases, several outputs and frozen groups, or ``None`` (no rule).

    See the module docstring for the theorems. ``trainable`` is a subset of ``("W", "v", "b", "b_out")``
    (groups the network has).

    Examples
    --------
    >>> from symhess.activations import activation
    >>> general_rule(activation("erf"), 3, 4, hidden_bias=True, output_bias=True).value   # P = 4*5 + 1
    21
    >>> general_rule(activation("relu"), 3, 4, hidden_bias=True).value                    # P - N_h
    16
    >>> general_rule(activation("exp"), 3, 4, hidden_bias=True).value                     # the no-bias P
    16
    """
    lay = network_layout(n_in, n_hidden, n_out=n_out, hidden_bias=hidden_bias, output_bias=output_bias,
                         trainable=trainable)
    fam = activation_family(act)
    if fam is None:
        return None
    P, Nh, tr = lay.n_params, lay.n_hidden, set(lay.trained)
    all_trained = len(lay.trained) == len(lay.sizes) - (not hidden_bias) - (not output_bias)
    why = FAMILIES[fam]
    if fam in ("gaussian tail", "poles", "frequencies"):
        return RankRule(P, "full rank (independent units)", "exact", "P (trained parameters)",
                        why + "; generic weights: w_i != 0, (w_i, b_i) != +-(w_k, b_k), V columns nonzero")
    if fam == "exp":
        null = Nh if {"b", "v"} <= tr else 0
        return RankRule(P - null, "exp: hidden bias = rescaling of v", "exact",
                        "P - N_h (b and v trained)" if null else "P", why)
    if fam == "relu-like":
        if hidden_bias:
            null = Nh if {"W", "b", "v"} <= tr else 0
            return RankRule(P - null, "positive homogeneity (kinks at distinct hyperplanes)", "exact",
                            "P - N_h (W, b, v trained)" if null else "P (a frozen bias fixes the scale)",
                            why + "; generic weights: the hyperplanes w_i.x + b_i = 0 pairwise distinct, b_i != 0")
        if isinstance(act, ReLU) and n_in >= 2:
            null = Nh if {"W", "v"} <= tr else 0
            return RankRule(P - null, "ReLU homogeneity", "exact", "P - N_h (W and v trained)" if null else "P",
                            why + "; generic weights: rows pairwise non-parallel, V columns nonzero")
        if n_out == 1 and all_trained and output_bias:  # the unit's own no-bias rule + the constant
            base = act.counting_rule(n_in, n_hidden)
            if base is not None:
                return RankRule(base.value + 1, base.rule + " + output bias", base.status, f"({base.formula}) + 1",
                                "the units are positively homogeneous of degree 1, a constant of degree 0")
        return None
    if fam == "linear":
        if not all_trained:
            return None
        return RankRule(_linear_value(lay), "linear: matrices of rank <= min(N_h, N_i, n_out)", "exact",
                        "r(n_out + N_i - r) + n_out [output bias]; r'(n_out + N_i + 1 - r') [hidden bias only]", why)
    return None
