"""Per-sample choices as subsets: each op runs on the samples that drew it (gather, op, scatter).

A policy or random container draws its choices on the host (a CPU generator by default). Its params
keep each choice twice: as a tensor that follows the batch to its device, and as a :class:`HostCopy`
under ``"<key>_host"``, which ``params_to`` leaves on the CPU because it is not a tensor. Subset
sizes and indices come from the host copy, and every index tensor of a call travels to the device in
one non-blocking copy: running an op on a subset needs no host read of device data (on CUDA no
sync, on the meta device no data at all).

On the CPU the choice tensor itself is the host copy, so CPU chunking (which slices the tensors of
the params, not the host copies) stays exact.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch
from torch import Tensor

from .._batch import from_working, params_to, to_working


class HostCopy:
    """A CPU copy of a choice tensor that travels in params without being moved to the batch's device.

    If you edit the choice tensor of params by hand, delete its ``"<key>_host"`` entry too (it is then
    read back from the tensor: one device sync, impossible on the meta device).
    """

    __slots__ = ("tensor",)

    def __init__(self, tensor: Tensor) -> None:
        self.tensor = tensor.detach().cpu()  # a device sync only if the generator lives on a GPU

    def tolist(self) -> list:
        """The choices as nested lists (what ``augloader.data`` writes to manifests)."""
        return self.tensor.tolist()

    def __repr__(self) -> str:
        return f"HostCopy({self.tensor.tolist()})"


def add_host_copy(params: dict[str, Any], key: str) -> dict[str, Any]:
    """Stores ``HostCopy(params[key])`` under ``"<key>_host"`` and returns ``params``."""
    params[f"{key}_host"] = HostCopy(params[key])
    return params


def host_choice(params: Mapping[str, Any], key: str) -> Tensor:
    """The choice tensor ``params[key]`` on the CPU, read without a device sync where possible."""
    value = params[key]
    if value.device.type == "cpu":
        return value
    host = params.get(f"{key}_host")
    if isinstance(host, HostCopy) and host.tensor.shape == value.shape:
        return host.tensor
    if value.device.type == "meta":
        raise ValueError(
            f"params[{key!r}] is on the meta device and params has no matching {key}_host entry; "
            "pass the params that sample_params() returned"
        )
    return value.cpu()  # params built by hand: one device sync


def groups(choice: Tensor, n: int) -> list[Tensor]:
    """Host indices of the samples whose ``choice`` is ``0 .. n-1`` (a choice of -1 joins no group).

    Shape:
        ``choice: (B,)`` int64 on the CPU -> ``n`` index tensors ``(B_j,)``, sorted.
    """
    keys = choice.to(torch.int64) + 1
    order = torch.argsort(keys, stable=True)
    counts = torch.bincount(keys, minlength=n + 1).tolist()
    return list(order.split(counts))[1 : n + 1]


def to_device(indices: Sequence[Tensor], device: torch.device) -> list[Tensor]:
    """Host index tensors on ``device``, moved in one non-blocking copy (split by host-known sizes)."""
    if not indices:
        return []
    flat = torch.cat([i.to(torch.int64) for i in indices])
    if flat.device != device:
        flat = params_to(flat, device)
    return list(flat.split([int(i.numel()) for i in indices]))


def take(params: Any, index: Tensor, host_index: Tensor) -> Any:
    """The params of the samples ``index`` (on the params' device; ``host_index`` the same on the CPU).

    Every tensor with a batch dimension is gathered, host copies too; other values pass through.
    """
    if isinstance(params, Mapping):
        return {k: take(v, index, host_index) for k, v in params.items()}
    if isinstance(params, HostCopy):
        return HostCopy(params.tensor.index_select(0, host_index))
    if isinstance(params, Tensor) and params.dim() > 0:
        return params.index_select(0, index if index.device == params.device else host_index.to(params.device))
    return params


def working_subset(image: Tensor, index: Tensor, whole: bool) -> Tensor:
    """The samples ``index`` of ``image`` as a float working tensor in ``[0, 1]`` that the caller owns."""
    if whole:
        out = to_working(image)
        return image.clone() if out is image else out
    return to_working(image.index_select(0, index))


def from_working_fast(result: Tensor, dtype: torch.dtype) -> Tensor:
    """``from_working`` (results already in ``dtype`` pass through); on the CPU to uint8 through int32,
    which converts faster than float -> uint8 directly (same values)."""
    if result.dtype == dtype:
        return result
    if dtype == torch.uint8 and result.device.type == "cpu":
        return result.mul(255.0).round_().clamp_(0, 255).to(torch.int32).to(torch.uint8)
    return from_working(result, dtype)


def inverse_order(groups: Sequence[Tensor], b: int) -> Tensor:
    """The host permutation that puts the rows of the concatenated ``groups`` back in batch order.

    ``groups`` (host index tensors) must partition ``range(b)``.

    Shape:
        ``groups: (B_j,)`` each -> ``(B,)``.
    """
    inverse = torch.empty(b, dtype=torch.int64)
    if b:
        inverse[torch.cat([g.to(torch.int64) for g in groups])] = torch.arange(b)
    return inverse


def assemble(parts: Sequence[Tensor], inverse: Tensor) -> Tensor:
    """The batch from per-group results (in the order of ``inverse_order``'s groups), on their device.

    One concatenation and one gather: on the CPU several times faster than ``index_copy_`` into a
    uint8 batch, which scatters element by element.
    """
    if len(parts) == 1:
        return parts[0]  # one group holds every sample, in order
    return torch.cat(list(parts)).index_select(0, inverse)
