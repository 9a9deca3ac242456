r"""Block formulas of the expected Hessian with hidden biases, several outputs and correlated inputs.

Place in the package: the two-layer teacher-student family (symbolic side). The network is

.. math::

    f_o(x) = \sum_i v_{oi}\,\sigma(u_i) + b^{\rm out}_o,\qquad u_i = w_i\cdot x + b_i,\qquad
    x\sim N(0, \Sigma),\qquad o = 1..n_{\rm out},

with the loss :math:`\tfrac12\sum_oE[(f_o-f^\star_o)^2]` and the parameters
:math:`\theta=(W\text{ row-major}, V\text{ row-major}, b, b^{\rm out})` (absent groups left out). The
pre-activations are Gaussian with means :math:`E[u_i]=b_i` and covariance :math:`Q=W\Sigma W^\top`.
Stein's lemma under :math:`N(0,\Sigma)`,

.. math::

    E[x_j\,g(u_i,u_k)] = (\Sigma w_i)_j\,E[\partial_ug] + (\Sigma w_k)_j\,E[\partial_vg],

is unchanged by the means, so each block keeps the tensor basis of the centred case with
:math:`\delta_{jl}\to\Sigma_{jl}` and :math:`W_{ij}\to(\Sigma w_i)_j`. Per pair of hidden units
:math:`(i,k)` the Gauss–Newton part :math:`\sum_oE[\nabla f_o\nabla f_o^\top]` (the whole Hessian at
the optimum) has the blocks, with :math:`(V^\top V)_{ik}=\sum_ov_{oi}v_{ok}`,

.. math::

    [H_{WW}]_{(ij),(kl)} &= (V^\top V)_{ik}\,E[\sigma'(u_i)\sigma'(u_k)x_jx_l], &
    [H_{Wv}]_{(ij),(ok)} &= v_{oi}\,E[\sigma'(u_i)\sigma(u_k)x_j], \\
    [H_{vv}]_{(oi),(o'k)} &= \delta_{oo'}\,E[\sigma(u_i)\sigma(u_k)], &
    [H_{Wb}]_{(ij),k} &= (V^\top V)_{ik}\,E[\sigma'(u_i)\sigma'(u_k)x_j], \\
    [H_{vb}]_{(oi),k} &= v_{ok}\,E[\sigma(u_i)\sigma'(u_k)], &
    [H_{bb}]_{ik} &= (V^\top V)_{ik}\,E[\sigma'(u_i)\sigma'(u_k)],

and the output bias adds rows that involve one unit only,

.. math::

    [H_{Wb^{\rm out}}]_{(ij),o} = v_{oi}\,E[\sigma'(u_i)x_j],\quad
    [H_{vb^{\rm out}}]_{(oi),o'} = \delta_{oo'}E[\sigma(u_i)],\quad
    [H_{bb^{\rm out}}]_{i,o} = v_{oi}E[\sigma'(u_i)],\quad
    [H_{b^{\rm out}b^{\rm out}}]_{oo'} = \delta_{oo'}.

In particular :math:`H_{vv}=I_{n_{\rm out}}\otimes K` and :math:`H_{WW}=\big((V^\top V)\otimes 1\big)\circ\dots`:
several outputs change only the output-weight prefactors, never the Gaussian expectations.
For one output :math:`v_{oi}\to v_i`, :math:`(V^\top V)_{ik}\to v_iv_k`, :math:`\delta_{oo'}\to1`.

The residual part :math:`\sum_oE[e_o\nabla^2f_o]` lives on :math:`i=i'` and pairs unit :math:`i` with
every residual unit :math:`k` of signed output weight :math:`s_{ok}` (written :math:`v_{ok}`, student
units :math:`v_{ok}`, teacher units :math:`-v^\star_{ok}`) and bias :math:`b_k` (the teacher's own for a
teacher unit):

.. math::

    [H^{\mathrm{res},k}_{WW}]_{(ij),(il)} = (V^\top S)_{ik}E[\sigma''(u_i)\sigma(u_k)x_jx_l],\quad
    [H^{\mathrm{res},k}_{Wv}]_{(ij),(oi)} = s_{ok}E[\sigma'(u_i)\sigma(u_k)x_j],

:math:`[H^{\mathrm{res},k}_{Wb}]_{(ij),i}=(V^\top S)_{ik}E[\sigma''(u_i)\sigma(u_k)x_j]`,
:math:`[H^{\mathrm{res},k}_{vb}]_{(oi),i}=s_{ok}E[\sigma'(u_i)\sigma(u_k)]`,
:math:`[H^{\mathrm{res},k}_{bb}]_{ii}=(V^\top S)_{ik}E[\sigma''(u_i)\sigma(u_k)]`. With an output
bias the residual also has the constant :math:`\Delta b_o=b^{\rm out}_o-b^{\star\rm out}_o`, a partner
of unit :math:`i` alone: the blocks ``*_offset``, the same expectations with :math:`\sigma(u_k)\to1` and
:math:`s_{ok}\to\Delta b_o` (one output: ``db_out``; several: :math:`\Delta b_o` and
:math:`(V^\top\Delta b)_i`). The output-bias rows have no residual part (:math:`f` is linear in
:math:`b^{\rm out}`).

Expectations with means come from :mod:`symhess.expectation.means`: exact moments for polynomials,
closed forms for ReLU and erf (single expectations elementary; pairs through the bivariate normal
distribution function :math:`\Phi_2`, not an elementary function), and named unevaluated
expectations (:mod:`symhess.expectation.mean_nodes`) where no closed form is known; each formula's
``routes`` say which.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from ..activations import Activation
from ..activations.bivariate_normal import BivariateNormalCDF
from ..errors import InvalidParameterError, InvalidTypeError
from ..expectation.mean_nodes import mean_nodes
from ..expectation.means import MEAN_ARGS, SINGLE_ARGS, pair_expectation_means, single_expectation_means
from ..expectation.pairs import pair_expectation, single_expectation
from ..expectation.stein import diagonal_template, pair_template
from ..symbols import (
    OVERLAP_ARGS, PAIR_ARGS, Q_ii, Q_ik, Q_kk, Sigma_jl, Sw_ij, Sw_il, Sw_kj, Sw_kl, VV_ik, W_ij, W_il,
    W_kj, W_kl, Vdb_i, b_i, b_k, db_o, db_out, delta_jl, delta_oo, q, v_i, v_k, v_oi, v_ok,
)
from .templates import BlockSpec

__all__ = [
    "BlockOptions", "as_block_options", "OPTION_BLOCKS", "OPTION_RESIDUAL", "basis_symbols", "ROUTE_PHI2",
    "ROUTE_UNEVALUATED", "derive_option_blocks"
]

#: route of a closed form that contains the bivariate normal distribution function
ROUTE_PHI2 = "closed form with Phi_2 (bivariate normal CDF; not elementary, Owen's T numerically)"
#: route of an expectation with no closed form: a named, unevaluated expectation
ROUTE_UNEVALUATED = "no closed form: unevaluated expectation"

#: prefactor names -> (one output, several outputs)
_PREFACTORS = {
    "v_i v_k": (v_i * v_k, VV_ik),
    "v_i": (v_i, v_oi),
    "v_k": (v_k, v_ok),
    "1": (sp.Integer(1), delta_oo),
    "v_i db": (v_i * db_out, Vdb_i),
    "db": (db_out, db_o),
}


@dataclass(frozen=True)
class BlockOptions:
    r"""Which architecture the block formulas are derived for.

    Attributes
    ----------
    hidden_bias : bool
        Biases :math:`b_i` inside the activation (numeric keyword ``b``): the pre-activations get
        means, and the blocks ``Wb``, ``vb``, ``bb`` appear.
    output_bias : bool
        An output bias :math:`b^{\rm out}_o` (numeric keyword ``b_out``): the blocks ``Wb_out``,
        ``vb_out``, ``bb_out``, ``b_outb_out``.
    n_out : int
        Number of outputs (numeric: ``v`` of shape ``(n_out, Nh)``); more than one changes the
        output-weight prefactors to :math:`(V^\top V)_{ik}`, :math:`v_{oi}`, :math:`\delta_{oo'}`.
    input_cov : bool
        Inputs :math:`x\sim N(0,\Sigma)` (numeric keyword ``input_cov``): :math:`Q=W\Sigma W^\top`,
        :math:`\delta_{jl}\to\Sigma_{jl}`, :math:`W_{ij}\to(\Sigma w_i)_j`.
    """

    hidden_bias: bool = False
    output_bias: bool = False
    n_out: int = 1
    input_cov: bool = False

    def __post_init__(self) -> None:
        for name in ("hidden_bias", "output_bias", "input_cov"):
            value = getattr(self, name)
            if not isinstance(value, bool):
                raise InvalidTypeError(f"{name}={value!r} must be True or False")
        n = self.n_out
        if isinstance(n, bool) or not isinstance(n, int):
            raise InvalidTypeError(f"n_out={n!r} must be an integer")
        if n < 1:
            raise InvalidParameterError(f"n_out={n} must be >= 1")

    @property
    def default(self) -> bool:
        """The paper's network: no biases, one output, :math:`\\Sigma=I`."""
        return self == BlockOptions()

    @property
    def multi_output(self) -> bool:
        return self.n_out > 1

    @property
    def groups(self) -> tuple[str, ...]:
        """The parameter groups, in the order of :math:`\\theta`."""
        return ("W", "v") + (("b",) if self.hidden_bias else ()) + (("b_out",) if self.output_bias else ())


