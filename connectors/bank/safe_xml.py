"""Safe, streaming XML for bank files (camt.05x, OFX 2.x).

Bank XML never needs a DTD, so any ``<!DOCTYPE`` is refused before parsing starts: that single
rule stops XXE (external entities), billion-laughs (nested internal entities) and DTD retrieval.
The parser is configured defensively as well (``resolve_entities=False``, ``no_network=True``,
``load_dtd=False``, libxml2's default limits on depth and text size: ``huge_tree=False``), and the
file size is bounded by :attr:`~connectors.bank.model.ReadOptions.max_bytes`.

:func:`iterparse` streams the file (lxml ``iterparse``); callers clear elements they are done with
(:func:`release`), so memory stays flat whatever the number of entries.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import BinaryIO

from lxml import etree

from erp_recovery.errors import ParseError

#: The prolog (XML declaration, comments, processing instructions, DOCTYPE) must end within this.
PROLOG_LIMIT = 1 << 16

_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)
_FIRST_ELEMENT = re.compile(rb"<[A-Za-z_]")


def check_prolog(head: bytes, *, file: str) -> None:
    """Refuse a document that declares a DTD or entities (before its first element)."""
    text = head[:PROLOG_LIMIT]
    text = _strip_utf16(text)
    first = _FIRST_ELEMENT.search(text)
    if first is None:
        raise ParseError(
            f"no XML element in the first {PROLOG_LIMIT} bytes (empty, truncated or not XML)", file=file
        )
    prolog = text[: first.start()]
    declaration = _DOCTYPE.search(prolog) or _ENTITY.search(prolog)
    if declaration is not None:
        line = prolog.count(b"\n", 0, declaration.start()) + 1
        raise ParseError(
            "XML with a DOCTYPE/ENTITY declaration is refused (no DTD is allowed in bank files: "
            "this protects against external-entity and entity-expansion attacks)",
            file=file,
            line=line,
        )


def _strip_utf16(text: bytes) -> bytes:
    if text.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(text) > 1 and text[1:2] == b"\x00"):
        try:
            return text.decode("utf-16").encode("utf-8", "replace")
        except UnicodeDecodeError:
            return text.replace(b"\x00", b"")
    return text


def root_tag(head: bytes, *, file: str) -> str:
    """Qualified tag of the root element (``{namespace}Document``), read from the file's head."""
    check_prolog(head, file=file)
    parser = etree.XMLPullParser(
        events=("start",), resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        parser.feed(head[:PROLOG_LIMIT])
        for _event, element in parser.read_events():
            return str(element.tag)
    except etree.XMLSyntaxError as exc:
        line = exc.position[0] if exc.position else None
        raise ParseError(f"not well-formed XML: {_xml_message(exc)}", file=file, line=line) from None
    raise ParseError("no XML root element found", file=file)


class _BoundedReader:
    """A binary stream that raises once more than ``limit`` bytes have been read."""

    def __init__(self, stream: BinaryIO, limit: int, file: str) -> None:
        self._stream = stream
        self._limit = limit
        self._file = file
        self._read = 0

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size if size and size > 0 else 1 << 16)
        self._read += len(data)
        if self._read > self._limit:
            raise ParseError(f"file larger than the {self._limit} bytes allowed", file=self._file)
        return data


def iterparse(
    stream: BinaryIO,
    *,
    file: str,
    tags: Sequence[str] | None,
    events: tuple[str, ...] = ("end",),
    max_bytes: int,
) -> Iterator[tuple[str, etree._Element]]:
    """Stream ``(event, element)`` pairs; XML errors become :class:`ParseError` with the line."""
    reader = _BoundedReader(stream, max_bytes, file)
    parser = etree.iterparse(
        reader,
        events=events,
        tag=tags,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )
    try:
        yield from parser
    except etree.XMLSyntaxError as exc:
        line = exc.position[0] if exc.position else None
        raise ParseError(f"not well-formed XML: {_xml_message(exc)}", file=file, line=line) from None


def _xml_message(exc: etree.XMLSyntaxError) -> str:
    message = str(exc.msg or exc)
    return re.sub(r", line \d+, column \d+$", "", message)


def release(element: etree._Element) -> None:
    """Free a processed element and the already-processed siblings before it."""
    element.clear(keep_tail=False)
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


def local_name(tag: object) -> str:
    """``{urn:...}Ntry`` → ``Ntry``."""
    text = str(tag)
    return text.rsplit("}", 1)[-1]
