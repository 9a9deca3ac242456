"""Input checks shared by every numeric entry point: shapes, finiteness, memory.

A base module of the engine (NumPy only): every layer and model family may import it.
"""

from __future__ import annotations

import os

import numpy as np

from .errors import MemoryLimitError, NonFiniteError, ShapeError

__all__ = ["as_rng", "check_size", "as_weights", "as_teacher", "check_dense_size", "available_memory"]


def as_rng(rng: object = None) -> np.random.Generator:
    """A NumPy ``Generator`` from ``None``, a seed, or a ``Generator`` (returned as is)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be None, an int seed or a numpy Generator; got {type(rng).__name__}")


def check_size(value: object, name: str) -> int:
    """``value`` as a layer size: an integer >= 1 (TypeError / ValueError naming ``name`` otherwise)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}={value!r} must be an integer")
    if value < 1:
        raise ValueError(f"{name}={value} must be >= 1")
    return int(value)


def _as_float_array(x: object, name: str) -> np.ndarray:
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be a numeric array, got {type(x).__name__}")
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array: {exc}") from exc
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise NonFiniteError(f"{name} has a non-finite entry {arr[tuple(bad)]} at index {tuple(int(b) for b in bad)}")
    return arr


def as_weights(W: object, v: object, *, name: str = "") -> tuple[np.ndarray, np.ndarray]:
    """Validate a two-layer network's weights: ``W`` of shape ``(Nh, Ni)``, ``v`` of shape ``(Nh,)``.

    Raises
    ------
    TypeError
        Non-numeric input.
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
        raise ValueError("give both W_teacher and v_teacher, or neither (then the teacher is the student)")
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
