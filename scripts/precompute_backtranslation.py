#!/usr/bin/env python3
"""Precompute back-translations of a corpus into augloader's on-disk cache (offline, Apertium).

Examples:
    python scripts/precompute_backtranslation.py --text corpus.txt --cache ~/.cache/augloader/bt.sqlite
    python scripts/precompute_backtranslation.py --fortunes science politics --cache bt.sqlite

Training then uses ``BackTranslation(ApertiumTranslator(), pivot=..., cache=<same file>)`` and
never starts Apertium for the precomputed sentences.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from augloader.text import ApertiumTranslator, BackTranslation, load_fortunes  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, read the corpus and fill the cache; returns the exit code."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--text", help="a UTF-8 file with one sentence per line")
    src.add_argument("--fortunes", nargs="*", metavar="TOPIC", help="Debian fortunes topics (none: all)")
    ap.add_argument("--cache", required=True, help="SQLite cache file to fill")
    ap.add_argument("--source", default="en")
    ap.add_argument("--pivot", default="es")
    ap.add_argument("--batch-size", type=int, default=512, help="sentences per apertium process")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per apertium batch")
    ap.add_argument("--limit", type=int, default=None, help="only the first N sentences")
    args = ap.parse_args(argv)

    if args.text is not None:
        with open(args.text, encoding="utf-8") as fh:
            texts = [line.strip() for line in fh if line.strip()]
    else:
        texts = [t for t, _ in load_fortunes(args.fortunes or None)]
    if args.limit is not None:
        texts = texts[: args.limit]
    bt = BackTranslation(
        ApertiumTranslator(timeout=args.timeout),
        pivot=args.pivot,
        source=args.source,
        cache=os.path.expanduser(args.cache),
        batch_size=args.batch_size,
    )
    start = time.perf_counter()

    def progress(done: int, total: int) -> None:
        print(f"  {done}/{total} sentences", file=sys.stderr)

    n = bt.precompute(texts, progress=progress)
    print(
        f"translated {n} of {len(texts)} sentences ({len(texts) - n} already cached) "
        f"in {time.perf_counter() - start:.1f} s into {bt.cache.path}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
