"""Engine: numeric linear algebra on arrays and linear operators (NumPy, SciPy, python-flint).

* :mod:`~symhess.linalg.spectra` -- eigenvalues, the scale-aware zero tolerance, spectral summaries.
* :mod:`~symhess.linalg.lanczos` -- Lanczos extremes and Hutchinson traces of linear operators.
* :mod:`~symhess.linalg.slq` -- stochastic Lanczos quadrature densities with a Wasserstein bound.
* :mod:`~symhess.linalg.exact_rank` -- exact rank over the rationals.
* :mod:`~symhess.linalg.certify` -- ball-arithmetic proofs of definiteness and eigenvalue enclosures.

Nothing here knows a network; nothing here imports SymPy.
"""