def as_block_options(options: object = None, **flags: object) -> BlockOptions:
    """A :class:`BlockOptions` from an instance or the keywords ``hidden_bias, output_bias, n_out, input_cov``."""
    if options is not None:
        if not isinstance(options, BlockOptions):
            raise InvalidTypeError(f"options={options!r} must be a BlockOptions")
        if any(v is not None for v in flags.values()):
            raise InvalidParameterError("give either options=BlockOptions(...) or the keywords, not both")
        return options
    given = {k: v for k, v in flags.items() if v is not None}
    return BlockOptions(**given)


@dataclass(frozen=True)
class _Block:
    """One block: its Stein expectation, prefactor and how many units it involves."""

    spec: BlockSpec
    units: int  # 2: a pair of hidden units; 1: one unit (output-bias rows); 0: a constant


def _b(name: str, alpha: int, beta: int, n_x: int, pref: str, units: int = 2) -> _Block:
    return _Block(BlockSpec(name, alpha, beta, n_x, pref), units)


#: Gauss–Newton blocks with options: (name, alpha, beta, n_x, prefactor, units)
OPTION_BLOCKS = {
    "WW": _b("WW", 1, 1, 2, "v_i v_k"),
    "Wv": _b("Wv", 1, 0, 1, "v_i"),
    "vv": _b("vv", 0, 0, 0, "1"),
    "Wb": _b("Wb", 1, 1, 1, "v_i v_k"),
    "vb": _b("vb", 0, 1, 0, "v_k"),
    "bb": _b("bb", 1, 1, 0, "v_i v_k"),
    "Wb_out": _b("Wb_out", 1, 0, 1, "v_i", units=1),
    "vb_out": _b("vb_out", 0, 0, 0, "1", units=1),
    "bb_out": _b("bb_out", 1, 0, 0, "v_i", units=1),
    "b_outb_out": _b("b_outb_out", 0, 0, 0, "1", units=0),
}

