"""The click group and the options shared by the ``symhess`` subcommands."""

from __future__ import annotations

import click

__all__ = ["main", "activation_option", "load_activation", "parse_range", "InputError"]


class InputError(click.ClickException):
    """Bad input found while a command ran: one line on standard error, exit status 2."""

    exit_code = 2


def _one_line(exc: BaseException) -> str:
    """The message of ``exc`` on one line (file errors name the file)."""
    if isinstance(exc, OSError):
        where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
        return f"cannot access{where}: {exc.strerror or exc}"
    text = " ".join(str(exc).split())
    if isinstance(exc, (ValueError, TypeError)):
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _silence_stdout() -> None:
    """Point standard output at /dev/null, so that the final flush does not raise again."""
    import os
    import sys

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (tests), nothing to do
        pass


class _Group(click.Group):
    """A click group whose subcommands report library errors as one line instead of a traceback.

    ``SymhessError``, ``ValueError`` and ``TypeError`` (bad input) exit with status 2, ``OSError``
    (a file that cannot be written or read) and ``MemoryError`` with status 1.
    """

    def invoke(self, ctx: click.Context):
        from ..errors import SymhessError

        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except BrokenPipeError:  # the reader went away (`symhess ... | head`): stop quietly, like other tools
            _silence_stdout()
            raise click.exceptions.Exit(0) from None
        except (OSError, MemoryError) as exc:  # before SymhessError: MemoryLimitError is both
            raise click.ClickException(_one_line(exc)) from exc
        except (SymhessError, ValueError, TypeError, ArithmeticError) as exc:
            raise InputError(_one_line(exc)) from exc


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="symhess")
def main() -> None:
    """symhess: symbolic-numeric Hessians of two-layer network losses near the optimum.

    Errors are one line on standard error. Exit status: 0 success, 1 a failed check or a file that
    cannot be read or written, 2 bad input (a value, an activation, a size).
    """


def activation_option(default: str = "erf"):
    """The ``--activation/-a`` option (a name or a spec string)."""
    return click.option(
        "--activation", "-a", default=default, show_default=True,
        help='Activation name or spec, e.g. "erf", "quadratic:eps=0.5", "poly:coeffs=[1,0.3,0.2]".',
    )


def load_activation(spec: str, *, numeric: bool = False):
    """Turn an ``--activation`` value into an Activation, or a clean click usage error.

    With ``numeric=True`` (commands that compute numbers) a symbolic parameter or a scale beyond
    float64 kernels is refused here, before anything is printed.
    """
    from ..activations import activation
    from ..errors import SymhessError

    try:
        act = activation(spec)
        if numeric:
            from ..validation import check_variance_range
            import numpy as np

            act.require_numeric()
            check_variance_range(act, np.ones(1))
        return act
    except (SymhessError, ValueError, TypeError) as exc:
        raise InputError(f"--activation {spec!r}: {_one_line(exc)}") from exc


def parse_range(text: object, name: str = "sizes", *, minimum: int = 1) -> list[int]:
    """Parse one size or a range, in any of the common forms, into a sorted list of integers.

    Accepted: ``5``; inclusive ranges ``1..6``, ``1-6``, ``1:6``; comma lists of any of these,
    ``1,3,5`` or ``1..4,10``. Every command that takes sizes or seeds uses this one parser.

    Raises
    ------
    click.BadParameter
        Naming the bad part and the accepted forms.
    """
    forms = "use N, a range 1..6 (also 1-6 or 1:6) or a list 1,3,5"
    out: set[int] = set()
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        for sep in ("..", ":", "-"):
            lo, found, hi = part.partition(sep)
            if found and lo.strip():
                break
        else:
            lo, found, hi = part, "", ""
        try:
            a = int(lo)
            b = int(hi) if found else a
        except ValueError:
            raise click.BadParameter(f"{part!r} is not a size or range: {forms}", param_hint=name) from None
        if a < minimum or b < a:
            raise click.BadParameter(f"{part!r}: values must be >= {minimum} and ranges increasing (LOW <= HIGH)",
                                     param_hint=name)
        out.update(range(a, b + 1))
    if not out:
        raise click.BadParameter(f"{str(text)!r} gives no values: {forms}", param_hint=name)
    return sorted(out)
