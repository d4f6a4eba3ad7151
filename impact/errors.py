"""The one error hierarchy of impact: the CLI catches `ImpactError` and prints its text."""

from __future__ import annotations


class ImpactError(Exception):
    """Base of every error impact raises on purpose; its text is what the user reads."""

    #: Exit code the CLI uses for this error.
    exit_code: int = 2
    #: The word after `impact:` on the line the CLI prints.
    kind: str = "error"

    def __init__(self, message: str, *, tip: str | None = None) -> None:
        super().__init__(message)
        self.tip = tip


class InputError(ImpactError):
    """A file given to impact is missing, unreadable or not in the format it claims to be."""


class ConditionMet(ImpactError):
    """A `--fail-on` condition holds: the answer was given in full, and the exit code tells CI to fail."""

    exit_code = 3
    kind = "fail-on"


class UnknownNameError(ImpactError):
    """A name, attribute, derivation or file given on the command line is not in the snapshot."""


class NixError(ImpactError):
    """Running Nix failed; carries the command and what Nix printed."""

    #: True when Nix died of a signal that is no fault of the input (a segfault): worth one more try.
    crashed: bool = False
    #: True when impact stopped Nix at one of its limits (time, memory, store growth): never a job's own error.
    limit: bool = False

    def __init__(self, command: list[str], stderr: str, message: str | None = None) -> None:
        text = (
            message
            or f"{' '.join(command[:3])} … failed: {stderr.strip().splitlines()[-1] if stderr.strip() else 'no output'}"
        )
        super().__init__(text)
        self.command = command
        self.stderr = stderr
