"""Cold start of `impact estimate qemu`: the 2019 snapshot and a 1,000,000-derivation one against the import floor.

Each sample is a fresh process (nothing imported; the snapshot's pages in the OS cache after one warm-up, as
for any command run twice). The commands alternate, so that all see the same machine load, and the medians,
their ratios and each command's peak resident memory are printed, all measured in this one run:

- the floor: `python -c "import numpy, typer"`, what any numpy command line with typer pays;
- `impact estimate qemu` on the 127k-derivation 2019 snapshot (target: within 2x the floor);
- the same on the 1M-derivation synthetic snapshot (targets: under 1 s, under 600 MB, within 1.5x the 2019 run).

    python -m benchmarks.cold_estimate [--snapshot-2019 PATH] [--synthetic PATH] [-n 11] [--check] [--profile]

Without `--synthetic`, the 1M snapshot is generated once (`benchmarks/synthetic.py`, ~1 min) under
`$IMPACT_BENCH_DIR` (default: the system's temporary folder) and reused. Without `--snapshot-2019`, the
default snapshot (`$IMPACT_SNAPSHOT`, else the embedded one) is used. `--check` exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PYTHON = sys.executable
FLOOR = [PYTHON, "-c", "import numpy, typer"]
#: (name, limit): the cold targets of issues 11 and 15.
TARGETS = {
    "2019 / floor": 2.0,
    "1M / 2019": 1.5,
    "1M wall (s)": 1.0,
    "1M peak RSS (MB)": 600.0,
}


def impact_command(snapshot: Path | None, name: str = "qemu") -> list[str]:
    """`impact estimate NAME` as a fresh interpreter runs it (the console script's own code)."""
    command = [PYTHON, "-c", "import sys; from impact.cli import main; sys.exit(main())", "estimate", name]
    return command + (["--snapshot", str(snapshot)] if snapshot else [])


def run_once(command: list[str]) -> tuple[float, int]:
    """Wall-clock seconds and peak resident bytes of one run of `command`; a failure stops the benchmark."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    err = child.stderr.read().decode() if child.stderr else ""
    if child.returncode:
        raise SystemExit(f"{' '.join(command)} failed ({child.returncode}): {err.strip()}")
    return elapsed, usage.ru_maxrss * 1024


def synthetic_snapshot(size: int = 1_000_000, *, timed: bool = False) -> Any:
    """A version-2 snapshot of the synthetic graph of `size` derivations, generated once and reused (with
    `timed`, also the seconds its preparing and writing took, None when it existed)."""
    folder = Path(os.environ.get("IMPACT_BENCH_DIR") or tempfile.gettempdir())
    path = folder / f"impact-synthetic-{size}.impact"
    seconds = None
    if not path.exists():
        from benchmarks.synthetic import build
        from impact.analysis.tables import prepare
        from impact.loaders.compact import write_compact

        print(f"generating {path} (once)…", file=sys.stderr, flush=True)
        graph = build(size)
        start = time.perf_counter()
        write_compact(prepare(graph), path)
        seconds = time.perf_counter() - start
    return (path, seconds) if timed else path


def measure(commands: dict[str, list[str]], n: int) -> dict[str, tuple[float, int]]:
    """Median wall seconds and largest peak RSS per command over `n` alternating runs, after one warm-up each."""
    for command in commands.values():
        run_once(command)
    samples: dict[str, list[tuple[float, int]]] = {name: [] for name in commands}
    for _ in range(n):
        for name, command in commands.items():
            samples[name].append(run_once(command))
    return {name: (statistics.median(t for t, _ in runs), max(r for _, r in runs)) for name, runs in samples.items()}


def figures(snapshot_2019: Path | None, synthetic: Path, n: int) -> tuple[list[str], dict[str, float]]:
    """The printed lines and the measured ratios of one run."""
    results = measure({"floor": FLOOR, "2019": impact_command(snapshot_2019), "1M": impact_command(synthetic)}, n)
    floor, f_rss = results["floor"]
    t2019, r2019 = results["2019"]
    t1m, r1m = results["1M"]
    ratios = {
        "2019 / floor": t2019 / floor,
        "1M / 2019": t1m / t2019,
        "1M wall (s)": t1m,
        "1M peak RSS (MB)": r1m / 1e6,
    }
    lines = [
        f"Cold `impact estimate qemu` (median of {n} alternating fresh processes; peak RSS the largest)",
        _line('python -c "import numpy, typer" (the floor)', floor, f_rss),
        _line(f"2019 snapshot ({snapshot_2019 or 'default'})", t2019, r2019),
        _line(f"1M synthetic ({synthetic.name})", t1m, r1m),
        f"  {'ratio 2019 / floor':<58} {ratios['2019 / floor']:.2f}  (target <= 2)",
        f"  {'ratio 1M / 2019':<58} {ratios['1M / 2019']:.2f}  (target <= 1.5)",
        f"  {'1M wall':<58} {t1m:.3f} s  (target < 1 s)",
        f"  {'1M peak RSS':<58} {r1m / 1e6:.0f} MB  (target < 600 MB)",
    ]
    return lines, ratios


def _line(label: str, seconds: float, rss: int) -> str:
    return f"  {label:<58} {seconds * 1e3:8.1f} ms  {rss / 1e6:6.0f} MB"


def slowest_imports(snapshot: Path | None, top: int = 15) -> list[tuple[int, str]]:
    """(cumulative microseconds, module) of the slowest top-level imports of one `impact estimate qemu`."""
    done = subprocess.run([PYTHON, "-X", "importtime", *impact_command(snapshot)[1:]], capture_output=True, text=True)
    rows = []
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line and "cumulative" not in line:
            _, cumulative, name = line.removeprefix("import time:").split("|")
            rows.append((int(cumulative), name.rstrip()))
    top_level = [(us, name) for us, name in rows if not name.startswith("  ")]
    return sorted(top_level, reverse=True)[:top]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print its figures and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=11, help="runs of each command (default 11)")
    parser.add_argument("--snapshot-2019", type=Path, default=None, help="the 2019 snapshot (default: the default)")
    parser.add_argument("--synthetic", type=Path, default=None, help="a 1M-derivation snapshot (default: generated)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--profile", action="store_true", help="also print the slowest imports")
    args = parser.parse_args(argv)
    lines, ratios = figures(args.snapshot_2019, args.synthetic or synthetic_snapshot(), args.n)
    print("\n".join(lines))
    if args.profile:
        print("\nslowest top-level imports of impact estimate qemu (cumulative):")
        for us, name in slowest_imports(args.snapshot_2019):
            print(f"  {us / 1000:7.1f} ms  {name.strip()}")
    missed = [k for k, limit in TARGETS.items() if ratios[k] > limit]
    if missed:
        print(f"missed: {', '.join(missed)}")
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    raise SystemExit(main())
