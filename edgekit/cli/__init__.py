"""The ``edgekit`` command line: one verb per job, one module per group of verbs.

Each module in :data:`COMMAND_MODULES` exposes ``register(cli)``, adding its commands to the root
group. User mistakes raise :class:`~edgekit.errors.EdgekitError` and end as one line on stderr with
exit code 2 — no traceback. The group's ``--quiet`` / ``--verbose`` set what the terminal shows
(:mod:`.quiet`) before any command imports TensorFlow.
"""

from __future__ import annotations

import importlib
import sys

import click

from .. import __version__
from ..errors import EdgekitError
from . import quiet

COMMAND_MODULES = (
    "edgekit.cli.data_cmds",
    "edgekit.cli.train_cmds",
    "edgekit.cli.import_cmd",
    "edgekit.cli.export_cmd",
    "edgekit.cli.run_cmd",
    "edgekit.cli.android_cmds",
    "edgekit.cli.distill_cmds",
    "edgekit.cli.convert_cmds",
    "edgekit.cli.predict_cmd",
    "edgekit.cli.bench_cmds",
)


class EdgekitGroup(click.Group):
    """Turns EdgekitError (and a few OS errors that are user mistakes) into one clear line."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except EdgekitError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except FileNotFoundError as exc:
            click.echo(f"error: file not found: {exc.filename or exc}", err=True)
            sys.exit(2)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)


@click.group(cls=EdgekitGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="edgekit")
@click.option("-q", "--quiet", "quiet_", is_flag=True,
              help="Only results, warnings and errors: no progress bars or progress lines.")
@click.option("-v", "--verbose", is_flag=True,
              help="Debug lines, and everything TensorFlow, absl, oneDNN, CUDA and LiteRT print (hidden by default).")
def cli(quiet_: bool, verbose: bool) -> None:
    """edgekit: fine-tune a BERT text classifier, distill small students, convert them to TFLite and
    benchmark them on CPUs, ARM boards and phones.

    \b
    Typical flow:
      edgekit data stats PATH             what is in a data set
      edgekit data split PATH --out DIR   dedupe + stratified train/validation/test split
      edgekit train teacher --data PATH   fine-tune the BERT teacher (best validation F1 kept)
      edgekit run                         the whole pipeline on the embedded default data, offline
    """
    if quiet_ and verbose:
        raise EdgekitError("--quiet and --verbose exclude each other")
    quiet.configure(quiet.Verbosity.QUIET if quiet_ else quiet.Verbosity.VERBOSE if verbose else quiet.Verbosity.NORMAL)


for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(cli)


def main() -> None:
    cli(prog_name="edgekit")
