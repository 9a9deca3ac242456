r"""The architecture options shared by ``symhess report``, ``count`` and ``spectrum``.

``--n-out K`` (several outputs), ``--input-cov SPEC`` (inputs ``x ~ N(0, Sigma)``),
``--teacher-activation NAME`` (a teacher of another activation) and ``--train W,v`` (the trained
parameter groups). :func:`architecture_options` adds them to a command and
:func:`load_architecture` turns their values into an :class:`Architecture`, whose
:meth:`Architecture.hessian_kwargs` are the keyword arguments of :func:`symhess.expected_hessian`.

``--bias hidden|output|both`` (:func:`bias_option`, on ``report`` and ``spectrum``; ``count`` has
its own) gives the network hidden biases :math:`b_i` inside the activations and/or an output bias
:math:`b^{\rm out}_o`, parameters after ``(W, v)``. Their values are drawn for each teacher from the
teacher's generator right after its weights, :math:`b_i\sim N(0,1)` and :math:`b^{\rm out}_o\sim N(0,1)`
(:meth:`Architecture.biases`): the scale of the pre-activation :math:`w_i\cdot x`, whose variance is
:math:`N_i\,\mathrm{Var}(W_{ij})=1` for the default teacher, and the variance of ``symhess count``'s
rational biases.

To add an option: append a ``click.option`` to ``_OPTIONS``, a field to :class:`Architecture`,
its parsing to :func:`load_architecture` and its keyword to :meth:`Architecture.hessian_kwargs`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import click

from ._common import InputError, _one_line

__all__ = ["Architecture", "architecture_options", "bias_option", "load_architecture", "parse_input_cov",
           "parse_train", "ARCHITECTURE_PARAMS", "BIAS_CHOICES"]

#: the values of ``--bias``
BIAS_CHOICES = ("none", "hidden", "output", "both")

_OPTIONS = (
    click.option("--n-out", "n_out", default=1, show_default=True, type=click.IntRange(min=1),
                 help="Number of outputs K: v of shape (K, Nh), loss 1/2 E|f - f*|^2."),
    click.option("--input-cov", "input_cov", default=None, metavar="SPEC",
                 help="Inputs x ~ N(0, Sigma): identity, diag:t1,...,tNi, spiked:beta,strength (a fraction beta "
                      "of the inputs with variance 1+strength), power:alpha (variances k^-alpha), or a .npy file "
                      "(Sigma, or its diagonal).  [default: identity]"),
    click.option("--teacher-activation", "teacher_activation", default=None, metavar="NAME",
                 help="The teacher's activation when it differs from the student's; the student is then moved "
                      "to the minimum of the loss (symhess.find_minimum) from the teacher's weights."),
    click.option("--train", "train", default=None, metavar="GROUPS",
                 help="Trained parameter groups, comma-separated (W, v); the others are frozen.  [default: all]"),
)

#: the keyword names the options give to a command function
ARCHITECTURE_PARAMS = ("n_out", "input_cov", "teacher_activation", "train")


def architecture_options(func):
    """Decorate a click command with the architecture options (in the order of ``--help``)."""
    for opt in reversed(_OPTIONS):
        func = opt(func)
    return func


def bias_option(func):
    """Decorate a click command with ``--bias none|hidden|output|both`` (the keyword ``bias``)."""
    return click.option(
        "--bias", "bias", type=click.Choice(BIAS_CHOICES), default=None,
        help="Biases of the network: hidden (inside the activation), output, or both; drawn for each teacher "
             "after its weights, b_i ~ N(0, 1), b_out ~ N(0, 1).  [default: none]")(func)


@dataclass(frozen=True)
class Architecture:
    """The architecture a command works on, beyond the paper's network.

    Attributes
    ----------
    n_out : int
        Number of outputs.
    input_cov : ndarray or None
        :math:`\\Sigma` (2-D) or its diagonal (1-D); ``None`` for the identity.
    input_cov_spec : str or None
        The ``--input-cov`` text, for messages.
    teacher_activation : Activation or None
        The teacher's activation, ``None`` when it is the student's.
    trainable : tuple of str or None
        The trained groups in parameter order, ``None`` for all.
    bias : {None, "hidden", "output", "both"}
        The network's biases (``None``: none).
    """

    n_out: int = 1
    input_cov: object = field(default=None, repr=False)
    input_cov_spec: str | None = None
    teacher_activation: object = None
    trainable: tuple[str, ...] | None = None
    bias: str | None = None

    @property
    def hidden_bias(self) -> bool:
        """Whether the network has hidden biases."""
        return self.bias in ("hidden", "both")

    @property
    def output_bias(self) -> bool:
        """Whether the network has an output bias."""
        return self.bias in ("output", "both")

    @property
    def is_default(self) -> bool:
        """Whether this is the paper's network (one output, identity covariance, matched teacher, all trained,
        no biases)."""
        return (self.n_out == 1 and self.input_cov is None and self.teacher_activation is None
                and self.trainable is None and self.bias is None)

    def describe(self) -> str:
        """A comma-separated description of the non-default settings (empty for the paper's network)."""
        parts = []
        if self.n_out > 1:
            parts.append(f"{self.n_out} outputs")
        if self.input_cov is not None:
            parts.append(f"input covariance {self.input_cov_spec}")
        if self.teacher_activation is not None:
            parts.append(f"teacher activation {self.teacher_activation.spec}")
        if self.bias is not None:
            parts.append({"hidden": "hidden biases", "output": "output bias",
                          "both": "hidden and output biases"}[self.bias])
        if self.trainable is not None:
            parts.append(f"trained: {','.join(self.trainable)}")
        return ", ".join(parts)

    def n_params(self, n_in: int, n_hidden: int) -> int:
        """The number of trained parameters."""
        sizes = {"W": n_in * n_hidden, "v": self.n_out * n_hidden}
        if self.hidden_bias:
            sizes["b"] = n_hidden
        if self.output_bias:
            sizes["b_out"] = self.n_out
        return sum(sizes[g] for g in (self.trainable or tuple(sizes)))

    def biases(self, n_hidden: int, gen) -> dict:
        r"""The teacher's biases drawn from ``gen`` (call it right after :meth:`network`): ``{"b": ..., "b_out": ...}``.

        :math:`b_i\sim N(0,1)` (shape ``(Nh,)``), then :math:`b^{\rm out}_o\sim N(0,1)` (shape
        ``(n_out,)``), only those the network has; ``{}`` without biases (nothing is drawn).
        """
        out = {}
        if self.hidden_bias:
            out["b"] = gen.standard_normal(n_hidden)
        if self.output_bias:
            out["b_out"] = gen.standard_normal(self.n_out)
        return out

    def hessian_kwargs(self) -> dict:
        """Keyword arguments of :func:`symhess.expected_hessian` (and ``find_minimum``) for the non-default settings."""
        kw = {}
        if self.input_cov is not None:
            kw["input_cov"] = self.input_cov
        if self.trainable is not None:
            kw["trainable"] = self.trainable
        return kw

    def network(self, n_in: int, n_hidden: int, gen, var_w=None, var_v=None):
        """A random teacher ``(W, v)`` from ``gen``: :func:`symhess.teacher`, and for ``K`` outputs ``K - 1`` more rows of v.

        With one output the draws are those of :func:`symhess.teacher` alone; the extra rows are drawn
        after, with the variance of ``v``.
        """
        import numpy as np

        from ..two_layer.teacher import teacher, teacher_variances

        W, v = teacher(n_in, n_hidden, gen, var_w=var_w, var_v=var_v)
        if self.n_out == 1:
            return W, v
        sv = np.sqrt(teacher_variances(n_in, n_hidden, var_w, var_v)[1])
        return W, np.vstack([v, sv * gen.standard_normal((self.n_out - 1, n_hidden))])

    def hessian(self, act, W, v, biases: dict | None = None):
        """The expected Hessian at the optimum of this architecture, for the teacher ``(W, v)`` and its ``biases``.

        Returns ``(H, minimum)``: with a teacher of another activation the student (of the teacher's
        width) starts at the teacher's weights and biases and :func:`symhess.find_minimum` moves it to
        a minimum, returned as ``minimum`` (else ``None``); ``H`` is the full Hessian there, residual
        part included.
        """
        from ..two_layer.assemble import expected_hessian

        biases = biases or {}
        minimum = None
        if self.teacher_activation is not None:
            from ..two_layer.newton import find_minimum

            bkw = dict(b0=biases.get("b"), b_out0=biases.get("b_out"), b_teacher=biases.get("b"),
                       b_out_teacher=biases.get("b_out"))
            minimum = find_minimum(act, W, v, W, v, teacher_activation=self.teacher_activation,
                                   **self.hessian_kwargs(), **bkw)
        args, kw = self.hessian_call(act, W, v, biases, minimum)
        return expected_hessian(*args, **kw), minimum

    def hessian_call(self, act, W, v, biases: dict | None = None, minimum=None) -> tuple[tuple, dict]:
        """The arguments ``(args, kwargs)`` of :func:`symhess.expected_hessian` behind :meth:`hessian`.

        At the optimum of the teacher ``(W, v)`` with ``biases`` (the student is the teacher), or at
        ``minimum`` (a :class:`~symhess.two_layer.newton.MinimumResult`) against that teacher.
        """
        biases = biases or {}
        kw = self.hessian_kwargs()
        if minimum is None:
            return (act, W, v), dict(kw, **biases)
        kw.update(W_teacher=W, v_teacher=v, teacher_activation=self.teacher_activation)
        if "b" in biases:
            kw.update(b=minimum.b, b_teacher=biases["b"])
        if "b_out" in biases:
            kw.update(b_out=minimum.b_out, b_out_teacher=biases["b_out"])
        return (act, minimum.W, minimum.v), kw


def parse_train(text: str | None, bias: str | None = None) -> tuple[str, ...] | None:
    """``"W,v"`` -> the trained groups in parameter order (``None`` when every group is trained).

    With ``bias`` the groups are those of the network with biases: W, v, and b, b_out where it has them.
    """
    from ..two_layer.architecture import as_trainable, PARAMETER_GROUPS

    if text is None:
        return None
    names = tuple(t.strip() for t in str(text).split(",") if t.strip())
    for name in names:
        if bias is None and name in ("b", "b_out"):
            raise click.BadParameter(f"{name!r} is a bias, but the network has none: add --bias hidden, output or "
                                     "both (the groups are then W,v,b,b_out)", param_hint="--train")
    if bias is not None:
        from ..two_layer.biases import _as_groups

        present = ("W", "v") + (("b",) if bias in ("hidden", "both") else ()) + (
            ("b_out",) if bias in ("output", "both") else ())
        for name, kind in (("b", "hidden"), ("b_out", "output")):
            if name in names and name not in present:
                raise click.BadParameter(f"{name!r}: the network has no {kind} bias (--bias {bias}); its groups are "
                                         f"{','.join(present)}", param_hint="--train")
        try:
            groups = _as_groups(names, present)
        except ValueError as exc:
            raise click.BadParameter(_one_line(exc), param_hint="--train") from None
        return None if groups == present else groups
    try:
        groups = as_trainable(names)
    except ValueError as exc:
        raise click.BadParameter(_one_line(exc), param_hint="--train") from None
    return None if groups == PARAMETER_GROUPS else groups


def parse_input_cov(spec: str | None, n_in: int):
    """An ``--input-cov`` value for ``n_in`` inputs: ``None`` (identity), a diagonal or a matrix, validated.

    A spec (see :func:`symhess.two_layer.covariances.covariance_from_spec`) or a path ending in
    ``.npy`` holding :math:`\\Sigma` (shape ``(Ni, Ni)``) or its diagonal (shape ``(Ni,)``).
    """
    import numpy as np

    from ..two_layer.architecture import as_input_cov
    from ..two_layer.covariances import covariance_from_spec

    if spec is None:
        return None
    try:
        if spec.strip().lower().endswith(".npy"):
            path = Path(spec.strip())
            try:
                sigma = np.load(path, allow_pickle=False)
            except FileNotFoundError:
                raise click.BadParameter(f"no such file {str(path)!r}", param_hint="--input-cov") from None
            except (OSError, ValueError) as exc:
                raise click.BadParameter(f"{str(path)!r} is not a readable .npy array ({_one_line(exc)})",
                                         param_hint="--input-cov") from None
        else:
            sigma = covariance_from_spec(spec, n_in)
        if sigma is not None:
            as_input_cov(sigma, n_in)  # shape, symmetry, positive semi-definiteness
    except click.BadParameter:
        raise
    except (ValueError, TypeError) as exc:
        raise click.BadParameter(_one_line(exc), param_hint="--input-cov") from None
    return sigma


def load_architecture(act, n_in: int, *, n_out: int = 1, input_cov: str | None = None,
                      teacher_activation: str | None = None, train: str | None = None,
                      bias: str | None = None) -> Architecture:
    """Validate the option values for a network of ``n_in`` inputs and the student activation ``act``.

    ``bias`` is the value of ``--bias`` (``None`` or ``"none"``: no biases).

    Raises
    ------
    click.BadParameter
        A bad value, naming the option and what it accepts (exit status 2).
    """
    from ..activations import activation

    bias = None if bias in (None, "none") else bias
    if bias is not None and bias not in BIAS_CHOICES:
        raise click.BadParameter(f"{bias!r}: choose one of {', '.join(BIAS_CHOICES)}", param_hint="--bias")
    tact = None
    if teacher_activation is not None:
        try:
            tact = activation(teacher_activation)
            tact.require_numeric()
        except (ValueError, TypeError) as exc:
            raise click.BadParameter(f"{teacher_activation!r}: {_one_line(exc)}",
                                     param_hint="--teacher-activation") from None
        if tact == act:
            tact = None
        else:  # refuse a pair without cross expectations before any output
            from ..expectation.pairs import cross_pair_expectation

            try:
                cross_pair_expectation(act, tact, 0, 0)
                if bias in ("hidden", "both"):  # the pairs with means (biases inside the activations)
                    from ..kernels.means import pair_means

                    pair_means(act, 0, 0, 0.1, -0.2, 1.0, 1.0, 0.3, tact)
            except (ValueError, TypeError, NotImplementedError) as exc:
                raise click.BadParameter(f"{teacher_activation!r} with the student's {act.spec!r}: {_one_line(exc)}",
                                         param_hint="--teacher-activation") from None
    return Architecture(n_out=int(n_out), input_cov=parse_input_cov(input_cov, n_in),
                        input_cov_spec=None if input_cov is None else input_cov.strip(),
                        teacher_activation=tact, trainable=parse_train(train, bias), bias=bias)

