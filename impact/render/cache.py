"""Text and JSON for `impact cache info` and `impact cache clean`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from impact.render.json import dumps
from impact.render.text import table

if TYPE_CHECKING:
    from impact.loaders.cache import CacheInfo, CleanResult


def _bytes(n: int) -> str:
    return f"{n:,} bytes" if n < 1_000_000 else f"{n / 1e6:,.1f} MB"


def cache_info_text(info: CacheInfo) -> str:
    """Where the cache is, each snapshot copy (size, snapshot, the files of every clone it stands for), the
    copies of earlier versions, the private Nix store, and what `impact cache clean` does."""
    if info.folder is None:
        return "impact cache: no cache folder (no home folder; set IMPACT_CACHE_DIR)"
    lines = [f"impact cache  ·  {info.folder}", ""]
    lines.append(
        f"{len(info.copies):,} snapshot {'copy' if len(info.copies) == 1 else 'copies'}, {_bytes(info.copy_bytes)} "
        "(version-2 copies of compressed snapshots, one per content, made on first use)"
    )
    rows: list[list[object]] = []
    for copy in info.copies:
        sources = copy.sources or ("(no file uses it now)",)
        rows.append([_bytes(copy.size), copy.label or copy.path.name, sources[0]])
        rows += [["", "", s] for s in sources[1:]]
    if rows:
        lines += ["", table(rows, ["size", "snapshot", "files it stands for"], right_from=99)]
    if info.legacy:
        word = "copy" if len(info.legacy) == 1 else "copies"
        lines += [
            "",
            f"{len(info.legacy):,} {word} from an earlier impact version (one per path and time), "
            f"{_bytes(info.legacy_bytes)}: removed by clean, or when impact next makes a copy",
        ]
    store = f"{_bytes(info.nix_store_bytes)} in {info.nix_store}" if info.nix_store_bytes else "none"
    lines += [
        "",
        f"private Nix store of impact eval: {store} (collected after each evaluation; not removed by clean)",
        "",
        "impact cache clean removes every snapshot copy; impact makes a copy again when it first reads a snapshot.",
    ]
    return "\n".join(lines)


def cache_info_json(info: CacheInfo) -> str:
    """`impact cache info --json`."""
    return dumps(info.to_dict())


def cache_clean_text(result: CleanResult) -> str:
    """What `impact cache clean` removed."""
    if result.folder is None:
        return "impact cache: no cache folder (no home folder; set IMPACT_CACHE_DIR)"
    copies = f"{result.copies:,} snapshot {'copy' if result.copies == 1 else 'copies'}"
    return f"removed {copies} ({_bytes(result.bytes)}) from {result.folder}; each is made again on first use"


def cache_clean_json(result: CleanResult) -> str:
    """`impact cache clean --json`."""
    return dumps(result.to_dict())
