"""Every benchmark of impact in one run, printed as figures and ratios: `python -m benchmarks.run_all`.

`--quick` uses a 100,000-derivation synthetic graph instead of 1,000,000.
"""

from __future__ import annotations

import platform
import sys
import time

from benchmarks import bench_estimate, bench_nix, bench_rank, bench_synthetic


def main(argv: list[str]) -> int:
    """Run every benchmark and print its lines."""
    size = 100_000 if "--quick" in argv else bench_synthetic.SIZE
    print(
        f"impact benchmarks · {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} · Python {platform.python_version()}"
        f" · {platform.machine()}, {__import__('os').cpu_count()} cores (shared: figures are best-of where noted)"
    )
    for section in (bench_estimate.run, bench_rank.run, bench_nix.run, lambda: bench_synthetic.run(size)):
        print()
        for text in section():
            print(text, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
