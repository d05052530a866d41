"""The ``edgekit`` command line: one verb per job, one module per group of verbs.

Each module in :data:`COMMAND_MODULES` exposes ``register(cli)``, adding its commands to the root
group. User mistakes raise :class:`~edgekit.errors.EdgekitError` and end as one line on stderr with
exit code 2 — no traceback; anything else is a bug and ends as one ``internal error`` line with exit
code 1. ``--debug`` (or ``EDGEKIT_DEBUG=1``) prints the traceback behind either line. The group's
``--quiet`` / ``--verbose`` set what the terminal shows (:mod:`.quiet`) before any command imports
TensorFlow.
"""

from __future__ import annotations

import importlib
import sys
import traceback

import click

from .. import __version__
from ..errors import EdgekitError, first_line
from . import quiet

COMMAND_MODULES = (
    "edgekit.cli.data_cmds",
    "edgekit.cli.train_cmds",
    "edgekit.cli.import_cmd",
    "edgekit.cli.export_cmd",
    "edgekit.cli.run_cmd",
    "edgekit.cli.android_cmds",
    "edgekit.cli.distill_cmds",
    "edgekit.cli.prune_cmd",
    "edgekit.cli.qat_cmd",
    "edgekit.cli.convert_cmds",
    "edgekit.cli.predict_cmd",
    "edgekit.cli.bench_cmds",
)


class EdgekitGroup(click.Group):
    """Ends every failure as one line on stderr: ``error: ...`` and exit code 2 for user mistakes
    (EdgekitError, click's usage errors, and the OS errors a user's paths cause), ``error: internal
    error: ...`` and exit code 1 for anything else; with ``--debug`` the traceback follows the line."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:  # a bad option or argument: click's message, on one line
            where = exc.ctx.command_path if exc.ctx is not None else "edgekit"
            _fail(ctx, exc, f"{exc.format_message()} (see '{where} --help')", 2)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise  # click's other errors and exits
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except EdgekitError as exc:
            _fail(ctx, exc, str(exc), 2)
        except FileNotFoundError as exc:
            _fail(ctx, exc, f"file not found: {exc.filename or exc}", 2)
        except OSError as exc:  # permission denied, disk full, ... on a path the user gave
            where = f": {exc.filename}" if exc.filename else ""
            _fail(ctx, exc, f"{exc.strerror or first_line(exc)}{where}", 2)
        except Exception as exc:  # a bug: one line, the traceback only on request
            message = first_line(exc, default="") if str(exc).strip() else ""
            hint = "" if ctx.params.get("debug") else " (run with --debug for the traceback)"
            _fail(ctx, exc, f"internal error: {type(exc).__name__}{': ' + message if message else ''}{hint}", 1)


def _fail(ctx: click.Context, exc: BaseException, line: str, code: int) -> None:
    """``error: LINE`` on stderr, with --debug the traceback behind it (the library error an
    EdgekitError was raised ``from None`` over included), and exit ``code``."""
    click.echo(f"error: {line}", err=True)
    if ctx.params.get("debug"):
        exc.__suppress_context__ = False
        click.echo("".join(traceback.format_exception(exc)).rstrip("\n"), err=True)
    sys.exit(code)


@click.group(cls=EdgekitGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="edgekit")
@click.option("-q", "--quiet", "quiet_", is_flag=True,
              help="Only results, warnings and errors: no progress bars or progress lines.")
@click.option("-v", "--verbose", is_flag=True,
              help="Debug lines, and everything TensorFlow, absl, oneDNN, CUDA and LiteRT print (hidden by default).")
@click.option("--debug", is_flag=True, envvar="EDGEKIT_DEBUG",
              help="After an error's one line, print the traceback behind it (also EDGEKIT_DEBUG=1).")
def cli(quiet_: bool, verbose: bool, debug: bool) -> None:
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
