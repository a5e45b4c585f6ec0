"""The ``fairx`` command line: a thin layer over the Python API.

Each area adds its commands in its own module (``register(app)``); heavy imports happen inside
the commands, so ``fairx --help`` stays fast.
"""

from __future__ import annotations

import logging

import typer

from .._version import __version__
from ..progress import set_verbosity
from . import _benchmark, _datasets, _doctor, _evaluate, _images, _latent, _models

app = typer.Typer(
    name="fairx",
    help="Fairness benchmarking and fair synthetic data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: flags show no "<bool>" type, choices show as a|b|c
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"fairx {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress details."),
    quiet: bool = typer.Option(False, "--quiet", "-q",
                               help="No progress bars (they are also off when stdout is not a "
                                    "terminal)."),
) -> None:

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    set_verbosity(False if quiet else None)


for _module in (_datasets, _evaluate, _models, _latent, _benchmark, _images, _doctor):
    _module.register(app)


def main() -> None:
    app()