#: residual blocks with options (unit i against residual unit k; prefactors include k's signed weight)
OPTION_RESIDUAL = {
    "WW": _b("WW", 2, 0, 2, "v_i v_k"),
    "Wv": _b("Wv", 1, 0, 1, "v_k"),
    "Wb": _b("Wb", 2, 0, 1, "v_i v_k"),
    "vb": _b("vb", 1, 0, 0, "v_k"),
    "bb": _b("bb", 2, 0, 0, "v_i v_k"),
    # the residual's constant offset from the output biases, as a partner of unit i
    "WW_offset": _b("WW", 2, 0, 2, "v_i db", units=1),
    "Wv_offset": _b("Wv", 1, 0, 1, "db", units=1),
    "Wb_offset": _b("Wb", 2, 0, 1, "v_i db", units=1),
    "vb_offset": _b("vb", 1, 0, 0, "db", units=1),
    "bb_offset": _b("bb", 2, 0, 0, "v_i db", units=1),
}


def basis_symbols(input_cov: bool) -> dict[str, sp.Expr]:
    r"""How each basis element prints: :math:`\delta_{jl}, W_{ij},\dots` or, under :math:`\Sigma`, :math:`\Sigma_{jl}, (\Sigma w_i)_j,\dots`."""
    if not input_cov:
        dl, a_j, a_l, b_j, b_l = delta_jl, W_ij, W_il, W_kj, W_kl
    else:
        dl, a_j, a_l, b_j, b_l = Sigma_jl, Sw_ij, Sw_il, Sw_kj, Sw_kl
    return {"1": sp.Integer(1), "a": a_j, "b": b_j, "delta": dl, "aa": a_j * a_l, "bb": b_j * b_l,
            "ab": a_j * b_l + b_j * a_l}


