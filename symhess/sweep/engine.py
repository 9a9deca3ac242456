r"""Parameter sweeps that survive interruption: any per-point task, run serially, in local processes
or on a Dask cluster, with results appended to a JSON-lines file as they arrive.

Place in the package: outputs, sweeps (may import everything but ``cli``; Dask is imported only
when a Dask scheduler is used).

A sweep is a task function and a list of parameter points (dicts of JSON scalars, e.g. from
:func:`grid`). Each finished point becomes one line of the results file,

.. code-block:: json

    {"key": "{\"n_hidden\":3,\"n_in\":5,\"seed\":0}", "task": "symhess.sweep.tasks:spectrum_point",
     "params": {...}, "status": "ok", "result": {...}, "elapsed_s": 0.12}

written and flushed by the driving process only (one writer, so no locking), in completion order.
The key is the canonical JSON of the parameters. On restart, :func:`run_sweep` reads the file, skips
every key already recorded with status ``"ok"`` (and ``"error"`` unless ``retry_errors``), and
runs only the rest: an interrupted sweep resumes without recomputing. A truncated last line (a
crash mid-write) is ignored and that point recomputed.

Schedulers: ``"serial"`` (this process), ``"processes"`` (a local process pool, no Dask needed),
``"local"`` (a Dask ``LocalCluster``, the default), a scheduler address such as
``"tcp://10.0.0.5:8786"`` (an existing Dask cluster spanning machines), or a
``distributed.Client``. Tasks must be importable top-level functions (they are pickled to workers).
"""

from __future__ import annotations

import itertools
import json
import math
import os
import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import numpy as np

__all__ = [
    "grid", "point_key", "ResultsFile", "SweepSummary", "run_sweep", "task_name", "Progress", "SCHEDULERS",
]

#: scheduler names accepted besides a Dask address or Client
SCHEDULERS = ("local", "processes", "serial")


def grid(**axes: Iterable[Any]) -> list[dict[str, Any]]:
    """All combinations of the given axes, in a deterministic order (last axis fastest).

    Examples
    --------
    >>> grid(n_in=[2, 3], seed=[0, 1])
    [{'n_in': 2, 'seed': 0}, {'n_in': 2, 'seed': 1}, {'n_in': 3, 'seed': 0}, {'n_in': 3, 'seed': 1}]
    """
    names = list(axes)
    values = [list(axes[n]) for n in names]
    for n, vals in zip(names, values):
        if not vals:
            raise ValueError(f"axis {n!r} of the sweep grid is empty")
    return [dict(zip(names, combo)) for combo in itertools.product(*values)]


def _jsonable(x: Any) -> Any:
    """NumPy scalars and arrays to plain JSON types; NaN/inf are rejected (JSON has no such numbers)."""
    if isinstance(x, Mapping):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return repr(x)  # "nan"/"inf" as strings: visible, never silently a number
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    raise TypeError(f"sweep values must be JSON-serialisable; got {type(x).__name__}: {x!r}")


def point_key(params: Mapping[str, Any]) -> str:
    """Canonical key of a parameter point: compact JSON with sorted keys."""
    return json.dumps(_jsonable(params), sort_keys=True, separators=(",", ":"))


def task_name(task: Callable) -> str:
    """``module:qualname`` of a task function (recorded with each result)."""
    return f"{getattr(task, '__module__', '?')}:{getattr(task, '__qualname__', repr(task))}"


