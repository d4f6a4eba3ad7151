"""1,000,000 derivations: generate a nixpkgs-shaped graph, write it as a compact snapshot, then in a fresh
process load it, run one estimate and rank every package, with the peak memory of that process."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from benchmarks._common import line, peak_rss_bytes

SIZE = 1_000_000
#: The issue's memory limit for load + estimate + rank.
LIMIT = 8 << 30


def child(path: str) -> dict[str, float]:
    """In a fresh process: load, estimate `qemu` and `openssl`, rank; the seconds of each and the peak RSS."""
    from impact.analysis.change import resolve_change
    from impact.analysis.rank import rank
    from impact.analysis.rebuild import estimate
    from impact.loaders import load_snapshot

    out: dict[str, float] = {}
    start = time.perf_counter()
    graph = load_snapshot(path)
    out["load"] = time.perf_counter() - start
    out["derivations"] = len(graph)
    out["edges"] = graph.edge_count
    out["jobs"] = graph.job_count
    start = time.perf_counter()
    result = estimate(graph, resolve_change(graph, names=["qemu"]))
    out["estimate_first"] = time.perf_counter() - start
    out["estimate_qemu_drvs"] = result.derivations_to_build
    start = time.perf_counter()
    estimate(graph, resolve_change(graph, names=["qemu"]))
    out["estimate_warm"] = time.perf_counter() - start
    start = time.perf_counter()
    result = estimate(graph, resolve_change(graph, names=["openssl"]))
    out["estimate_openssl"] = time.perf_counter() - start
    out["estimate_openssl_drvs"] = result.derivations_to_build
    start = time.perf_counter()
    ranking = rank(graph)
    out["rank"] = time.perf_counter() - start
    out["packages"] = len(ranking.rows)
    out["peak_rss"] = peak_rss_bytes()
    return out


def run(size: int = SIZE) -> list[str]:
    """Every figure of this script."""
    from benchmarks.cold_estimate import synthetic_snapshot
    from benchmarks.synthetic import build, measure
    from impact.loaders import load_snapshot

    default = load_snapshot()
    master, master_label = measure(default), default.meta.get("label", "default snapshot")
    start = time.perf_counter()
    graph = build(size)
    t_build = time.perf_counter() - start
    shape = measure(graph)
    del graph
    path, t_write = synthetic_snapshot(size, timed=True)
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_synthetic", "--child", str(path)],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    figures = json.loads(done.stdout)
    file_mb = path.stat().st_size / 1e6
    cli = [sys.executable, "-c", "import sys; from impact.cli import main; sys.exit(main())", "rank"]
    start = time.perf_counter()
    subprocess.run([*cli, "--snapshot", str(path)], check=True, stdout=subprocess.DEVNULL)
    t_rank_cli = time.perf_counter() - start
    total = figures["load"] + figures["estimate_first"] + figures["rank"]
    return [
        f"Synthetic nixpkgs-shaped graph: {int(figures['derivations']):,} derivations, "
        f"{int(figures['edges']):,} inputs, {int(figures['jobs']):,} jobs, {int(figures['packages']):,} packages",
        *(
            line(f"shape: {k}", f"{v}  ({master_label}: {master[k]})")
            for k, v in shape.items()
            if k not in ("derivations", "jobs")
        ),
        line("generate (numpy)", f"{t_build:.1f} s"),
        line(
            f"write the version-2 snapshot with its tables ({file_mb:.0f} MB)",
            f"{t_write:.1f} s" if t_write is not None else "(made by an earlier run)",
        ),
        "  in a fresh process:",
        line("open the snapshot (mapped)", f"{figures['load'] * 1e3:.1f} ms"),
        line(
            f"estimate qemu, first ({int(figures['estimate_qemu_drvs']):,} derivations; reads stored tables)",
            f"{figures['estimate_first'] * 1e3:.1f} ms",
        ),
        line("estimate qemu, warm", f"{figures['estimate_warm'] * 1e3:.1f} ms"),
        line(
            f"estimate openssl, warm ({int(figures['estimate_openssl_drvs']):,} derivations)",
            f"{figures['estimate_openssl'] * 1e3:.1f} ms",
        ),
        line("rank every package", f"{figures['rank']:.1f} s"),
        line("load + first estimate + rank", f"{total:.1f} s"),
        line("`impact rank` in a fresh process, whole CLI run (target < 5 s)", f"{t_rank_cli:.1f} s"),
        line(
            "peak resident memory of that process",
            f"{figures['peak_rss'] / 2**30:.2f} GiB (limit 8 GiB: "
            f"{'within' if figures['peak_rss'] <= LIMIT else 'OVER'})",
        ),
    ]


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(child(sys.argv[2])))
    else:
        size = int(sys.argv[1]) if len(sys.argv) > 1 else SIZE
        print("\n".join(run(size)))
