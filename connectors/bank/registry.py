"""Which reader reads a file: ``identify(path)`` and ``extract(path)`` over every bank format.

Formats are recognised from the first 64 KiB of the file, never from its name: ZIP (magic
number), camt (ISO 20022 namespace or message root), OFX (``OFXHEADER`` or ``<OFX>``),
MT940/MT942 (a ``:20:`` tag at a line start) and CFONB 120 (a ``01`` record). A file that none
of them recognises is refused with what it looked like.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from erp_recovery.errors import ParseError

from . import archive, camt, cfonb120, mt940, ofx
from .model import BankFile, FileEvent, InputFile, ReadOptions, collect

#: Readers in the order they are tried (the most specific signature first).
READERS: dict[str, ModuleType] = {
    "zip": archive,
    "camt": camt,
    "ofx": ofx,
    "mt940": mt940,
    "cfonb120": cfonb120,
}
HEAD_BYTES = 1 << 16


def identify_input(infile: InputFile) -> str | None:
    """Name of the format of ``infile`` (``camt``, ``mt940``, ``ofx``, ``cfonb120``, ``zip``)."""
    head = infile.head(HEAD_BYTES)
    for name, reader in READERS.items():
        if reader.identify_head(head):
            return name
    return None


def identify(path: Path) -> str | None:
    """Name of the bank format of the file at ``path``, or ``None``."""
    return identify_input(InputFile.from_path(path))


def _unknown(infile: InputFile) -> ParseError:
    head = infile.head(HEAD_BYTES)
    text = head.lstrip()
    if not text:
        reason = "the file is empty"
    elif text.startswith(b"<") or text.startswith(b"\xef\xbb\xbf<"):
        reason = "XML, but not an ISO 20022 camt.052/053/054 statement nor OFX"
    elif text[:2] in (b"31", b"03") and len(text.split(b"\n", 1)[0].rstrip()) >= 160:
        reason = "a CFONB 160/240 record layout (a remittance or transfer file, not an account statement)"
    elif re.search(rb"(^|\n):(6[01][FM]?|86|25|62[FM]):", head):
        reason = "SWIFT MT940 tags without a complete statement (no :20: reference or no :25: account)"
    elif b"\x00" in head[:4096]:
        reason = "binary content (or UTF-16 text without byte-order mark)"
    else:
        reason = "no signature of camt, MT940/MT942, OFX, CFONB 120 or ZIP"
    return ParseError(f"not a bank statement file erp-recovery can read: {reason}", file=infile.name, line=1)


def read_input(infile: InputFile, options: ReadOptions | None = None) -> Iterator[FileEvent]:
    """Events (transactions, then each statement's summary) of any supported file."""
    name = identify_input(infile)
    if name is None:
        raise _unknown(infile)
    reader = READERS[name]
    return reader.read(infile, options or ReadOptions())


def extract(path: Path, options: ReadOptions | None = None) -> Iterator[FileEvent]:
    """Events of the bank file at ``path``, streamed."""
    if not path.is_file():
        raise ParseError("no such file", file=str(path))
    return read_input(InputFile.from_path(path), options)


def read_file(path: Path, options: ReadOptions | None = None) -> BankFile:
    """The whole file in memory (statements with their transactions): for tests and small files."""
    infile = InputFile.from_path(path)
    events = list(read_input(infile, options))
    formats = {
        event.format for event in events if hasattr(event, "format") and not hasattr(event, "external_id")
    }
    return collect(infile.name, "/".join(sorted(formats)) or (identify_input(infile) or "unknown"), events)
