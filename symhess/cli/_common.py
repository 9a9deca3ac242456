"""The click group and the options shared by the ``symhess`` subcommands."""

from __future__ import annotations

import click

__all__ = ["main", "activation_option", "load_activation"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="symhess")
def main() -> None:
    """symhess: symbolic-numeric Hessians of two-layer network losses near the optimum."""


def activation_option(default: str = "erf"):
    """The ``--activation/-a`` option (a name or a spec string)."""
    return click.option(
        "--activation", "-a", default=default, show_default=True,
        help='Activation name or spec, e.g. "erf", "quadratic:eps=0.5", "poly:coeffs=[1,0.3,0.2]".',
    )


def load_activation(spec: str):
    """Turn an ``--activation`` value into an Activation, or a clean click usage error."""
    from ..activations import activation
    from ..errors import SymhessError

    try:
        return activation(spec)
    except (SymhessError, ValueError, TypeError) as exc:
        raise click.BadParameter(str(exc), param_hint="--activation") from exc
