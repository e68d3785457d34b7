"""Reading text files whose encoding nobody wrote down (accounting and bank exports).

French and European exports come in UTF-8 (with or without BOM), ISO-8859-1/-15, Windows-1252 and
DOS code page 850. :func:`detect_encoding` tries, in order: a BOM, strict UTF-8, then
charset-normalizer restricted to the single-byte code pages those exports use.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from charset_normalizer import from_bytes

from erp_recovery.errors import ParseError

#: Encodings accepted by ``encoding = "auto"``, in order of preference when several fit.
SINGLE_BYTE_CANDIDATES = ("cp1252", "iso-8859-15", "latin-1", "cp850")

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

#: Bytes read to guess an encoding (enough for several thousand lines of an export).
SAMPLE_BYTES = 1 << 20


def detect_encoding(sample: bytes) -> str:
    """The most likely encoding of ``sample`` among UTF-8 and the usual single-byte code pages."""
    for bom, name in _BOMS:
        if sample.startswith(bom):
            return name
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A sample cut in the middle of a multi-byte character is still UTF-8.
        if exc.start >= len(sample) - 3 and exc.reason == "unexpected end of data":
            return "utf-8"
    best = from_bytes(sample, cp_isolation=list(SINGLE_BYTE_CANDIDATES)).best()
    if best is not None and best.encoding:
        return _normalise(best.encoding)
    return "cp1252"


def _normalise(name: str) -> str:
    aliases = {"iso8859_15": "iso-8859-15", "latin_1": "latin-1", "iso8859_1": "latin-1"}
    return aliases.get(name, name)


def file_encoding(path: Path, declared: str = "auto") -> str:
    """``declared`` if it is a real encoding name, else the encoding detected from the file."""
    if declared != "auto":
        try:
            codecs.lookup(declared)
        except LookupError:
            raise ParseError(f"unknown encoding {declared!r}", file=str(path)) from None
        return declared
    with path.open("rb") as handle:
        return detect_encoding(handle.read(SAMPLE_BYTES))


def read_text(path: Path, encoding: str = "auto") -> str:
    """The whole file as text; a decoding error names the file and the line."""
    data = path.read_bytes()
    name = detect_encoding(data[:SAMPLE_BYTES]) if encoding == "auto" else encoding
    try:
        return data.decode(name)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ParseError(f"not valid {name} text ({exc.reason})", file=str(path), line=line) from None
