"""The code blocks of README.md and of every docs/*.md page run, so the documentation cannot drift
from the code.

- Every ```python block runs, in page order, with one shared namespace per ``##`` section of the
  README and one per docs page (a reader runs a section's, or a page's, blocks in order). What the text assumes exists but cannot show (a folder of photos,
  a model, a checkpoint) comes from the small fixtures below: per section, or just before the block
  that needs it (keyed by a piece of that block's code).
- A top-level statement commented ``# SomeError: message`` must raise that error with that message
  (``...`` stands for any text). An expression statement whose comment shows a literal (``# -> [...]``
  on the lines below, or ``# (3, 1, 64, 101)`` on its line) must give that value.
- ```bash blocks: ``make`` targets exist in the Makefile, ``augloader`` command lines parse with the real
  CLI parser (and ``augloader <subcommand> --help`` exits 0), scripts exist and take the flags given.
- ```yaml blocks are configs that load with ``augloader.from_config``; one that names a shipped file
  has that file's pipeline. The ConfigError messages shown are the real ones.

A failing block is reported as ``<page> (<block id>):<line>``. tests/test_docs.py checks the links.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import gzip
import io
import linecache
import os
import re
import shlex
import subprocess
import sys
import tokenize
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

# The blocks' DataLoaders keep the README's num_workers (8 in places) on this 2-core machine.
pytestmark = pytest.mark.filterwarnings("ignore:This DataLoader will create:UserWarning")

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
PAGES = [README] + sorted((REPO / "docs").glob("*.md"))  # the README first, then docs/ by name
FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


# --------------------------------------------------------------------------- parsing the README


@dataclass(frozen=True)
class Block:
    lang: str
    section: str  # the enclosing "## " title
    line: int  # page line of the first line of code (1-based)
    code: str
    id: str
    page: str = "README.md"  # relative to the repository

    @property
    def namespace(self) -> str:
        """README blocks share a namespace per "## " section, docs blocks one per page."""
        return f"README.md#{self.section}" if self.page == "README.md" else self.page


def _slug(title: str) -> str:
    title = re.split(r"[(:]", title)[0]  # "Data layer (`augloader.data`)" -> "Data layer"
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def parse_readme(text: str, page: str = "README.md") -> list[Block]:
    lines = text.splitlines()
    blocks: list[Block] = []
    section = ""
    counts: dict[tuple[str, str], int] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        heading = re.match(r"^## (.+)$", line)
        if heading:
            section = heading.group(1).strip()
        elif line.startswith("```"):
            lang = line[3:].strip()
            end = i + 1
            while end < len(lines) and not lines[end].startswith("```"):
                end += 1
            assert end < len(lines), f"{page}:{i + 1}: unterminated code fence"
            key = (section, lang)
            counts[key] = counts.get(key, 0) + 1
            block_id = f"{_slug(section)}-{lang or 'plain'}{counts[key]}"
            if page != "README.md":
                block_id = f"{Path(page).stem}-{block_id}"
            blocks.append(Block(lang, section, i + 2, "\n".join(lines[i + 1 : end]), block_id, page))
            i = end
        i += 1
    return blocks


BLOCKS = [b for p in PAGES for b in parse_readme(p.read_text(encoding="utf-8"), p.relative_to(REPO).as_posix())]
PYTHON = [b for b in BLOCKS if b.lang == "python"]
BASH = [b for b in BLOCKS if b.lang == "bash"]
YAML = [b for b in BLOCKS if b.lang == "yaml"]


# --------------------------------------------------------------------------- fixture data


def _photo_folder(root: Path) -> Path:
    """A small ImageFolder tree of real JPEGs of mixed sizes, cut from scikit-image's photos."""
    from skimage import data

    photos = [data.astronaut(), data.chelsea(), data.coffee(), data.rocket()]
    sizes = [(375, 500), (500, 333), (480, 640), (333, 500)]  # (h, w)
    for c, name in enumerate(["cat", "dog", "emu"]):
        (root / name).mkdir(parents=True)
        for i in range(4):
            img = Image.fromarray(photos[(c + i) % len(photos)])
            if c:  # each class its own view of the photos
                img = img.rotate(20 * c)
            h, w = sizes[(c + i) % len(sizes)]
            img.resize((w, h), Image.BILINEAR).save(root / name / f"{i}.jpg", quality=90)
    return root


