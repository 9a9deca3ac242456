"""Deep fully connected teacher-student networks: :math:`f(x)=W_L\\sigma(W_{L-1}\\sigma(\\cdots\\sigma(W_1x)))`.

A model family (imports the engine only). Modules: :mod:`.weights` (widths, teachers, per-layer
activations), :mod:`.model` (the concrete SymPy network), :mod:`.polynomials` (dense multivariate
polynomials and Gaussian Gram matrices), :mod:`.coefficients` (the exact and float expected Hessian of
polynomial networks), :mod:`.pointwise` (gradients at points: float, exact and ball arithmetic;
certified ranks; the quasi-Monte Carlo estimate), :mod:`.hessian` (the public entry point) and
:mod:`.counting` (the effective number of parameters). Nothing is imported eagerly.
"""
