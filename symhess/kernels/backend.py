r"""Array backends for the matrix-free kernels: NumPy (default), PyTorch, CuPy, JAX.

Place in the package: engine, kernels (imports only NumPy at module level, the backend
libraries lazily). A backend is named by a string:

==================  ==========================================================
``"numpy"``         NumPy on the CPU (default, always available)
``"torch"``         PyTorch on the CPU (``pip install symhess[torch]``)
``"torch:cuda"``    PyTorch on the current CUDA device (``"torch:cuda:1"``, ...)
``"cupy"``          CuPy on the current CUDA device
``"jax"``           JAX on its default device (CPU, GPU or TPU)
==================  ==========================================================

The kernels are written once against the array API standard (through ``array_api_compat``),
so the same code runs on every backend: the cheap :math:`O(N_h^2)` coefficient matrices are
computed in NumPy and moved to the backend once; the :math:`O(N_h^2N_i)` products run there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["ArrayBackend", "get_backend", "BACKENDS"]

#: backend names accepted by ``backend=`` (``torch`` also takes a device suffix, ``torch:cuda:0``)
BACKENDS = ("numpy", "torch", "cupy", "jax")
_DTYPES = ("float64", "float32")


@dataclass(frozen=True)
class ArrayBackend:
    """An array namespace plus the device arrays live on and the moves to and from NumPy.

    Attributes
    ----------
    name : str
        The backend string it was made from (``"torch:cuda"``, ...).
    xp : module
        Array-API-compatible namespace (``array_api_compat`` wrapper).
    device : object
        Device of the backend's arrays (``None`` for NumPy and CuPy's current device).
    dtype : object
        The backend's floating dtype used for every array.
    """

    name: str
    xp: Any
    device: Any
    dtype: Any

    def asarray(self, a: Any) -> Any:
        """A backend array (on :attr:`device`, dtype :attr:`dtype`) from a NumPy array or a backend array."""
        if self.name == "numpy":
            return np.asarray(a, dtype=self.dtype)
        if self.name.startswith("torch"):
            import torch

            if isinstance(a, torch.Tensor):
                return a.to(device=self.device, dtype=self.dtype)
            return torch.as_tensor(np.asarray(a), dtype=self.dtype, device=self.device)
        return self.xp.asarray(a, dtype=self.dtype)

    def to_numpy(self, a: Any) -> np.ndarray:
        """A NumPy array (float64 host copy where needed) from a backend array."""
        if self.name == "numpy":
            return np.asarray(a, dtype=float)
        if self.name.startswith("torch"):
            return a.detach().cpu().numpy().astype(float, copy=False)
        if self.name == "cupy":
            return a.get().astype(float, copy=False)
        return np.asarray(a, dtype=float)

    def synchronize(self) -> None:
        """Wait for queued device work (for honest timings on GPUs); no-op on the CPU."""
        if self.name.startswith("torch") and str(self.device).startswith("cuda"):
            import torch

            torch.cuda.synchronize(self.device)
        elif self.name == "cupy":
            import cupy

            cupy.cuda.get_current_stream().synchronize()


def _numpy_namespace():
    """NumPy's array-API namespace (NumPy itself from 2.0; the ``array_api_compat`` wrapper before)."""
    if hasattr(np, "matrix_transpose") and hasattr(np, "concat"):
        return np
    import array_api_compat

    return array_api_compat.array_namespace(np.empty(0))


def _missing(name: str, package: str, exc: Exception) -> ModuleNotFoundError:
    return ModuleNotFoundError(
        f"backend={name!r} needs {package}, which is not installed ({exc}); install it "
        f"(e.g. `pip install {package}`) or use backend='numpy'"
    )


def get_backend(backend: str | ArrayBackend = "numpy", dtype: str = "float64") -> ArrayBackend:
    """Resolve a backend name (see the module docstring) and a dtype (``"float64"`` or ``"float32"``).

    Raises
    ------
    ValueError
        Unknown backend name or dtype.
    ModuleNotFoundError
        The backend's library is not installed (the message says what to install).

    Examples
    --------
    >>> get_backend("numpy").dtype
    dtype('float64')
    """
    if isinstance(backend, ArrayBackend):
        return backend
    if not isinstance(backend, str):
        raise TypeError(f"backend must be a string such as 'numpy' or 'torch:cuda', got {type(backend).__name__}")
    if dtype not in _DTYPES:
        raise ValueError(f"dtype={dtype!r} is not supported; choose one of {_DTYPES}")
    base, _, device = backend.partition(":")
    if base not in BACKENDS:
        raise ValueError(f"backend={backend!r} is unknown; choose one of {BACKENDS} (torch also as 'torch:cuda')")
    if device and base != "torch":
        raise ValueError(f"backend={backend!r}: only torch takes a device suffix ('torch:cuda', 'torch:cuda:1')")
    if base == "numpy":
        return ArrayBackend("numpy", _numpy_namespace(), None, np.dtype(dtype))
    try:
        import array_api_compat
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise _missing(backend, "array-api-compat", exc) from exc
    if base == "torch":
        try:
            import torch
        except ImportError as exc:
            raise _missing(backend, "torch", exc) from exc
        dev = torch.device(device or "cpu")
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"backend={backend!r}: PyTorch sees no CUDA device; use backend='torch' for the CPU")
        return ArrayBackend(backend, array_api_compat.array_namespace(torch.empty(0)), dev, getattr(torch, dtype))
    if base == "cupy":
        try:
            import cupy
        except ImportError as exc:
            raise _missing(backend, "cupy", exc) from exc
        return ArrayBackend("cupy", array_api_compat.array_namespace(cupy.empty(0)), None, getattr(cupy, dtype))
    try:
        import jax
        import jax.numpy as jnp
    except ImportError as exc:
        raise _missing(backend, "jax", exc) from exc
    if dtype == "float64":
        jax.config.update("jax_enable_x64", True)  # JAX silently computes in float32 otherwise
    return ArrayBackend("jax", array_api_compat.array_namespace(jnp.empty(0)), None, getattr(jnp, dtype))