class ResultsFile:
    """A JSON-lines results file: read what is done, append records durably (flush + fsync)."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    def records(self) -> dict[str, dict[str, Any]]:
        """Recorded points by key (a later line for the same key wins); a truncated last line is skipped."""
        out: dict[str, dict[str, Any]] = {}
        if not self.path.exists():
            return out
        lines = self.path.read_text().splitlines()
        for n, line in enumerate(lines):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                if n == len(lines) - 1:
                    continue  # interrupted mid-write: that point is simply recomputed
                raise ValueError(f"{self.path}:{n + 1} is not a JSON line; not a symhess results file?") from None
            if not isinstance(rec, dict) or "key" not in rec:
                raise ValueError(f"{self.path}:{n + 1} has no 'key'; not a symhess results file?")
            out[rec["key"]] = rec
        return out

    def _drop_partial_line(self) -> None:
        """Cut a last line without its newline (a crash mid-write; :meth:`records` ignored it)."""
        with open(self.path, "rb+") as fh:
            size = fh.seek(0, os.SEEK_END)
            if size == 0:
                return
            fh.seek(size - 1)
            if fh.read(1) == b"\n":
                return
            pos = size
            while pos > 0:  # back to the last newline, in chunks
                step = min(pos, 1 << 16)
                fh.seek(pos - step)
                cut = fh.read(step).rfind(b"\n")
                if cut >= 0:
                    pos = pos - step + cut + 1
                    break
                pos -= step
            fh.truncate(pos)

    def append(self, record: Mapping[str, Any]) -> None:
        """Append one record as a line and force it to disk (a partial last line is dropped first)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            self._drop_partial_line()
        with open(self.path, "a") as fh:
            fh.write(json.dumps(_jsonable(record), sort_keys=True) + "\n")
            fh.flush()
            os.fsync(fh.fileno())


class Progress:
    """Progress lines on a stream: ``[done/total] percent, elapsed, ETA, last point``."""

    def __init__(self, stream: Any = None, min_interval: float = 0.5) -> None:
        self.stream = sys.stderr if stream is None else stream
        self.min_interval = min_interval
        self._t0 = time.perf_counter()
        self._last = -math.inf

    def __call__(self, done: int, total: int, record: Mapping[str, Any] | None) -> None:
        now = time.perf_counter()
        if done < total and now - self._last < self.min_interval:
            return
        self._last = now
        el = now - self._t0
        eta = el / done * (total - done) if done else float("nan")
        what = "" if record is None else f" {record.get('status', '')} {record.get('key', '')}"
        pct = 100.0 * done / total if total else 100.0
        print(f"[{done}/{total}] {pct:5.1f}%  {el:7.1f}s elapsed, ETA {eta:7.1f}s{what}", file=self.stream, flush=True)


@dataclass
class SweepSummary:
    """What :func:`run_sweep` did: points in total, skipped (already done), computed, failed."""

    path: Path
    total: int
    skipped: int
    computed: int
    failed: int
    records: dict[str, dict[str, Any]] = field(repr=False, default_factory=dict)

    def results(self) -> list[dict[str, Any]]:
        """All recorded points with status ``ok``, as records."""
        return [r for r in self.records.values() if r.get("status") == "ok"]


def _run_point(task: Callable, params: dict[str, Any]) -> dict[str, Any]:
    """Run one point and build its record (exceptions become ``status: error`` records)."""
    t0 = time.perf_counter()
    try:
        result = _jsonable(task(**params))
        status, err = "ok", None
    except Exception as exc:  # a failing point must not stop the sweep; it is recorded and reported
        result, status = None, "error"
        err = f"{type(exc).__name__}: {exc}\n" + "".join(traceback.format_tb(exc.__traceback__)[-3:])
    rec = {"key": point_key(params), "task": task_name(task), "params": _jsonable(params), "status": status,
           "result": result, "elapsed_s": round(time.perf_counter() - t0, 6)}
    if err is not None:
        rec["error"] = err
    return rec


def _dask_client(scheduler: Any, n_workers: int | None):
    """(client, cluster-or-None, whether we own the client) for a Dask scheduler spec."""
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise ModuleNotFoundError(
            f"scheduler={scheduler!r} needs dask.distributed ({exc}); install it with "
            "`pip install 'dask[distributed]'`, or use scheduler='processes' or 'serial'"
        ) from exc
    if isinstance(scheduler, Client):
        return scheduler, None, False
    if scheduler == "local":
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None)
        return Client(cluster), cluster, True
    return Client(scheduler), None, True


