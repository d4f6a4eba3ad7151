"""`impact cache`: what impact's cache holds (the version-2 copies of the shipped snapshots), and emptying it."""

from __future__ import annotations

import typer

from impact import app as service
from impact.cli._app import JsonOption, app, emit

cache_app = typer.Typer(
    help="Show and clean impact's cache: the version-2 copies of the compressed snapshots, one per content.",
    no_args_is_help=True,
)
app.add_typer(cache_app, name="cache")


@cache_app.command("info")
def info(json: JsonOption = False) -> None:
    """Where the cache is, each snapshot copy with its size and the files (of every clone) it stands for."""
    from impact.render.cache import cache_info_json, cache_info_text

    held = service.cache_info()
    emit(cache_info_json(held) if json else cache_info_text(held))


@cache_app.command("clean")
def clean(json: JsonOption = False) -> None:
    """Remove every snapshot copy; impact makes one again when it next reads that snapshot."""
    from impact.render.cache import cache_clean_json, cache_clean_text

    result = service.cache_clean()
    emit(cache_clean_json(result) if json else cache_clean_text(result))
