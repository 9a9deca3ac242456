r"""Model family: the two-layer teacher-student network :math:`f(x)=\sum_i v_i\,\sigma(w_i\cdot x)`.

Symbolic model and derivation
    :mod:`.model` (:class:`TwoLayerNet`), :mod:`.templates` (block names and Hessian parts),
    :mod:`.blocks` (:func:`derive_blocks`: expected blocks as formulas in the overlaps).
Teachers
    :mod:`.teacher` (Gaussian), :mod:`.rational` (exact dyadic rationals).
Numeric Hessians
    :mod:`.pairs` (pair kernels on all unit pairs), :mod:`.assemble` (dense expected Hessian),
    :mod:`.hvp` (matrix-free operator), :mod:`.loss` (population loss and gradient).
Exact and certified arithmetic
    :mod:`.objects` (assembly over any number field), :mod:`.exact` (rationals), :mod:`.balls`
    (arb balls), :mod:`.coefficients` (the polynomial network's coefficient Jacobian).
Analysis
    :mod:`.rank`, :mod:`.counting` (effective number of parameters), :mod:`.linear_law` (eq. 15),
    :mod:`.hessian_spectrum`, :mod:`.teacher_spectra`, :mod:`.dynamics`, :mod:`.fisher`.

The package imports nothing eagerly: NumPy-only modules load no SymPy.
"""
