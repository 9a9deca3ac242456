r"""Per-pair Hessian block formulas in the overlaps :math:`Q_{ii}, Q_{kk}, Q_{ik}`: :func:`derive_blocks`.

Place in the package: the two-layer teacher-student family. The typed block representation:
:class:`BlockTemplate` (which pair expectations each basis element of a block entry is, the input
of every numeric route) and :class:`BlockFormula` (those expectations derived as formulas). Combines the block templates of :mod:`symhess.two_layer.templates` with the
pair expectations of :mod:`symhess.expectation.pairs` into one SymPy formula per block entry,
for :math:`i\ne k` and for :math:`i=k`. With :math:`a=w_i`, :math:`b=w_k` the tensor basis prints
as :math:`\delta_{jl}`, :math:`W_{ij}W_{il}`, :math:`W_{kj}W_{kl}`, :math:`W_{ij}W_{kl}+W_{kj}W_{il}`,
:math:`W_{ij}`, :math:`W_{kj}`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Mapping

import sympy as sp

from ..activations import Activation, ActivationLike, activation as get_activation
from .templates import BLOCK_PARTS, GAUSS_NEWTON, RESIDUAL, BlockSpec, check_part
from ..expectation.stein import diagonal_template, pair_template
from ..errors import InvalidParameterError
from ..symbols import (
    OVERLAP_ARGS, PAIR_ARGS, Q_ii, VV_ii, VV_ik, W_ij, W_il, W_kj, W_kl, delta_jl, q, v_i, v_k, v_oi, v_ok,
)
from ..expectation.pairs import pair_expectation, single_expectation

__all__ = ["BlockTemplate", "block_template", "BlockFormula", "derive_blocks", "BASIS_SYMBOLS", "PARTS"]

#: how each basis element prints in a block entry
BASIS_SYMBOLS: dict[str, sp.Expr] = {
    "1": sp.Integer(1),
    "a": W_ij,
    "b": W_kj,
    "delta": delta_jl,
    "aa": W_ij * W_il,
    "bb": W_kj * W_kl,
    "ab": W_ij * W_kl + W_kj * W_il,
}

_PREFACTORS = {"v_i v_k": v_i * v_k, "v_i": v_i, "1": sp.Integer(1)}

#: parts of the Hessian that derive_blocks knows (:data:`symhess.two_layer.templates.BLOCK_PARTS`)
PARTS = BLOCK_PARTS


@dataclass(frozen=True)
class BlockTemplate:
    r"""The pair expectations one block entry is made of: the representation every route evaluates.

    Attributes
    ----------
    spec : BlockSpec
        The block, its derivative orders, input factors and output-weight prefactor.
    pair : dict
        Basis element -> :math:`(\alpha', \beta')` of :math:`K_{\alpha'\beta'}(Q_{ii}, Q_{kk}, Q_{ik})`
        (two different units, :func:`symhess.expectation.stein.pair_template`).
    diagonal : dict
        Basis element -> :math:`(\alpha, \beta, m)` of :math:`D^{(m)}_{\alpha\beta}(Q_{ii})` (a unit with
        itself, :func:`symhess.expectation.stein.diagonal_template`); a basis element missing here is 0.

    The symbolic route (:func:`symhess.two_layer.blocks.derive_blocks`) derives these expectations
    as formulas, the float route (:func:`symhess.two_layer.pairs.template_matrices`) evaluates
    them with compiled kernels, and the exact and ball routes (:mod:`symhess.two_layer.objects`)
    over rationals or balls; :func:`symhess.two_layer.assemble.write_gauss_newton` places them.
    """

    spec: BlockSpec
    pair: Mapping[str, tuple[int, int]]
    diagonal: Mapping[str, tuple[int, int, int]]

    @property
    def pair_keys(self) -> tuple[tuple[int, int], ...]:
        """The distinct pair expectations needed, sorted."""
        return tuple(sorted(set(self.pair.values())))

    @property
    def diagonal_keys(self) -> tuple[tuple[int, int, int], ...]:
        """The distinct one-unit expectations needed, sorted."""
        return tuple(sorted(set(self.diagonal.values())))


@lru_cache(maxsize=None)
def block_template(spec: BlockSpec) -> BlockTemplate:
    """The :class:`BlockTemplate` of a block: Stein's lemma applied to its expectation."""
    return BlockTemplate(
        spec, pair_template(spec.alpha, spec.beta, spec.n_x), diagonal_template(spec.alpha, spec.beta, spec.n_x)
    )


