"""Model family: the Pennington-Bahri Wishart + Wigner Hessian model, by free probability.

* :mod:`.addition` -- symbolic free addition through R-transforms, the index prefactor and the
  critical energy (SymPy).
* :mod:`.coefficients` -- the Stieltjes-transform polynomial compiled into NumPy.
* :mod:`.law` -- the spectral law, its index and its sampling checks (NumPy).
"""
