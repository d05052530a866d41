"""A data file's bytes as text, or one clear error: the encoding checks every loader shares.

* an unknown (or non-text) encoding name, a missing or unreadable file: a :class:`DataError`;
* bytes that are not valid in the encoding: a :class:`DataError` naming the line and byte offset and
  the ``--encoding`` to try;
* a UTF-8 byte-order mark is dropped when reading UTF-8 (as ``utf-8-sig`` does); a UTF-16/32 one, or
  NUL characters, in a file read with another encoding are an error (binary or UTF-16 text);
* mojibake: a file read with another encoding (FPB's latin-1 default) whose bytes are valid UTF-8
  that reads differently is almost surely UTF-8, every accented letter coming out as two garbled
  ones ('é' as 'Ã©'): loaded as asked, with one warning naming ``--encoding utf-8``.
"""

from __future__ import annotations

import codecs
import logging
from pathlib import Path

from ..errors import DataError

logger = logging.getLogger(__name__)

_UTF8 = ("utf-8", "utf-8-sig")
_WIDE_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
              (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def codec_name(encoding: str) -> str:
    """The codec's canonical name (``utf8`` → ``utf-8``, ``latin1`` → ``iso8859-1``); an unknown or
    non-text codec (``rot13``, ``base64``) is a DataError."""
    try:
        info = codecs.lookup(encoding)
    except (LookupError, ValueError, TypeError):
        info = None
    if info is None or not getattr(info, "_is_text_encoding", True):  # the flag str.encode checks
        raise DataError(f"unknown text encoding {encoding!r}; use e.g. utf-8, latin-1, cp1252 or utf-16")
    return info.name


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"data file not found: {path}") from None
    except IsADirectoryError:
        raise DataError(f"expected a file, got a directory: {path}") from None
    except PermissionError:
        raise DataError(f"cannot read {path}: permission denied") from None
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None


def read_text(path: str | Path, encoding: str) -> str:
    """The decoded text of ``path`` (see the module doc for what is checked)."""
    path = Path(path)
    codec = codec_name(encoding)
    data = read_bytes(path)
    offset = 0
    if codec in _UTF8 and data.startswith(codecs.BOM_UTF8):
        data, offset = data[len(codecs.BOM_UTF8):], len(codecs.BOM_UTF8)
    if not codec.startswith(("utf-16", "utf-32")):
        for bom, wide in _WIDE_BOMS:
            if data.startswith(bom):
                raise DataError(f"{path} starts with a {wide.upper()} byte-order mark; pass --encoding {wide}")
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        raise DataError(_not_in_encoding(path, data, exc, encoding, offset)) from None
    except UnicodeError as exc:  # codecs that fail without a position (idna, undefined)
        raise DataError(f"{path}: cannot decode as {encoding} ({exc}); pass --encoding utf-8 or latin-1") from None
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        raise DataError(f"{path}:{line}: NUL character: not a text file, or UTF-16/32 text (pass --encoding utf-16)")
    if codec not in _UTF8:
        _warn_if_utf8(path, data, text, encoding)
    return text


def _not_in_encoding(path: Path, data: bytes, exc: UnicodeDecodeError, encoding: str, offset: int) -> str:
    line = data.count(b"\n", 0, exc.start) + 1
    hint = "utf-8" if codec_name(encoding) not in _UTF8 and _is_utf8(data) else "latin-1"
    byte = data[exc.start:exc.start + 1]
    return (f"{path}:{line}: byte 0x{byte.hex() or '??'} at offset {exc.start + offset} is not valid {encoding}; "
            f"pass --encoding {hint} (or the file's encoding)")


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _warn_if_utf8(path: Path, data: bytes, text: str, encoding: str) -> None:
    """One warning when ``data`` is valid UTF-8 that reads differently (an ASCII file read as latin-1
    reads the same; UTF-8 accents or an ASCII file read as UTF-16 do not)."""
    try:
        meant = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return
    if meant == text:
        return
    at = next((i for i, (a, b) in enumerate(zip(text, meant)) if a != b), min(len(text), len(meant)))
    start = max(text.rfind(" ", 0, at) + 1, text.rfind("\n", 0, at) + 1, at - 15)  # same prefix in both
    line = text.count("\n", 0, at) + 1
    logger.warning(f"warning: {path} looks like UTF-8 read as {encoding}: its text comes out garbled (line {line}: "
                   f"{_word(text, start)!r} is {_word(meant, start)!r} in UTF-8); pass --encoding utf-8")


def _word(text: str, start: int, limit: int = 24) -> str:
    return (text[start:start + limit].split() or [""])[0]
