"""`impact eval`: evaluate a nixpkgs checkout with real Nix into a snapshot folder."""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from impact import app as service
from impact.cli._app import JsonOption, app, emit
from impact.errors import InputError
from impact.render.formats import Format, render_eval

if TYPE_CHECKING:
    from impact.nix import Limits, Nix

SystemOption = Annotated[
    list[str] | None,
    typer.Option(
        "--system", help="A system to evaluate release.nix for (repeatable). Default: x86_64-linux.", show_default=False
    ),
]
NixosOption = Annotated[bool, typer.Option("--nixos", help="Also evaluate nixos/release.nix (for the first system).")]
StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="The Nix store to write .drv files to: a URI, or 'auto' for Nix's default. "
        "Default: a private chroot store under ~/.cache/impact/nix, collected after each evaluation.",
        show_default=False,
    ),
]
TimeoutOption = Annotated[
    float,
    typer.Option(
        "--timeout", help="Seconds the whole evaluation may take (every Nix process, retries included) before it stops."
    ),
]
MemoryOption = Annotated[str, typer.Option("--memory", help="Address space the evaluator may use, e.g. 8G or 512M.")]
StoreLimitOption = Annotated[
    str,
    typer.Option(
        "--store-limit", metavar="SIZE", help="How much the evaluation may add to the Nix store, e.g. 16G or 500M."
    ),
]

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*$", re.I)


def parse_size(text: str, option: str = "--memory") -> int:
    """`8G` → bytes; a plain number is bytes (`option` names where the size was given, for the error)."""
    m = _SIZE.match(text)
    if not m:
        raise InputError(f"{option} {text!r} is not a size", tip="write it like 8G, 512M or 1073741824")
    return int(float(m.group(1)) * 1024 ** " KMGT".index((m.group(2) or " ").upper()))


def make_nix(store: str | None) -> Nix:
    """The `Nix` to evaluate with: the user's default store for 'auto', a store URI, or impact's chroot store."""
    from impact.nix import Nix, private_nix

    if store == "auto":
        return Nix()
    if store:
        return Nix(store=store)
    return private_nix()


def make_limits(timeout: float, memory: str, store_limit: str = "16G") -> Limits:
    """The limits from the command line (0 for any of them: no limit)."""
    from impact.nix import Limits

    return Limits(
        timeout=timeout if timeout > 0 else None,
        memory=parse_size(memory) or None,
        store=parse_size(store_limit, "--store-limit") or None,
    )


class Progress:
    """A one-line job counter on stderr, redrawn at most ten times a second, only on a terminal."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.shown = 0.0
        self.count = 0
        self.live = sys.stderr.isatty()

    def __call__(self, count: int) -> None:
        self.count = count
        now = time.monotonic()
        if self.live and now - self.shown > 0.1:
            self.shown = now
            sys.stderr.write(f"\r{self.label}: {count:,} jobs evaluated")
            sys.stderr.flush()

    def done(self) -> None:
        """End the line."""
        if self.live and self.shown:
            sys.stderr.write(f"\r{self.label}: {self.count:,} jobs evaluated\n")
            sys.stderr.flush()


ChunksOption = Annotated[
    int, typer.Option("--chunks", help="Cut the jobs into N stable slices (by a hash of jobset and attribute path).")
]
ChunkOption = Annotated[
    int | None,
    typer.Option(
        "--chunk", help="Evaluate only slice K (0…N-1) of --chunks N. Default: all slices.", show_default=False
    ),
]
JobsOption = Annotated[int, typer.Option("--jobs", "-j", help="Nix processes at a time (slices in parallel).")]
SkipOption = Annotated[
    list[str] | None,
    typer.Option(
        "--skip",
        help="A top-level job name to leave out of both jobsets (repeatable; NAME* is a prefix).",
        show_default=False,
    ),
]
ExplainOption = Annotated[
    int, typer.Option("--explain-errors", help="Read Nix's message for at most this many throw/assert errors.")
]
GcOption = Annotated[
    bool,
    typer.Option(
        "--gc/--no-gc",
        help="Garbage-collect impact's private store afterwards (default; a --store given is never collected).",
        show_default=False,
    ),
]


EvaluatorOption = Annotated[
    str,
    typer.Option(
        "--evaluator", help="nix-instantiate (the shipped jobs.nix) or nix-eval-jobs (parallel, must be installed)."
    ),
]
WorkersOption = Annotated[int, typer.Option("--workers", help="Parallel evaluators with --evaluator nix-eval-jobs.")]


@app.command("eval")
def eval_(
    checkout: Annotated[Path, typer.Argument(help="A nixpkgs checkout (with pkgs/top-level/release.nix).")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="The snapshot folder to write (jobs.jsonl.gz + derivations.json.gz).")
    ],
    system: SystemOption = None,
    nixos: NixosOption = False,
    store: StoreOption = None,
    timeout: TimeoutOption = 3600.0,
    memory: MemoryOption = "8G",
    store_limit: StoreLimitOption = "16G",
    evaluator: EvaluatorOption = "nix-instantiate",
    workers: WorkersOption = 1,
    chunks: ChunksOption = 0,
    chunk: ChunkOption = None,
    jobs: JobsOption = 1,
    skip: SkipOption = None,
    explain_errors: ExplainOption = 25,
    gc: GcOption = True,
    json: JsonOption = False,
) -> None:
    """Evaluate a nixpkgs checkout's Hydra jobs with Nix (restricted, no IFD, time and memory limits)."""
    systems, slices = tuple(system or ["x86_64-linux"]), chunks or jobs
    skipped = tuple(skip or ())
    request = service.EvalRequest(
        checkout, output, systems, nixos, evaluator, workers, slices, chunk, jobs, skipped, explain_errors, bool(gc)
    )
    summary = service.evaluate(request, make_nix(store), make_limits(timeout, memory, store_limit), Progress)
    emit(render_eval(Format.json if json else Format.text, summary))
