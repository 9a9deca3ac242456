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
