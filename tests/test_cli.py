"""The ``augloader`` command line: help for every subcommand, and a preview PNG of the expected size."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "augloader", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize(
    "command, words",
    [
        ((), ["preview", "export", "bench"]),
        (("preview",), ["--config", "--input", "--out", "--variants", "--seed"]),
        (("export",), ["--config", "--input", "--output", "--copies", "--seed"]),
        (("bench",), ["scripts/bench.py", "--suite"]),
    ],
)
def test_help(command, words):
    run = _run(*command, "--help")
    assert run.returncode == 0, run.stderr
    for word in words:
        assert word in run.stdout


def test_preview_writes_png_of_expected_size(tmp_path):
    out = tmp_path / "grid.png"
    run = _run("preview", "--config", "configs/imagenet.yaml", "--out", str(out), "--variants", "3", "--seed", "1")
    assert run.returncode == 0, run.stderr
    # 4 sample photos (rows) x (original + 3 variants), square tiles of 160 px, 4 px padding
    with Image.open(out) as img:
        assert img.format == "PNG" and img.size == (4 + 4 * 164, 4 + 4 * 164)


def test_preview_of_an_image_with_sidecar_targets(tmp_path):
    from skimage import data

    Image.fromarray(data.astronaut()).resize((120, 80)).save(tmp_path / "astro.png")
    Image.new("L", (120, 80), 0).save(tmp_path / "astro_mask.png")
    (tmp_path / "astro.json").write_text(
        json.dumps({"boxes": [[30, 5, 70, 45]], "keypoints": [[50, 20]], "mask": "astro_mask.png"})
    )
    out = tmp_path / "grid.png"
    run = _run(
        "preview",
        "--config",
        "configs/cifar.yaml",
        "--input",
        str(tmp_path / "astro.png"),
        "--out",
        str(out),
        "--variants",
        "2",
        "--cell",
        "0",
    )
    assert run.returncode == 0, run.stderr
    with Image.open(out) as img:
        # one row; cells as large as the largest tile (the 120x80 original), 4 px padding
        assert img.size == (4 + 3 * 124, 4 + 84)
        original = img.convert("RGB").crop((4, 4, 124, 84))
    assert original.getpixel((30, 25)) == (255, 40, 40)  # the box outline (1 px at this size) in red
    assert original.getpixel((50, 20)) == (40, 255, 40)  # the keypoint in green


def test_bad_config_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("pipeline:\n  - ColorJitter: {brigthness: 0.4}\n")
    run = _run("preview", "--config", str(bad), "--out", str(tmp_path / "x.png"))
    assert run.returncode == 2
    assert "pipeline[0].ColorJitter: unknown argument 'brigthness'; did you mean 'brightness'?" in run.stderr
    assert "Traceback" not in run.stderr


def test_bench_outside_a_source_checkout(tmp_path, monkeypatch, capsys):
    from augloader import cli

    monkeypatch.setattr(cli, "__file__", str(tmp_path / "site-packages" / "augloader" / "cli.py"))
    assert cli.main(["bench", "--suite", "images"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("augloader bench: error: benchmarks run from a source checkout") and "make bench" in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_preview_without_scikit_image_says_how_to_fix_it(tmp_path, monkeypatch, capsys):
    from augloader import cli

    monkeypatch.setitem(sys.modules, "skimage", None)  # import skimage now raises ModuleNotFoundError
    out = tmp_path / "grid.png"
    assert cli.main(["preview", "--config", str(ROOT / "configs/cifar.yaml"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("augloader preview: error: ") and err.count("\n") == 1
    assert "pip install scikit-image" in err and "--input" in err
    assert not out.exists()


def _tiny_image_folder(root: Path) -> Path:
    for i, cls in enumerate(("a", "a", "b")):
        (root / cls).mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (40, 32), (40 * i, 90, 200)).save(root / cls / f"img{i}.png")
    return root


@pytest.mark.parametrize("quiet", [False, True])
def test_export_progress_bar_and_quiet(tmp_path, monkeypatch, capsys, quiet):
    from augloader import _progress, cli

    monkeypatch.setattr(_progress, "stderr_is_terminal", lambda: True)  # as if run in a terminal
    monkeypatch.delenv(_progress.QUIET_ENV, raising=False)
    src, out = _tiny_image_folder(tmp_path / "src"), tmp_path / "out"
    out.mkdir()
    config = tmp_path / "export.yaml"
    config.write_text("pipeline:\n  - RandomCrop: {size: 24}\n  - RandomHorizontalFlip: {}\n")
    argv = ["export", "--config", str(config), "--input", str(src), "--output", str(out), "--copies", "2"]
    assert cli.main(argv + (["--quiet"] if quiet else [])) == 0
    captured = capsys.readouterr()
    assert "wrote 6 files" in captured.out
    if quiet:
        assert captured.err == ""
    else:
        assert "export: 100%" in captured.err and "6/6" in captured.err
