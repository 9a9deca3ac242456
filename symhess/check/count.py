r"""Check a counting conjecture (a rule for the Hessian rank) against exact ranks, with hypothesis.

Place in the package: outputs, checking (imports activations, expectation and the exact-rank route).

A rule :math:`N(n_{in}, n_{hidden})` predicts the rank of the expected Hessian at the optimum (the
effective number of parameters) for a generic teacher. The rank at one teacher :math:`\theta` is
computed exactly over :math:`\mathbb Q`, with integer weights drawn uniformly from
:math:`S=\{-2^{30},\dots,2^{30}\}`, and compared with the rule; hypothesis searches the sizes and
shrinks a failure, and the smallest failing size in the box below it is reported.

What the comparison proves. The generic rank :math:`r` is the largest rank over all teachers, so
the exact rank :math:`m` at any teacher satisfies :math:`m \le r`:

* :math:`m > N`: the rule is **disproved** (:math:`r \ge m > N`), whatever the teacher.
* :math:`m = N`: :math:`N \le r` is certified. :math:`N < r` would need a nonzero :math:`r\times r`
  minor of :math:`H` to vanish at the random teacher; each entry of :math:`H` is a polynomial of
  degree :math:`e=2\deg\sigma` in the weights, so by the Schwartz–Zippel lemma this happens with
  probability :math:`\le re/|S| \le Pe/|S|`.
* :math:`m < N` at ``teachers`` independent teachers: **evidence, not a proof** that the rule is
  wrong — if :math:`r \ge N`, all of them fell on the zero set of a nonzero :math:`N\times N`
  minor, probability :math:`\le (Ne/|S|)^{t}`.

A pass covers only the sizes tried: it is evidence for the rule, never a proof for all sizes.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable, Union

import numpy as np
import sympy as sp

from ..activations import Activation, ActivationLike, activation as get_activation
from ._rank import check_exact_activation, entry_degree, exact_rank
from .notation import NotationError, n_hidden, n_in, parse_formula

__all__ = ["CountCheck", "check_count", "SizeResult", "WEIGHT_BOUND"]

#: integer teacher weights are drawn uniformly from [-WEIGHT_BOUND, WEIGHT_BOUND]
WEIGHT_BOUND = 2**30
_S = 2 * WEIGHT_BOUND + 1

RuleLike = Union[Callable[[int, int], Any], str, sp.Expr]


@dataclass(frozen=True)
class SizeResult:
    """The rule and the exact ranks at one size."""

    n_in: int
    n_hidden: int
    predicted: Any
    ranks: tuple[int, ...]
    teachers: tuple[tuple[tuple[tuple[int, ...], ...], tuple[int, ...]], ...]

    @property
    def n_params(self) -> int:
        return self.n_hidden * self.n_in + self.n_hidden

    @property
    def measured(self) -> int:
        return max(self.ranks)

    @property
    def ok(self) -> bool:
        return isinstance(self.predicted, int) and self.predicted == self.measured

    @property
    def certainty(self) -> str | None:
        """``"proof"`` when the rank exceeds the rule (or the rule is not a count), ``"evidence"`` when below."""
        if self.ok:
            return None
        if not isinstance(self.predicted, int) or self.measured > self.predicted or self.predicted > self.n_params:
            return "proof"
        return "evidence"


@dataclass
class CountCheck:
    r"""Result of :func:`check_count`.

    Attributes
    ----------
    ok : bool
        The rule matched the exact rank at every size tried (also ``bool(result)``).
    counterexample : tuple or None
        The smallest failing ``(n_in, n_hidden)`` (fewest parameters, then smallest ``n_in``).
    predicted, measured : int or None
        The rule's value and the exact rank (the largest over the teachers tried) there.
    certainty : str or None
        ``"proof"`` (rank above the rule, or the rule is not a valid count) or ``"evidence"``
        (rank below the rule at every teacher tried).
    error_bound : float or None
        For ``"evidence"``: the Schwartz–Zippel bound on seeing those ranks if the rule were right.
        For a pass: the bound, per size, on the rule exceeding... being below the generic rank.
    covered : list of SizeResult
        Every size tried, with the rule, the ranks and the teachers.
    guarantee : str
        What the verdict proves, in words.
    command : str or None
        A ``symhess check --count`` command that reproduces the result (string and SymPy rules).
    """

    ok: bool
    counterexample: tuple[int, int] | None
    predicted: Any
    measured: int | None
    certainty: str | None
    error_bound: float | None
    covered: list[SizeResult]
    rule: str
    activation: str
    n_in_range: tuple[int, int]
    n_hidden_range: tuple[int, int]
    search: str
    guarantee: str
    command: str | None = None
    teacher: dict[str, Any] | None = field(default=None)

    def __bool__(self) -> bool:
        return self.ok

    def report(self) -> str:
        """Plain-text report: verdict, the counterexample with both values, what it proves, the command."""
        lines = [f"check: counting rule N = {self.rule} against the exact Hessian rank, activation {self.activation}",
                 f"  sizes: n_in in {self.n_in_range[0]}..{self.n_in_range[1]}, n_hidden in "
                 f"{self.n_hidden_range[0]}..{self.n_hidden_range[1]}; {len(self.covered)} sizes tried ({self.search})"]
        if self.ok:
            lines.append("  result: OK at every size tried")
        else:
            n_i, n_h = self.counterexample
            lines.append(f"  result: MISMATCH at (n_in, n_hidden) = ({n_i}, {n_h})")
            lines.append(f"    rule:       {self.predicted}")
            lines.append(f"    exact rank: {self.measured}   (P = {n_h * n_i + n_h} parameters)")
            if self.teacher:
                lines.append(f"    teacher: W = {self.teacher['W']}, v = {self.teacher['v']}")
        lines.append("  " + self.guarantee)
        if self.command:
            lines.append(f"  reproduce: {self.command}")
        return "\n".join(lines)

    __str__ = report


# -- rules ---------------------------------------------------------------------------------------
def _rule_function(rule: RuleLike) -> tuple[Callable[[int, int], Any], str, str | None]:
    """``(f(n_in, n_hidden) -> value, description, text for the command line or None)``."""
    if callable(rule) and not isinstance(rule, sp.Basic):
        name = getattr(rule, "__name__", "rule")
        return rule, f"{name}(n_in, n_hidden)" if name != "<lambda>" else "<python callable>", None
    if isinstance(rule, (str, sp.Basic)):
        expr = parse_formula(rule, "count").expr
        stray = expr.free_symbols - {n_in, n_hidden}
        if stray:  # pragma: no cover - parse_formula already refuses unknown names
            raise NotationError(f"counting rule uses {sorted(map(str, stray))}; only n_in and n_hidden are allowed")

        def f(a: int, b: int) -> Any:
            return expr.xreplace({n_in: sp.Integer(a), n_hidden: sp.Integer(b)}).doit()

        text = rule if isinstance(rule, str) else sp.sstr(rule)
        return f, str(expr), text
    raise TypeError(
        f"rule must be a callable (n_in, n_hidden) -> int, a SymPy expression or a string; got {type(rule).__name__}"
    )


def _as_count(value: Any) -> Any:
    """An int if ``value`` is an integral number, else the value itself (a non-count)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, Fraction):
        return int(value) if value.denominator == 1 else value
    if isinstance(value, (float, np.floating)):
        return int(value) if float(value).is_integer() else float(value)
    if isinstance(value, sp.Basic):
        if value.is_Integer:
            return int(value)
        if value.is_number and value.is_real and value.is_finite:
            return value
    return value


