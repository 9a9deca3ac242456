"""Every ``derivations/NN_*.py`` script runs in quick mode and its asserts pass."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPTS = sorted((Path(__file__).resolve().parents[1] / "derivations").glob("[0-9][0-9]_*.py"))


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(f"derivation_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_derivation_quick(path, tmp_path):
    module = _load(path)
    assert hasattr(module, "main"), f"{path.name} must define main(argv=None)"
    assert module.main(["--quick", "--out", str(tmp_path)]) in (0, None)


@pytest.mark.parametrize("stem, slide", [("40_linear_spectrum_law", False), ("50_pennington_bahri_law", True)])
def test_figures_are_labelled_and_fit_a_slide(stem, slide, tmp_path, monkeypatch):
    """Every drawn panel has both axis labels; a multi-panel figure is at most 14 in wide and 16:9 or narrower."""
    pytest.importorskip("matplotlib")
    import matplotlib.figure

    saved = []
    real = matplotlib.figure.Figure.savefig

    def record(fig, *a, **k):
        saved.append([(ax.get_xlabel(), ax.get_ylabel()) for ax in fig.axes if ax.axison]
                     + [("size", tuple(fig.get_size_inches()))])
        return real(fig, *a, **k)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", record)
    path = next(p for p in SCRIPTS if p.stem == stem)
    assert _load(path).main(["--quick", "--out", str(tmp_path)]) in (0, None)
    assert saved
    for fig in saved:
        *panels, (_, (w, h)) = fig
        assert panels and all(x and y for x, y in panels), f"{stem}: a panel without an axis label: {panels}"
        if slide:
            assert w <= 14 and w / h <= 16 / 9 + 0.01, f"{stem}: {w:.1f} x {h:.1f} in does not fit a slide"
