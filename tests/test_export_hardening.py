"""Export and the command line under failure: a full disk, 16-bit sources, a config of another kind (issue 16)."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from augloader import cli
from augloader.data import export as export_module
from augloader.data.export import ExportError, export_augmented
from augloader.data.imagefiles import read_image

IDENTITY = {"pipeline": [{"RandomHorizontalFlip": {"p": 0.0}}]}  # uint8 in, the same uint8 out


def _folder(root: Path, count: int = 3) -> Path:
    rng = np.random.default_rng(0)
    for i in range(count):
        (root / "cls").mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)).save(root / "cls" / f"img{i}.png")
    return root


def _config(tmp_path: Path, spec: dict = IDENTITY) -> Path:
    path = tmp_path / "export.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def _disk_fills_after(monkeypatch: pytest.MonkeyPatch, writes: int) -> None:
    """The ``writes + 1``-th file write fails with ENOSPC, as on a full disk."""
    real, calls = export_module.write_atomic, []

    def write_atomic(path, data):
        calls.append(path)
        if len(calls) > writes:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(path, data)

    monkeypatch.setattr(export_module, "write_atomic", write_atomic)


# ---- a full disk -----------------------------------------------------------------------------------
def test_full_disk_is_an_export_error_naming_the_file_and_a_rerun_resumes(tmp_path, monkeypatch):
    src, out = _folder(tmp_path / "in"), tmp_path / "out"
    out.mkdir()
    _disk_fills_after(monkeypatch, writes=1)
    with pytest.raises(ExportError, match=r"cannot write .*img1_aug000\.png: No space left on device; .*rerun"):
        export_augmented(IDENTITY, src, out, copies=1, progress=False)
    logged = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert [e["output"] for e in logged] == ["cls/img0_aug000.png"]  # what was written is recorded
    monkeypatch.undo()
    result = export_augmented(IDENTITY, src, out, copies=1, progress=False)
    assert (result.kept, result.written) == (1, 2)


def test_full_disk_on_the_final_manifest_is_an_export_error(tmp_path, monkeypatch):
    src, out = _folder(tmp_path / "in"), tmp_path / "out"
    out.mkdir()

    def write_manifest(path, entries):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(export_module, "write_manifest", write_manifest)
    with pytest.raises(ExportError, match=r"cannot write .*manifest\.jsonl: No space left on device"):
        export_augmented(IDENTITY, src, out, copies=1, progress=False)


def test_cli_prints_its_error_line_on_a_full_disk(tmp_path, monkeypatch, capsys):
    src, out = _folder(tmp_path / "in"), tmp_path / "out"
    out.mkdir()
    _disk_fills_after(monkeypatch, writes=0)
    status = cli.main(
        [
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
        ]
    )
    err = capsys.readouterr().err
    assert status == 2 and "Traceback" not in err
    assert "augloader export: error: cannot write" in err and "No space left on device" in err


def test_cli_turns_any_os_error_into_its_error_line(tmp_path, monkeypatch, capsys):
    def fail(*args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), "/some/file.png")

    monkeypatch.setattr(export_module, "export_augmented", fail)
    status = cli.main(["export", "--config", "x.yaml", "--input", "in", "--output", "out", "--copies", "1"])
    assert status == 2
    assert capsys.readouterr().err == "augloader export: error: /some/file.png: Permission denied\n"


# ---- 16-bit sources ------------------------------------------------------------------------------
def _gray16(path: Path) -> np.ndarray:
    values = (np.arange(32 * 32, dtype=np.uint32).reshape(32, 32) * 64).astype(np.uint16)  # 0 .. 65472
    Image.fromarray(values).save(path)
    with Image.open(path) as img:
        assert img.mode == "I;16"  # a real 16-bit PNG, as PIL reads it
    return values


def test_16_bit_png_exports_scaled_not_white(tmp_path):
    src, out = tmp_path / "in", tmp_path / "out"
    (src / "cls").mkdir(parents=True)
    out.mkdir()
    values = _gray16(src / "cls" / "depth.png")
    export_augmented(IDENTITY, src, out, copies=1, progress=False)
    written = np.asarray(Image.open(out / "cls" / "depth_aug000.png"))
    assert written.dtype == np.uint8 and written.shape == (32, 32)
    assert np.array_equal(written, (values >> 8).astype(np.uint8))  # the high byte: 0 -> 0, 65472 -> 255
    assert (written == 255).mean() < 0.01  # was 99.6% white


def test_read_image_scales_wide_integer_modes(tmp_path):
    values = _gray16(tmp_path / "a.png")
    assert np.array_equal(read_image(tmp_path / "a.png")[0].numpy(), values >> 8)
    wide = np.array([[-5, 0, 255, 256], [65535, 70000, 32768, 1000]], dtype=np.int32)
    Image.fromarray(wide).save(tmp_path / "b.tif")  # mode I (32-bit integers): clipped to 16 bits, then >> 8
    assert read_image(tmp_path / "b.tif")[0].tolist() == [[0, 0, 0, 1], [255, 255, 128, 3]]
    rgb = np.random.default_rng(0).integers(0, 256, (4, 4, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "c.png")  # 8-bit files are untouched
    assert np.array_equal(read_image(tmp_path / "c.png").permute(1, 2, 0).numpy(), rgb)


# ---- configs of another kind -----------------------------------------------------------------------
def test_export_and_preview_refuse_an_audio_config(tmp_path, capsys):
    src, out = _folder(tmp_path / "in"), tmp_path / "out"
    out.mkdir()
    audio = _config(tmp_path, {"pipeline": ["RandomGain"], "collate": {"length": 100}})
    with pytest.raises(ExportError, match="needs an image pipeline config; .* is an audio config"):
        export_augmented(audio, src, out, copies=1, progress=False)
    with pytest.raises(TypeError, match="config must be a path, a mapping, a PipelineConfig or a Transform, got int"):
        export_augmented(3, src, out, copies=1, progress=False)
    assert cli.main(["preview", "--config", str(audio), "--input", str(src), "--out", str(tmp_path / "p.png")]) == 2
    assert "preview needs an image pipeline config" in capsys.readouterr().err
    assert not (tmp_path / "p.png").exists()


def test_damaged_manifest_lines_are_skipped_and_redone(tmp_path):
    src, out = _folder(tmp_path / "in", count=2), tmp_path / "out"
    out.mkdir()
    export_augmented(IDENTITY, src, out, copies=1, progress=False)
    lines = (out / "manifest.jsonl").read_bytes().splitlines(keepends=True)
    damage = [b"\xff\xfe not utf-8\n", b"[" * 100_000 + b"\n", b'{"source": "x", "copy": 1e999}\n', b"[1, 2]\n"]
    (out / "manifest.jsonl").write_bytes(lines[0] + b"".join(damage))  # the second entry is lost
    result = export_augmented(IDENTITY, src, out, copies=1, progress=False)
    assert (result.kept, result.written) == (1, 1)
    assert len((out / "manifest.jsonl").read_text().splitlines()) == 2