# -- teachers and ranks --------------------------------------------------------------------------
def _teacher(seed: int, n_i: int, n_h: int, t: int) -> tuple[list[list[int]], list[int]]:
    rng = np.random.default_rng([seed, n_i, n_h, t])
    W = rng.integers(-WEIGHT_BOUND, WEIGHT_BOUND + 1, size=(n_h, n_i)).tolist()
    v = rng.integers(-WEIGHT_BOUND, WEIGHT_BOUND + 1, size=n_h).tolist()
    return W, v


class _Evaluator:
    def __init__(self, act: Activation, rule: Callable, teachers: int, seed: int):
        self.act, self.rule, self.teachers, self.seed = act, rule, teachers, seed
        self.cache: dict[tuple[int, int], SizeResult] = {}

    def __call__(self, n_i: int, n_h: int) -> SizeResult:
        key = (n_i, n_h)
        if key in self.cache:
            return self.cache[key]
        try:
            predicted = _as_count(self.rule(n_i, n_h))
        except Exception as exc:
            raise ValueError(f"the counting rule raised {type(exc).__name__}: {exc} at (n_in, n_hidden) = {key}") from exc
        ranks, teachers = [], []
        for t in range(self.teachers):
            W, v = _teacher(self.seed, n_i, n_h, t)
            ranks.append(exact_rank(self.act, W, v))
            teachers.append((tuple(map(tuple, W)), tuple(v)))
            # one teacher decides unless its rank is below the prediction (then it may be unlucky)
            if not (isinstance(predicted, int) and ranks[-1] < predicted <= n_h * n_i + n_h):
                break
            if max(ranks) >= predicted:
                break
        res = SizeResult(n_i, n_h, predicted, tuple(ranks), tuple(teachers))
        self.cache[key] = res
        return res