@dataclass(frozen=True)
class BlockFormula:
    r"""The expected-Hessian entry of one block for one pair of units, as SymPy expressions.

    Attributes
    ----------
    name : str
        ``"WW"``, ``"Wv"`` or ``"vv"``.
    part : str
        ``"gauss_newton"`` (the whole Hessian at the optimum) or ``"residual"``.
    prefactor : sympy.Expr
        Output weights in front (``v_i*v_k``, ``v_i`` or 1). For the residual part, ``v_k`` stands
        for the signed output weight :math:`s_k` of the residual unit :math:`k`
        (:math:`e=\sum_k s_k\sigma(w_k\cdot x)`: student units :math:`s_k=v_k`, teacher units
        :math:`s_k=-v^\star_k`).
    coefficients : dict
        Basis element -> coefficient in ``Q_ii, Q_kk, Q_ik`` (pair of different units).
    diagonal : dict
        Basis element -> coefficient in ``Q_ii`` (a unit with itself).
    routes : dict
        Basis element -> how its expectation was obtained.
    basis : dict
        Basis element -> how it prints (:data:`BASIS_SYMBOLS`; under an input covariance
        :math:`\Sigma_{jl}`, :math:`(\Sigma w_i)_j`, ...).
    units : int
        2: an entry of a pair of hidden units :math:`(i, k)`; 1: of one unit (rows of the output
        bias; ``entry`` and ``diagonal_entry`` then coincide); 0: a constant.
    options : BlockOptions or None
        The architecture (:class:`symhess.two_layer.architecture_blocks.BlockOptions`); ``None`` for
        the paper's network.
    """

    name: str
    part: str
    spec: BlockSpec
    prefactor: sp.Expr
    coefficients: Mapping[str, sp.Expr]
    diagonal: Mapping[str, sp.Expr]
    routes: Mapping[str, str] = field(default_factory=dict)
    basis: Mapping[str, sp.Expr] = field(default_factory=lambda: BASIS_SYMBOLS)
    units: int = 2
    options: Any = None

    @property
    def template(self) -> BlockTemplate:
        """The pair expectations these formulas are (what the numeric routes evaluate).

        Raises
        ------
        InvalidParameterError
            For a block of one unit or a constant (the output-bias rows): it pairs no two units.
        """
        if self.units != 2:
            raise InvalidParameterError(f"block {self.name!r} involves one hidden unit or none: it has no pair template")
        return block_template(self.spec)

    @property
    def entry(self) -> sp.Expr:
        r"""The entry for :math:`i\ne k`: prefactor times :math:`\sum` coefficient :math:`\times` basis."""
        return self.prefactor * sp.Add(*[cf * self.basis[b] for b, cf in self.coefficients.items()])

    @property
    def diagonal_prefactor(self) -> sp.Expr:
        r"""The prefactor for :math:`i=k` (:math:`v_k\to v_i`, :math:`(V^\top V)_{ik}\to(V^\top V)_{ii}`)."""
        return self.prefactor.subs({v_k: v_i, VV_ik: VV_ii, v_ok: v_oi})

    @property
    def diagonal_entry(self) -> sp.Expr:
        r"""The entry for :math:`i=k` (:math:`W_{kj}\to W_{ij}`, :math:`v_k\to v_i`)."""
        return self.diagonal_prefactor * sp.Add(*[cf * self.basis[b] for b, cf in self.diagonal.items()])

    @property
    def free_symbols(self) -> set[sp.Symbol]:
        return self.entry.free_symbols | self.diagonal_entry.free_symbols


