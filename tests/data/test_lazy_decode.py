"""Decode fused with the crop: augloader.data.ImageFolder, LazyImage, file/bytes samples, corrupt files."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision
from PIL import Image

import augloader as A
from augloader.data import AugmentedDataset, ImageDecodeError, ImageFolder, LazyImage
from augloader.data.decode import to_image_tensor
from augloader.data.first_stage import transform_lazy


def _photo(h: int, w: int) -> Image.Image:
    from skimage import data
    from skimage.transform import resize

    img = resize(data.astronaut(), (h, w), anti_aliasing=True, preserve_range=True)
    return Image.fromarray(img.round().clip(0, 255).astype(np.uint8))


def _jpeg(img: Image.Image, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("photos")
    sizes = [(375, 500), (333, 500), (500, 375), (1200, 1600)]
    for c, name in enumerate(["cat", "dog", "emu"]):
        (root / name).mkdir()
        for i, (h, w) in enumerate(sizes):
            (root / name / f"{i}.jpg").write_bytes(_jpeg(_photo(h, w).rotate(30 * c)))
    (root / "dog" / "gray.png").write_bytes(_png(_photo(120, 90).convert("L")))
    return root


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def test_image_folder_matches_torchvision(folder):
    ours, ref = ImageFolder(str(folder)), torchvision.datasets.ImageFolder(str(folder))
    assert ours.classes == ref.classes and ours.class_to_idx == ref.class_to_idx
    assert ours.samples == ref.samples and ours.targets == ref.targets and ours.imgs == ref.imgs
    image, label = ours[0]
    assert isinstance(image, LazyImage) and label == ref[0][1]
    assert image.size == (ref[0][0].size[1], ref[0][0].size[0])
    # Decoded in full, the lazy image is torchvision's PIL image.
    assert torch.equal(image.decode().contiguous(), torch.from_numpy(np.array(ref[0][0])).permute(2, 0, 1))
    # A torchvision-style transform gets PIL images, exactly as torchvision's ImageFolder gives them.
    tv_tf = torchvision.transforms.PILToTensor()
    assert torch.equal(
        ImageFolder(str(folder), transform=tv_tf)[5][0],
        torchvision.datasets.ImageFolder(str(folder), transform=tv_tf)[5][0],
    )


def test_grayscale_files_keep_one_channel(folder):
    ds = ImageFolder(str(folder))
    gray = next(i for i, (p, _) in enumerate(ds.samples) if p.endswith("gray.png"))
    assert ds[gray][0].channels == 1 and ds[gray][0].decode().shape == (1, 120, 90)
    out = AugmentedDataset(ds, A.RandomResizedCrop(32), seed=0)[gray][0]
    assert out.shape == (1, 32, 32) and out.dtype == torch.uint8


def test_lazy_crop_equals_full_decode_when_no_scale_is_skipped(folder):
    # Output larger than half of every crop: the JPEG decodes at full scale, the result is identical.
    lazy = AugmentedDataset(ImageFolder(str(folder)), A.RandomResizedCrop(300, scale=(0.5, 1.0)), seed=3)
    full = AugmentedDataset(
        torchvision.datasets.ImageFolder(str(folder)), A.RandomResizedCrop(300, scale=(0.5, 1.0)), seed=3
    )
    small = [i for i, (p, _) in enumerate(lazy.dataset.samples) if not p.endswith(("3.jpg", ".png"))]
    for i in small:
        assert torch.equal(lazy[i][0], full[i][0]), i


def test_lazy_crop_on_large_photos_within_dct_tolerance(folder):
    # 1600x1200 -> 64: the decoder skips to 1/2..1/8 scale; the box maps into the smaller image, so the
    # result differs from full decode + crop by the DCT scaling and a sub-pixel box shift only.
    pipeline = A.Compose([A.RandomResizedCrop(64), A.RandomHorizontalFlip()])
    lazy = AugmentedDataset(ImageFolder(str(folder)), pipeline, seed=1)
    full = AugmentedDataset(torchvision.datasets.ImageFolder(str(folder)), pipeline, seed=1)
    big = [i for i, (p, _) in enumerate(lazy.dataset.samples) if p.endswith("3.jpg")]
    decoded_small = []
    for i in big:
        a, b = lazy[i][0].float(), full[i][0].float()
        assert a.shape == b.shape == (3, 64, 64)
        diff = (a - b).abs()
        assert diff.mean() < 3.0 and torch.quantile(diff.flatten(), 0.9) < 8.0, (i, diff.mean())
        decoded_small.append(True)
    assert decoded_small


def test_decode_uses_a_reduced_scale_for_small_outputs(folder, monkeypatch):
    path = str(folder / "cat" / "3.jpg")
    img = LazyImage.open(path)
    asked = img.draft_size((1200, 1600), (150, 200))  # box downscaled 8x: 1/8 scale suffices
    assert asked == (150, 200)
    assert img.decode(at_least=asked).shape == (3, 150, 200)
    assert img.decode(at_least=(400, 500)).shape == (3, 600, 800)  # 1/2: 1/4 would fall below
    seen = []
    real = LazyImage.decode_resized
    monkeypatch.setattr(LazyImage, "decode_resized", lambda self, *a: seen.append(a[2]) or real(self, *a))
    monkeypatch.setattr(LazyImage, "decode", lambda *a, **k: pytest.fail("decoded at full scale"))
    out = transform_lazy(A.RandomResizedCrop(32, scale=(0.9, 1.0)), img, torch.Generator().manual_seed(0))
    assert out.shape == (3, 32, 32) and seen[0][0] < 1200 / 4  # asked for at most 1/4 of the height


def test_pipeline_after_the_crop_runs_and_replays(folder):
    # (At full decoding scale: the output is more than half the crop, so the draws replay exactly.)
    pipeline = A.Compose(
        [
            A.RandomResizedCrop(300, scale=(0.5, 1.0)),
            A.RandomHorizontalFlip(),
            A.ColorJitter(0.3, 0.3, 0.3),
            A.Normalize([0.5] * 3, [0.25] * 3),
        ]
    )
    img = LazyImage.open(str(folder / "emu" / "0.jpg"))
    out = transform_lazy(pipeline, img, torch.Generator().manual_seed(5))
    assert out.shape == (3, 300, 300) and out.dtype == torch.float32
    again = pipeline(img.decode(), params=pipeline.last_params)  # full decode, same draws
    assert torch.allclose(out, again, atol=1e-5)


def test_paths_and_bytes_are_samples_too(folder):
    path = folder / "cat" / "1.jpg"
    samples = [(str(path), 0), (path, 1), (path.read_bytes(), 2)]
    ds = AugmentedDataset(samples, A.RandomResizedCrop(40), seed=0)
    outs = [ds[i] for i in range(3)]
    assert all(o[0].shape == (3, 40, 40) and o[1] == i for i, o in enumerate(outs))
    plain = AugmentedDataset(samples, seed=0)  # no transform: fully decoded
    assert plain[2][0].shape == (3, 333, 500)
    assert torch.equal(to_image_tensor(str(path)), to_image_tensor(path.read_bytes()))


def test_corrupt_and_truncated_files_name_the_file(tmp_path):
    good = _jpeg(_photo(200, 300))
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "truncated.jpg").write_bytes(good[: len(good) // 3])
    big = _jpeg(_photo(900, 1200))
    (tmp_path / "a" / "truncated_big.jpg").write_bytes(big[: len(big) // 2])  # takes the reduced-scale path
    (tmp_path / "a" / "garbage.jpg").write_bytes(b"this is not a jpeg at all" * 10)
    ds = AugmentedDataset(ImageFolder(str(tmp_path)), A.RandomResizedCrop(32), seed=0)
    names = [Path(p).name for p, _ in ds.dataset.samples]
    for i, name in enumerate(names):
        with pytest.raises(ImageDecodeError, match=name):
            ds[i]
    with pytest.raises(ImageDecodeError, match="bytes in memory"):
        LazyImage.open(b"nope")
    with pytest.raises(TypeError, match="path or bytes"):
        LazyImage.open(3.5)


def test_pil_to_tensor_has_no_transposing_copy():
    img = _photo(30, 40)
    t = to_image_tensor(img)
    assert t.shape == (3, 30, 40) and t.stride() == (1, 120, 3)  # (H, W, C) memory seen as (C, H, W)
    assert torch.equal(t, torch.from_numpy(np.array(img)).permute(2, 0, 1))
    gray = to_image_tensor(img.convert("L"))
    assert gray.shape == (1, 30, 40)


def test_corrupt_files_can_be_skipped_and_reported(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "0.jpg").write_bytes(_jpeg(_photo(60, 80)))
    (tmp_path / "a" / "1.jpg").write_bytes(b"broken")
    (tmp_path / "a" / "2.jpg").write_bytes(_jpeg(_photo(70, 90)))
    strict = AugmentedDataset(ImageFolder(str(tmp_path)), A.RandomResizedCrop(16), seed=0)
    with pytest.raises(ImageDecodeError, match=r"sample 1: cannot read image .*1\.jpg"):
        strict[1]
    lenient = AugmentedDataset(ImageFolder(str(tmp_path)), A.RandomResizedCrop(16), seed=0, on_error="skip")
    with pytest.warns(UserWarning, match=r"skipped sample 1 .*1\.jpg"):
        image, label = lenient[1]
    assert image.shape == (3, 16, 16) and lenient.skipped == [1]
    with pytest.raises(ValueError, match="on_error"):
        AugmentedDataset(ImageFolder(str(tmp_path)), on_error="ignore")


def test_negative_index_is_the_same_sample_with_the_same_draws(folder):
    ds = AugmentedDataset(ImageFolder(str(folder)), A.RandomResizedCrop(24), seed=0)
    assert torch.equal(ds[-1][0], ds[len(ds) - 1][0])
    with pytest.raises(IndexError, match="out of range"):
        ds[len(ds)]


def test_split_pipeline_cuts_at_the_size_fix_and_at_the_float_conversion():
    from augloader.data import split_pipeline

    pipeline = A.Compose(
        [
            A.RandomResizedCrop(32),
            A.RandomHorizontalFlip(),
            A.TrivialAugmentWide(),
            A.Normalize([0.5] * 3, [0.2] * 3),
            A.RandomErasing(p=0.5),
        ]
    )
    names = lambda part: None if part is None else [type(t).__name__ for t in part.transforms]  # noqa: E731
    sample, batch, consumer = split_pipeline(pipeline)
    assert names(sample) == ["RandomResizedCrop", "RandomHorizontalFlip"] and consumer is None  # the flip fuses
    assert names(batch) == ["TrivialAugmentWide", "Normalize", "RandomErasing"]
    sample, batch, consumer = split_pipeline(pipeline, uint8_batch=True)
    assert names(batch) == ["TrivialAugmentWide"]
    assert names(consumer) == ["Normalize", "RandomErasing"]
    # Resize(int) keeps the aspect ratio (size still varies); the CenterCrop after it fixes the size.
    sample, batch, _ = split_pipeline(A.Compose([A.Resize(40), A.CenterCrop(32), A.ColorJitter(0.2)]))
    assert names(sample) == ["Resize", "CenterCrop"] and names(batch) == ["ColorJitter"]
    # Parts compose back to the whole: mixed-size images, per-sample part, stack, batch part.
    images = [torch.randint(0, 256, (3, 40 + 7 * i, 50 + 3 * i), dtype=torch.uint8) for i in range(4)]
    sample, batch, consumer = split_pipeline(pipeline, uint8_batch=True)
    stacked = torch.stack([sample(im, generator=torch.Generator().manual_seed(i)) for i, im in enumerate(images)])
    out = consumer(
        batch(stacked, generator=torch.Generator().manual_seed(9)), generator=torch.Generator().manual_seed(1)
    )
    assert stacked.dtype == torch.uint8 and out.shape == (4, 3, 32, 32) and out.dtype == torch.float32
    with pytest.raises(TypeError, match="augloader Transform"):
        split_pipeline(lambda x: x)


def test_sixteen_bit_files_keep_their_high_byte(tmp_path):
    values = (np.arange(40 * 30, dtype=np.uint16).reshape(30, 40) * 50).astype(np.uint16)
    Image.fromarray(values).save(tmp_path / "deep.png")  # mode I;16
    img = LazyImage.open(str(tmp_path / "deep.png"))
    assert img.channels == 1
    assert np.array_equal(img.decode()[0].numpy(), (values >> 8).astype(np.uint8))
    assert np.array_equal(np.asarray(img.to_pil()), (values >> 8).astype(np.uint8))