def _range(value, name: str) -> tuple[int, int]:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        lo = hi = int(value)
    else:
        try:
            lo, hi = (int(x) for x in value)
        except (TypeError, ValueError):
            raise TypeError(f"{name}={value!r} must be an int or a (low, high) pair") from None
    if lo < 1 or hi < lo:
        raise ValueError(f"{name}={value!r} must satisfy 1 <= low <= high")
    return lo, hi


def _search_hypothesis(ev: _Evaluator, n_in_range, n_hidden_range, examples: int, seed: int) -> tuple[int, int] | None:
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import seed as hyp_seed
    from hypothesis import strategies as st

    class _Found(Exception):
        pass

    @settings(max_examples=examples, database=None, deadline=None, derandomize=False, verbosity=Verbosity.quiet,
              phases=[Phase.explicit, Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck),
              report_multiple_bugs=False)
    @hyp_seed(seed)
    @given(st.integers(*n_in_range), st.integers(*n_hidden_range))
    def search(a: int, b: int) -> None:
        if not ev(a, b).ok:
            raise _Found(a, b)

    try:
        search()
    except _Found as found:
        return found.args[0], found.args[1]
    return None


def _smallest_below(ev: _Evaluator, found: tuple[int, int], n_in_range, n_hidden_range) -> tuple[int, int]:
    """The failing size with the fewest parameters (then smallest n_in) in the box below ``found``."""
    sizes = [(a, b) for a in range(n_in_range[0], found[0] + 1) for b in range(n_hidden_range[0], found[1] + 1)]
    sizes.sort(key=lambda ab: (ab[0] * ab[1] + ab[1], ab[0]))
    for a, b in sizes:
        if not ev(a, b).ok:
            return a, b
    return found  # pragma: no cover - found itself fails