@lru_cache(maxsize=None)
def _derive(act: Activation, part: str) -> dict[str, BlockFormula]:
    specs = GAUSS_NEWTON if part == "gauss_newton" else RESIDUAL
    to_overlaps = dict(zip(PAIR_ARGS, OVERLAP_ARGS))
    out = {}
    for name, spec in specs.items():
        template = block_template(spec)
        coeffs, routes = {}, {}
        for basis, (a, b) in template.pair.items():
            expr, route = pair_expectation(act, a, b, with_route=True)
            coeffs[basis] = expr.subs(to_overlaps, simultaneous=True)
            routes[basis] = route
        diag = {}
        for basis, (a, b, m) in template.diagonal.items():
            diag[basis] = single_expectation(act, a, b, m).subs(q, Q_ii)
        pref = _PREFACTORS[spec.prefactor]
        if part == "residual":  # the partner's signed output weight multiplies every term
            pref = pref * v_k
        out[name] = BlockFormula(name, part, spec, pref, coeffs, diag, routes)
    return out


def derive_blocks(
    act: ActivationLike,
    part: str = "gauss_newton",
    *,
    hidden_bias: bool | None = None,
    output_bias: bool | None = None,
    n_out: int | None = None,
    input_cov: bool | None = None,
    options: Any = None,
) -> dict[str, BlockFormula]:
    r"""Derive the per-pair formulas of the expected Hessian blocks for an activation.

    Parameters
    ----------
    act : str or Activation
        The activation (``"erf"``, ``"quadratic:eps=0.5"``, an instance, ...).
    part : {"gauss_newton", "residual"}
        ``"gauss_newton"``: :math:`E[\nabla f\nabla f^\top]`, the whole Hessian at the optimum
        (blocks ``WW``, ``Wv``, ``vv``). ``"residual"``: :math:`E[e\nabla^2 f]` away from it, per
        residual unit :math:`k` (blocks ``WW``, ``Wv``; both only on :math:`i = i'`).
    hidden_bias, output_bias : bool, optional
        Hidden biases :math:`b_i` (numeric keyword ``b``; blocks ``Wb``, ``vb``, ``bb``, the
        pre-activations get means :math:`u_i\sim N(b_i, Q_{ii})`) and an output bias (``b_out``; blocks
        ``Wb_out``, ``vb_out``, ``bb_out``, ``b_outb_out``, each of one unit).
    n_out : int, optional
        Number of outputs (numeric: ``v`` of shape ``(n_out, Nh)``); above 1 the prefactors become
        :math:`(V^\top V)_{ik}=\sum_ov_{oi}v_{ok}`, :math:`v_{oi}` and :math:`\delta_{oo'}`.
    input_cov : bool, optional
        Inputs :math:`x\sim N(0,\Sigma)` (numeric keyword ``input_cov``): :math:`Q=W\Sigma W^\top`
        and the basis :math:`\Sigma_{jl}`, :math:`(\Sigma w_i)_j` in place of :math:`\delta_{jl}`, :math:`W_{ij}`.
    options : BlockOptions, optional
        The same four choices as one object (:class:`symhess.two_layer.architecture_blocks.BlockOptions`).

    Returns
    -------
    dict
        Block name -> :class:`BlockFormula`, with ``.entry`` and ``.diagonal_entry``. Block names
        join the two parameter groups (``"Wb"``, ``"vb_out"``, ``"b_outb_out"``), as the numeric
        blocks do. With options, an expectation with means that has no closed form is a named,
        unevaluated expectation and its route says so
        (:mod:`symhess.two_layer.architecture_blocks`).

    Examples
    --------
    >>> derive_blocks("linear")["WW"].entry
    delta_jl*v_i*v_k
    >>> derive_blocks("linear", hidden_bias=True)["bb"].entry
    v_i*v_k
    """
    check_part(part, PARTS)
    act = get_activation(act)
    if options is None and all(x is None for x in (hidden_bias, output_bias, n_out, input_cov)):
        return dict(_derive(act, part))
    from .architecture_blocks import as_block_options

    opts = as_block_options(options, hidden_bias=hidden_bias, output_bias=output_bias, n_out=n_out,
                            input_cov=input_cov)
    if opts.default:
        return dict(_derive(act, part))
    return dict(_derive_options(act, part, opts))


@lru_cache(maxsize=None)
def _derive_options(act: Activation, part: str, opts: Any) -> dict[str, BlockFormula]:
    from .architecture_blocks import derive_option_blocks

    return {name: BlockFormula(**fields) for name, fields in derive_option_blocks(act, part, opts).items()}
