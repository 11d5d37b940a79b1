"""Offline export: N augmented copies of an ImageFolder tree, manifest, checksums, resume after SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from PIL import Image

from augloader.data.export import ExportError, copy_seed, export_augmented
from augloader.data.imagefiles import sha256_file

ROOT = Path(__file__).resolve().parent.parent
PIPELINE = {
    "pipeline": [
        {"RandomResizedCrop": {"size": 48}},
        {"RandomHorizontalFlip": {}},
        {"ColorJitter": {"brightness": 0.4, "hue": 0.1}},
    ]
}


def _image_folder(root: Path, size: int = 64) -> Path:
    """cats/chelsea.jpg, cats/coffee.png, space/astronaut.png, space/camera.png (grayscale), from skimage."""
    from skimage import data

    photos = {
        "cats/chelsea.jpg": data.chelsea(),
        "cats/coffee.png": data.coffee(),
        "space/astronaut.png": data.astronaut(),
        "space/camera.png": data.camera(),
    }
    for rel, array in photos.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(array).resize((size, size)).save(root / rel)
    return root


def _config(tmp_path: Path, spec: dict = PIPELINE) -> Path:
    path = tmp_path / "export.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def _manifest(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]


def _files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_export_writes_copies_and_manifest(tmp_path):
    src, out = _image_folder(tmp_path / "in"), tmp_path / "out"
    out.mkdir()
    result = export_augmented(_config(tmp_path), src, out, copies=3, seed=7, progress=False)
    assert (result.written, result.kept, result.failed) == (12, 0, [])
    entries = _manifest(out)
    assert [(e["source"], e["copy"]) for e in entries] == [
        (s, c)
        for s in ["cats/chelsea.jpg", "cats/coffee.png", "space/astronaut.png", "space/camera.png"]
        for c in range(3)
    ]
    for e in entries:
        path = out / e["output"]
        assert e["output"] == e["source"].rsplit(".", 1)[0] + f"_aug{e['copy']:03d}.png"
        assert sha256_file(path) == e["sha256"]
        assert e["seed"] == copy_seed(7, e["index"], e["copy"])
        assert set(e["params"]) == {"0", "1", "2"} and len(e["params"]["0"]["box"][0]) == 4  # params as lists
        with Image.open(path) as img:
            assert img.size == (48, 48) and img.mode == ("L" if "camera" in e["source"] else "RGB")
    assert len({e["sha256"] for e in entries}) == 12  # every copy is a different draw


def test_same_seed_same_files_other_seed_different(tmp_path):
    src, config = _image_folder(tmp_path / "in"), _config(tmp_path)
    runs = {}
    for name, seed in (("a", 1), ("b", 1), ("c", 2)):
        (tmp_path / name).mkdir()
        export_augmented(config, src, tmp_path / name, copies=2, seed=seed, progress=False)
        runs[name] = _files(tmp_path / name)
    assert runs["a"] == runs["b"]
    assert runs["a"]["manifest.jsonl"] != runs["c"]["manifest.jsonl"]
    # a second run into the same folder keeps every verified file and changes nothing
    result = export_augmented(config, src, tmp_path / "a", copies=2, seed=1, progress=False)
    assert (result.written, result.kept) == (0, 8) and _files(tmp_path / "a") == runs["b"]


def test_tampered_file_is_rewritten(tmp_path):
    src, out, config = _image_folder(tmp_path / "in"), tmp_path / "out", _config(tmp_path)
    out.mkdir()
    export_augmented(config, src, out, copies=1, seed=0, progress=False)
    before = _files(out)
    (out / "cats/coffee_aug000.png").write_bytes(b"not a png")
    (out / "space/camera_aug000.png").unlink()
    result = export_augmented(config, src, out, copies=1, seed=0, progress=False)
    assert (result.written, result.kept) == (2, 2) and _files(out) == before


def test_resume_after_sigkill(tmp_path):
    src, config = (
        _image_folder(tmp_path / "in", size=160),
        _config(
            tmp_path,
            {
                "pipeline": [
                    {"RandomResizedCrop": {"size": 128}},
                    {"ColorJitter": {"brightness": 0.4, "saturation": 0.4, "hue": 0.1}},
                ]
            },
        ),
    )
    out, reference = tmp_path / "out", tmp_path / "reference"
    out.mkdir(), reference.mkdir()
    copies = 25
    cmd = [
        sys.executable,
        "-m",
        "augloader",
        "export",
        "--config",
        str(config),
        "--input",
        str(src),
        "--output",
        str(out),
        "--copies",
        str(copies),
        "--seed",
        "5",
        "--no-progress",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(list(out.rglob("*.png"))) < 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the export finished before it could be killed; make it longer"
    done_before = len(list(out.rglob("*.png")))
    assert 3 <= done_before < 4 * copies

    result = export_augmented(config, src, out, copies=copies, seed=5, progress=False)
    assert result.kept >= 2 and result.kept + result.written == 4 * copies and not result.failed
    entries = _manifest(out)
    assert len(entries) == 4 * copies
    for e in entries:
        assert sha256_file(out / e["output"]) == e["sha256"]
    assert not [p for p in out.rglob("*") if p.name.startswith(".")]  # no temporary files left
    # byte-identical to an uninterrupted run
    export_augmented(config, src, reference, copies=copies, seed=5, progress=False)
    assert _files(out) == _files(reference)


def test_corrupt_source_is_reported_and_skipped(tmp_path):
    src, out = _image_folder(tmp_path / "in"), tmp_path / "out"
    out.mkdir()
    good = (src / "cats/chelsea.jpg").read_bytes()
    (src / "cats/broken.jpg").write_bytes(good[: len(good) // 3])  # truncated JPEG
    (src / "cats/noise.jpg").write_bytes(b"\xff\xd8 definitely not a jpeg")
    messages = []
    result = export_augmented(_config(tmp_path), src, out, copies=2, seed=0, progress=False, report=messages.append)
    assert [s for s, _ in result.failed] == ["cats/broken.jpg", "cats/noise.jpg"]
    assert result.written == 8 and len(messages) == 2 and "cats/broken.jpg" in messages[0]
    assert not list(out.rglob("broken*")) and len(_manifest(out)) == 8


def test_cli_reports_corrupt_source(tmp_path):
    src, out = _image_folder(tmp_path / "in"), tmp_path / "out"
    out.mkdir()
    (src / "cats/broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "augloader",
            "export",
            "--config",
            str(_config(tmp_path)),
            "--input",
            str(src),
            "--output",
            str(out),
            "--copies",
            "1",
            "--no-progress",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert "skipped cats/broken.jpg" in run.stderr and "wrote 4 files" in run.stdout


def test_missing_output_directory_fails_before_work(tmp_path):
    src = _image_folder(tmp_path / "in")
    missing = tmp_path / "missing"
    with pytest.raises(ExportError, match="does not exist"):
        export_augmented(_config(tmp_path), src, missing, copies=1, progress=False)
    assert not missing.exists()
    blocker = tmp_path / "file"
    blocker.write_text("a regular file")
    with pytest.raises(ExportError, match="not a directory|does not exist"):
        export_augmented(_config(tmp_path), src, blocker / "out", copies=1, progress=False)
    with pytest.raises(ExportError, match="is not a directory"):
        export_augmented(_config(tmp_path), src, blocker, copies=1, progress=False)
    assert blocker.read_text() == "a regular file"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "augloader",
            "export",
            "--config",
            str(_config(tmp_path)),
            "--input",
            str(src),
            "--output",
            str(missing),
            "--copies",
            "1",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2 and "does not exist" in run.stderr and not missing.exists()


def test_read_only_output_directory_fails_before_work(tmp_path):
    if os.geteuid() == 0:
        pytest.skip(
            "running as root: chmod 0o555 does not stop root from writing (the missing/non-directory cases still run)"
        )
    src, out = _image_folder(tmp_path / "in"), tmp_path / "out"
    out.mkdir()
    out.chmod(0o555)
    try:
        with pytest.raises(ExportError, match="not writable"):
            export_augmented(_config(tmp_path), src, out, copies=1, progress=False)
        assert list(out.iterdir()) == []
    finally:
        out.chmod(0o755)


def test_float_pipeline_is_refused(tmp_path):
    src, out = _image_folder(tmp_path / "in"), tmp_path / "out"
    out.mkdir()
    with pytest.raises(ExportError, match="drop Normalize"):
        export_augmented(ROOT / "configs" / "imagenet.yaml", src, out, copies=1, progress=False)
    assert list(out.iterdir()) == []
    # a float pipeline that ends in ToUint8 exports
    spec = {"pipeline": [{"ToFloat": {}}, {"RandomHorizontalFlip": {}}, {"ToUint8": {}}]}
    assert export_augmented(spec, src, out, copies=1, progress=False).written == 4