def _fashion_mnist(n: int) -> tuple[torch.Tensor, list[int]]:
    """The first ``n`` Fashion-MNIST training images (Debian's dataset-fashion-mnist, `make testdata`)."""
    with gzip.open(FASHION_MNIST / "train-images-idx3-ubyte.gz", "rb") as f:
        x = np.frombuffer(f.read(16 + n * 784)[16:], dtype=np.uint8).reshape(n, 1, 28, 28)
    with gzip.open(FASHION_MNIST / "train-labels-idx1-ubyte.gz", "rb") as f:
        y = np.frombuffer(f.read(8 + n)[8:], dtype=np.uint8)
    return torch.from_numpy(x.copy()), [int(v) for v in y]


DEVICE = "cuda" if torch.cuda.is_available() else "cpu"  # where the blocks put their batches


def _classifier(num_classes: int, channels: int = 3, device: str = DEVICE) -> torch.nn.Module:
    """A tiny stand-in for the reader's model, on the device the blocks train on."""
    return torch.nn.Sequential(
        torch.nn.Conv2d(channels, 4, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
        torch.nn.Linear(4, num_classes),
    ).to(device)


@dataclass
class Workspace:
    """Where the blocks run: the working directory (``configs`` linked in), the photo folder."""

    cwd: Path
    photos: Path

    def same_size_photos(self, size: int = 256) -> list[tuple[torch.Tensor, int]]:
        from augloader.data import ImageFolder

        folder = ImageFolder(str(self.photos))
        out = []
        for path, label in folder.samples:
            img = Image.open(path).convert("RGB").resize((size, size), Image.BILINEAR)
            out.append((torch.from_numpy(np.array(img)).permute(2, 0, 1).contiguous(), label))
        return out


def _data_layer(ws: Workspace) -> dict[str, Any]:
    from augloader.data import ImageFolder

    return {
        "root": str(ws.photos),
        "train_set": ws.same_size_photos(),  # decoded, one size: the batch transform crops them
        "labels": ImageFolder(str(ws.photos)).targets,  # the labels of `ds` (ImageFolder(root))
        "MEAN": [0.485, 0.456, 0.406],
        "STD": [0.229, 0.224, 0.225],
        "epochs": 1,
        "ckpt": {},
        "model": _classifier(1000),
        "criterion": torch.nn.CrossEntropyLoss(),  # takes the soft targets as they are
    }


def _detection(ws: Workspace) -> dict[str, Any]:
    images = torch.stack([img for img, _ in ws.same_size_photos(600)[:4]])
    boxes = torch.tensor([[[40.0, 60.0, 300.0, 420.0], [350.0, 100.0, 560.0, 380.0]]]).repeat(4, 1, 1)
    masks = torch.zeros(4, 600, 600, dtype=torch.uint8)
    masks[:, 100:400, 50:300] = 1
    g = torch.Generator().manual_seed(2)
    kps = torch.rand(4, 7, 2, generator=g) * 600  # seven keypoints: flip_pairs name 1..6
    return {
        "images": images,
        "boxes": boxes,
        "labels": torch.tensor([[1, 2]]).repeat(4, 1),
        "masks": masks,
        "valid": torch.ones(4, 2, dtype=torch.bool),
        "kps": kps,
    }


def _shards(ws: Workspace) -> dict[str, Any]:
    """shards/train-00000{0..3}.tar: four webdataset shards of four small PNGs and a class each."""
    import tarfile

    (ws.cwd / "shards").mkdir(exist_ok=True)
    g = torch.Generator().manual_seed(3)
    for s in range(4):
        with tarfile.open(ws.cwd / "shards" / f"train-{s:06d}.tar", "w") as tar:
            for i in range(4):
                png = io.BytesIO()
                pixels = torch.randint(0, 256, (40, 48, 3), dtype=torch.uint8, generator=g).numpy()
                Image.fromarray(pixels).save(png, format="PNG")
                for ext, data in (("png", png.getvalue()), ("cls", str(i % 3).encode())):
                    info = tarfile.TarInfo(f"s{s}-{i:03d}.{ext}")
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
    return {}


def _mix(ws: Workspace) -> dict[str, Any]:
    g = torch.Generator().manual_seed(0)
    images, labels = torch.rand(6, 3, 32, 32, generator=g), torch.randint(0, 1000, (6,), generator=g)
    return {
        "loader": [(images, labels)],  # one small batch per epoch (the block runs 300 epochs)
        "model": _classifier(1000),
        "dataset": [(img, int(label)) for img, label in zip(images.mul(255).to(torch.uint8), labels)],
    }


def _multi_label(ws: Workspace) -> dict[str, Any]:
    g = torch.Generator().manual_seed(1)
    return {"model": _classifier(20), "multi_hot": (torch.rand(6, 20, generator=g) < 0.2).float()}


def _adversarial(ws: Workspace) -> dict[str, Any]:
    g = torch.Generator().manual_seed(0)
    mean, std = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1), torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)
    batches = [(torch.rand(4, 3, 32, 32, generator=g), torch.randint(0, 10, (4,), generator=g)) for _ in range(2)]
    return {
        "model": _classifier(10, device="cpu"),  # the loader's batches stay on the CPU
        "loader": batches,  # float pixels in [0, 1], class indices
        "normalize": lambda x: (x.float() / (255 if x.dtype == torch.uint8 else 1) - mean) / std,
    }


