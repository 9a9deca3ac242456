r"""Per-pair Hessian block formulas in the overlaps :math:`Q_{ii}, Q_{kk}, Q_{ik}`: :func:`derive_blocks`.

Place in the package: the two-layer teacher-student family. Combines the block templates of :mod:`symhess.two_layer.templates` with the
pair expectations of :mod:`symhess.expectation.pairs` into one SymPy formula per block entry,
for :math:`i\ne k` and for :math:`i=k`. With :math:`a=w_i`, :math:`b=w_k` the tensor basis prints
as :math:`\delta_{jl}`, :math:`W_{ij}W_{il}`, :math:`W_{kj}W_{kl}`, :math:`W_{ij}W_{kl}+W_{kj}W_{il}`,
:math:`W_{ij}`, :math:`W_{kj}`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Mapping

import sympy as sp

from ..activations import Activation, ActivationLike, activation as get_activation
from .templates import GAUSS_NEWTON, RESIDUAL, BlockSpec
from ..expectation.stein import diagonal_template, pair_template
from ..symbols import OVERLAP_ARGS, PAIR_ARGS, Q_ii, W_ij, W_il, W_kj, W_kl, delta_jl, q, v_i, v_k
from ..expectation.pairs import pair_expectation, single_expectation

__all__ = ["BlockFormula", "derive_blocks", "BASIS_SYMBOLS", "PARTS"]

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

#: parts of the Hessian that derive_blocks knows
PARTS = ("gauss_newton", "residual")


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
    """

    name: str
    part: str
    spec: BlockSpec
    prefactor: sp.Expr
    coefficients: Mapping[str, sp.Expr]
    diagonal: Mapping[str, sp.Expr]
    routes: Mapping[str, str] = field(default_factory=dict)

    @property
    def entry(self) -> sp.Expr:
        r"""The entry for :math:`i\ne k`: prefactor times :math:`\sum` coefficient :math:`\times` basis."""
        return self.prefactor * sp.Add(*[cf * BASIS_SYMBOLS[b] for b, cf in self.coefficients.items()])

    @property
    def diagonal_entry(self) -> sp.Expr:
        r"""The entry for :math:`i=k` (:math:`W_{kj}\to W_{ij}`, :math:`v_k\to v_i`)."""
        pref = self.prefactor.subs(v_k, v_i)
        return pref * sp.Add(*[cf * BASIS_SYMBOLS[b] for b, cf in self.diagonal.items()])

    @property
    def free_symbols(self) -> set[sp.Symbol]:
        return self.entry.free_symbols | self.diagonal_entry.free_symbols


@lru_cache(maxsize=None)
def _derive(act: Activation, part: str) -> dict[str, BlockFormula]:
    specs = GAUSS_NEWTON if part == "gauss_newton" else RESIDUAL
    to_overlaps = dict(zip(PAIR_ARGS, OVERLAP_ARGS))
    out = {}
    for name, spec in specs.items():
        coeffs, routes = {}, {}
        for basis, (a, b) in pair_template(spec.alpha, spec.beta, spec.n_x).items():
            expr, route = pair_expectation(act, a, b, with_route=True)
            coeffs[basis] = expr.subs(to_overlaps, simultaneous=True)
            routes[basis] = route
        diag = {}
        for basis, (a, b, m) in diagonal_template(spec.alpha, spec.beta, spec.n_x).items():
            diag[basis] = single_expectation(act, a, b, m).subs(q, Q_ii)
        pref = _PREFACTORS[spec.prefactor]
        if part == "residual":  # the partner's signed output weight multiplies every term
            pref = pref * v_k
        out[name] = BlockFormula(name, part, spec, pref, coeffs, diag, routes)
    return out


def derive_blocks(act: ActivationLike, part: str = "gauss_newton") -> dict[str, BlockFormula]:
    r"""Derive the per-pair formulas of the expected Hessian blocks for an activation.

    Parameters
    ----------
    act : str or Activation
        The activation (``"erf"``, ``"quadratic:eps=0.5"``, an instance, ...).
    part : {"gauss_newton", "residual"}
        ``"gauss_newton"``: :math:`E[\nabla f\nabla f^\top]`, the whole Hessian at the optimum
        (blocks ``WW``, ``Wv``, ``vv``). ``"residual"``: :math:`E[e\nabla^2 f]` away from it, per
        residual unit :math:`k` (blocks ``WW``, ``Wv``; both only on :math:`i = i'`).

    Returns
    -------
    dict
        Block name -> :class:`BlockFormula`, with ``.entry`` and ``.diagonal_entry``.

    Examples
    --------
    >>> derive_blocks("linear")["WW"].entry
    delta_jl*v_i*v_k
    """
    if part not in PARTS:
        raise ValueError(f"part={part!r} is unknown; choose one of {PARTS}")
    return dict(_derive(get_activation(act), part))
