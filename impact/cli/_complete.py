"""Shell completion of snapshot names, branch names and package names (`impact --install-completion`).

Snapshot names are the shipped ones (`impact snapshot list`), with their label as help; a word that matches
none is left to the shell (bash then completes file names, which `--snapshot PATH` takes too). Package names
are the job attributes without their system of the snapshot the command line selects (`--snapshot`, else
`$IMPACT_SNAPSHOT`, else the default), read from its mapped copy: about 0.2 s. Completion never fails: a
snapshot that cannot be read completes nothing.
"""

from __future__ import annotations

from typing import Any

from impact.errors import ImpactError


def snapshot_names(incomplete: str) -> list[tuple[str, str]]:
    """The shipped snapshots whose name starts with `incomplete`, each with its label."""
    from impact.snapshots import SHIPPED

    return [(s.name, s.label) for s in SHIPPED if s.name.startswith(incomplete)]


def branch_names(incomplete: str) -> list[tuple[str, str]]:
    """The branches of the shipped snapshots (`--base` answers on their data), starting with `incomplete`."""
    from impact.snapshots import SHIPPED

    branches = dict.fromkeys(s.branch for s in SHIPPED)
    return [(b, f"shipped snapshot of {b}") for b in branches if b.startswith(incomplete)]


def _packages(ctx: Any) -> list[str]:
    from impact.loaders import load_snapshot

    snapshot = (getattr(ctx, "params", None) or {}).get("snapshot")
    try:
        graph = load_snapshot(snapshot)
    except (ImpactError, OSError):
        return []
    return sorted(set(graph.job_packages))


def package_names(ctx: Any, incomplete: str) -> list[str]:
    """Package names (job attributes without their system) of the selected snapshot starting with `incomplete`."""
    return [p for p in _packages(ctx) if p.startswith(incomplete)]


def change_names(ctx: Any, incomplete: str) -> list[str]:
    """As `package_names`, for `impact compare`'s changes: the name after the last comma of `openssl,cu`."""
    done, _, last = incomplete.rpartition(",")
    prefix = f"{done}," if done else ""
    return [prefix + p for p in _packages(ctx) if p.startswith(last)]
