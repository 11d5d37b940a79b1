"""Packaging and tooling: one version source, the license, the typing marker, the progress helper."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest

import augloader

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parent.parent


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_one_version_source():
    project = _pyproject()
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "augloader.__version__"}
    assert augloader.__version__ == importlib.metadata.version("augloader")


def test_license_is_the_full_apache_2_text():
    text = (ROOT / "LICENSE").read_text()
    assert text.lstrip().startswith("Apache License\n") and "Version 2.0, January 2004" in text
    for heading in (
        "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION",
        "9. Accepting Warranty or Additional Liability.",
        "END OF TERMS AND CONDITIONS",
        "APPENDIX: How to apply the Apache License to your work.",
    ):
        assert heading in text
    assert _pyproject()["project"]["license"] == "Apache-2.0"


def test_py_typed_marker_is_shipped():
    assert (Path(augloader.__file__).parent / "py.typed").is_file()
    assert "py.typed" in _pyproject()["tool"]["setuptools"]["package-data"]["augloader"]


def test_progress_bar_shows_only_on_a_terminal(monkeypatch):
    from augloader import _progress

    monkeypatch.delenv(_progress.QUIET_ENV, raising=False)
    assert not _progress.stderr_is_terminal()  # pytest captures stderr
    assert not _progress.progress_enabled() and _progress.progress(range(3)).disable
    monkeypatch.setattr(_progress, "stderr_is_terminal", lambda: True)
    assert _progress.progress_enabled() and not _progress.progress(range(3)).disable
    assert not _progress.progress_enabled(quiet=True)
    monkeypatch.setenv(_progress.QUIET_ENV, "1")
    assert not _progress.progress_enabled()


def test_every_benchmark_suite_takes_the_runners_argv() -> None:
    # scripts/bench.py calls bench_<suite>.main(rest) for each suite it is given.
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "scripts"
    for path in sorted(root.glob("bench_*.py")):
        tree = ast.parse(path.read_text())
        mains = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main"]
        assert mains, f"{path.name} has no main()"
        args = mains[0].args
        assert len(args.args) == 1 and len(args.defaults) == 1, f"{path.name}: main must take one argv=None"
