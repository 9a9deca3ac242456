"""Sweeps over parameter grids, locally or on a Dask cluster, resumable from a JSON-lines results file.

Place in the package: outputs, sweeps (may import every stage but ``cli``).
"""

from .engine import SCHEDULERS, Progress, ResultsFile, SweepSummary, grid, point_key, run_sweep, task_name
from .tasks import TASKS, count_point, spectrum_point

__all__ = [
    "SCHEDULERS", "Progress", "ResultsFile", "SweepSummary", "grid", "point_key", "run_sweep", "task_name",
    "TASKS", "count_point", "spectrum_point",
]
