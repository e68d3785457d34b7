"""ZIP archives of bank statement files (banks and OCA-style exports ship several files in one ZIP).

Every member that is a file is read with the reader of its own format, in name order; members
are streamed from the archive, never extracted to disk. Defences: a member larger than
:attr:`~.model.ReadOptions.max_bytes` once uncompressed, or compressed more than
:data:`MAX_RATIO` times (a ZIP bomb), is refused; archives inside archives are refused.
Directory entries and macOS metadata (``__MACOSX/``, ``._*``) are skipped.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator
from pathlib import PurePosixPath
from typing import IO, BinaryIO

from erp_recovery.errors import ParseError

from .model import FileEvent, InputFile, ReadOptions

NAME = "zip"
#: Uncompressed/compressed size ratio above which a member is treated as a ZIP bomb.
MAX_RATIO = 200
_MAGIC = b"PK\x03\x04"


def identify_head(head: bytes) -> bool:
    return head.startswith(_MAGIC)


class _MemberStream(io.BufferedIOBase):
    """A member's stream that also closes the archive it was opened from."""

    def __init__(self, archive: zipfile.ZipFile, stream: IO[bytes]) -> None:
        super().__init__()
        self._archive = archive
        self._stream = stream

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        return self._stream.read(-1 if size is None else size)

    def read1(self, size: int = -1) -> bytes:
        return self._stream.read(size if size and size > 0 else 1 << 16)

    def close(self) -> None:
        if not self.closed:
            self._stream.close()
            self._archive.close()
        super().close()


def _member_opener(opener: Callable[[], BinaryIO], member: str) -> Callable[[], BinaryIO]:
    def open_member() -> BinaryIO:
        archive = zipfile.ZipFile(opener())
        return _MemberStream(archive, archive.open(member))  # type: ignore[return-value]

    return open_member


def members(infile: InputFile, options: ReadOptions) -> list[InputFile]:
    """The statement files inside the archive, checked against size limits."""
    try:
        with infile.opener() as raw, zipfile.ZipFile(raw) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise ParseError(
            f"not a readable ZIP archive ({exc}); truncated download?", file=infile.name
        ) from None
    result = []
    for info in sorted(infos, key=lambda item: item.filename):
        path = PurePosixPath(info.filename)
        if info.is_dir() or "__MACOSX" in path.parts or path.name.startswith("."):
            continue
        where = f"{infile.name}!{info.filename}"
        if info.file_size > options.max_bytes:
            raise ParseError(
                f"member of {info.file_size} bytes, more than the {options.max_bytes} allowed", file=where
            )
        if (
            info.compress_size
            and info.file_size > MAX_RATIO * info.compress_size
            and info.file_size > 1 << 20
        ):
            raise ParseError(
                f"member compressed {info.file_size // max(info.compress_size, 1)} times: refused as a ZIP bomb",
                file=where,
            )
        result.append(
            InputFile(name=where, opener=_member_opener(infile.opener, info.filename), size=info.file_size)
        )
    if not result:
        raise ParseError("ZIP archive without any file", file=infile.name)
    return result


def read(infile: InputFile, options: ReadOptions | None = None) -> Iterator[FileEvent]:
    """Events of every statement file in the archive, member after member."""
    from .registry import read_input  # the registry dispatches each member to its format

    options = options or ReadOptions()
    for member in members(infile, options):
        if identify_head(member.head(4)):
            raise ParseError("archives inside archives are not read", file=member.name)
        yield from read_input(member, options)
