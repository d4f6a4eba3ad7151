"""The Typer application, the options every command shares, and the conventions of the command line.

- `--version`, `-h`/`--help`, and shell completion (`impact --install-completion` installs it for the shell).
- Help is formatted by rich (pulled in by typer): commands in panels by what they are for, readable metavars.
- Answers are plain text when piped or when `NO_COLOR` is set, and rich tables with colour on a terminal
  (`impact.render.text.styled`).
- Options that cannot go together stop the command with one line (exit 2), never silently lose one.
"""

from __future__ import annotations

import copy
import os
import sys
from collections.abc import Callable, Iterator
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, get_args, get_origin

import typer

from impact.cli._complete import snapshot_names
from impact.errors import ImpactError

if TYPE_CHECKING:
    import click


def _version(value: bool) -> None:
    if value:
        from impact import __version__

        typer.echo(f"impact {__version__}")
        raise typer.Exit()


app = typer.Typer(
    name="impact",
    help="What a change to nixpkgs rebuilds, on which systems, why, and which branch takes it.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", "-V", help="Print impact's version and exit.", is_eager=True, callback=_version),
    ] = False,
) -> None:
    """What a change to nixpkgs rebuilds, on which systems, why, and which branch takes it."""


#: Help panels in the order `impact --help` lists them, and the commands in each.
PANELS: dict[str, tuple[str, ...]] = {
    "Ask": ("estimate", "rank", "outputs"),
    "Explain": ("why",),
    "Compare": ("compare", "branches", "diff", "hydra-compare"),
    "Evaluate": ("eval",),
    "Bot": ("pr", "post"),
    "Snapshots": ("snapshot", "cache"),
}

SnapshotOption = Annotated[
    Path | None,
    typer.Option(
        "--snapshot",
        "-s",
        metavar="NAME|PATH",
        autocompletion=snapshot_names,
        help="Snapshot to read: a shipped snapshot's name (impact snapshot list), a .impact file, a snapshot folder "
        "(jobs.jsonl.gz + derivations.json.gz), show-derivation JSON, nix-eval-jobs lines or .drv files. "
        "Default: $IMPACT_SNAPSHOT, else master-2019-03-19 (nixpkgs master of 2019-03-19).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")]
OnlyOption = Annotated[
    bool, typer.Option("--only", help="The named attributes alone, without variants built from the same source.")
]
OwnOption = Annotated[
    bool,
    typer.Option(
        "--own",
        help="The change's own share: leave out the derivations that embed the nixpkgs source tree (every commit "
        "changes them).",
    ),
]
PlotOption = Annotated[
    Path | None,
    typer.Option(
        "--plot",
        metavar="FILE",
        help="Also draw the answer to FILE: PNG or SVG by its suffix (needs matplotlib).",
        show_default=False,
    ),
]


#: `impact pr --fail-on` (`impact.analysis.fail_on`).
FailOnOption = Annotated[
    list[str] | None,
    typer.Option(
        "--fail-on",
        metavar="CONDITION",
        help="Exit with code 3 (after the report) when this holds, for CI: a label that is set (rebuild-linux:501+, "
        "rebuild-darwin:1-10, rebuild-linux-stdenv, rebuild-nixos-tests…) or, with --hydra-base/--hydra-head, a "
        "Hydra verdict (breaks, restart, wait, not-ok). Repeatable.",
        show_default=False,
    ),
]


class ConflictError(ImpactError):
    """Two options were given that cannot go together."""


def refuse(*conflicts: tuple[bool, str, str]) -> None:
    """Stop with one line when any `(both given, option, other option)` holds: never drop an option silently."""
    for given, first, second in conflicts:
        if given:
            raise ConflictError(f"{first} cannot be used with {second}", tip="give one of them, not both")


def emit(text: str) -> None:
    """Print a command's answer on standard output, ending in one newline."""
    typer.echo(text.rstrip("\n"))


