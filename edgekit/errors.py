"""User-facing errors: the CLI prints them as one line and exits non-zero, without a traceback."""


def first_line(exc: BaseException, default: str | None = None, limit: int = 300) -> str:
    """The first non-empty line of an exception's message (library errors are often pages long), for a
    one-line error; ``default`` (or the exception's type name) when the message is empty."""
    line = next((ln.strip() for ln in str(exc).splitlines() if ln.strip()), None)
    return (line or default or type(exc).__name__)[:limit]


class EdgekitError(Exception):
    """A mistake the user can fix (missing file, unknown label, bad checkpoint...)."""


class DataError(EdgekitError):
    """Input data that cannot be read or does not match the expected label set."""


class ModelLoadError(EdgekitError):
    """A checkpoint, preset or model directory that cannot be loaded."""
