"""Model family: the deep (linear or ReLU) unconstrained-feature model at the collapsed optimum.

* :mod:`.symbolic`, :mod:`.symbolic_hessian` -- the model and its Kronecker-structured layer
  Hessians in SymPy.
* :mod:`.network` -- :class:`DeepLinearUFM`, :class:`DeepUFM` and their optimum (NumPy).
* :mod:`.point`, :mod:`.calculus`, :mod:`.matrices` -- parameters, forward and backward maps,
  the appendix matrices.
* :mod:`.optimum`, :mod:`.theory`, :mod:`.collapse`, :mod:`.training` -- the closed-form optimum,
  the theorems' predictions, neural-collapse measures, tracked gradient descent.
"""
