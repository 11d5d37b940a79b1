"""augloader benchmarks, side by side with the reference libraries in one run.

Usage: ``python scripts/bench.py [--suite images,mix,policies,kernels,launches,compile,text,audio,targets,data,files]
[suite options]``. Each suite is a
module ``scripts/bench_<suite>.py`` whose ``main(argv)`` measures, prints its table and writes
``benchmarks/<suite>.md`` with the machine and versions. Options after the suite list go to every
selected suite (run one suite at a time to pass suite-specific options).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, allow_abbrev=False)
    ap.add_argument(
        "--suite",
        default="images",
        help="comma-separated: images, mix, policies, kernels, launches, compile, text, audio, targets, data, files",
    )
    args, rest = ap.parse_known_args()
    for suite in args.suite.split(","):
        print(f"== {suite} ==", flush=True)
        importlib.import_module(f"bench_{suite}").main(rest)


if __name__ == "__main__":
    main()
