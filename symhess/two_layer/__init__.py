r"""Model family: the two-layer teacher-student network :math:`f(x)=\sum_i v_i\,\sigma(w_i\cdot x)`.

Symbolic model and derivation
    :mod:`.model` (:class:`TwoLayerNet`), :mod:`.templates` (block names, bases and Hessian parts,
    defined once), :mod:`.blocks` (the typed block representation: :class:`~.blocks.BlockTemplate`, and
    :func:`derive_blocks`: expected blocks as formulas in the overlaps).
Teachers
    :mod:`.teacher` (Gaussian), :mod:`.rational` (exact dyadic rationals).
Numeric Hessians
    :mod:`.pairs` (block templates on all unit pairs), :mod:`.assemble` (the one assembly of
    the blocks, any number type; dense expected Hessian),
    :mod:`.hvp` (matrix-free operator), :mod:`.loss` (population loss and gradient).
Exact and certified arithmetic
    :mod:`.objects` (block templates over exact or ball numbers), :mod:`.exact` (rationals), :mod:`.balls`
    (arb balls), :mod:`.coefficients` (the polynomial network's coefficient Jacobian).
Analysis
    :mod:`.rank`, :mod:`.counting` (effective number of parameters), :mod:`.linear_law` (eq. 15),
    :mod:`.hessian_spectrum`, :mod:`.teacher_spectra`, :mod:`.dynamics`, :mod:`.fisher`.

The package imports nothing eagerly: NumPy-only modules load no SymPy.
"""
