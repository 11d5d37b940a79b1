"""Package structure (issue 15): every module imports on its own, no import cycles between the modules
named in the issue, no submodule shadowed by a same-named function, and a Compose never runs a stale plan."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path

import torch

import augloader
import augloader as A

ROOT = Path(augloader.__file__).parent


def _modules() -> list[str]:
    names = ["augloader"]
    for info in pkgutil.walk_packages([str(ROOT)], prefix="augloader."):
        if info.name != "augloader.__main__":  # runs the command line
            names.append(info.name)
    return sorted(names)


# Each module is imported in a fresh interpreter state: a forked child of a process that has
# imported torch only (so a cycle that an import order hides elsewhere breaks here).
_ISOLATED = textwrap.dedent("""
    import os, sys, traceback
    import importlib.util
    import numpy, torch  # the heavy third-party imports, shared by every child
    for extra in ("torchvision", "PIL.Image"):
        if importlib.util.find_spec(extra.split(".")[0]) is not None:
            __import__(extra)
    failed = []
    for name in sys.argv[1:]:
        pid = os.fork()
        if pid == 0:
            try:
                __import__(name)
            except BaseException:
                traceback.print_exc()
                os._exit(1)
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        if status != 0:
            failed.append(name)
    print("FAILED:", " ".join(failed))
    sys.exit(1 if failed else 0)
""")


def test_every_module_imports_in_isolation() -> None:
    names = _modules()
    assert "augloader.data.split" in names and "augloader.transforms.stages" in names
    out = subprocess.run([sys.executable, "-c", _ISOLATED, *names], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-4000:]


def test_split_dataset_and_transform_modules_import_alone() -> None:
    """The four modules of the two cycles the issue names, each in its own fresh interpreter."""
    for name in (
        "augloader.data.split",
        "augloader.data.dataset",
        "augloader.transforms.base",
        "augloader.transforms.stages",
    ):
        out = subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, f"import {name}:\n{out.stderr[-3000:]}"


def _imported(path: Path, package: str) -> set[str]:
    """Every augloader module ``path`` imports, at any depth (late imports in functions too), except
    under ``if TYPE_CHECKING:``."""
    tree = ast.parse(path.read_text())
    skip = {
        id(n)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
        for n in ast.walk(node)
    }
    found = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            module = ".".join(base + ([node.module] if node.module else []))
            found.add(module)
            found.update(f"{module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("augloader"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("augloader"))
    return found


def test_no_cycle_between_split_and_dataset_nor_base_and_stages() -> None:
    for a, b in (("data.split", "data.dataset"), ("transforms.base", "transforms.stages")):
        pa, pb = (ROOT / f"{m.replace('.', '/')}.py" for m in (a, b))
        a_uses_b = f"augloader.{b}" in _imported(pa, "augloader." + a.split(".")[0])
        b_uses_a = f"augloader.{a}" in _imported(pb, "augloader." + b.split(".")[0])
        assert not (a_uses_b and b_uses_a), f"augloader.{a} and augloader.{b} import each other"


def test_functions_do_not_shadow_submodules() -> None:
    import augloader.data
    import augloader.text

    assert callable(augloader.data.loader) and not isinstance(augloader.data.loader, type(augloader))
    assert callable(augloader.text.tokenize) and not isinstance(augloader.text.tokenize, type(augloader))
    modules = {info.name for info in pkgutil.walk_packages([str(ROOT)], prefix="augloader.")}
    assert "augloader.data.loader" not in modules and "augloader.text.tokenize" not in modules
    for package in (augloader.data, augloader.text):  # no public name of a package is also a submodule's
        clash = [n for n in package.__all__ if f"{package.__name__}.{n}" in modules]
        assert not clash, f"{package.__name__}: {clash} name both a submodule and an attribute"


def test_planner_reads_declared_attributes_only() -> None:
    declared = set(vars(A.Transform)) | set(A.Transform.__annotations__)
    for name in ("_policy", "_warp", "transforms", "cross_sample", "normalizes", "needs_targets"):
        assert name in declared, f"Transform does not declare {name}"
    assert A.Resize(8).sub_transforms() == [] and A.Resize(8)._policy is None
    inner = [A.RandomRotation(5), A.ColorJitter(0.1)]
    assert A.RandomApply(inner).sub_transforms() == inner


def test_compose_replans_when_its_list_changes() -> None:
    x = torch.randint(0, 256, (2, 3, 16, 16), dtype=torch.uint8)
    pipeline = A.Compose([A.Resize(8)])
    assert not pipeline.randomized
    pipeline.transforms.append(A.RandomInvert(p=1.0))
    assert pipeline.randomized
    assert "RandomInvert" in repr(pipeline).split("fused:")[1]
    assert torch.equal(pipeline(x), 255 - A.Resize(8)(x))
    pipeline.transforms.append(A.Compose([A.RandomHorizontalFlip(p=0.0), A.CenterCrop(4)]))
    assert torch.equal(pipeline(x), A.CenterCrop(4)(255 - A.Resize(8)(x)))
    names = [type(t).__name__ for t in pipeline.transforms]  # the appended Compose was flattened when planned
    assert names == ["Resize", "RandomInvert", "RandomHorizontalFlip", "CenterCrop"]


def test_every_domain_shares_the_one_call_protocol() -> None:
    # Image, audio, text and mixing transforms record their constructor arguments and keep last_params
    # through the same mixin (augloader._protocol), so the contract is written once.
    from augloader import audio, mix, text
    from augloader._protocol import ReplayMixin
    from augloader.advanced import SyntheticMix
    from augloader.transforms.base import Transform

    for cls in (Transform, audio.AudioTransform, text.TextTransform, mix.MixUpCutMix, SyntheticMix):
        assert issubclass(cls, ReplayMixin), cls
    assert "__init_subclass__" not in Transform.__dict__  # the mixin records arguments, not a copy of it
