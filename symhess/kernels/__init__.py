"""Engine: numeric kernels compiled from symbolic Gaussian expectations.

* :mod:`~symhess.kernels.codegen` -- lambdify policy: pair and single expectations of an activation
  become vectorised NumPy callables (SymPy is loaded here, once per kernel, cached).
* :mod:`~symhess.kernels.quadrature` -- the numeric route for activations without closed forms
  (NumPy only).
* :mod:`~symhess.kernels.backend` -- array backends (NumPy, PyTorch, CuPy, JAX) for matrix-free
  products.

The package imports nothing eagerly, so importing one NumPy-only module does not load SymPy.
"""
