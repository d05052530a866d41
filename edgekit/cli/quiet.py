"""What the terminal shows besides edgekit's own lines: one place, set before TensorFlow is imported.

TensorFlow, absl, oneDNN, CUDA and LiteRT write start-up and progress chatter that edgekit cannot
turn off at its source (docs/toolchain.md §6). :func:`configure` runs once per command, from the CLI
group, before any command imports TensorFlow, and sets for this process and every child it starts:

* the environment (``TF_CPP_MIN_LOG_LEVEL``; ``TQDM_DISABLE`` under ``--quiet``), inherited by the
  runner and Keras-baseline subprocesses;
* Python ``warnings`` filters: library warnings and deprecation warnings hidden;
* Python ``logging``: edgekit's logger at INFO (``--quiet``: WARNING, ``--verbose``: DEBUG), written
  between progress bars; TensorFlow's and absl's loggers at ERROR;
* a filter on the process's native stderr (file descriptor 2), where the C++ libraries write: the
  known chatter is dropped line by line, everything else passes. Python's own ``sys.stderr`` (edgekit's
  messages, progress bars, tracebacks) is moved to a copy of the original descriptor and bypasses it.

``--verbose`` changes none of the library settings: every library line is shown as the library wrote
it, plus edgekit's debug messages.

Run as a script (``python -I -S quiet.py``, standard library only) this file is that filter: stdin is
the pipe the CLI process and its children write native stderr to, stdout the original stderr. A
separate process, so nothing is lost when the CLI process dies in native code: the filter drains the
pipe until every writer has exited.
"""

from __future__ import annotations

import enum
import logging
import os
import re
import sys
import warnings

# Whole lines (without their newline) that the native filter drops.
NATIVE_NOISE = re.compile(
    rb"WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    # absl/glog-format info, warning and error lines from TensorFlow, XLA, oneDNN and CUDA stubs,
    # e.g. "I0000 00:00:1795926787.520549    4563 port.cc:153] oneDNN custom operations are on. ..."
    # (fatal "F..." lines pass).
    rb"|[IWE]\d{4} [\d:.]+\s+\d+ [\w.+-]+:\d+\] .*"
    # Ray's C++ info and warning lines (--executor ray), e.g. "[2026-11-29 11:38:21,240 W 447 447]
    # network_util.cc:330: Failed to determine local IP via external connectivity ..." (errors pass)
    rb"|\[\d{4}-\d\d-\d\d [\d:,]+ [IW] \d+ \d+\] [\w.+-]+:\d+: .*"
    # the second line of TensorFlow's CPU-feature notice (shown when TF_CPP_MIN_LOG_LEVEL is 0)
    rb"|To enable the following instructions: .*, in other operations, rebuild TensorFlow with the appropriate "
    rb"compiler flags\."
    # LiteRT's minimal logger at INFO, e.g. "INFO: Created TensorFlow Lite XNNPACK delegate for CPU."
    rb"|INFO: .*"
    # printed by TensorFlow's MLIR quantizer for every integer quantization
    rb"|fully_quantize: \d+, inference_type: \d+, input_inference_type: \w+, output_inference_type: \w+"
)

# Libraries whose Python warnings are theirs to fix, not the user's (e.g. tf.lite.Interpreter's
# deprecation warning, raised inside TensorFlow's own calibrator during full-integer conversion).
LIBRARY_MODULES = (r"(tensorflow|tf_keras|keras|keras_hub|tensorflow_text|tensorflow_lite_support|ai_edge_litert|absl)"
                   r"(\.|$)")
LIBRARY_LOGGERS = ("tensorflow", "absl")

LOGGER = "edgekit"


class Verbosity(enum.IntEnum):
    QUIET = 0
    NORMAL = 1
    VERBOSE = 2


def configure(verbosity: Verbosity) -> None:
    """Environment, warnings, logging and the native stderr filter for one command (idempotent)."""
    _environment(verbosity)
    _warnings(verbosity)
    _logging(verbosity)
    if verbosity == Verbosity.VERBOSE:
        logging.getLogger(LOGGER).debug("verbose: library output unfiltered (TF_CPP_MIN_LOG_LEVEL=%s)",
                                        os.environ.get("TF_CPP_MIN_LOG_LEVEL", "unset"))
    else:
        filter_native_stderr()


