"""Nix itself: how long a real `nix-instantiate` takes on a generated tree of a few thousand derivations.

Nix answers "what does this change rebuild" by evaluating the jobsets before and after the change and
comparing output paths; this times one such evaluation here (an isolated chroot store, offline) and sets it
beside impact answering from the graph. The nixpkgs-scale figure (20+ minutes and 16 GB a system for one
PR in nixpkgs CI, from the issue) is not measured here.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from benchmarks._common import best_of, line, ms
from impact.analysis.change import resolve_change
from impact.analysis.rebuild import estimate
from impact.loaders import load_snapshot

#: How many derivations the generated tree holds.
SIZE = 3000

# Each derivation takes up to three earlier ones as inputs, as packages take their dependencies.
_TREE = """
let
  n = @SIZE@;
  inputsOf = i: if i == 0 then [ ] else [ (i - 1) (i / 2) (i * 7 / 13) ];
  pkgs = builtins.genList (i: builtins.derivation {
    name = "pkg-${toString i}-1.0";
    system = "x86_64-linux";
    builder = "/bin/sh";
    args = [ "-c" "echo ${toString i} > $out" ];
    inputs = map (builtins.elemAt pkgs) (inputsOf i);
  }) n;
in pkgs
"""


def run() -> list[str]:
    """Every figure of this script (or why Nix was not run)."""
    if shutil.which("nix-instantiate") is None:
        return ["Nix: nix-instantiate is not installed; not measured"]
    from impact.nix import temporary_store

    with temporary_store() as nix:
        assert nix.store_root is not None
        tree = Path(nix.store_root) / "tree.nix"
        tree.write_text(_TREE.replace("@SIZE@", str(SIZE)))
        start = time.perf_counter()
        paths = nix.instantiate(tree)
        t_first = time.perf_counter() - start
        t_again, _ = best_of(lambda: nix.instantiate(tree), 3)
    graph = load_snapshot()
    change = resolve_change(graph, names=["qemu"])
    estimate(graph, change)
    t_impact, _ = best_of(lambda: estimate(graph, resolve_change(graph, names=["qemu"])), 20)
    per_drv = t_again / len(paths)
    return [
        f"Nix {'.'.join(map(str, nix.version))}: nix-instantiate of a generated tree",
        line(f"instantiate {len(paths):,} derivations, empty store (writes .drv files)", f"{t_first:.2f} s"),
        line("instantiate again, .drv files present (best of 3)", f"{t_again:.2f} s"),
        line("per derivation", f"{per_drv * 1e6:,.0f} µs"),
        line(
            f"Nix at that rate for the master snapshot ({len(graph):,} drvs) x 2",
            f"{per_drv * len(graph) * 2:.1f} s (a lower bound:",
        ),
        line("", "nixpkgs' own expressions cost far more per derivation)"),
        line("impact: warm estimate qemu on the master snapshot", ms(t_impact)),
        line("ratio Nix (before + after, extrapolated) / impact warm", f"{per_drv * len(graph) * 2 / t_impact:,.0f}x"),
        line("nixpkgs CI today (from the issue, not measured here)", "20+ min and 16 GB a system"),
    ]


if __name__ == "__main__":
    print("\n".join(run()))
