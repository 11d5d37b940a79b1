"""augloader benchmarks, side by side with the reference libraries in one run.

Usage: ``python scripts/bench.py [--suite images,mix,text,audio] [suite options]``. Each suite is a
module ``scripts/bench_<suite>.py`` with ``main(argv) -> list of markdown lines``. The results,
with the machine and versions, are written to ``benchmarks/<suite>.md``.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import os
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))


def machine_header() -> str:
    import torch

    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = [f"python {platform.python_version()}", f"torch {torch.__version__}"]
    for mod in ("torchvision", "kornia", "albumentations", "cv2", "timm", "numpy"):
        try:
            versions.append(f"{mod} {importlib.import_module(mod).__version__}")
        except Exception:
            pass
    return (
        f"Taken {datetime.date.today().isoformat()} on {cpu}, {os.cpu_count()} cores, torch threads 2, "
        f"{platform.system()} {platform.machine()}.\n\nVersions: {', '.join(versions)}.\n"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, allow_abbrev=False)
    ap.add_argument("--suite", default="images", help="comma-separated: images, mix, text, audio")
    ap.add_argument("--no-write", action="store_true", help="print only; do not update benchmarks/")
    args, rest = ap.parse_known_args()
    for suite in args.suite.split(","):
        module = importlib.import_module(f"bench_{suite}")
        lines = module.main(rest) or []
        if not args.no_write and lines:
            out = ROOT / "benchmarks" / f"{suite}.md"
            out.write_text(f"# Benchmark: {suite}\n\n{machine_header()}\n" + "\n".join(lines) + "\n")
            print(f"wrote {out}")


if __name__ == "__main__":
    main()
