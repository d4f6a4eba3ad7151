"""The `impact` command line: parses arguments into a request, calls the library, prints a renderer's text.

Every command is a module of this package registering itself on `app`; errors are caught once, in `main`.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

from impact.cli._app import app as _app
from impact.cli._app import group_commands, readable_metavars, styled
from impact.errors import ImpactError

#: Command name → the module that registers it on the app (imported when the command runs, so that a cold
#: `impact estimate` does not import what `impact diff` or `impact compare` need).
COMMANDS = {
    "branches": "branches",
    "compare": "compare",
    "diff": "diff",
    "estimate": "estimate",
    "eval": "eval",
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
    return f"impact: error: {text}" + (f" (tip: {error.tip})" if error.tip else "")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI with `argv` (default: `sys.argv[1:]`) and return the exit code."""
    import typer.main

    from impact.render.text import styled_tables

    args = sys.argv[1:] if argv is None else argv
    try:
        register(args)
        command = readable_metavars(typer.main.get_command(_app))
        with styled_tables(styled()):
            command.main(args=args, prog_name="impact", standalone_mode=True)
    except ImpactError as e:
        print(error_line(e), file=sys.stderr)
        return e.exit_code
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BrokenPipeError:
        return 0
    return 0


__all__ = ["app", "error_line", "main"]
