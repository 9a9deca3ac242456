"""Exporters for the results of :mod:`symhess.analysis` (counting rules, spectral laws)."""