def run_sweep(
    task: Callable[..., Mapping[str, Any]],
    points: Iterable[Mapping[str, Any]],
    out: str | os.PathLike,
    *,
    scheduler: Any = "local",
    n_workers: int | None = None,
    progress: Callable[[int, int, Mapping[str, Any] | None], None] | bool = True,
    retry_errors: bool = False,
) -> SweepSummary:
    """Run ``task(**point)`` for every point not yet in ``out``, appending each result as it completes.

    Parameters
    ----------
    task : callable
        Top-level function of keyword parameters returning a JSON-serialisable mapping.
    points : iterable of dict
        Parameter points (e.g. :func:`grid`); duplicates are run once.
    out : path
        JSON-lines results file (created, or resumed).
    scheduler : str or distributed.Client
        ``"local"`` (Dask ``LocalCluster``, default), ``"processes"``, ``"serial"``, a Dask scheduler
        address (``"tcp://host:8786"``), or a Client.
    n_workers : int, optional
        Workers for ``"local"`` and ``"processes"`` (default: the CPU count).
    progress : bool or callable
        ``True``: progress lines on stderr; a callable ``progress(done, total, record)``; ``False``: quiet.
    retry_errors : bool
        Recompute points whose recorded status is ``"error"``.

    Returns
    -------
    SweepSummary

    Raises
    ------
    ValueError
        The results file holds results of another task under the same keys.
    """
    if not callable(task):
        raise TypeError(f"task must be callable, got {type(task).__name__}")
    if not isinstance(scheduler, str) and not hasattr(scheduler, "submit"):
        raise TypeError(f"scheduler must be one of {SCHEDULERS}, a Dask address, or a Client; got {scheduler!r}")
    if n_workers is not None and n_workers < 1:
        raise ValueError(f"n_workers must be >= 1, got {n_workers}")
    store = ResultsFile(out)
    name = task_name(task)
    todo: dict[str, dict[str, Any]] = {}
    for p in points:
        if not isinstance(p, Mapping):
            raise TypeError(f"each sweep point must be a dict of parameters, got {p!r}")
        todo.setdefault(point_key(p), dict(p))
    done = store.records()
    for key, rec in done.items():
        if key in todo and rec.get("task") != name:
            raise ValueError(
                f"{store.path} already holds results of task {rec.get('task')!r} for {key}; "
                f"this sweep runs {name!r}: use another results file"
            )
    keep = ("ok",) if retry_errors else ("ok", "error")
    pending = [(k, p) for k, p in todo.items() if done.get(k, {}).get("status") not in keep]
    total, skipped = len(todo), len(todo) - len(pending)
    report = Progress() if progress is True else (progress or None)
    n_done, failed = skipped, 0

    def record(rec: dict[str, Any]) -> None:
        nonlocal n_done, failed
        store.append(rec)
        done[rec["key"]] = rec
        n_done += 1
        failed += rec["status"] != "ok"
        if report:
            report(n_done, total, rec)

    if report:
        report(n_done, total, None)
    if pending:
        if scheduler == "serial":
            for _, p in pending:
                record(_run_point(task, p))
        elif scheduler == "processes":
            with ProcessPoolExecutor(max_workers=n_workers) as pool:
                futures = [pool.submit(_run_point, task, p) for _, p in pending]
                try:
                    for fut in as_completed(futures):
                        record(fut.result())
                except BaseException:
                    for fut in futures:
                        fut.cancel()
                    raise
        else:
            client, cluster, own = _dask_client(scheduler, n_workers)
            try:
                from distributed import as_completed as dask_as_completed

                futures = [client.submit(_run_point, task, p, pure=False) for _, p in pending]
                try:
                    for fut in dask_as_completed(futures):
                        record(fut.result())
                except BaseException:
                    client.cancel(futures)
                    raise
            finally:
                if own:
                    client.close()
                if cluster is not None:
                    cluster.close()
    return SweepSummary(store.path, total, skipped, total - skipped, failed, done)