def _generative(ws: Workspace) -> dict[str, Any]:
    from augloader.advanced.generative import ConditionalVAE

    # What scripts/train_generator.py saves (an untrained network: the block only loads and samples it).
    config = {"num_classes": 10, "image_shape": (1, 28, 28), "latent_dim": 8, "width": 16}
    (ws.cwd / "out").mkdir(exist_ok=True)
    torch.manual_seed(0)
    torch.save({"model": ConditionalVAE(**config).state_dict(), "config": config}, ws.cwd / "out" / "generator.pt")
    images, labels = _fashion_mnist(80)
    return {"ds": list(zip(images, labels)), "labels": labels}


def _text(ws: Workspace) -> dict[str, Any]:
    return {"pairs": [("The film was not good, but the acting was wonderful.", 1), ("A dull, tired plot.", 0)]}


# Names given to a namespace (a README "## " section, "README.md#<title prefix>", or a docs page,
# "docs/<page>.md") before its first block runs ...
SECTION_FIXTURES: dict[str, Callable[[Workspace], dict[str, Any]]] = {
    "README.md#Where it plugs in": lambda ws: {"root": str(ws.photos)},
    "docs/targets.md": _detection,
    "docs/data.md": _data_layer,
    "docs/mix.md": _mix,
    "docs/text.md": _text,
}
# ... and names set just before the block whose code contains the key (they replace earlier ones).
BLOCK_FIXTURES: dict[str, Callable[[Workspace], dict[str, Any]]] = {
    "multi_label=True": _multi_label,
    "AdversarialAugment(model": _adversarial,
    "ConditionalVAE(**": _generative,
    'urls = "shards/train-': _shards,
}


# --------------------------------------------------------------------------- running the blocks


EXPECTED_ERROR = re.compile(r"^(?P<code>\S.*?)\s*#\s*(?P<exc>[A-Z]\w*(?:Error|Exception)):\s*(?P<msg>.+?)\s*$")


def _segments(block: Block) -> list[tuple[int, str, Optional[re.Match]]]:
    """The block cut at top-level statements documented to raise: (first line, code, expectation)."""
    out, start, current = [], 0, []
    lines = block.code.split("\n")
    for i, line in enumerate(lines):
        m = EXPECTED_ERROR.match(line)
        if m:
            if current:
                out.append((block.line + start, "\n".join(current), None))
            out.append((block.line + i, m.group("code"), m))
            start, current = i + 1, []
        else:
            current.append(line)
    if current:
        out.append((block.line + start, "\n".join(current), None))
    return out


def _literal_in(text: str) -> tuple[bool, Any]:
    """The first Python literal (list, dict, tuple) in ``text``, which may hold ``#`` comments."""
    opens = [i for i, ch in enumerate(text) if ch in "[{("]
    closes = [j for j, ch in enumerate(text) if ch in "]})"]
    for i in opens:
        for j in closes:
            if j > i:
                try:
                    return True, ast.literal_eval(text[i : j + 1])
                except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                    continue
    return False, None


def _documented_output(lines: list[str], node: ast.Expr) -> tuple[bool, Any]:
    """What the README says an expression statement gives: a literal in its own trailing comment, or in
    the comment lines right below it (``# -> [...]``, ``# {...}``)."""
    last = lines[node.end_lineno - 1]
    comments = [
        t.string for t in tokenize.generate_tokens(io.StringIO(last + "\n").readline) if t.type == tokenize.COMMENT
    ]
    if comments:
        text = comments[0].lstrip("#").strip()
        return _literal_in(text) if text[:1] in "[{(" else (False, None)
    below = []
    for line in lines[node.end_lineno :]:
        if not line.lstrip().startswith("#"):
            break
        below.append(line.lstrip()[1:])
    text = "\n".join(below).strip()
    if text.startswith("->"):
        text = text[2:].strip()
    elif text[:1] not in "[{":
        return False, None
    return _literal_in(text)