def styled() -> bool:
    """True when answers go to a terminal that takes colour (not piped, no `NO_COLOR`)."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def plot_to(path: Path | None, draw: object) -> None:
    """Save the figure `draw()` makes to `path` (PNG or SVG by suffix) and say so on standard error; nothing
    when `path` is None."""
    if path is None:
        return
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in ("png", "svg"):
        raise ImpactError(
            f"--plot {path}: unknown image type {suffix or '(none)'!r}", tip="end the name in .png or .svg"
        )
    import io

    from impact.evaluate import write_atomic

    buffer = io.BytesIO()
    draw().savefig(buffer, format=suffix, dpi=150)  # type: ignore[operator]
    write_atomic(path, buffer.getvalue())
    typer.echo(f"wrote {path}", err=True)  # standard error: standard output stays the answer (--json)


def _commands(command: click.Command) -> Iterator[click.Command]:
    yield command
    for sub in getattr(command, "commands", {}).values():
        yield from _commands(sub)


def _metavar(param: click.Parameter) -> str | None:
    """A readable metavar: the one declared, the choices, else a word from the type and name."""
    if getattr(param, "is_flag", False) or getattr(param, "count", False):
        return None
    if param.metavar:
        return param.metavar
    descriptor = getattr(param, "type_descriptor", None)  # typer ≥ 0.20 keeps the annotation here
    kind: object = descriptor.annotation if descriptor is not None else getattr(param, "type", None)
    if get_origin(kind) is list:
        kind = get_args(kind)[0]
    choices = getattr(kind, "choices", None) or (
        list(kind) if isinstance(kind, type) and issubclass(kind, Enum) else None
    )
    if choices:
        return "|".join(str(getattr(c, "value", c)) for c in choices)
    name = getattr(kind, "name", getattr(kind, "__name__", ""))
    if name in ("int", "integer", "integer range"):
        return "N"
    if name == "float":
        return "SECONDS" if param.name == "timeout" else "NUMBER"
    return (param.name or "value").upper().replace("_", "-")


def _type_column(label: str | None) -> object:
    return lambda ctx: label


def readable_metavars(command: click.Command) -> click.Command:
    """Give every parameter of `command` (and its subcommands) a readable metavar instead of a Python type.

    typer ≥ 0.20 prints a type column (`<list[str]>`, `<bool>`): it shows the metavar there instead, nothing
    for flags and arguments (whose name is already shown).
    """
    for cmd in _commands(command):
        for param in cmd.params:
            label = _metavar(param)
            is_argument = param.param_type_name == "argument"
            if label is not None:
                param.metavar = label
            param.display_type_rich = _type_column(None if is_argument else label)  # type: ignore[attr-defined]
            if is_argument:
                param.type = _untyped(param.type)
        cmd.get_help_option = _quiet_help(cmd.get_help_option)  # type: ignore[method-assign]
    return command


def _untyped(kind: click.ParamType) -> click.ParamType:
    """A copy of `kind` that shows no type in help (typer < 0.29 prints `<str>` beside an argument's name)."""
    quiet = copy.copy(kind)
    quiet.get_metavar = lambda *args, **kwargs: ""  # type: ignore[method-assign]
    return quiet


def _quiet_help(make: Callable[[click.Context], click.Option | None]) -> Callable[[click.Context], object]:
    def get_help_option(ctx: click.Context) -> click.Option | None:
        option = make(ctx)
        if option is not None:
            option.display_type_rich = _type_column(None)  # type: ignore[attr-defined]
        return option

    return get_help_option


def group_commands() -> None:
    """Put every registered command in its help panel, in the order of `PANELS`."""
    panel_of = {name: panel for panel, names in PANELS.items() for name in names}
    order = {name: i for i, name in enumerate(n for names in PANELS.values() for n in names)}

    def name(info: typer.models.CommandInfo) -> str:
        return info.name or (info.callback.__name__ if info.callback else "")

    for info in app.registered_commands:
        info.rich_help_panel = panel_of.get(name(info), "Other")
    app.registered_commands.sort(key=lambda info: order.get(name(info), 99))
    for group in app.registered_groups:
        group.rich_help_panel = panel_of.get(group.name or "", "Other")
    app.registered_groups.sort(key=lambda group: order.get(group.name or "", 99))  # not in the order imported
