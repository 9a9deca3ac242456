"""Export of derived formulas (LaTeX, Markdown, Python source).

Place in the pipeline: layer 7 (may import every stage to its left).
"""

__all__: list[str] = []