def _same(value: Any, expected: Any) -> bool:
    if isinstance(value, torch.Tensor):
        value = value.tolist()
    return value == expected


def _with_output_checks(
    code: str, first_line: int, ns: dict[str, Any], page: str = "README.md"
) -> tuple[ast.Module, list[int]]:
    """``code`` parsed, each expression statement with a documented output wrapped in a check (and the
    README lines of those statements)."""
    tree = ast.parse(code)
    lines = code.split("\n")
    expected: list[tuple[int, Any]] = []
    for node in tree.body:
        if isinstance(node, ast.Expr):
            found, literal = _documented_output(lines, node)
            if found:
                expected.append((first_line + node.lineno - 1, literal))
                node.value = ast.Call(
                    ast.Name("__readme_check__", ast.Load()), [node.value, ast.Constant(len(expected) - 1)], []
                )

    def check(value: Any, k: int) -> Any:
        line, literal = expected[k]
        assert _same(value, literal), f"{page}:{line} documents {literal!r}, the code gives {value!r}"
        return value

    ns["__readme_check__"] = check
    return ast.fix_missing_locations(tree), [line for line, _ in expected]


CHECKED_OUTPUTS: set[tuple[str, int]] = set()  # (page, line) of each documented output compared


def _shift(code: types.CodeType, lines: int) -> types.CodeType:
    """``code`` as if it started ``lines`` lines further down (nested functions too)."""
    consts = tuple(_shift(c, lines) if isinstance(c, types.CodeType) else c for c in code.co_consts)
    return code.replace(co_firstlineno=code.co_firstlineno + lines, co_consts=consts)


@contextlib.contextmanager
def _environment(ws: Workspace):
    """Run in the workspace with HOME inside it (the text block caches under ~/.cache), one torch thread."""
    old_cwd, old_home, old_threads = os.getcwd(), os.environ.get("HOME"), torch.get_num_threads()
    os.chdir(ws.cwd)
    os.environ["HOME"] = str(ws.cwd / "home")
    torch.set_num_threads(1)
    try:
        yield
    finally:
        os.chdir(old_cwd)
        torch.set_num_threads(old_threads)
        if old_home is None:
            os.environ.pop("HOME", None)
        else:
            os.environ["HOME"] = old_home


