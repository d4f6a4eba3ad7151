"""Loader for `nix show-derivation -r` / `nix derivation show -r` JSON, in every shape Nix has printed.

Shapes read:
- Nix 2.8: `{drvPath: {outputs: {name: {path, hashAlgo?, hash?}}, inputSrcs, inputDrvs: {drv: [outputs]},
  system, env}}`;
- Nix >= 2.18: `inputDrvs` values `{"outputs": [...], "dynamicOutputs": {}}`;
- newest Nix: store paths without the `/nix/store/` prefix, `"inputs": {"srcs": [...], "drvs": {...}}`,
  content-addressed outputs `{"method", "hash"}` without a path, the whole wrapped in
  `{"derivations": {...}, "version": N}`.

A derivation with structured attributes keeps its attributes in `env.__json` (a JSON string; Nix 2.8) or in a
`structuredAttrs` object (newest Nix); both are read (see `_attrs`).
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from impact.errors import InputError
from impact.loaders._attrs import declares_fixed_output, derivation_attrs, prefers_local_build, system_features
from impact.loaders._checks import check_acyclic
from impact.loaders._io import parse_json, read_text
from impact.loaders._store_path import fixed_output_path, parse_hash
from impact.model import Derivation, DerivationGraph, Job, store_path


def parse_derivations(document: Any, origin: str = "<json>") -> list[Derivation]:
    """Turn a parsed show-derivation document into `Derivation` records, checking each field used."""
    if isinstance(document, Mapping) and "derivations" in document and isinstance(document["derivations"], Mapping):
        document = document["derivations"]
    if not isinstance(document, Mapping):
        raise InputError(f"{origin}: expected a JSON object of derivations, got {type(document).__name__}")
    found = []
    for path, value in document.items():
        try:
            found.append(_parse_one(path, value, origin))
        except (TypeError, AttributeError, ValueError) as e:  # a shape no check below foresaw
            raise InputError(f"{origin}: derivation {path}: a field has an unexpected type ({e})") from None
    return found


def _path(value: Any, where: str, what: str) -> str:
    """A store path field: a non-empty string of one line, without `..` steps; made absolute."""
    if not isinstance(value, str) or not value or "\n" in value or "\0" in value:
        raise InputError(f"{where}: {what} is not a store path")
    if "/../" in f"/{value}/" or "/./" in f"/{value}/":
        raise InputError(f"{where}: {what} {value[:120]!r} has a `..` or `.` step; not a store path")
    return store_path(value)


def _parse_one(path: str, value: Any, origin: str) -> Derivation:
    where = f"{origin}: derivation {path[:200]}"
    _path(path, where, "its key")
    if not isinstance(value, Mapping) or not isinstance(value.get("outputs"), Mapping):
        raise InputError(f"{where}: has no `outputs` object; is this `nix show-derivation` output?")
    env = value.get("env") or {}
    if not isinstance(env, Mapping):
        raise InputError(f"{where}: `env` is not an object")
    attrs = derivation_attrs(env, value.get("structuredAttrs"), where)
    name = value.get("name") or attrs.get("name")
    if not isinstance(name, str):
        raise InputError(f"{where}: has no name")
    inputs_v4 = value.get("inputs")
    if isinstance(inputs_v4, Mapping):
        input_drvs = inputs_v4.get("drvs", {})
        input_srcs = inputs_v4.get("srcs", [])
    else:
        input_drvs = value.get("inputDrvs", {})
        input_srcs = value.get("inputSrcs", [])
    if not isinstance(input_drvs, Mapping) or not isinstance(input_srcs, list):
        raise InputError(f"{where}: `inputDrvs`/`inputSrcs` have an unknown shape")
    outputs: dict[str, str] = {}
    fixed = declares_fixed_output(attrs)
    for output, out in value["outputs"].items():
        if not isinstance(out, Mapping):
            raise InputError(f"{where}: output {output} is not an object")
        if out.get("hash"):
            fixed = True
        if out.get("path"):
            outputs[output] = _path(out["path"], where, f"output {output} path")
        elif out.get("hash"):
            # Newest Nix leaves the path of a fixed output out: it follows from the hash, as Nix computes it.
            outputs[output] = _fixed_path(where, name, output, out)
        else:
            outputs[output] = ""  # floating content-addressed or deferred: known only after building
    inputs: dict[str, tuple[str, ...]] = {}
    for drv, used in input_drvs.items():
        if isinstance(used, Mapping):
            used = used.get("outputs", [])
        if not isinstance(used, list) or not all(isinstance(u, str) for u in used):
            raise InputError(f"{where}: input {drv[:200]} does not list its outputs used as strings")
        inputs[_path(drv, where, "an input derivation")] = tuple(sorted(used))
    system = value.get("system") or value.get("platform")
    if not isinstance(system, str):
        raise InputError(f"{where}: has no system")
    return Derivation(
        path=store_path(path),
        name=name,
        system=system,
        outputs=outputs,
        fixed_output=fixed,
        required_system_features=system_features(attrs, where),
        prefer_local_build=prefers_local_build(attrs),
        inputs=inputs,
        input_sources=tuple(_path(s, where, "an input source") for s in input_srcs),
    )


def _fixed_path(where: str, drv_name: Any, output: str, out: Mapping[str, Any]) -> str:
    """The store path of a fixed output given by method and hash alone (`nix derivation show`, JSON v3+)."""
    algo = str(out.get("hashAlgo") or "")
    method = str(out.get("method") or ("nar" if algo.startswith("r:") else "flat"))
    if not isinstance(drv_name, str):
        raise InputError(f"{where}: has no name")
    if method not in ("flat", "nar", "recursive", "text"):
        raise InputError(
            f"{where}: output {output} has the content-addressing method {method[:40]!r}, unknown to impact"
        )
    try:
        algo, digest = parse_hash(out["hash"], algo.removeprefix("r:") or None)
    except (ValueError, KeyError, binascii.Error) as e:
        raise InputError(f"{where}: output {output} has a hash impact cannot read ({e})") from None
    return fixed_output_path(drv_name if output == "out" else f"{drv_name}-{output}", method, algo, digest)


def load_derivations(path: Path) -> list[Derivation]:
    """Read a show-derivation JSON file (plain or gzipped) into `Derivation` records."""
    return parse_derivations(parse_json(read_text(path), str(path)), str(path))


def load_graph(path: Path, jobs: list[Job] | None = None) -> DerivationGraph:
    """A graph from a show-derivation JSON file alone (no jobs unless given)."""
    return check_acyclic(DerivationGraph.from_records(load_derivations(path), jobs or [], origin=str(path)))
