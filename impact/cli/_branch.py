"""Options shared by the commands that give branch advice (`impact estimate`, `impact compare`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from impact.cli._complete import branch_names

BaseOption = Annotated[
    str | None,
    typer.Option(
        "--base",
        autocompletion=branch_names,
        help="The branch the change is based on, e.g. master, staging, release-19.03 (default: the policy's, master); "
        "answered on that branch's shipped snapshot of the same time when there is one.",
        show_default=False,
    ),
]
SecurityOption = Annotated[
    bool,
    typer.Option(
        "--security", help="The change is a critical security fix (master when not a mass rebuild, else staging-next)."
    ),
]
PolicyOption = Annotated[
    Path | None,
    typer.Option(
        "--policy",
        help="Branch rules as a TOML file (default: nixpkgs' rules shipped with impact; see docs/branch-policy.md).",
        show_default=False,
    ),
]
