r"""Check a user's Hessian-block or Gaussian-expectation formula against symhess's derivation.

Place in the package: outputs, checking (imports activations, expectation, kernels and the check
helpers; never the CLI).

:func:`check_formula` compares a formula for one entry of a Hessian block with
``symhess.derive_blocks(act, part)[block].entry`` (hidden units :math:`i\ne k`) or
``.diagonal_entry`` (:math:`i=k`); :func:`check_expectation` compares a formula for
:math:`E[\sigma^{(a)}(u)\sigma^{(b)}(v)]` in :math:`(q_1,q_2,c)` with
``symhess.pair_expectation(act, a, b)`` (or a one-variable expectation in :math:`q`).

The valid domain matters: the overlaps :math:`Q` must be a Gram matrix, so points are drawn as
weight vectors :math:`w_i, w_k\in\mathbb R^4` (entries small integers for readable
counterexamples, or uniform on a grid of :math:`2\cdot10^6+1` rationals in :math:`[-1,1]` for the
probability bound) with :math:`Q_{ik}=w_i\cdot w_k`, :math:`W_{ij}=(w_i)_j`, so that
:math:`\Delta=Q_{ii}Q_{kk}-Q_{ik}^2>0`. A Hessian entry is checked in each index configuration it
covers: :math:`j\ne l` (:math:`\delta_{jl}=0`) and :math:`j=l` (:math:`\delta_{jl}=1`,
:math:`W_{il}=W_{ij}`, :math:`W_{kl}=W_{kj}`).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import sympy as sp

from ..activations import Activation, ActivationLike, activation as get_activation
from ..expectation.pairs import GaussianQuadrature, pair_expectation, single_expectation
from ..two_layer.blocks import derive_blocks
from ..symbols import Q_ii, Q_ik, Q_kk, W_ij, W_il, W_kj, W_kl, c, delta_jl, eps, q, q1, q2, scale, v_i, v_k
from .identity import Comparison, Instance, Point, TermDiff, compare
from .independent import QUADRATURE_TOL, independent_entry, independent_pair, quadrature_modules
from .notation import FormulaLike, NotationError, parse_formula, delta_ik

__all__ = ["FormulaCheck", "check_formula", "check_expectation", "BLOCKS", "PARTS", "PAIRS"]

BLOCKS = ("WW", "Wv", "vv")
#: parts of the Hessian (aliases: "optimum", "at_optimum", "gn" for "gauss_newton")
PARTS = ("gauss_newton", "residual")
PAIRS = ("auto", "offdiagonal", "diagonal", "both")
_PART_ALIASES = {"gauss_newton": "gauss_newton", "optimum": "gauss_newton", "at_optimum": "gauss_newton",
                 "gn": "gauss_newton", "gauss-newton": "gauss_newton", "residual": "residual"}

#: symbols that name the partner unit k
_K_SYMBOLS = {Q_kk, Q_ik, W_kj, W_kl, v_k, delta_ik}
#: i = k: the partner becomes unit i itself
_DIAGONAL = {Q_kk: Q_ii, Q_ik: Q_ii, W_kj: W_ij, W_kl: W_il, v_k: v_i, delta_ik: sp.Integer(1)}
_OFFDIAGONAL = {delta_ik: sp.Integer(0)}
#: j = l: one input index
_SAME_INPUT = {delta_jl: sp.Integer(1), W_il: W_ij, W_kl: W_kj}
_OTHER_INPUT = {delta_jl: sp.Integer(0)}
#: symbols each block entry can contain (besides activation parameters)
_BLOCK_SYMBOLS = {
    "WW": {Q_ii, Q_kk, Q_ik, W_ij, W_il, W_kj, W_kl, v_i, v_k, delta_jl, delta_ik},
    "Wv": {Q_ii, Q_kk, Q_ik, W_ij, W_kj, v_i, v_k, delta_ik},
    "vv": {Q_ii, Q_kk, Q_ik, v_i, v_k, delta_ik},
}
_PARAM_FIELDS = {eps: "eps", scale: "scale"}


@dataclass(frozen=True)
class _ZeroBlock:
    """The residual vv block: :math:`\\partial^2f/\\partial v_i\\partial v_k=0`, so its entries vanish."""

    entry: sp.Expr = sp.Integer(0)
    diagonal_entry: sp.Expr = sp.Integer(0)


_ZERO_BLOCK = _ZeroBlock()
_GENS = (delta_jl, W_ij, W_il, W_kj, W_kl, v_i, v_k)
_WEIGHTS = {Q_ii: 2, Q_kk: 2, Q_ik: 2, q1: 2, q2: 2, c: 2, q: 2}
#: grid of the "large" draws: integers in [-R, R] divided by R
_R = 10**6
_DIM = 4


@dataclass
class FormulaCheck:
    r"""Result of :func:`check_formula` / :func:`check_expectation`.

    Attributes
    ----------
    ok : bool
        Whether the formula equals symhess's (also ``bool(result)``).
    method : str
        ``"symbolic"`` or ``"numeric at N random points"``.
    counterexample : dict or None
        For a mismatch: ``configuration``, ``values`` (the point), ``yours``, ``expected``, the sampled
        network (``w_i``, ``w_k``, ``v_i``, ``v_k``, ``j``, ``l``), ``independent`` (the value by a route
        independent of symhess's formulas) and, at the optimum, ``assembled`` (the entry of
        :func:`symhess.expected_hessian` for that network) with ``python`` to reproduce it.
    difference : sympy.Expr
        ``yours - symhess`` (restricted to the differing terms when the formula is a sum); 0 when ok.
    terms : list of TermDiff
        Terms, matched by their monomial (:math:`\delta_{jl}`, :math:`W_{ij}W_{kl}`, ...), whose
        coefficients differ, with the constant ratio when there is one.
    formula, reference : sympy.Expr
        The user's formula in symhess's symbols, and symhess's formula.
    what : str
        What was checked.
    arithmetic, guarantee : str
        How values were computed, and what the verdict proves.
    failure_probability : float or None
        For a numeric pass in exact arithmetic, the Schwartz–Zippel bound on a false pass.
    mapping : dict
        How the user's symbol names were read.
    command : str or None
        A ``symhess check`` command line that reproduces this check.
    """

    ok: bool
    method: str
    counterexample: dict[str, Any] | None
    difference: sp.Expr
    terms: list[TermDiff]
    formula: sp.Expr
    reference: sp.Expr
    what: str
    arithmetic: str
    guarantee: str
    failure_probability: float | None
    mapping: dict[str, sp.Expr] = field(default_factory=dict)
    indices: str | None = None
    command: str | None = None

    def __bool__(self) -> bool:
        return self.ok

    def report(self) -> str:
        """A plain-text report: verdict, counterexample with both values, differing terms, command."""
        lines = [f"check: {self.what}"]
        if self.indices:
            lines.append(f"  index letters read as: {self.indices}")
        lines.append(f"  your formula: {self.formula}")
        lines.append(f"  symhess:      {self.reference}")
        verdict = "OK" if self.ok else "MISMATCH"
        lines.append(f"  result: {verdict} ({self.method}; {self.arithmetic})")
        lines.append(f"  {self.guarantee}")
        cex = self.counterexample
        if cex:
            lines.append(f"  counterexample ({cex['configuration']}):")
            lines.append("    " + ", ".join(f"{k} = {v}" for k, v in cex["values"].items()))
            lines.append(f"    your value:    {cex['yours']}")
            lines.append(f"    symhess value: {cex['expected']}")
            if "relative_difference" in cex:
                lines.append(f"    |yours - symhess| / max(1, |symhess|) = {sp.N(cex['relative_difference'], 6)}")
            ind = cex.get("independent")
            if ind:
                agree = "agrees with symhess" if ind["agrees"] else "DISAGREES with symhess: please report a symhess bug"
                lines.append(f"    independent route: {ind['value']}  ({agree}; {ind['route']})")
            if "assembled" in cex:
                lines.append(f"    network: W = {cex['W']}, v = {cex['v']}; "
                             f"symhess.expected_hessian(...)[{cex['entry'][0]}, {cex['entry'][1]}] = {cex['assembled']:.15g}")
                lines.append(f"    python: {cex['python']}")
        if self.terms:
            lines.append("  terms that differ:")
            lines.extend(f"    {t.describe()}" for t in self.terms)
        if not self.ok:
            lines.append(f"  difference (yours - symhess): {self.difference}")
        if self.command:
            lines.append(f"  reproduce: {self.command}")
        return "\n".join(lines)

    __str__ = report


# -- sampling valid points ---------------------------------------------------------------------
def _draw(rng: np.random.Generator, kind: str, size: int, nonzero: bool = False) -> list[sp.Rational]:
    if kind == "small":
        pool = [-3, -2, -1, 1, 2, 3] if nonzero else [-2, -1, 0, 1, 2]
        return [sp.Integer(int(x)) for x in rng.choice(pool, size=size)]
    out = []
    for _ in range(size):
        k = int(rng.integers(-_R, _R + 1))
        while nonzero and k == 0:
            k = int(rng.integers(-_R, _R + 1))
        out.append(sp.Rational(k, _R))
    return out


def _draw_params(rng, kind, params: Sequence[sp.Symbol]) -> dict:
    values = {}
    for p in params:
        if p == scale:  # positive
            values[p] = (sp.Rational(int(rng.integers(1, 5)), 2) if kind == "small"
                         else sp.Rational(int(rng.integers(_R // 4, _R + 1)), _R))
        else:
            values[p] = _draw(rng, kind, 1, nonzero=True)[0]
    return values


def _block_sampler(same_unit: bool, same_input: bool, needed: set, params: Sequence[sp.Symbol], scale_down: bool):
    def sample(rng: np.random.Generator, kind: str) -> Point:
        for _ in range(1000):
            w_i = _draw(rng, kind, _DIM)
            w_k = w_i if same_unit else _draw(rng, kind, _DIM)
            if scale_down and kind == "small":  # quadrature references: keep the variances O(1)
                w_i = [x / 2 for x in w_i]
                w_k = w_i if same_unit else [x / 2 for x in w_k]
            qi = sum(x * x for x in w_i)
            qk = sum(x * x for x in w_k)
            qik = sum(x * y for x, y in zip(w_i, w_k))
            if qi == 0 or qk == 0 or (not same_unit and qi * qk - qik**2 == 0):
                continue
            break
        else:  # pragma: no cover - 1000 degenerate draws in a row
            raise RuntimeError("could not draw a nondegenerate pair of weight vectors")
        vi, vk = _draw(rng, kind, 2, nonzero=True)
        if same_unit:
            vk = vi
        j, l = 0, 0 if same_input else 1
        values = {
            Q_ii: qi, Q_kk: qk, Q_ik: qik, W_ij: w_i[j], W_il: w_i[l], W_kj: w_k[j], W_kl: w_k[l],
            v_i: vi, v_k: vk, delta_jl: sp.Integer(1 if same_input else 0),
        }
        values.update(_draw_params(rng, kind, params))
        values = {s: val for s, val in values.items() if s in needed}
        info = {"kind": kind, "w_i": tuple(w_i), "w_k": tuple(w_k), "v_i": vi, "v_k": vk, "j": j, "l": l,
                "same_unit": same_unit}
        return Point(values, info)

    return sample


def _pair_sampler(single: bool, needed: set, params: Sequence[sp.Symbol], scale_down: bool):
    def sample(rng: np.random.Generator, kind: str) -> Point:
        for _ in range(1000):
            a = _draw(rng, kind, 2)
            b = a if single else _draw(rng, kind, 2)
            if scale_down and kind == "small":
                a = [x / 2 for x in a]
                b = a if single else [x / 2 for x in b]
            qa, qb, ab = (sum(x * y for x, y in zip(s, t)) for s, t in ((a, a), (b, b), (a, b)))
            if qa == 0 or qb == 0 or (not single and qa * qb - ab**2 == 0):
                continue
            break
        else:  # pragma: no cover
            raise RuntimeError("could not draw a nondegenerate covariance")
        values = {q: qa} if single else {q1: qa, q2: qb, c: ab}
        values.update(_draw_params(rng, kind, params))
        return Point({s: val for s, val in values.items() if s in needed}, {"kind": kind})

    return sample


# -- activation parameters that the formula leaves symbolic --------------------------------------
def _resolve_activation(activation: ActivationLike, formula_syms: set) -> tuple[Activation, dict]:
    """Make activation parameters symbolic when the formula uses their symbol and the spec leaves them default."""
    act = get_activation(activation)
    subs: dict[sp.Symbol, sp.Expr] = {}
    explicit = set()
    if isinstance(activation, str):
        _, _, rest = activation.partition(":")
        explicit = {item.split("=")[0].strip() for item in rest.split(",") if "=" in item}
    fields_ = act.params
    make_symbolic = {}
    for sym, fname in _PARAM_FIELDS.items():
        if sym not in formula_syms:
            continue
        if fname not in fields_:
            raise NotationError(
                f"the formula uses {sym} but activation {act.spec!r} has no parameter {fname!r} "
                f"(parameters: {sorted(fields_) or 'none'})"
            )
        if isinstance(activation, str) and fname not in explicit:
            make_symbolic[fname] = sym
        else:
            subs[sym] = fields_[fname]
    if make_symbolic:
        act = get_activation(act.name, **{**{k: v for k, v in fields_.items()}, **make_symbolic})
    return act, subs


def _norm_block(block: str) -> str:
    if not isinstance(block, str):
        raise TypeError(f"block must be a string, one of {BLOCKS}; got {type(block).__name__}")
    key = block.strip()
    key = key[2:] if key[:2] in ("H_", "h_") else key
    if key.lower() == "vw":
        raise ValueError(f"block={block!r}: the vW block is the transpose of Wv; check its entries as block='Wv'")
    for name in BLOCKS:
        if key.lower() == name.lower():
            return name
    raise ValueError(f"block={block!r} is unknown; choose one of {BLOCKS}")


def _norm_part(part: str) -> str:
    key = str(part).strip().lower()
    if key not in _PART_ALIASES:
        raise ValueError(f"part={part!r} is unknown; choose 'gauss_newton' (the Hessian at the optimum) or "
                         "'residual' (the part E[e grad^2 f] away from it)")
    return _PART_ALIASES[key]


def _command(formula: FormulaLike, parts: list[str]) -> str | None:
    if isinstance(formula, str):
        text = formula
        syntax = []
    elif isinstance(formula, sp.Basic):
        text = sp.sstr(formula)
        syntax = ["--syntax", "sympy"]
    else:
        return None
    return " ".join(["symhess", "check", "--formula", shlex.quote(" ".join(text.split()))] + syntax + parts)


def _wrap(cmp: Comparison, *, formula_expr, reference, what, mapping, indices, command) -> FormulaCheck:
    return FormulaCheck(
        ok=cmp.ok, method=cmp.method, counterexample=cmp.counterexample, difference=cmp.difference,
        terms=cmp.terms, formula=formula_expr, reference=reference, what=what, arithmetic=cmp.arithmetic,
        guarantee=cmp.guarantee, failure_probability=cmp.failure_probability, mapping=mapping,
        indices=indices, command=command,
    )


def _agrees(a, b, exact: bool) -> bool:
    if exact and isinstance(a, sp.Basic) and isinstance(b, sp.Basic) and a.is_Rational and b.is_Rational:
        return a == b
    a, b = float(a), float(b)
    return abs(a - b) <= 1e-7 * max(1.0, abs(a), abs(b))


# -- public API ---------------------------------------------------------------------------------
def check_formula(
    formula: FormulaLike,
    activation: ActivationLike,
    block: str,
    *,
    part: str = "gauss_newton",
    pair: str = "auto",
    indices: str = "auto",
    definitions: Mapping[str, FormulaLike] | None = None,
    points: int = 24,
    seed: int = 0,
    budget: float | None = 5.0,
    dps: int = 50,
    syntax: str = "auto",
    symbolic: bool = True,
) -> FormulaCheck:
    r"""Check a formula for one entry of a Hessian block against symhess's derivation.

    The entries are those of the expected Hessian of :math:`\varepsilon=\frac12E_x[(f_\theta-f_{\theta^\star})^2]`,
    :math:`x\sim N(0,I)`, for :math:`f(x)=\sum_i v_i\sigma(w_i\cdot x)`:

    .. math::

        [H_{WW}]_{(ij),(kl)},\qquad [H_{Wv}]_{(ij),k},\qquad [H_{vv}]_{ik},

    at the optimum (``part="gauss_newton"``, the whole Hessian there) or the residual part
    :math:`E[e\,\nabla^2f]` per residual unit :math:`k` with signed output weight :math:`v_k`
    (``part="residual"``), as functions of :math:`Q_{ii}, Q_{kk}, Q_{ik}, W_{ij}, \dots`.

    Parameters
    ----------
    formula : str or sympy.Expr
        The user's formula: LaTeX (``r"\frac{2}{\pi}\arcsin(...)"``), SymPy syntax or an expression,
        in the notation of :mod:`symhess.check.notation` (``Q_{ik}``, ``W_{ij}``, ``v_i``,
        ``\delta_{jl}``, ``\epsilon``, ...; the paper's ``a_j``, ``W_{1,jk}`` with
        ``indices="jk,lm"`` also work, and are detected by ``indices="auto"``).
    activation : str or Activation
        ``"erf"``, ``"quadratic"``, ``"poly:coeffs=[1,0.3,0.2]"``, ... If the formula uses
        ``\epsilon`` (or the erf scale ``s``) and the spec leaves that parameter at its default, the
        check is made for a symbolic parameter (every value at once); otherwise the spec's value is
        substituted into the formula.
    block : {"WW", "Wv", "vv"}
        The block.
    part : {"gauss_newton", "residual"}
        The Hessian at the optimum, or the residual part away from it.
    pair : {"auto", "offdiagonal", "diagonal", "both"}
        Check the entry for hidden units :math:`i\ne k`, for :math:`i=k` (the formula with
        :math:`k\to i`), or both. ``"auto"``: off-diagonal when the formula names unit :math:`k`,
        diagonal otherwise.
    indices : str
        ``"auto"``, ``"ij,kl"`` (symhess) or ``"jk,lm"`` (the paper): row unit, row input, column unit,
        column input.
    definitions : dict, optional
        Auxiliary quantities used in the formula, e.g. ``{r"\tilde\Delta": "(1+2Q_{ii})(1+2Q_{kk})-4Q_{ik}^2"}``.
    points : int
        Random points per configuration when simplification does not decide.
    seed : int
        Seed of those points (the check is reproducible).
    budget : float or None
        Seconds for the symbolic step per configuration.
    dps : int
        Digits of the ``mpmath`` evaluation of non-rational formulas.
    syntax : {"auto", "latex", "sympy"}
        How to read a string formula.
    symbolic : bool
        Try simplification first (default). ``False`` decides by random points only (with the
        Schwartz–Zippel bound for rational formulas), e.g. for formulas too large to simplify.

    Returns
    -------
    FormulaCheck
        ``ok``, ``method``, ``counterexample``, ``difference``, ``terms``, ``report()``.

    Raises
    ------
    NotationError
        If the formula cannot be read or names a symbol outside the convention.
    ValueError
        For an unknown block, part or pair.

    Examples
    --------
    >>> r = check_formula(r"Q_{ik} + 2 Q_{ik}^2 + Q_{ii} Q_{kk}", "quadratic", "vv")
    >>> r.ok, r.method
    (True, 'symbolic')
    >>> r = check_formula(r"Q_{ik} + Q_{ik}^2 + Q_{ii} Q_{kk}", "quadratic", "vv")
    >>> r.ok, r.terms[0].ratio
    (False, 1/2)
    """
    block = _norm_block(block)
    part = _norm_part(part)
    if pair not in PAIRS:
        raise ValueError(f"pair={pair!r} is unknown; choose one of {PAIRS}")
    parsed = parse_formula(formula, "block", indices=indices, definitions=definitions, syntax=syntax)
    user = parsed.expr
    act, param_subs = _resolve_activation(activation, user.free_symbols)
    user = user.xreplace(param_subs)
    blocks = derive_blocks(act, part)
    if block not in blocks and (part, block) == ("residual", "vv"):
        blk = _ZERO_BLOCK  # f is linear in v: d^2 f / dv_i dv_k = 0, so E[e grad^2_vv f] = 0
    elif block not in blocks:  # pragma: no cover - derive_blocks has every other block
        raise ValueError(f"block={block!r} has no {part} part; the {part} part has blocks {tuple(blocks)}")
    else:
        blk = blocks[block]
    params = sorted((blk.entry.free_symbols | blk.diagonal_entry.free_symbols) & set(_PARAM_FIELDS), key=str)
    allowed = _BLOCK_SYMBOLS[block] | set(params)
    stray = sorted(user.free_symbols - allowed, key=str)
    if stray:
        raise NotationError(
            f"the {block} entry cannot contain {', '.join(map(str, stray))}: its symbols are "
            f"{', '.join(sorted(map(str, allowed)))}"
            + (" (the Wv entry H_(ij),k has no column input index l)" if block == "Wv" else "")
        )
    if pair == "auto":
        pair = "offdiagonal" if user.free_symbols & _K_SYMBOLS else "diagonal"
    pairs = ["offdiagonal", "diagonal"] if pair == "both" else [pair]
    inputs = [False, True] if block == "WW" else [False]
    instances = []
    for pk in pairs:
        same_unit = pk == "diagonal"
        u = user.xreplace(_DIAGONAL if same_unit else _OFFDIAGONAL)
        ref = blk.diagonal_entry if same_unit else blk.entry
        mods = {**quadrature_modules(u), **quadrature_modules(ref)}
        needed = u.free_symbols | ref.free_symbols
        for same_input in inputs:
            label = ("i = k" if same_unit else "i != k") + (
                (", j = l" if same_input else ", j != l") if block == "WW" else "")
            instances.append(Instance(
                label=label, user=u, reference=ref,
                subs=_SAME_INPUT if same_input else _OTHER_INPUT,
                sample=_block_sampler(same_unit, same_input, needed, params, scale_down=bool(mods)),
                large_size=2 * _R + 1, weights=_WEIGHTS, gens=_GENS, extra_modules=mods,
                tol=QUADRATURE_TOL if mods else None,
            ))
    cmp = compare(instances, points=points, seed=seed, budget=budget, dps=dps, symbolic=symbolic)
    where = {"offdiagonal": "i != k", "diagonal": "i = k", "both": "i != k and i = k"}[pair]
    at = "at the optimum (Gauss-Newton part)" if part == "gauss_newton" else "residual part E[e grad^2 f], per residual unit k"
    entry = {"WW": "H_WW[(ij),(kl)]", "Wv": "H_Wv[(ij),k]", "vv": "H_vv[i,k]"}[block]
    what = f"{entry}, {where}, {at}, activation {act.spec}"
    reference = blk.entry if pairs == ["offdiagonal"] else (blk.diagonal_entry if pairs == ["diagonal"] else blk.entry)
    spec = activation if isinstance(activation, str) else act.spec
    cmd = ["--activation", shlex.quote(spec), "--block", block, "--part", part, "--pair", pair]
    if parsed.indices is not None and indices != "auto":
        cmd += ["--indices", parsed.indices.name]
    for name, body in (definitions or {}).items():
        cmd += ["--define", shlex.quote(f"{name}={body}")]
    if points != 24:
        cmd += ["--points", str(points)]
    if not symbolic:
        cmd += ["--numeric"]
    cmd += ["--seed", str(seed)]
    result = _wrap(cmp, formula_expr=user if pairs != ["diagonal"] else user.xreplace(_DIAGONAL),
                   reference=reference, what=what, mapping=dict(parsed.mapping),
                   indices=parsed.indices.describe() if parsed.indices else None,
                   command=_command(formula, cmd))
    if not result.ok and result.counterexample is not None:
        _confirm_entry(result, act, part, block, instances, cmp)
    return result


def _confirm_entry(result: FormulaCheck, act: Activation, part: str, block: str, instances, cmp) -> None:
    """Add an independent value, and the assembled Hessian entry, at the counterexample."""
    cex = result.counterexample
    if "w_i" not in cex:
        return
    values = {sym: sp.sympify(val) for sym, val in ((s, cex["values"].get(str(s))) for s in (eps, scale)) if val is not None}
    try:
        if (part, block) == ("residual", "vv"):
            ind = {"route": "f is linear in v, so d^2 f / dv_i dv_k = 0 and the residual part E[e grad^2 f] has no vv "
                            "block", "value": sp.Integer(0), "exact": True}
        else:
            ind = independent_entry(act, part, block, cex, values)
    except Exception as exc:  # the report must not fail because a confirmation route did
        ind = {"route": f"independent route failed: {exc}", "value": None, "exact": False}
    if ind is not None and ind.get("value") is not None:
        expected = cex["expected"]
        ind["agrees"] = _agrees(ind["value"], expected, ind.get("exact", False))
        cex["independent"] = ind
    if part != "gauss_newton":
        return
    # the same entry of the dense expected Hessian assembled by symhess.two_layer.assemble for this network
    from ..two_layer.assemble import expected_hessian
    from .independent import instantiate

    num_act = instantiate(act, values)
    same = bool(cex["same_unit"])
    rows = [list(cex["w_i"])] if same else [list(cex["w_i"]), list(cex["w_k"])]
    v = [cex["v_i"]] if same else [cex["v_i"], cex["v_k"]]
    Wn = np.array([[float(x) for x in row] for row in rows])
    vn = np.array([float(x) for x in v])
    Nh, Ni = Wn.shape
    k = 0 if same else 1
    j, l = int(cex["j"]), int(cex["l"])
    row = j
    col = {"WW": k * Ni + l, "Wv": Nh * Ni + k, "vv": Nh * Ni + k}[block]
    if block == "vv":
        row = Nh * Ni
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            H = expected_hessian(num_act, Wn, vn)
    except Exception:  # pragma: no cover - reporting only
        return
    W_txt = "[" + ", ".join("[" + ", ".join(str(x) for x in r) + "]" for r in rows) + "]"
    v_txt = "[" + ", ".join(str(x) for x in v) + "]"
    cex.update({"activation": num_act.spec, "W": W_txt, "v": v_txt, "entry": (row, col), "assembled": float(H[row, col]),
                "python": (f"symhess.expected_hessian({num_act.spec!r}, np.array({W_txt}, dtype=float), "
                           f"np.array({v_txt}, dtype=float))[{row}, {col}]")})


def check_expectation(
    formula: FormulaLike,
    activation: ActivationLike,
    orders: Sequence[int] = (0, 0),
    *,
    points: int = 24,
    seed: int = 0,
    budget: float | None = 5.0,
    dps: int = 50,
    syntax: str = "auto",
    symbolic: bool = True,
) -> FormulaCheck:
    r"""Check a formula for a Gaussian expectation of activation derivatives.

    ``orders=(a, b)``: :math:`E[\sigma^{(a)}(u)\,\sigma^{(b)}(v)]` for
    :math:`(u,v)\sim N(0,[[q_1,c],[c,q_2]])`, a formula in ``q_1, q_2, c`` (reference
    :func:`symhess.pair_expectation`). ``orders=(a, b, m)``:
    :math:`E[(\sigma^{(a)}\sigma^{(b)})^{(m)}(h)]`, :math:`h\sim N(0,q)`, a formula in ``q``
    (reference :func:`symhess.single_expectation`). Activations without a closed form are compared
    against Gauss–Hermite quadrature. Other parameters are as for :func:`check_formula`.

    Examples
    --------
    >>> check_expectation(r"\frac{4}{\pi\sqrt{(1+2q_1)(1+2q_2)-4c^2}}", "erf", (1, 1)).ok
    True
    """
    orders = tuple(int(o) for o in orders)
    if len(orders) not in (2, 3) or min(orders) < 0:
        raise ValueError(f"orders={orders!r} must be (a, b) or (a, b, m) with nonnegative entries")
    single = len(orders) == 3
    parsed = parse_formula(formula, "single" if single else "pair", syntax=syntax)
    user = parsed.expr
    act, param_subs = _resolve_activation(activation, user.free_symbols)
    user = user.xreplace(param_subs)
    ref = single_expectation(act, *orders) if single else pair_expectation(act, *orders)
    params = sorted(ref.free_symbols & set(_PARAM_FIELDS), key=str)
    mods = {**quadrature_modules(user), **quadrature_modules(ref)}
    needed = user.free_symbols | ref.free_symbols
    inst = Instance(
        label="h ~ N(0, q)" if single else "(u, v) ~ N(0, [[q1, c], [c, q2]])", user=user, reference=ref, subs={},
        sample=_pair_sampler(single, needed, params, scale_down=bool(mods)), large_size=2 * _R + 1,
        weights=_WEIGHTS, gens=(), extra_modules=mods, tol=QUADRATURE_TOL if mods else None,
    )
    cmp = compare([inst], points=points, seed=seed, budget=budget, dps=dps, symbolic=symbolic)
    a, b = orders[:2]
    what = (f"E[(sigma^({a}) sigma^({b}))^({orders[2]})(h)], h ~ N(0, q)" if single
            else f"E[sigma^({a})(u) sigma^({b})(v)] in (q1, q2, c)") + f", activation {act.spec}"
    if ref.has(GaussianQuadrature):
        what += " (no closed form: reference by Gauss-Hermite quadrature)"
    spec = activation if isinstance(activation, str) else act.spec
    cmd = ["--expectation", ",".join(map(str, orders)), "--activation", shlex.quote(spec)]
    if points != 24:
        cmd += ["--points", str(points)]
    if not symbolic:
        cmd += ["--numeric"]
    cmd += ["--seed", str(seed)]
    result = _wrap(cmp, formula_expr=user, reference=ref, what=what, mapping=dict(parsed.mapping), indices=None,
                   command=_command(formula, cmd))
    if not result.ok and result.counterexample is not None and not single:
        point = {k: sp.sympify(v) for k, v in result.counterexample["values"].items()}
        values = {sym: point[str(sym)] for sym in (eps, scale) if str(sym) in point}
        try:
            ind = independent_pair(act, a, b, point["q1"], point["q2"], point["c"], values)
        except Exception as exc:  # the report must not fail because a confirmation route did
            ind = {"route": f"independent route failed: {exc}", "value": None}
        if ind is not None and ind.get("value") is not None:
            ind["agrees"] = _agrees(ind["value"], result.counterexample["expected"], ind.get("exact", False))
            result.counterexample["independent"] = ind
    return result
