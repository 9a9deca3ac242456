"""Sweeps (issue 8): serial, local processes and a Dask cluster; resume after interruption without
recomputation; progress reporting; the ``symhess sweep`` CLI.

Routes: every scheduler must give the same records as the serial run (the tasks are deterministic
in their parameters); recomputation is detected by counting task calls and by the results file.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from click.testing import CliRunner

from symhess.cli import main
from symhess.sweep import Progress, ResultsFile, grid, point_key, run_sweep, spectrum_point

CALLS: list[dict] = []


def square_task(x: int, y: int = 0) -> dict:
    """A cheap in-process task that records its calls."""
    CALLS.append({"x": x, "y": y})
    if x < 0:
        raise ValueError(f"x={x} is negative")
    return {"square": x * x + y, "arr": np.arange(2) * x}


def other_task(x: int, y: int = 0) -> dict:
    return {"x": x}


class Interrupt(Exception):
    pass


def test_grid_and_keys():
    pts = grid(a=[1, 2], b=["u", "v"])
    assert pts == [{"a": 1, "b": "u"}, {"a": 1, "b": "v"}, {"a": 2, "b": "u"}, {"a": 2, "b": "v"}]
    assert point_key({"b": 1, "a": np.int64(2)}) == point_key({"a": 2, "b": 1}) == '{"a":2,"b":1}'
    with pytest.raises(ValueError, match="empty"):
        grid(a=[])
    with pytest.raises(TypeError, match="JSON"):
        point_key({"a": object()})


def test_serial_resume_after_interruption_without_recomputation(tmp_path):
    out = tmp_path / "r.jsonl"
    pts = grid(x=[1, 2, 3, 4, 5])
    CALLS.clear()

    def interrupt_after_two(done, total, rec):
        if done == 2:
            raise Interrupt

    with pytest.raises(Interrupt):
        run_sweep(square_task, pts, out, scheduler="serial", progress=interrupt_after_two)
    assert len(out.read_text().splitlines()) == 2 and len(CALLS) == 2
    CALLS.clear()
    s = run_sweep(square_task, pts, out, scheduler="serial", progress=False)
    assert (s.total, s.skipped, s.computed, s.failed) == (5, 2, 3, 0)
    assert sorted(c["x"] for c in CALLS) == [3, 4, 5]  # only the missing points ran
    assert sorted(r["result"]["square"] for r in s.results()) == [1, 4, 9, 16, 25]
    assert s.records[point_key({"x": 3})]["result"]["arr"] == [0, 3]
    CALLS.clear()
    s = run_sweep(square_task, pts, out, scheduler="serial", progress=False)
    assert (s.skipped, s.computed) == (5, 0) and CALLS == []
    assert len(out.read_text().splitlines()) == 5  # nothing rewritten


def test_truncated_last_line_is_recomputed(tmp_path):
    out = tmp_path / "r.jsonl"
    run_sweep(square_task, grid(x=[1, 2]), out, scheduler="serial", progress=False)
    text = out.read_text().splitlines()
    out.write_text(text[0] + "\n" + text[1][: len(text[1]) // 2])  # a crash mid-write
    CALLS.clear()
    s = run_sweep(square_task, grid(x=[1, 2]), out, scheduler="serial", progress=False)
    assert (s.skipped, s.computed) == (1, 1) and [c["x"] for c in CALLS] == [2]
    assert len(ResultsFile(out).records()) == 2
    assert all(json.loads(x) for x in out.read_text().splitlines())  # the partial line was dropped
    # a partial line longer than the backwards-scan chunk
    out.write_text(out.read_text() + '{"key": "' + "x" * 70_000)
    CALLS.clear()
    s = run_sweep(square_task, grid(x=[1, 2, 3]), out, scheduler="serial", progress=False)
    assert (s.skipped, s.computed) == (2, 1) and len(out.read_text().splitlines()) == 3
    out.write_text("garbage\n" + out.read_text())
    with pytest.raises(ValueError, match="not a JSON line"):
        ResultsFile(out).records()


def test_errors_are_recorded_and_retried(tmp_path):
    out = tmp_path / "r.jsonl"
    s = run_sweep(square_task, grid(x=[-1, 2]), out, scheduler="serial", progress=False)
    assert s.failed == 1
    bad = s.records[point_key({"x": -1})]
    assert bad["status"] == "error" and "ValueError: x=-1 is negative" in bad["error"]
    CALLS.clear()
    s = run_sweep(square_task, grid(x=[-1, 2]), out, scheduler="serial", progress=False)
    assert s.computed == 0 and CALLS == []  # errors are kept unless asked to retry
    s = run_sweep(square_task, grid(x=[-1, 2]), out, scheduler="serial", progress=False, retry_errors=True)
    assert s.computed == 1 and [c["x"] for c in CALLS] == [-1]


def test_another_task_in_the_same_file_is_refused(tmp_path):
    out = tmp_path / "r.jsonl"
    run_sweep(square_task, grid(x=[1]), out, scheduler="serial", progress=False)
    with pytest.raises(ValueError, match="another results file"):
        run_sweep(other_task, grid(x=[1]), out, scheduler="serial", progress=False)


def test_bad_arguments(tmp_path):
    out = tmp_path / "r.jsonl"
    with pytest.raises(TypeError, match="callable"):
        run_sweep("square", grid(x=[1]), out)
    with pytest.raises(TypeError, match="scheduler"):
        run_sweep(square_task, grid(x=[1]), out, scheduler=3)
    with pytest.raises(ValueError, match="n_workers"):
        run_sweep(square_task, grid(x=[1]), out, scheduler="serial", n_workers=0)
    with pytest.raises(TypeError, match="dict"):
        run_sweep(square_task, [1, 2], out, scheduler="serial")


def test_progress_lines():
    buf = io.StringIO()
    p = Progress(buf, min_interval=0.0)
    p(0, 3, None)
    p(3, 3, {"status": "ok", "key": '{"x":1}'})
    lines = buf.getvalue().splitlines()
    assert lines[0].startswith("[0/3]") and "0.0%" in lines[0]
    assert lines[1].startswith("[3/3]") and "100.0%" in lines[1] and '{"x":1}' in lines[1]


SPECTRUM_POINTS = [dict(activation="quadratic", n_in=ni, n_hidden=nh, seed=0, n_bins=5)
                   for ni, nh in ((2, 2), (3, 2), (2, 3), (3, 3))]


@pytest.fixture(scope="module")
def serial_spectra(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial") / "s.jsonl"
    s = run_sweep(spectrum_point, SPECTRUM_POINTS, out, scheduler="serial", progress=False)
    assert s.failed == 0
    return {k: r["result"] for k, r in s.records.items()}


def _same(records, reference):
    for k, ref in reference.items():
        got = records[k]["result"]
        assert got["method"] == ref["method"] == "dense"
        assert np.allclose(got["largest"], ref["largest"], rtol=1e-12)
        assert np.allclose(got["counts"], ref["counts"])


def test_spectrum_point_is_a_histogram_of_the_dense_spectrum():
    import symhess

    r = spectrum_point("quadratic", 3, 2, seed=1, n_bins=4)
    W, v = symhess.teacher(3, 2, rng=1)
    eigs = np.linalg.eigvalsh(symhess.expected_hessian("quadratic", W, v))
    assert r["n_params"] == 8 and sum(r["counts"]) == pytest.approx(8)
    assert np.histogram(eigs, bins=r["edges"])[0].sum() == 8
    assert r["largest"][-1] == pytest.approx(eigs[-1], rel=1e-12)


def test_local_processes_match_serial(tmp_path, serial_spectra):
    s = run_sweep(spectrum_point, SPECTRUM_POINTS, tmp_path / "p.jsonl", scheduler="processes", n_workers=2,
                  progress=False)
    assert s.computed == 4 and s.failed == 0
    _same(s.records, serial_spectra)


def test_dask_cluster_match_serial_and_resume(tmp_path, serial_spectra):
    """A Dask LocalCluster reached by its scheduler ADDRESS (as `--scheduler tcp://...`): same results as
    the serial run; a second sweep over more points computes only the new ones."""
    distributed = pytest.importorskip("distributed", reason="dask.distributed not installed")
    out = tmp_path / "d.jsonl"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        buf = io.StringIO()
        s1 = run_sweep(spectrum_point, SPECTRUM_POINTS[:2], out, scheduler=cluster.scheduler_address,
                       progress=Progress(buf, min_interval=0.0))
        assert (s1.computed, s1.failed) == (2, 0)
        assert buf.getvalue().splitlines()[-1].startswith("[2/2]")
        s2 = run_sweep(spectrum_point, SPECTRUM_POINTS, out, scheduler=cluster.scheduler_address, progress=False)
        assert (s2.total, s2.skipped, s2.computed, s2.failed) == (4, 2, 2, 0)
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(lines) == 4 and len({x["key"] for x in lines}) == 4
    _same(s2.records, serial_spectra)


@pytest.mark.slow
def test_dask_default_local_cluster(tmp_path, serial_spectra):
    pytest.importorskip("distributed", reason="dask.distributed not installed")
    s = run_sweep(spectrum_point, SPECTRUM_POINTS[2:], tmp_path / "l.jsonl", n_workers=1, progress=False)
    assert (s.computed, s.failed) == (2, 0)
    _same(s.records, {k: v for k, v in serial_spectra.items() if k in s.records})


def test_cli_sweep_spectrum_resumes(tmp_path):
    out = tmp_path / "cli.jsonl"
    runner = CliRunner()
    args = ["sweep", "spectrum", "-a", "quadratic", "--n-in", "2,3", "--n-hidden", "2", "--scheduler", "serial",
            "-o", str(out)]
    r = runner.invoke(main, args + ["-q"])
    assert r.exit_code == 0, r.output
    assert "2 points: 0 already in" in r.output and "| quadratic | 3 | 2 | 0 | dense | 8 |" in r.output
    r = runner.invoke(main, args)
    assert r.exit_code == 0 and "2 points: 2 already in" in r.output and "0 computed" in r.output
    r = runner.invoke(main, ["sweep", "spectrum", "--n-in", "2-x", "-o", str(out), "--scheduler", "serial"])
    assert r.exit_code != 0 and "range" in r.output
    r = runner.invoke(main, ["sweep", "spectrum", "-a", "swish", "-o", str(out), "--scheduler", "serial"])
    assert r.exit_code != 0 and "swish" in r.output
