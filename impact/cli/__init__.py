"""The `impact` command line: parses arguments into a request, calls the library, prints a renderer's text.

Every command is a module of this package registering itself on `app`; errors are caught once, in `main`.
"""

from __future__ import annotations

import importlib
import signal
import sys
from typing import TYPE_CHECKING, Any

from impact.cli._app import app as _app
from impact.cli._app import group_commands, readable_metavars, styled
from impact.errors import ImpactError

if TYPE_CHECKING:
    import click

#: Command name → the module that registers it on the app (imported when the command runs, so that a cold
#: `impact estimate` does not import what `impact diff` or `impact compare` need).
COMMANDS = {
    "branches": "branches",
    "cache": "cache",
    "compare": "compare",
    "diff": "diff",
    "estimate": "estimate",
    "eval": "eval",
    "hydra-compare": "hydra_compare",
    "outputs": "outputs",
    "post": "post",
    "pr": "pr",
    "rank": "rank",
    "snapshot": "snapshot",
    "why": "why",
}


def register(argv: list[str] | None = None) -> None:
    """Import the command modules (each registers itself on the app): the one `argv` names, else all of them."""
    first = next((a for a in argv or () if not a.startswith("-")), None)
    for module in [COMMANDS[first]] if first in COMMANDS else dict.fromkeys(COMMANDS.values()):
        importlib.import_module(f"impact.cli.{module}")
    group_commands()


def __getattr__(name: str) -> Any:
    if name == "app":
        register()
        return _app
    raise AttributeError(name)


def error_line(error: ImpactError) -> str:
    """The single line printed for an error: what went wrong, and what to do when there is a tip."""
    text = " ".join(str(error).split())
    return f"impact: {error.kind}: {text}" + (f" (tip: {error.tip})" if error.tip else "")


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _exit_cleanly_on_sigterm() -> None:
    """Turn SIGTERM (a CI timeout, `kill`) into SystemExit, so temporary files are removed on the way out."""
    try:
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _terminated)
    except ValueError:  # not the main thread
        pass


def main(argv: list[str] | None = None) -> int:
    """Run the CLI with `argv` (default: `sys.argv[1:]`) and return the exit code."""
    _exit_cleanly_on_sigterm()
    import typer
    import typer.main

    from impact.render.text import styled_tables

    click = _click()
    args = sys.argv[1:] if argv is None else argv
    try:
        register(args)
        command = readable_metavars(typer.main.get_command(_app))
        with styled_tables(styled()):
            code = command.main(args=args, prog_name="impact", standalone_mode=False)
    except ImpactError as e:
        print(error_line(e), file=sys.stderr)
        return e.exit_code
    except click.exceptions.NoArgsIsHelpError:  # a command group alone: its help is shown
        return 2
    except click.ClickException as e:  # a usage error: an unknown option, a missing or bad value
        print(usage_error_line(e), file=sys.stderr)
        return 2
    except typer.Abort:  # Ctrl-C or end of input at a prompt
        return 130
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BrokenPipeError:
        return 0
    return code if isinstance(code, int) else 0


def _click() -> Any:
    """The click that typer runs on: its vendored copy (typer ≥ 0.20), else the click package."""
    try:
        from typer import _click as vendored  # type: ignore[attr-defined]

        return vendored
    except ImportError:
        import click

        return click


def usage_error_line(error: click.ClickException) -> str:
    """A usage error as one line, with the help command to run (click would print a boxed usage block)."""
    text = " ".join(error.format_message().split())
    ctx = getattr(error, "ctx", None)
    where = ctx.command_path if ctx is not None else "impact"
    return f"impact: error: {text} (tip: run '{where} --help')"


__all__ = ["app", "error_line", "main"]