def _environment(verbosity: Verbosity) -> None:
    if verbosity < Verbosity.VERBOSE:
        # Hides TensorFlow's C++ info and warning lines logged after start-up (the start-up lines
        # themselves ignore it: the native filter drops those).
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if verbosity == Verbosity.QUIET:
        os.environ["TQDM_DISABLE"] = "1"  # read by tqdm at import, here and in child processes


def _warnings(verbosity: Verbosity) -> None:
    if sys.warnoptions:  # the user's -W / PYTHONWARNINGS win
        return
    if verbosity == Verbosity.VERBOSE:
        warnings.simplefilter("default")
        return
    for category in (DeprecationWarning, PendingDeprecationWarning, FutureWarning):
        warnings.filterwarnings("ignore", category=category)
    warnings.filterwarnings("ignore", module=LIBRARY_MODULES)


class _EchoHandler(logging.Handler):
    """Writes to the current ``sys.stderr`` at emit time (click's test runner swaps it per call),
    clearing and redrawing any tqdm bar around the line."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            tqdm = sys.modules.get("tqdm")
            if tqdm is None:
                print(line, file=sys.stderr, flush=True)
                return
            with tqdm.tqdm.external_write_mode(file=sys.stderr):
                print(line, file=sys.stderr, flush=True)
        except Exception:  # noqa: BLE001 — logging must never raise into the caller
            self.handleError(record)


def _logging(verbosity: Verbosity) -> None:
    logger = logging.getLogger(LOGGER)
    logger.setLevel({Verbosity.QUIET: logging.WARNING, Verbosity.NORMAL: logging.INFO,
                     Verbosity.VERBOSE: logging.DEBUG}[verbosity])
    for handler in [h for h in logger.handlers if isinstance(h, _EchoHandler)]:
        logger.removeHandler(handler)
    handler = _EchoHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    # edgekit's lines are written here only: absl gives the root logger a handler the first time
    # TensorFlow logs through it (logging.basicConfig), which would print each of them a second time
    logger.propagate = False
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET if verbosity == Verbosity.VERBOSE else logging.ERROR)


def _fileno(stream) -> int | None:
    try:
        return stream.fileno()
    except (AttributeError, OSError, ValueError):
        return None


def filter_native_stderr() -> None:
    """Send file descriptor 2 through the filter process; Python's ``sys.stderr`` keeps the original.

    Only when Python's stderr is this process's descriptor 2 — a console run, not click's test runner
    or pytest's capture — and only once (afterwards ``sys.stderr`` is the copy).
    """
    import subprocess

    if os.name != "posix" or _fileno(sys.stderr) != 2:
        return
    sys.stderr.flush()
    original = os.dup(2)  # not inheritable (PEP 446): children get the filtered descriptor 2
    filt = subprocess.Popen([sys.executable, "-I", "-S", os.path.abspath(__file__)],
                            stdin=subprocess.PIPE, stdout=original, stderr=original)
    assert filt.stdin is not None
    os.dup2(filt.stdin.fileno(), 2)
    filt.stdin.close()  # fd 2 (and children's copies) are the only writers left: EOF when they exit
    sys.stderr = os.fdopen(original, "w", buffering=1, encoding=sys.stderr.encoding,
                           errors=sys.stderr.errors)


# ---------------------------------------------------------------------------------- the filter process
_PARTIAL_WAIT_S = 0.05  # a line without its newline yet (a prompt, a child's progress bar) waits this long


def _forward(src: int, dst: int) -> None:
    """Copy ``src`` to ``dst`` line by line until EOF, dropping :data:`NATIVE_NOISE` lines."""
    import select

    pending = b""
    while True:
        if pending and not select.select([src], [], [], _PARTIAL_WAIT_S)[0]:
            os.write(dst, pending)
            pending = b""
        chunk = os.read(src, 65536)
        if not chunk:
            break
        *lines, pending = re.split(rb"(?<=[\n\r])", pending + chunk)
        kept = b"".join(ln for ln in lines if not NATIVE_NOISE.fullmatch(ln.rstrip(b"\r\n")))
        if kept:
            os.write(dst, kept)
    if pending and not NATIVE_NOISE.fullmatch(pending):
        os.write(dst, pending)


if __name__ == "__main__":
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the CLI; the filter drains and ends at EOF
    _forward(sys.stdin.fileno(), sys.stdout.fileno())
