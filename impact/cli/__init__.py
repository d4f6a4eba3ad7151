"""The `impact` command line: parses arguments, calls the library, prints a renderer's text.

Every command is a module of this package registering itself on `app`; errors are caught once, in `main`.
"""

from __future__ import annotations

import signal
import sys

from impact.cli import branches as _branches  # noqa: F401
from impact.cli import compare as _compare  # noqa: F401
from impact.cli import diff as _diff  # noqa: F401

# Command modules register themselves on `app` when imported.
from impact.cli import estimate as _estimate  # noqa: F401
from impact.cli import eval as _eval  # noqa: F401
from impact.cli import outputs as _outputs  # noqa: F401
from impact.cli import post as _post  # noqa: F401
from impact.cli import pr as _pr  # noqa: F401
from impact.cli import rank as _rank  # noqa: F401
from impact.cli import snapshot as _snapshot  # noqa: F401
from impact.cli import why as _why  # noqa: F401
from impact.cli._app import app
from impact.errors import ImpactError


def error_line(error: ImpactError) -> str:
    """The single line printed for an error: what went wrong, and what to do when there is a tip."""
    text = " ".join(str(error).split())
    return f"impact: error: {text}" + (f" (tip: {error.tip})" if error.tip else "")


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
    try:
        app(args=argv, prog_name="impact", standalone_mode=True)
    except ImpactError as e:
        print(error_line(e), file=sys.stderr)
        return e.exit_code
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BrokenPipeError:
        return 0
    return 0


__all__ = ["app", "error_line", "main"]
