r"""The two variants of the Pennington–Bahri model, by the law of the residual part :math:`H_1`.

Place in the package: the free-probability family (plain Python; shared by the symbolic and the numeric modules).

The Hessian is :math:`H = H_0 + H_1` with :math:`H_0` Wishart (Marchenko–Pastur) and :math:`H_1`
freely independent of it (Pennington & Bahri 2017). The variants differ in :math:`H_1`:

* ``"wigner"`` — :math:`H_1` a Wigner matrix, semicircle of variance :math:`2\epsilon`,
  :math:`R_{H_1}(w)=2\epsilon w` (the network without a nonlinearity);
* ``"relu_block"`` — :math:`H_1` block off-diagonal, :math:`R_{H_1}(w)=\epsilon\phi w/(2-\epsilon\phi^2w^2)`
  (the ReLU network of J. Tanner's lecture slides, Theories of Deep Learning C6.5).

The spellings ``"linear"`` and ``"relu"`` of earlier releases still work, with a
:class:`DeprecationWarning`: they name activations elsewhere in symhess.
"""

from __future__ import annotations

from ..validation import resolve_choice

__all__ = ["PB_VARIANTS", "PB_ALIASES", "LEGACY_NAMES", "pb_variant"]

#: the variants, by name, with their H1 law
PB_VARIANTS: dict[str, str] = {
    "wigner": "H1 a Wigner matrix (semicircle of variance 2 eps), the network without a nonlinearity",
    "relu_block": "H1 block off-diagonal (the lecture slides' ReLU network)",
}

#: deprecated spellings -> variant
PB_ALIASES: dict[str, str] = {"linear": "wigner", "relu": "relu_block"}

#: variant -> the spelling of earlier releases (the ``activation`` attribute of laws and models)
LEGACY_NAMES: dict[str, str] = {new: old for old, new in PB_ALIASES.items()}


def pb_variant(value: object) -> str:
    """The variant named by ``value`` (a name of :data:`PB_VARIANTS`; old spellings warn)."""
    return resolve_choice(value, "activation", PB_VARIANTS, PB_ALIASES)
