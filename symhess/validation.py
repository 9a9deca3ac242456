"""Input checks shared by every numeric entry point: shapes, finiteness, memory.

A base module of the engine (NumPy only): every layer and model family may import it.
"""

from __future__ import annotations

import os
import sys
import warnings

import numpy as np

from .errors import InvalidParameterError, InvalidTypeError, MemoryLimitError, NonFiniteError, ShapeError

__all__ = [
    "as_rng", "check_size", "as_weights", "as_teacher", "check_dense_size", "available_memory",
    "check_variance_range", "check_finite_result", "row_norms", "MAX_VARIANCE", "resolve_choice", "as_positive",
]


def as_rng(rng: object = None) -> np.random.Generator:
    """A NumPy ``Generator`` from ``None``, a seed, or a ``Generator`` (returned as is)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    raise InvalidTypeError(f"rng must be None, an int seed or a numpy Generator; got {type(rng).__name__}")


def check_size(value: object, name: str) -> int:
    """``value`` as a layer size: an integer >= 1 (TypeError / ValueError naming ``name`` otherwise)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidTypeError(f"{name}={value!r} must be an integer")
    if value < 1:
        raise InvalidParameterError(f"{name}={value} must be >= 1")
    return int(value)


#: largest pre-activation variance s^2 |w|^2 the float64 kernels take: they form products of two
#: variances (and their squares in the ReLU-free closed forms), which must stay below ~1.8e308
MAX_VARIANCE = 1e150


