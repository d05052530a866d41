"""User-facing errors: the CLI prints them as one line and exits non-zero, without a traceback."""


class EdgekitError(Exception):
    """A mistake the user can fix (missing file, unknown label, bad checkpoint...)."""


class DataError(EdgekitError):
    """Input data that cannot be read or does not match the expected label set."""


class ModelLoadError(EdgekitError):
    """A checkpoint, preset or model directory that cannot be loaded."""
