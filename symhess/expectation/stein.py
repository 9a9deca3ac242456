r"""Stein's lemma: move the input factors :math:`x_j` of an expectation onto derivatives.

Place in the package: engine, Gaussian expectations (imports SymPy and ``symhess.symbols``).

For :math:`x\sim N(0,I)` and a pair of pre-activations :math:`u=a\cdot x`, :math:`v=b\cdot x`,
Gaussian integration by parts gives, for any smooth :math:`g`,

.. math::

    E[x_j\,F(x)] = E[\partial_{x_j} F(x)],\qquad
    \partial_{x_j} g(u,v) = a_j\,\partial_u g + b_j\,\partial_v g .

Applied to :math:`g = \sigma^{(\alpha)}(u)\,\sigma^{(\beta)}(v)` this turns every expectation with
up to two :math:`x` factors into a sum of pair expectations
:math:`K_{\alpha\beta} = E[\sigma^{(\alpha)}(u)\sigma^{(\beta)}(v)]` times vectors :math:`a, b` and
:math:`\delta_{jl}`. :func:`stein_reduce` performs this reduction symbolically (it is *derived*,
not typed in), and :func:`pair_template` returns the result in a tensor basis:

========  ==========================================  ==========================
``n_x``   basis element                               pair expectation
========  ==========================================  ==========================
0         ``1``                                       :math:`K_{\alpha\beta}`
1         ``a`` (:math:`a_j`), ``b`` (:math:`b_j`)    :math:`K_{\alpha+1,\beta}`, :math:`K_{\alpha,\beta+1}`
2         ``delta`` (:math:`\delta_{jl}`)             :math:`K_{\alpha\beta}`
2         ``aa`` (:math:`a_ja_l`), ``bb``             :math:`K_{\alpha+2,\beta}`, :math:`K_{\alpha,\beta+2}`
2         ``ab`` (:math:`a_jb_l+b_ja_l`)              :math:`K_{\alpha+1,\beta+1}`
========  ==========================================  ==========================

When :math:`a=b` (a hidden unit paired with itself) the pair collapses to one variable
:math:`h\sim N(0,q)` and the template is :func:`diagonal_template`, in terms of
:math:`D^{(m)}_{\alpha\beta}(q)=E[(\sigma^{(\alpha)}\sigma^{(\beta)})^{(m)}(h)]`.
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

__all__ = ["stein_reduce", "pair_template", "diagonal_template", "BASIS"]

#: basis elements of templates with 0, 1, 2 input factors
BASIS = {0: ("1",), 1: ("a", "b"), 2: ("delta", "aa", "bb", "ab")}

_u, _v = sp.symbols("u v", real=True)
_aj, _al, _bj, _bl = sp.symbols("a_j a_l b_j b_l", real=True)
_djl = sp.Symbol("delta_jl")
_g = sp.Function("g")


@lru_cache(maxsize=None)
def stein_reduce(n_x: int) -> sp.Expr:
    r"""Symbolic Stein reduction of :math:`E[g(u,v)\,x_{j}\cdots]` with ``n_x`` factors (0, 1 or 2).

    Returns the expression whose every ``Derivative(g(u, v), ...)`` stands for its expectation.

    Examples
    --------
    >>> stein_reduce(1)
    a_j*Derivative(g(u, v), u) + b_j*Derivative(g(u, v), v)
    """
    if n_x not in (0, 1, 2):
        raise ValueError(f"n_x={n_x} input factors: only 0, 1 or 2 occur in gradients and Hessians")
    g = _g(_u, _v)
    if n_x == 0:
        return g
    if n_x == 1:
        return _aj * sp.diff(g, _u) + _bj * sp.diff(g, _v)
    # E[x_j x_l g] = E[d/dx_j (x_l g)] = delta_jl E[g] + E[x_l (a_j g_u + b_j g_v)], then reduce x_l
    inner = _aj * sp.diff(g, _u) + _bj * sp.diff(g, _v)
    reduced = _al * sp.diff(inner, _u) + _bl * sp.diff(inner, _v)
    return sp.expand(_djl * g + reduced)


@lru_cache(maxsize=None)
def pair_template(alpha: int, beta: int, n_x: int) -> dict[str, tuple[int, int]]:
    r"""Basis element -> derivative orders :math:`(\alpha', \beta')` of the pair expectation.

    Derived from :func:`stein_reduce` with :math:`g=\sigma^{(\alpha)}(u)\sigma^{(\beta)}(v)`:
    a derivative :math:`\partial_u^p\partial_v^r g` is :math:`K_{\alpha+p,\beta+r}`.
    """
    expr = stein_reduce(n_x)
    basis_of = {
        sp.Integer(1): "1", _aj: "a", _bj: "b", _djl: "delta",
        _aj * _al: "aa", _bj * _bl: "bb", _aj * _bl: "ab", _bj * _al: "ab",
    }
    out: dict[str, tuple[int, int]] = {}
    for term in sp.Add.make_args(expr):
        coeff, deriv = term.as_independent(_u, _v)
        if isinstance(deriv, sp.Derivative):
            p = sum(cnt for var, cnt in deriv.variable_count if var == _u)
            r = sum(cnt for var, cnt in deriv.variable_count if var == _v)
        else:
            p = r = 0
        name = basis_of[coeff]
        orders = (alpha + p, beta + r)
        if name in out and out[name] != orders:
            raise AssertionError(f"inconsistent Stein reduction for basis {name}")
        out[name] = orders
    return out


@lru_cache(maxsize=None)
def diagonal_template(alpha: int, beta: int, n_x: int) -> dict[str, tuple[int, int, int]]:
    r"""Basis element -> :math:`(\alpha, \beta, m)` of :math:`D^{(m)}_{\alpha\beta}` when :math:`a=b`.

    With :math:`u=v=h`, :math:`E[x_j G(h)] = a_j E[G'(h)]` and
    :math:`E[x_jx_l G(h)] = \delta_{jl}E[G] + a_ja_l E[G'']` for
    :math:`G=\sigma^{(\alpha)}\sigma^{(\beta)}`; all :math:`a a^\top` weight goes on ``aa``.
    """
    if n_x == 0:
        return {"1": (alpha, beta, 0)}
    if n_x == 1:
        return {"a": (alpha, beta, 1)}
    if n_x == 2:
        return {"delta": (alpha, beta, 0), "aa": (alpha, beta, 2)}
    raise ValueError(f"n_x={n_x} input factors: only 0, 1 or 2 occur in gradients and Hessians")
