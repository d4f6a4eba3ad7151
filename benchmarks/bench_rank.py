"""`impact rank` on the master snapshot against a per-package networkx loop (timed on a sample, extrapolated),
and with `--synthetic PATH` the whole CLI run on a 1M-derivation snapshot (issue 15: under 5 s):

    python -m benchmarks.bench_rank [--synthetic synthetic-1m.impact] [-n 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks._common import best_of, line, median_of
from benchmarks.bench_estimate import fod_cut_networkx
from benchmarks.cold_estimate import PYTHON
from impact.analysis.rank import package_roots, rank
from impact.loaders import load_snapshot

SAMPLE = 400
#: The command `impact rank` is, run as a fresh process.
CLI = [PYTHON, "-c", "import sys; from impact.cli import main; sys.exit(main())", "rank"]


def synthetic_cli(path: Path, runs: int = 3) -> list[str]:
    """`impact rank --snapshot PATH` as fresh processes: the median, the fastest and the slowest of `runs`."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([*CLI, "--snapshot", str(path)], check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return [
        f"impact rank on {path.name}, whole CLI run in a fresh process ({runs} runs)",
        line(f"median of {runs}", f"{statistics.median(times):.2f} s  (target < 5 s)"),
        line("fastest / slowest", f"{min(times):.2f} s / {max(times):.2f} s"),
    ]


def run() -> list[str]:
    """Every figure of this script."""
    cli = CLI
    subprocess.run(cli, check=True, stdout=subprocess.DEVNULL)  # the snapshot's copy and tables, once
    t_cli = median_of(lambda: subprocess.run(cli, check=True, stdout=subprocess.DEVNULL), 3)
    start = time.perf_counter()
    graph = load_snapshot()
    t_load = time.perf_counter() - start
    start = time.perf_counter()
    ranking = rank(graph)
    t_first = time.perf_counter() - start
    t_warm, _ = best_of(lambda: rank(graph), 3)

    roots = package_roots(graph)
    g = fod_cut_networkx(graph)
    import networkx as nx

    # A row is a package with its aliases (one derivation): one change naming all of them.
    rows = {r.package: r for r in ranking.rows}
    sample = random.Random(1).sample(sorted(rows), SAMPLE)
    jobs_of = graph.jobs_of_derivation
    start = time.perf_counter()
    for package in sample:
        starts = set().union(*(roots[n].tolist() for n in (package, *rows[package].aliases)))
        rebuilt = set(starts)
        for r in starts:
            rebuilt |= nx.descendants(g, r)
        jobs = sum(len(jobs_of.get(d, ())) for d in rebuilt)
        assert (len(rebuilt), jobs) == (rows[package].derivations_to_build, rows[package].jobs_total), package
    t_sample = time.perf_counter() - start
    t_nx = t_sample / SAMPLE * len(rows)
    return [
        f"impact rank on {graph.label}: {len(rows):,} packages ({len(roots):,} attributes), {len(graph):,} derivations",
        line("impact rank, whole CLI run (median of 3)", f"{t_cli:.2f} s  (target < 3 s)"),
        line("in process: open the snapshot", f"{t_load * 1e3:.1f} ms"),
        line("in process: rank, first call (stored tables, else built)", f"{t_first:.2f} s"),
        line("in process: rank, warm (best of 3)", f"{t_warm:.2f} s"),
        line(f"networkx loop: {SAMPLE} random packages (same answers)", f"{t_sample:.2f} s"),
        line(f"networkx loop: extrapolated to all {len(rows):,} packages", f"{t_nx:.0f} s"),
        line("ratio networkx loop / impact rank (first call)", f"{t_nx / t_first:.0f}x"),
    ]


def main(argv: list[str]) -> int:
    """Print the figures: the master snapshot's, and the 1M snapshot's whole CLI run when given."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", type=Path, default=None, help="a 1M-derivation version-2 snapshot")
    parser.add_argument("-n", type=int, default=3, help="fresh runs on the synthetic snapshot (default 3)")
    parser.add_argument("--synthetic-only", action="store_true", help="skip the master snapshot's figures")
    args = parser.parse_args(argv)
    lines = [] if args.synthetic_only else run()
    if args.synthetic:
        lines += synthetic_cli(args.synthetic, args.n)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