class Runner:
    """One namespace per section; runs a block after the section's earlier blocks."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.namespaces: dict[str, dict[str, Any]] = {}
        self.done: set[str] = set()
        self.failed: dict[str, str] = {}

    def run(self, block: Block) -> dict[str, Any]:
        for earlier in PYTHON[: PYTHON.index(block)]:
            if earlier.namespace == block.namespace:
                self._ensure(
                    earlier, f"an earlier block of this section, {earlier.id} ({earlier.page}:{earlier.line}), failed"
                )
        self._ensure(block, f"{block.id} ({block.page}:{block.line}) failed above")
        return self.namespaces[block.namespace]

    def _ensure(self, block: Block, failure: str) -> None:
        if block.id in self.failed:
            pytest.fail(f"{failure}: {self.failed[block.id]}")
        if block.id not in self.done:
            self._exec(block)

    def _exec(self, block: Block) -> None:
        ns = self.namespaces.get(block.namespace)
        if ns is None:
            ns = self.namespaces[block.namespace] = {"__name__": f"readme_{_slug(block.namespace).replace('-', '_')}"}
            for prefix, make in SECTION_FIXTURES.items():
                if block.namespace.startswith(prefix):
                    ns.update(make(self.ws))
        for key, make in BLOCK_FIXTURES.items():
            if key in block.code:
                ns.update(make(self.ws))
        # Tracebacks name the block and show its page's line numbers and source.
        filename = f"{block.page} ({block.id})"
        source = "\n" * (block.line - 1) + block.code + "\n"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        try:
            with _environment(self.ws):
                for line, code, expect in _segments(block):
                    tree, checked = _with_output_checks(code, line, ns, block.page)
                    CHECKED_OUTPUTS.update((block.page, c) for c in checked)
                    compiled = _shift(compile(tree, filename, "exec"), line - 1)
                    if expect is None:
                        exec(compiled, ns)
                        continue
                    exc = getattr(builtins, expect.group("exc"), None) or ns[expect.group("exc")]
                    match = ".*".join(re.escape(part.strip()) for part in expect.group("msg").split("..."))
                    with pytest.raises(exc, match=match):
                        exec(compiled, ns)
        except BaseException as err:
            self.failed[block.id] = repr(err)
            raise
        self.done.add(block.id)


@pytest.fixture(scope="module")
def runner(tmp_path_factory) -> Runner:
    cwd = tmp_path_factory.mktemp("readme")
    (cwd / "configs").symlink_to(REPO / "configs")
    (cwd / "home").mkdir()
    return Runner(Workspace(cwd, _photo_folder(cwd / "photos")))


def test_readme_has_its_blocks():
    assert len(PYTHON) >= 20, f"only {len(PYTHON)} python blocks found in README.md and docs/"
    assert {b.page for b in PYTHON} >= {"README.md", "docs/data.md", "docs/mix.md", "docs/text.md"}
    assert len({b.id for b in BLOCKS}) == len(BLOCKS)


@pytest.mark.parametrize("block", PYTHON, ids=[b.id for b in PYTHON])
def test_python_block(block: Block, runner: Runner):
    runner.run(block)
    assert block.id in runner.done


def test_every_python_block_ran(runner: Runner):
    for block in PYTHON:  # the ones deselected above run here
        runner.run(block)
    assert len(runner.done) == len(PYTHON) >= 20


def test_fixtures_are_used():
    """A fixture keyed to a section, a page or a piece of code that the pages no longer have is stale."""
    for prefix in SECTION_FIXTURES:
        assert any(b.namespace.startswith(prefix) for b in PYTHON), (
            f"no README section or docs page starts with {prefix!r}"
        )
    for key in BLOCK_FIXTURES:
        assert sum(key in b.code for b in PYTHON) == 1, f"{key!r} should be in exactly one python block"


def test_documented_outputs_are_compared():
    ns: dict[str, Any] = {}
    tree, lines = _with_output_checks("x = [2, 1]\nsorted(x)  # [1, 2]\nx[:1]\n# -> [2]  (a note)", 1, ns)
    exec(compile(tree, "<test>", "exec"), ns)
    assert lines == [2, 3]
    tree, _ = _with_output_checks("x = [2, 1]\nx[:1]\n# -> [1]", 10, ns)
    with pytest.raises(AssertionError, match=r"README.md:11 documents \[1\], the code gives \[2\]"):
        exec(compile(tree, "<test>", "exec"), ns)


# --------------------------------------------------------------------------- bash, YAML and the rest


def _make_targets() -> set[str]:
    targets = set()
    for line in (REPO / "Makefile").read_text(encoding="utf-8").splitlines():
        rule = re.match(r"^([A-Za-z0-9_.$()/ -]+?)\s*::?(?!=)", line)
        if rule and not line.startswith("\t"):
            targets.update(rule.group(1).split())
    return targets


def _commands(block: Block) -> list[list[str]]:
    out = []
    for line in block.code.splitlines():
        words = shlex.split(line, comments=True)
        if words:
            out.append(words)
    return out


def _flags(words: list[str]) -> list[str]:
    return [w.split("=")[0] for w in words if w.startswith("--")]


def _help_command(words: list[str]) -> Optional[tuple[tuple[str, ...], tuple[str, ...]]]:
    """The `--help` command line that checks ``words``, and the flags its output must list."""
    if words[0] == "augloader":
        console = Path(sys.executable).parent / "augloader"  # the console script of this environment
        cmd = [str(console)] if console.exists() else [sys.executable, "-m", "augloader"]
        return tuple(cmd + [words[1], "--help"]), ()
    if words[0] in ("python", "python3") and len(words) > 1 and words[1].endswith(".py"):
        return (sys.executable, str(REPO / words[1]), "--help"), tuple(_flags(words[2:]))
    return None


@pytest.fixture(scope="module")
def help_outputs() -> dict[tuple[str, ...], tuple[int, str]]:
    """Every `--help` the bash blocks call for, run in parallel (each starts Python and imports torch)."""
    commands = {h[0] for b in BASH for words in _commands(b) if (h := _help_command(words))}
    procs = {
        c: subprocess.Popen(c, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for c in commands
    }
    outputs = {c: p.communicate(timeout=120)[0] for c, p in procs.items()}
    return {c: (procs[c].returncode, out) for c, out in outputs.items()}


@pytest.mark.parametrize("block", BASH, ids=[b.id for b in BASH])
def test_bash_block(block: Block, help_outputs):
    """Each command exists: make targets in the Makefile, `augloader` lines parse with the real CLI
    parser and `augloader <subcommand> --help` exits 0, scripts exist and list the flags given."""
    from augloader.cli import build_parser

    assert _commands(block), f"{block.page}:{block.line}: empty bash block"
    for words in _commands(block):
        where = f"{block.page}:{block.line} `{' '.join(words)}`"
        if words[0] == "make":
            missing = set(words[1:]) - _make_targets()
            assert not missing, f"{where}: no Makefile target {sorted(missing)}"
            continue
        if words[0] == "mkdir":  # coreutils
            continue
        if words[0] == "bash" and len(words) > 1 and words[1].endswith(".sh"):  # a script of this repository
            assert (REPO / words[1]).is_file(), f"{where}: no {words[1]} in the repository"
            parsed = subprocess.run(["bash", "-n", str(REPO / words[1])], capture_output=True, text=True)
            assert parsed.returncode == 0, f"{where}: bash cannot parse {words[1]}:\n{parsed.stderr}"
            continue
        if words[:3] == ["pip", "install", "-e"]:  # extras named must be in pyproject.toml
            import tomllib

            project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
            spec = re.fullmatch(r"\.(?:\[([\w,-]+)\])?", words[3])
            assert spec, f"{where}: installs {words[3]!r}, not this checkout"
            extras = set((spec.group(1) or "").split(",")) - {""}
            missing = extras - set(project.get("optional-dependencies", {}))
            assert not missing, f"{where}: no extra {sorted(missing)} in pyproject.toml"
            continue
        if words[0] == "augloader":
            try:
                build_parser().parse_args(words[1:])
            except SystemExit as err:
                pytest.fail(f"{where}: the augloader parser rejects it (exit {err.code})")
        elif words[0] in ("python", "python3") and len(words) > 1 and words[1].endswith(".py"):
            assert (REPO / words[1]).is_file(), f"{where}: no {words[1]} in the repository"
        else:
            pytest.fail(f"{where}: test_readme does not know how to check {words[0]!r}; teach it")
        cmd, flags = _help_command(words)
        rc, out = help_outputs[cmd]
        assert rc == 0, f"{where}: `{' '.join(cmd)}` exited {rc}:\n{out}"
        for flag in flags:
            assert re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", out), f"{where}: no {flag} option in:\n{out}"


@pytest.mark.parametrize("block", YAML, ids=[b.id for b in YAML])
def test_yaml_block(block: Block):
    """A pipeline config loads with augloader.from_config; one that names a shipped file matches it."""
    import augloader as A

    spec = yaml.safe_load(block.code)
    assert isinstance(spec, dict) and "pipeline" in spec, f"{block.page}:{block.line}: not a pipeline config"
    config = A.from_config(spec)
    assert config.transform is not None
    first = block.code.splitlines()[0]
    named = re.match(r"^#\s*(configs/\S+\.ya?ml)\s*$", first)
    if named:
        shipped = yaml.safe_load((REPO / named.group(1)).read_text(encoding="utf-8"))
        for key in ("pipeline", "mix"):
            assert spec.get(key) == shipped.get(key), (
                f"{block.page}:{block.line}: `{key}` differs from {named.group(1)}"
            )
        built = A.to_config(A.from_config(shipped).transform)["pipeline"]
        assert A.to_config(config.transform)["pipeline"] == built


def test_documented_config_errors():
    """The ConfigError messages shown in the configs section are the ones from_config gives."""
    import augloader as A

    start = next(i for i, b in enumerate(BLOCKS) if b.lang == "yaml")
    shown = next(b for b in BLOCKS[start:] if b.lang == "" and "did you mean" in b.code)
    head = [{"RandomResizedCrop": {"size": 224}}, "RandomHorizontalFlip"]
    mistakes = [
        {"pipeline": head + [{"ColorJitter": {"brigthness": 0.4}}]},
        {"pipeline": ["RandomHorizontalFlp"]},
        {"pipeline": head + ["ColorJitter", {"RandomApply": {"p": 0.5, "transforms": [{"GaussianBlur": {}}]}}]},
        {"pipeline": [{"RandomResizedCrop": {"size": "big"}}]},
    ]
    messages = []
    for spec in mistakes:
        with pytest.raises(A.ConfigError) as err:
            A.from_config(spec)
        messages.append(str(err.value))
    assert shown.code.splitlines() == messages
