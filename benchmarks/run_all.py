"""Every benchmark of impact in one run, printed as figures and ratios: `python -m benchmarks.run_all`.

    python -m benchmarks.run_all [--quick] [--snapshot-2019 PATH] [--synthetic PATH] [-n 11]

The cold start comes first (the floor, the 2019 snapshot and the 1M synthetic one, alternating), then warm
estimates and `impact rank` on the 2019 snapshot (`--snapshot-2019`, default: the default snapshot), Nix
itself, and the synthetic graph. `--quick` uses a 100,000-derivation synthetic graph instead of 1,000,000.
The machine may be shared: figures are medians of alternating runs where noted, and ratios come from one run.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

from benchmarks import bench_estimate, bench_nix, bench_rank, bench_synthetic, cold_estimate


def main(argv: list[str]) -> int:
    """Run every benchmark and print its lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 100,000-derivation synthetic graph")
    parser.add_argument("--snapshot-2019", type=Path, default=None, help="the 2019 snapshot (default: the default)")
    parser.add_argument("--synthetic", type=Path, default=None, help="a 1M-derivation version-2 snapshot")
    parser.add_argument("-n", type=int, default=11, help="cold runs of each command (default 11)")
    args = parser.parse_args(argv)
    if args.snapshot_2019:
        os.environ["IMPACT_SNAPSHOT"] = str(args.snapshot_2019)
    size = 100_000 if args.quick else bench_synthetic.SIZE
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"impact benchmarks · {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} · Python {platform.python_version()}"
        f" · {platform.machine()}, {os.cpu_count()} cores, load average {load:.1f} at the start (shared machine)"
    )
    synthetic = args.synthetic or cold_estimate.synthetic_snapshot(size)
    sections = [
        lambda: cold_estimate.figures(args.snapshot_2019, synthetic, args.n)[0],
        bench_estimate.run,
        bench_rank.run,
        bench_nix.run,
        lambda: bench_synthetic.run(size),
    ]
    for section in sections:
        print()
        for text in section():
            print(text, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
