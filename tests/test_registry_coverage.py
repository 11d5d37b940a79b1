"""tests/registry.py covers every public transform, and its exemptions are explicit and stay true.

The public transforms are derived from the packages' ``__all__`` (augloader and augloader.advanced), so a
new transform without a registry entry fails here, naming the class.
"""

from __future__ import annotations

import inspect

import pytest
import test_transform_contract as contract
import torch
from registry import EXEMPT, REGISTRY, build

import augloader as A
import augloader.advanced as AD

PACKAGES = {"augloader": A, "augloader.advanced": AD}
#: The per-transform checks of tests/test_transform_contract.py (those parametrised over the registry names).
CHECKS = sorted(
    n
    for n, f in vars(contract).items()
    if n.startswith("test_") and inspect.isfunction(f) and "name" in inspect.signature(f).parameters
)
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def public_transform_classes() -> dict[str, type]:
    """``{"package.Name": class}`` for every public, concrete Transform subclass the packages export."""
    out = {}
    for package, module in PACKAGES.items():
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) and issubclass(obj, A.Transform) and obj is not A.Transform:
                out[f"{package}.{name}"] = obj
    return out


def test_public_transforms_are_found():
    found = public_transform_classes()
    assert {
        "augloader.RandomCrop",
        "augloader.Compose",
        "augloader.advanced.FourierAmplitudeMix",
        "augloader.advanced.RandomStyle",
        "augloader.advanced.StyleNetworkAugment",
    } <= set(found)


def test_every_public_transform_has_a_registry_entry():
    built = {type(build(name)) for name in [*REGISTRY, *EXEMPT]}  # an entry covers the class it builds (outermost)
    missing = sorted(name for name, cls in public_transform_classes().items() if cls not in built)
    assert not missing, f"public transforms without an entry in tests/registry.py: {', '.join(missing)}"


def test_registry_and_exemptions_are_disjoint():
    assert not set(REGISTRY) & set(EXEMPT)


@pytest.mark.parametrize("name", sorted(EXEMPT))
def test_exemptions_name_real_checks_with_reasons(name):
    _, _, skipped = EXEMPT[name]
    assert skipped, f"{name}: an EXEMPT entry must name the checks it cannot meet"
    for check, reason in skipped.items():
        assert check in CHECKS, f"{name}: {check} is not a check of tests/test_transform_contract.py"
        assert isinstance(reason, str) and len(reason) > 20, f"{name}: {check} needs a reason"


@pytest.mark.parametrize("name", sorted(EXEMPT))
def test_cross_sample_exemption_is_declared_and_real(name, images_u8):
    """An exemption from the batch == per-sample check holds only for a transform declaring cross_sample."""
    if "test_batch_equals_per_sample_loop" not in EXEMPT[name][2]:
        return
    t = build(name)
    assert t.cross_sample is True
    x = images_u8.float() / 255
    batched = t(x, generator=torch.Generator().manual_seed(0))
    params = t.last_params
    from augloader._batch import slice_params

    singles = torch.cat([t(x[i : i + 1], params=slice_params(params, i)) for i in range(x.shape[0])])
    assert not torch.allclose(singles, batched, atol=1e-4), "the transform meets the check: drop its exemption"


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_registry_entries_are_not_cross_sample(name):
    assert not build(name).cross_sample, f"{name} is cross-sample: move it to EXEMPT with the reason"


def _cases() -> list:
    cases = []
    for name in sorted(EXEMPT):
        _, has_p, skipped = EXEMPT[name]
        for check in CHECKS:
            if check in skipped or (check == "test_p_zero_is_identity" and not has_p):
                continue
            marks = [m for m in getattr(getattr(contract, check), "pytestmark", []) if m.name != "parametrize"]
            cases.append(pytest.param(name, check, marks=marks, id=f"{name}-{check}"))  # keeps e.g. "needs CUDA"
    return cases


@pytest.mark.parametrize("name, check", _cases())
def test_exempt_entries_pass_every_other_contract_check(name, check, request):
    """Runs tests/test_transform_contract.py's checks (all but the exempted ones) over EXEMPT entries."""
    fn = getattr(contract, check)
    params = list(inspect.signature(fn).parameters)
    dtypes = [torch.uint8, torch.float32] if "dtype" in params else [None]
    devices = [torch.device(d) for d in DEVICES] if "device" in params else [None]
    for dtype in dtypes:
        for device in devices:
            kwargs = {}
            for p in params:
                if p == "name":
                    kwargs[p] = name
                elif p == "dtype":
                    kwargs[p] = dtype
                elif p == "device":
                    kwargs[p] = device
                elif p == "generator":
                    kwargs[p] = torch.Generator().manual_seed(1234)
                else:
                    kwargs[p] = request.getfixturevalue(p)
            fn(**kwargs)
