"""Loaders, one module per input format, all returning a `DerivationGraph`.

- `compact`: impact's own snapshot file (`.impact`), the fast default;
- `snapshot_folder`: `jobs.jsonl.gz` + `derivations.json.gz`;
- `show_derivation`: `nix show-derivation -r` / `nix derivation show -r` JSON (any Nix version);
- `aterm`: `.drv` files (`Derive(...)`), from paths or a store directory;
- `eval_jobs`: nix-eval-jobs JSON lines.
"""

from __future__ import annotations

import os
from pathlib import Path

from impact import snapshots
from impact.errors import InputError
from impact.model import DerivationGraph
from impact.snapshots import SNAPSHOT_ENV

__all__ = ["EMBEDDED_SNAPSHOT", "SNAPSHOT_ENV", "STORE_ROOT_ENV", "default_snapshot", "load_snapshot"]

#: Environment variable naming the root of a chroot store (`--store local?root=ROOT`) to read .drv files from
#: when a snapshot is nix-eval-jobs lines; unset, they are read from /nix/store.
STORE_ROOT_ENV = "IMPACT_STORE_ROOT"
#: The snapshot used when none is named (see `impact.snapshots`): nixpkgs master of 2019-03-19.
EMBEDDED_SNAPSHOT = snapshots.DEFAULT.path


def default_snapshot() -> Path:
    """The snapshot used when none is named: `$IMPACT_SNAPSHOT` (a shipped name or a path), else the default."""
    return snapshots.resolve(None)


def load_snapshot(path: Path | str | None = None) -> DerivationGraph:
    """Load a snapshot in any supported format, chosen by what `path` is, or a shipped snapshot by name
    (default: `default_snapshot()`)."""
    from impact.loaders import compact

    path = snapshots.resolve(path)
    if not path.exists():
        raise InputError(
            f"{path}: no such snapshot",
            tip="pass --snapshot with a shipped name (impact snapshot list), a .impact file or a snapshot folder",
        )
    if not path.is_dir():
        from impact.loaders._io import check_regular

        check_regular(path)
    if path.is_dir():
        from impact.loaders import snapshot_folder

        if snapshot_folder.is_snapshot_folder(path):
            return snapshot_folder.load_snapshot_folder(path)
        from impact.loaders import aterm

        return aterm.load_store_dir(path)
    if path.suffix == compact.SUFFIX or compact.is_compact(path):
        return compact.read_compact(path)
    if path.suffix == compact.SUFFIX:
        raise InputError(
            f"{path}: damaged impact snapshot (not a zip archive holding a snapshot header)",
            tip="re-create it with `impact snapshot import`",
        )
    name = path.name
    if name.endswith(".drv"):
        from impact.loaders import aterm

        return aterm.load_drv_files([path])
    if name.endswith((".jsonl", ".jsonl.gz")):
        from impact.loaders import aterm, eval_jobs

        jobs, errors = eval_jobs.load_jobs(path)
        return aterm.load_jobs_from_store(
            jobs, errors, origin=str(path), store_root=os.environ.get(STORE_ROOT_ENV) or None
        )
    if name.endswith((".json", ".json.gz")):
        from impact.loaders import show_derivation

        return show_derivation.load_graph(path)
    raise InputError(
        f"{path}: unknown snapshot format",
        tip="use a .impact file, a snapshot folder, show-derivation JSON, nix-eval-jobs lines or .drv files",
    )