def check_count(
    rule: RuleLike,
    activation: ActivationLike,
    *,
    n_in: int | tuple[int, int] = (1, 6),
    n_hidden: int | tuple[int, int] = (1, 8),
    examples: int = 60,
    teachers: int = 3,
    exhaustive: bool = False,
    seed: int = 0,
) -> CountCheck:
    r"""Test a counting rule for the Hessian rank against exact ranks; shrink a failure to the smallest size.

    The rank is that of the expected Hessian at the optimum,
    :math:`H=E_x[\nabla_\theta f\nabla_\theta f^\top]`, computed exactly over :math:`\mathbb Q`
    at random integer teachers (see the module docstring for what a pass and a failure prove).

    Parameters
    ----------
    rule : callable, str or sympy.Expr
        ``f(n_in, n_hidden) -> int``, or an expression in ``n_in``, ``n_hidden`` (also ``N_i``,
        ``N_h``, ``n_{in}``, ...), LaTeX or SymPy, with ``Heaviside``/``\Theta``, ``Min``/``\min``,
        ``binomial`` allowed. SymPy's ``Heaviside(0)`` is 1/2; write ``Heaviside(x, 1)`` for a
        step that is 1 at 0.
    activation : str or Activation
        A polynomial activation with rational coefficients (``"quadratic"``, ``"poly:coeffs=[1,0,1]"``).
    n_in, n_hidden : int or (low, high)
        Sizes to search (inclusive).
    examples : int
        Hypothesis examples (sizes drawn) before a pass is declared.
    teachers : int
        Independent random teachers tried at a size whose first rank falls below the rule.
    exhaustive : bool
        Try every size in the ranges instead of a hypothesis search.
    seed : int
        Seeds the search and the teachers (the result is reproducible).

    Returns
    -------
    CountCheck
        ``ok``, ``counterexample``, ``predicted``, ``measured``, ``certainty``, ``report()``.

    Examples
    --------
    >>> r = check_count(lambda n_in, n_hidden: n_in * (n_in + 3) // 2, "quadratic", n_in=(1, 3), n_hidden=(1, 3))
    >>> r.ok, r.counterexample, r.predicted, r.measured, r.certainty
    (False, (2, 1), 5, 3, 'proof')
    """
    act = get_activation(activation)
    check_exact_activation(act)
    f, description, text = _rule_function(rule)
    lo_hi_in, lo_hi_h = _range(n_in, "n_in"), _range(n_hidden, "n_hidden")
    if examples < 1 or teachers < 1:
        raise ValueError(f"examples={examples} and teachers={teachers} must be >= 1")
    ev = _Evaluator(act, f, teachers, seed)
    if exhaustive:
        sizes = sorted(((a, b) for a in range(lo_hi_in[0], lo_hi_in[1] + 1) for b in range(lo_hi_h[0], lo_hi_h[1] + 1)),
                       key=lambda ab: (ab[0] * ab[1] + ab[1], ab[0]))
        found = next(((a, b) for a, b in sizes if not ev(a, b).ok), None)
        search = "every size"
    else:
        found = _search_hypothesis(ev, lo_hi_in, lo_hi_h, examples, seed)
        search = f"hypothesis search, {examples} examples"
        if found is not None:
            found = _smallest_below(ev, found, lo_hi_in, lo_hi_h)
    covered = sorted(ev.cache.values(), key=lambda r: (r.n_in, r.n_hidden))
    e = entry_degree(act)
    spec = activation if isinstance(activation, str) else act.spec
    command = None
    if text is not None:
        parts = ["symhess", "check", "--count", shlex.quote(text), "--activation", shlex.quote(spec)]
        box_in = lo_hi_in if found is None else (found[0], found[0])
        box_h = lo_hi_h if found is None else (found[1], found[1])
        parts += ["--n-in", f"{box_in[0]}:{box_in[1]}", "--n-hidden", f"{box_h[0]}:{box_h[1]}", "--seed", str(seed)]
        if found is None and exhaustive:
            parts.append("--exhaustive")
        command = " ".join(parts)
    common = dict(rule=description, activation=act.spec, n_in_range=lo_hi_in, n_hidden_range=lo_hi_h,
                  search=search, covered=covered, command=command)
    if found is None:
        P_max = lo_hi_h[1] * lo_hi_in[1] + lo_hi_h[1]
        bound = P_max * e / _S
        guarantee = (
            f"At each of the {len(covered)} sizes tried the exact rank over Q at a random integer teacher equals "
            "the rule. An exact rank at one teacher is a lower bound for the generic rank, so rule <= generic rank "
            f"is certified there; equality fails only if the teacher was exceptional, probability <= {bound:.1e} per "
            f"size (Schwartz-Zippel: an r x r minor has degree <= {e} r in weights drawn from {_S} integers). Sizes "
            "outside the range were not tried: a pass is evidence for the rule, not a proof."
        )
        return CountCheck(ok=True, counterexample=None, predicted=None, measured=None, certainty=None,
                          error_bound=bound, guarantee=guarantee, **common)
    res = ev(*found)
    teacher_idx = int(np.argmax(res.ranks))
    W, v = res.teachers[teacher_idx]
    teacher = {"W": [list(row) for row in W], "v": list(v)}
    if res.certainty == "proof":
        bound = 0.0
        if not isinstance(res.predicted, int):
            guarantee = (f"Disproved: the rule gives {res.predicted}, not an integer count"
                         + (" (SymPy's Heaviside(0) is 1/2; write Heaviside(x, 1) for a step equal to 1 at 0)"
                            if text is not None and ("Heaviside" in description) else "") + ".")
        elif res.predicted > res.n_params:
            guarantee = f"Disproved: the rule predicts {res.predicted} > P = {res.n_params}, more than the number of parameters."
        else:
            guarantee = (f"Disproved: the exact rank {res.measured} at this integer teacher is a lower bound for the "
                         f"generic rank, so the generic rank is >= {res.measured} > {res.predicted} (a proof).")
    else:
        n = len(res.ranks)
        per = res.predicted * e / _S
        bound = per**n
        guarantee = (
            f"Evidence, not a proof: the rank is {res.measured} < {res.predicted} at each of {n} independent random "
            "integer teachers. Exact ranks only bound the generic rank from below; but if the generic rank were >= "
            f"{res.predicted}, every teacher would have hit the zero set of a nonzero {res.predicted} x {res.predicted} "
            f"minor of degree <= {e * res.predicted}: probability <= {per:.1e} each, <= {bound:.1e} for all "
            f"{n} (Schwartz-Zippel)."
        )
    return CountCheck(ok=False, counterexample=found, predicted=res.predicted, measured=res.measured,
                      certainty=res.certainty, error_bound=bound, guarantee=guarantee, teacher=teacher, **common)
