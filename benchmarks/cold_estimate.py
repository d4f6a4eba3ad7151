"""Cold start of `impact estimate qemu` against `python -c "import networkx, pandas"`, in one run.

Each sample is a fresh process (nothing imported, the snapshot read from disk), the two commands alternating
so that both see the same machine load; the medians and their ratio are printed (target: ratio <= 3).

    python benchmarks/cold_estimate.py [-n 15] [--check]

`--check` exits 1 when the ratio is above the target. `--profile` prints the slowest imports of one
`impact estimate qemu` (`python -X importtime`), for finding what dominates start-up.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET = 3.0
PYTHON = sys.executable
IMPACT = [PYTHON, "-c", "import sys; from impact.cli import main; sys.exit(main())", "estimate", "qemu"]
BASELINE = [PYTHON, "-c", "import networkx, pandas"]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("IMPACT_SNAPSHOT", None)  # the embedded snapshot
    return env


def time_once(command: list[str]) -> float:
    """Wall-clock seconds of one run of `command`; a failure stops the benchmark."""
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=_env())
    return time.perf_counter() - start


def measure(n: int) -> tuple[float, float]:
    """Medians (impact, baseline) over `n` alternating cold runs, after one warm-up of each (disk cache)."""
    time_once(IMPACT)
    time_once(BASELINE)
    impact, baseline = [], []
    for _ in range(n):
        impact.append(time_once(IMPACT))
        baseline.append(time_once(BASELINE))
    return statistics.median(impact), statistics.median(baseline)


def slowest_imports(top: int = 15) -> list[tuple[int, str]]:
    """(cumulative microseconds, module) of the slowest imports of one `impact estimate qemu`."""
    done = subprocess.run([PYTHON, "-X", "importtime", *IMPACT[1:]], capture_output=True, text=True, env=_env())
    rows = []
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line and "cumulative" not in line:
            _, cumulative, name = line.removeprefix("import time:").split("|")
            rows.append((int(cumulative), name.rstrip()))
    top_level = [(us, name) for us, name in rows if not name.startswith("  ")]
    return sorted(top_level, reverse=True)[:top]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the medians and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=15, help="runs of each command (default 15)")
    parser.add_argument("--check", action="store_true", help=f"exit 1 when the ratio is above {TARGET}")
    parser.add_argument("--profile", action="store_true", help="also print the slowest imports")
    args = parser.parse_args(argv)
    impact, baseline = measure(args.n)
    ratio = impact / baseline
    print(f"impact estimate qemu (cold, median of {args.n}):   {impact * 1000:7.0f} ms")
    print(f"python -c 'import networkx, pandas' (median):     {baseline * 1000:7.0f} ms")
    print(f"ratio: {ratio:.2f} (target <= {TARGET:g})")
    if args.profile:
        print("\nslowest top-level imports of impact estimate qemu (cumulative):")
        for us, name in slowest_imports():
            print(f"  {us / 1000:7.1f} ms  {name.strip()}")
    return 1 if args.check and ratio > TARGET else 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    raise SystemExit(main())
