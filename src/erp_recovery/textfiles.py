"""Reading text files whose encoding nobody wrote down (accounting exports, bank statements).

French and European exports come in UTF-8 (with or without BOM), ISO-8859-1/-15, Windows-1252 and
DOS code page 850; a declared charset (OFX ``CHARSET:1252``) is often wrong. Rules, in order:

1. a byte-order mark wins (UTF-8, UTF-16 LE/BE);
2. bytes that decode as strict UTF-8 are UTF-8 (single-byte text almost never is valid UTF-8
   once it holds a non-ASCII character); the whole file is scanned for it (in C, fast), so a file
   that is ASCII for 10 MB and then has one Latin-1 byte is not declared UTF-8;
3. otherwise the single-byte code pages seen in European bank and accounting exports are scored:
   Windows-1252 (ISO-8859-1 when no byte 0x80-0x9F occurs: the two then decode identically) and
   DOS code page 850 (also right for the Hungarian CP852 text of real MT940 files for the letters
   á é í ó ö ü they share).

The score of a decoding looks at every non-ASCII character it produces: a letter counts for it,
unless it is an upper-case letter glued to a lower-case ASCII letter (``RÚglement``: the tell-tale
of CP1252 bytes read as CP850 and the other way round); control characters and unassigned code
points count heavily against; symbols count against, except the few that real statements use
(``€``, ``°``, ``«``, ``»``, no-break space...). The best score wins; CP1252 wins a tie.

This is the one detector of the project: the tabular mappings (``encoding = "auto"``), the FEC
reader and the bank readers all use it.
"""

from __future__ import annotations

import codecs
import io
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from erp_recovery.errors import ParseError

#: Chunk size used to scan a file.
CHUNK_BYTES = 1 << 20
#: How many bytes of non-ASCII context are scored to choose a single-byte code page.
SAMPLE_BYTES = 1 << 20

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

#: Non-letter characters that real bank texts contain in the single-byte code pages.
_USUAL_SYMBOLS = frozenset("\xa0€£°«»’‘“”–—…§·×ºª")


def _score(text: str) -> int:
    score = 0
    length = len(text)
    for index, char in enumerate(text):
        if char < "\x80":
            continue
        category = unicodedata.category(char)
        if category[0] == "L":
            before = text[index - 1] if index > 0 else ""
            after = text[index + 1] if index + 1 < length else ""
            glued_to_lower = (before.isascii() and before.islower()) or (after.isascii() and after.islower())
            score += -2 if char.isupper() and glued_to_lower else 2
        elif category in ("Cc", "Cn", "Co"):
            score -= 5
        elif char not in _USUAL_SYMBOLS:
            score -= 1
    return score


def _single_byte_candidates(sample: bytes) -> list[str]:
    has_c1 = any(0x80 <= byte <= 0x9F for byte in sample)
    return ["cp1252" if has_c1 else "latin-1", "cp850"]


def choose_single_byte(sample: bytes) -> str:
    """The most plausible single-byte code page for ``sample`` (which is not valid UTF-8)."""
    best_name, best_score = "cp1252", None
    for name in _single_byte_candidates(sample):
        try:
            text = sample.decode(name)
        except UnicodeDecodeError:
            continue
        score = _score(text)
        if best_score is None or score > best_score:
            best_name, best_score = name, score
    if best_score is None:
        # cp1252 leaves five bytes undefined; latin-1 decodes everything.
        return "latin-1"
    return best_name


def detect_encoding(opener: Callable[[], BinaryIO]) -> str:
    """Encoding of the stream ``opener()`` returns, scanning it whole in chunks (see module doc)."""
    with opener() as stream:
        head = stream.read(CHUNK_BYTES)
        for bom, name in _BOMS:
            if head.startswith(bom):
                return name
        decoder = codecs.getincrementaldecoder("utf-8")()
        utf8 = True
        sample = bytearray()
        chunk = head
        while chunk:
            if not chunk.isascii():
                if len(sample) < SAMPLE_BYTES:
                    sample += _around_non_ascii(chunk, SAMPLE_BYTES - len(sample))
                if utf8:
                    try:
                        decoder.decode(chunk)
                    except UnicodeDecodeError:
                        utf8 = False
            elif utf8:
                decoder.decode(chunk)
            if not utf8 and len(sample) >= SAMPLE_BYTES:
                break
            chunk = stream.read(CHUNK_BYTES)
        if utf8:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                utf8 = False
        if utf8:
            return "utf-8"
        return choose_single_byte(bytes(sample))


def _around_non_ascii(chunk: bytes, budget: int) -> bytes:
    """Lines of ``chunk`` that hold non-ASCII bytes (context for scoring), at most ``budget`` bytes."""
    picked = bytearray()
    for line in chunk.split(b"\n"):
        if not line.isascii():
            picked += line + b"\n"
            if len(picked) >= budget:
                break
    return bytes(picked[:budget])


def decode_bytes(data: bytes, *, file: str | None = None) -> tuple[str, str]:
    """Decode a small in-memory file: (text, encoding name). Errors name the file and line."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return _decode(data, name, file), name
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        name = choose_single_byte(data[: SAMPLE_BYTES * 4])
        return _decode(data, name, file), name


def _decode(data: bytes, name: str, file: str | None) -> str:
    try:
        return data.decode(name)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ParseError(f"not valid {name} text ({exc.reason})", file=file, line=line) from None


def text_lines(opener: Callable[[], BinaryIO], *, file: str) -> tuple[str, Iterator[tuple[int, str]]]:
    """(encoding, iterator of (line number, line without its end)) for a text file, streamed.

    Lines end at LF, CRLF or CR. A decoding error (possible only when the detection sample did
    not show the offending bytes) is a :class:`ParseError` naming the file and line.
    """
    encoding = detect_encoding(opener)

    def lines() -> Iterator[tuple[int, str]]:
        number = 0
        with opener() as raw, io.TextIOWrapper(raw, encoding=encoding, newline=None) as text:
            try:
                for number, line in enumerate(text, start=1):
                    yield number, line.rstrip("\n")
            except UnicodeDecodeError as exc:
                raise ParseError(
                    f"not valid {encoding} text ({exc.reason})", file=file, line=number + 1
                ) from None

    return encoding, lines()


def detect_file_encoding(path: Path) -> str:
    """Encoding of the file at ``path`` (see the module docstring)."""
    return detect_encoding(lambda: path.open("rb"))


def file_encoding(path: Path, declared: str = "auto") -> str:
    """``declared`` if it is a real encoding name, else the encoding detected from the file."""
    if declared != "auto":
        try:
            codecs.lookup(declared)
        except LookupError:
            raise ParseError(f"unknown encoding {declared!r}", file=str(path)) from None
        return declared
    return detect_file_encoding(path)
