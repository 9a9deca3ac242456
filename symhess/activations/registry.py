"""Registry of activations by name, and parsing of specs such as ``"quadratic:eps=0.5"``.

Place in the package: engine, activations. New activations register themselves with
:func:`register_activation`; :func:`activation` turns a name, a spec string or an instance into an
:class:`~symhess.activations.base.Activation`.
"""

from __future__ import annotations

import ast
from dataclasses import fields
from typing import TYPE_CHECKING, Union

from ..errors import ActivationParameterError, InvalidParameterError, InvalidTypeError, UnknownActivationError

if TYPE_CHECKING:  # pragma: no cover
    from .base import Activation

__all__ = ["ACTIVATIONS", "ALIASES", "register_activation", "register_alias", "activation", "ActivationLike"]

#: registered activation classes by lowercase name
ACTIVATIONS: dict[str, type] = {}

#: names for a point of a parametrised family, e.g. ``"saad_solla_erf"`` -> ``"erf:scale=1/sqrt(2)"``
ALIASES: dict[str, str] = {}

ActivationLike = Union[str, "Activation"]


def register_activation(cls: type) -> type:
    """Class decorator: add an :class:`Activation` subclass to :data:`ACTIVATIONS` under ``cls.name``.

    Raises
    ------
    ValueError
        If the name is already registered.
    """
    name = cls.name.lower()
    if name in ACTIVATIONS:
        raise InvalidParameterError(f"activation name {name!r} is already registered by {ACTIVATIONS[name].__name__}")
    ACTIVATIONS[name] = cls
    return cls


def register_alias(name: str, spec: str) -> None:
    """Make ``name`` stand for the activation ``spec`` (a registered name with parameters).

    Raises
    ------
    ValueError
        If the name is already an activation or an alias.
    """
    key = name.lower()
    if key in ACTIVATIONS or key in ALIASES:
        raise InvalidParameterError(f"activation name {key!r} is already registered")
    ALIASES[key] = spec


def _parse_value(text: str, key: str) -> object:
    text = text.strip()
    if text[:1] in "[(" and text[-1:] in "])":
        return tuple(_parse_value(item, key) for item in split_top_level(text[1:-1]))
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        value = text  # exact forms like 1/3 are parsed by the activation itself
    return value


def split_top_level(text: str) -> list[str]:
    """Split ``text`` at the commas outside brackets (``"a,b:c=[1,2]"`` -> ``["a", "b:c=[1,2]"]``)."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return parts


def activation(spec: ActivationLike | None = None, **params: object) -> "Activation":
    """Return the activation named by ``spec`` with the given parameters.

    Parameters
    ----------
    spec : str or Activation
        A registered name (``"erf"``), a spec string with parameters
        (``"quadratic:eps=0.5"``, ``"poly:coeffs=[1,0.3,0.2]"``, ``"erf:scale=1/sqrt(2)"``, exact), an
        expression ``"expr:z*tanh(log(1+exp(z)))"`` (a user's own activation), or an
        :class:`Activation` instance, returned unchanged (then ``params`` must be empty).
    **params
        Parameters, overriding those in the string. Without ``spec``, ``expr=`` gives a user's own
        activation from a SymPy expression or a string, with the keywords of
        :func:`symhess.activations.expression.user_activation` (``variable``, ``name``, ``match_family``
        and numeric parameter values).

    Raises
    ------
    UnknownActivationError
        If the name is not registered; the message lists the known names.
    ActivationParameterError
        If a parameter is unknown for that activation, given twice, or has an invalid value.

    Examples
    --------
    >>> activation("quadratic:eps=0.5").spec
    'quadratic:eps=1/2'
    """
    from .base import Activation

    if spec is None or (isinstance(spec, str) and spec.strip().lower().startswith("expr:")):
        from .expression import user_activation

        if spec is not None:
            if "expr" in params:
                raise ActivationParameterError(f"expr= given together with the expression spec {spec!r}")
            return user_activation(spec.strip()[5:], families=ACTIVATIONS, **params)
        if "expr" not in params:
            raise InvalidTypeError("activation() needs a spec (a name, a spec string or an Activation) or expr=")
        return user_activation(params.pop("expr"), families=ACTIVATIONS, **params)
    if "expr" in params:
        raise ActivationParameterError(f"expr= given together with the activation spec {spec!r}")
    if isinstance(spec, Activation):
        if params:
            raise ActivationParameterError(f"parameters {sorted(params)} given together with an Activation instance")
        return spec
    if not isinstance(spec, str):
        raise InvalidTypeError(f"activation must be a name, a spec string or an Activation; got {type(spec).__name__}")
    name, _, rest = spec.partition(":")
    name = name.strip().lower()
    if name in ALIASES:
        if rest.strip():
            raise ActivationParameterError(f"{name!r} names {ALIASES[name]!r} and takes no parameters; got {spec!r}")
        return activation(ALIASES[name], **params)
    if name not in ACTIVATIONS:
        raise UnknownActivationError(f"unknown activation {name!r}; known: {sorted(ACTIVATIONS) + sorted(ALIASES)}")
    cls = ACTIVATIONS[name]
    parsed: dict[str, object] = {}
    for item in split_top_level(rest):
        key, sep, val = item.partition("=")
        if not sep:
            raise ActivationParameterError(f"activation spec {spec!r}: expected key=value, got {item.strip()!r}")
        if key.strip() in parsed:
            raise ActivationParameterError(f"activation spec {spec!r}: parameter {key.strip()!r} is given twice")
        parsed[key.strip()] = _parse_value(val, key.strip())
    parsed.update(params)
    allowed = [f.name for f in fields(cls)]
    unknown = sorted(set(parsed) - set(allowed))
    if unknown:
        raise ActivationParameterError(
            f"unknown parameter(s) {unknown} for activation {name!r}; allowed: {allowed or 'none'}"
        )
    return cls(**parsed)
