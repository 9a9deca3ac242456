"""Numeric analysis of spectra, ranks, laws and dynamics; works on arrays, never imports SymPy.

Place in the pipeline: layer 6.
"""

from .spectra import SpectrumSummary, default_tolerance, eigenvalues, spectrum_summary

__all__ = ["SpectrumSummary", "default_tolerance", "eigenvalues", "spectrum_summary"]