def _as_float_array(x: object, name: str) -> np.ndarray:
    if isinstance(x, (str, bytes)) or x is None:
        raise InvalidTypeError(f"{name} must be a numeric array, got {type(x).__name__}")
    raw = x if isinstance(x, np.ndarray) else np.asarray(x)
    if raw.dtype.kind == "c":
        raise InvalidTypeError(f"{name} has complex dtype {raw.dtype}: weights must be real (the loss is defined for "
                        "real networks); pass the real part explicitly if that is what you mean")
    if raw.dtype.kind not in "biufO":
        raise InvalidTypeError(f"{name} has dtype {raw.dtype}; expected a real numeric array (bool, int or float)")
    if raw.dtype.kind == "O" and any(isinstance(e, (complex, np.complexfloating)) for e in raw.flat):
        raise InvalidTypeError(f"{name} has a complex entry: weights must be real")
    try:
        arr = np.asarray(raw, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InvalidTypeError(f"{name} must be a real numeric array (object arrays only of real numbers such as "
                        f"Fraction): {exc}") from exc
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise NonFiniteError(f"{name} has a non-finite entry {arr[tuple(bad)]} at index {tuple(int(b) for b in bad)}")
    return arr


def as_weights(W: object, v: object, *, name: str = "") -> tuple[np.ndarray, np.ndarray]:
    """Validate a two-layer network's weights: ``W`` of shape ``(Nh, Ni)``, ``v`` of shape ``(Nh,)``.

    Raises
    ------
    TypeError
        Non-numeric, complex or object input.
    ShapeError
        ``W`` not 2-D, ``v`` not 1-D, or their hidden sizes differ, or an empty dimension.
    NonFiniteError
        NaN or inf entries.
    """
    W = _as_float_array(W, f"W{name}")
    v = _as_float_array(v, f"v{name}")
    if W.ndim != 2:
        raise ShapeError(f"W{name} must have shape (n_hidden, n_in); got shape {W.shape}")
    if v.ndim != 1:
        raise ShapeError(f"v{name} must have shape (n_hidden,); got shape {v.shape}")
    if W.shape[0] != v.shape[0]:
        raise ShapeError(
            f"W{name} has {W.shape[0]} rows (hidden units) but v{name} has {v.shape[0]} entries; they must agree"
        )
    if W.size == 0:
        raise ShapeError(f"W{name} of shape {W.shape} is empty; n_hidden and n_in must be >= 1")
    return W, v


def as_teacher(W_teacher: object, v_teacher: object, n_in: int) -> tuple[np.ndarray, np.ndarray]:
    """Validate teacher weights; the teacher may have another hidden size but the same ``n_in``."""
    if (W_teacher is None) != (v_teacher is None):
        raise InvalidParameterError("give both W_teacher and v_teacher, or neither (then the teacher is the student)")
    Wt, vt = as_weights(W_teacher, v_teacher, name="_teacher")
    if Wt.shape[1] != n_in:
        raise ShapeError(f"W_teacher has n_in={Wt.shape[1]} columns but the student has n_in={n_in}")
    return Wt, vt


def available_memory() -> int:
    """Bytes of memory available now (``MemAvailable`` on Linux; 8 GiB where unknown)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 8 * 2**30


def check_dense_size(n_params: int, *, max_bytes: int | None = None, what: str = "expected Hessian") -> None:
    """Raise :class:`MemoryLimitError` if a dense ``n_params x n_params`` float64 matrix will not fit.

    The default budget is 80% of the memory available now.
    """
    need = 8 * n_params * n_params
    budget = int(0.8 * available_memory()) if max_bytes is None else int(max_bytes)
    if need > budget:
        raise MemoryLimitError(
            f"a dense {what} with P={n_params} parameters needs {need / 2**30:.1f} GiB, more than the "
            f"{budget / 2**30:.1f} GiB budget; use the matrix-free route symhess.hessian_operator(act, W, v) "
            "(Hessian-vector products, Lanczos spectra) instead"
        )


def check_variance_range(act, sq_norms: np.ndarray, what: str = "W") -> None:
    r"""Raise :class:`NonFiniteError` where a pre-activation variance :math:`s^2\|w_i\|^2` is beyond float64 kernels.

    The closed forms multiply two variances (:math:`q_1q_2-c^2`, :math:`(1+2q_1)(1+2q_2)`); above
    :data:`MAX_VARIANCE` these products overflow and the kernels would return NaN or a wrong limit.
    Homogeneous activations (ReLU) are rescaled before this check by the dense assembly.
    """
    factor = act.variance_scale()
    if not factor <= MAX_VARIANCE:
        raise NonFiniteError(
            f"activation {act.name!r} has variance scale s^2 = {factor:.3g}, beyond the {MAX_VARIANCE:.0e} that "
            "float64 kernels take (they need s^2 |w_i|^2 <= 1e150); use a smaller scale or fold it into W"
        )
    with np.errstate(over="ignore"):
        eff = sq_norms * factor
    big = np.flatnonzero(~(eff <= MAX_VARIANCE))
    if big.size:
        i = int(big[0])
        norm = float(np.sqrt(sq_norms[i])) if np.isfinite(sq_norms[i]) else float("inf")
        scale = "" if factor == 1.0 else f" times the activation's variance scale {factor:.3g}"
        raise NonFiniteError(
            f"row {i} of {what} has norm {norm:.3g}: its pre-activation variance{scale} exceeds {MAX_VARIANCE:.0e}, "
            "beyond which the float64 kernels overflow; rescale the weights (row norms below ~1e75 times 1/scale)"
        )


def check_finite_result(H: np.ndarray, W: np.ndarray, what: str = "expected Hessian") -> np.ndarray:
    """Raise :class:`NonFiniteError` if ``H`` has an entry that overflowed float64; return ``H`` otherwise."""
    if not np.all(np.isfinite(H)):
        with np.errstate(over="ignore"):
            big = float(np.abs(W).max())
        raise NonFiniteError(
            f"the {what} has entries beyond float64 range (largest |W| entry {big:.3g}): its entries scale like "
            "powers of the row norms; rescale the weights"
        )
    return H


def row_norms(W: np.ndarray) -> np.ndarray:
    """Euclidean norms of the rows of ``W`` without overflow or underflow (each row scaled by its largest entry)."""
    m = np.abs(W).max(axis=1)
    safe = np.where(m > 0, m, 1.0)
    return m * np.linalg.norm(W / safe[:, None], axis=1)


def resolve_choice(value: object, name: str, choices: dict[str, str], aliases: dict[str, str] | None = None) -> str:
    """``value`` as one of the documented ``choices`` (name -> meaning); old spellings warn and map.

    ``aliases`` maps deprecated spellings to choices: they keep working for one release with a
    :class:`DeprecationWarning` naming the new spelling. Anything else raises
    :class:`~symhess.errors.InvalidParameterError` (or :class:`~symhess.errors.InvalidTypeError`
    for a non-string) listing the choices and what each means.
    """
    aliases = aliases or {}
    listing = "; ".join(f"{key!r}: {meaning}" for key, meaning in choices.items())
    spec = getattr(value, "spec", value)  # an Activation stands for its name
    if not isinstance(spec, str):
        raise InvalidTypeError(f"{name}={value!r} must be a string, one of {listing}")
    key = spec.strip().lower()
    if key in aliases:
        new = aliases[key]
        warnings.warn(f"{name}={key!r} is deprecated; use {name}={new!r} ({choices[new]})", DeprecationWarning,
                      stacklevel=_caller_stacklevel())
        return new
    if key not in choices:
        raise InvalidParameterError(f"{name}={value!r} is unknown; choose one of {listing}")
    return key


def _caller_stacklevel() -> int:
    """The ``stacklevel`` of the first frame outside symhess, so that a warning points at the caller's line."""
    package = os.path.dirname(os.path.abspath(__file__))
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package + os.sep):
        frame, level = frame.f_back, level + 1
    return level


def as_positive(value: object, name: str, *, allow_zero: bool = False) -> float:
    """``value`` as a finite float ``> 0`` (``>= 0`` with ``allow_zero``), or a SymhessError naming ``name``."""
    try:
        x = float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidTypeError(f"{name}={value!r} must be a number") from exc
    if not np.isfinite(x) or x < 0 or (x == 0 and not allow_zero):
        raise InvalidParameterError(f"{name}={value!r} must be finite and {'>= 0' if allow_zero else '> 0'}")
    return x