def _route(act: Activation, expr: sp.Expr) -> str:
    if act.is_polynomial:
        return "exact moments"
    if expr.has(BivariateNormalCDF):
        return ROUTE_PHI2
    return "closed form"


def _rational_node(x: sp.Expr) -> bool:
    return x.is_Add and bool(x.free_symbols) and not x.has(sp.Function) and all(
        not (p.is_Pow and not p.exp.is_Integer) for p in sp.preorder_traversal(x))


def _tidy(expr: sp.Expr) -> sp.Expr:
    """Cheap, exact tidying of a formula with means: rational sub-expressions cancelled and factored
    (inside exponentials, square roots and arguments of erf too); no full ``simplify``."""
    clean = lambda x: sp.factor(sp.cancel(x))  # noqa: E731
    expr = sp.powsimp(expr)
    expr = expr.replace(_rational_node, clean)
    expr = expr.replace(lambda x: isinstance(x, (sp.exp, sp.erf)), lambda x: x.func(clean(x.args[0])))
    expr = expr.replace(lambda x: x.is_Pow and not x.exp.is_Integer, lambda x: sp.Pow(clean(x.base), x.exp))
    return sp.factor_terms(expr)


@lru_cache(maxsize=None)
def _pair(act: Activation, a: int, b: int, bias: bool) -> tuple[sp.Expr, str]:
    """:math:`E[\\sigma^{(a)}(u_i)\\sigma^{(b)}(u_k)]` in ``Q_ii, Q_kk, Q_ik`` (and ``b_i, b_k``)."""
    if not bias:
        expr, route = pair_expectation(act, a, b, with_route=True)
        return expr.subs(dict(zip(PAIR_ARGS, OVERLAP_ARGS)), simultaneous=True), route
    to = dict(zip(MEAN_ARGS, (b_i, b_k, Q_ii, Q_kk, Q_ik)))
    expr = pair_expectation_means(act, a, b)
    if expr is None:
        node = mean_nodes(act)[0]
        return node(a, b, b_i, b_k, Q_ii, Q_kk, Q_ik), ROUTE_UNEVALUATED
    return _tidy(expr.subs(to, simultaneous=True)), _route(act, expr)


