"""RandomErasing on the CPU writes only the boxes (in place on the engine's own image): same result as
the masked whole-batch pass used on other devices, and the caller's tensor is never written."""

from __future__ import annotations

import torch

import augloader as A
from augloader.ops import erase as E
from augloader.ops.noise import uniform_field


def _masked(image, boxes, value, seed):
    mask = E.box_mask(boxes, tuple(image.shape[-2:]))
    fill = (
        uniform_field(seed, tuple(image.shape[1:])).to(image.dtype)
        if value is None
        else value.to(image.dtype).view(1, -1, 1, 1)
    )
    return torch.where(mask, fill, image)


def test_box_writes_equal_the_masked_pass():
    g = torch.Generator().manual_seed(0)
    for dtype in (torch.uint8, torch.float32):
        image = torch.randint(0, 256, (6, 3, 20, 24), generator=g).to(dtype)
        boxes = torch.tensor(
            [[0, 0, 5, 4], [3, 2, 0, 0], [10, 5, 14, 15], [23, 19, 1, 1], [2, 3, 7, 1], [0, 0, 24, 20]]
        ).float()
        seed = torch.arange(6) * 97
        for value in (None, torch.tensor([0.2, 0.5, 0.9]) * (255 if dtype == torch.uint8 else 1)):
            before = image.clone()
            out = E.erase(image, boxes, value, seed)
            assert torch.equal(out, _masked(image, boxes, value, seed)) and torch.equal(image, before)
            inplace = E.erase(image.clone(), boxes, value, seed, inplace=True)
            assert torch.equal(inplace, out)


def test_engine_writes_in_place_only_into_its_own_image():
    x = torch.rand(4, 3, 16, 16)
    before = x.clone()
    erase = A.RandomErasing(p=1.0)
    out = erase(x, generator=torch.Generator().manual_seed(1))  # float32 input: the working image is x itself
    assert torch.equal(x, before) and not torch.equal(out, x)
    pipeline = A.Compose([A.Normalize([0.5] * 3, [0.25] * 3), A.RandomErasing(p=1.0)])
    out = pipeline(x, generator=torch.Generator().manual_seed(2))  # after Normalize the image is the engine's own
    ref = A.RandomErasing(p=1.0)((x - 0.5) / 0.25, params=pipeline.last_params["1"])
    assert torch.equal(x, before) and torch.allclose(out, ref, atol=1e-6)