@lru_cache(maxsize=None)
def _diagonal(act: Activation, a: int, b: int, n: int, bias: bool) -> tuple[sp.Expr, str]:
    """:math:`E[(\\sigma^{(a)}\\sigma^{(b)})^{(n)}(u_i)]` in ``Q_ii`` (and ``b_i``)."""
    if not bias:
        expr, route = single_expectation(act, a, b, n, with_route=True)
        return expr.subs(q, Q_ii), route
    expr = single_expectation_means(act, (a, b), n)
    if expr is None:
        return mean_nodes(act)[1](a, b, n, b_i, Q_ii), ROUTE_UNEVALUATED
    return _tidy(expr.subs(dict(zip(SINGLE_ARGS, (b_i, Q_ii))), simultaneous=True)), _route(act, expr)


@lru_cache(maxsize=None)
def _single(act: Activation, a: int, bias: bool) -> tuple[sp.Expr, str]:
    """:math:`E[\\sigma^{(a)}(u_i)]`, :math:`u_i\\sim N(b_i, Q_{ii})` (:math:`b_i=0` without hidden biases)."""
    mean = b_i if bias else sp.Integer(0)
    expr = single_expectation_means(act, (a,), 0)
    if expr is None:
        return mean_nodes(act)[2](a, mean, Q_ii), ROUTE_UNEVALUATED
    return _tidy(expr.subs(dict(zip(SINGLE_ARGS, (mean, Q_ii))), simultaneous=True)), _route(act, expr)


def _unit_template(alpha: int, n_x: int) -> dict[str, int]:
    r""":math:`E[\sigma^{(\alpha)}(u)x^{\otimes n_x}]` by Stein's lemma: basis -> derivative order."""
    return {0: {"1": alpha}, 1: {"a": alpha + 1}, 2: {"delta": alpha, "aa": alpha + 2}}[n_x]


def derive_option_blocks(act: Activation, part: str, options: BlockOptions) -> dict[str, dict]:
    """The block formulas of :func:`symhess.two_layer.blocks.derive_blocks` for non-default options.

    Returns block name -> the fields of a :class:`symhess.two_layer.blocks.BlockFormula` (which
    ``derive_blocks`` builds from them).
    """
    bias = options.hidden_bias
    multi = options.multi_output
    basis = basis_symbols(options.input_cov)
    table = OPTION_BLOCKS if part == "gauss_newton" else OPTION_RESIDUAL
    out = {}
    for name, blk in table.items():
        groups = _groups_of(name)
        if not all(g in options.groups for g in groups):
            continue
        spec = blk.spec
        pref = _PREFACTORS[spec.prefactor][1 if multi else 0]
        coeffs, diag, routes = {}, {}, {}
        if blk.units == 2:
            for key, (a, b) in pair_template(spec.alpha, spec.beta, spec.n_x).items():
                coeffs[key], routes[key] = _pair(act, a, b, bias)
            for key, (a, b, n) in diagonal_template(spec.alpha, spec.beta, spec.n_x).items():
                diag[key], _ = _diagonal(act, a, b, n, bias)
        elif blk.units == 1:
            for key, order in _unit_template(spec.alpha, spec.n_x).items():
                coeffs[key], routes[key] = _single(act, order, bias)
            diag = dict(coeffs)
        else:
            coeffs = {"1": sp.Integer(1)}
            diag = dict(coeffs)
            routes = {"1": "constant"}
        out[name] = dict(name=name, part=part, spec=spec, prefactor=pref, coefficients=coeffs, diagonal=diag,
                         routes=routes, basis=basis, units=blk.units, options=options)
    return out


def _groups_of(name: str) -> tuple[str, ...]:
    """``"Wb_out"`` -> ``("W", "b_out")``; a residual offset block also needs the output bias."""
    if name.endswith("_offset"):
        return _groups_of(name[:-7]) + ("b_out",)
    first = name[0]
    rest = name[1:]
    if name.startswith("b_out"):
        first, rest = "b_out", name[5:]
    return (first, rest)
