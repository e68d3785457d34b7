"""Content fingerprints of files: how file sources recognise a file they already imported."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

#: Bytes read at a time (files can be large bank statements or FECs).
BLOCK = 1 << 20


def update_with_stream(digest: Any, stream: BinaryIO) -> None:
    """Feed a binary stream to a hashlib digest, block by block."""
    for block in iter(lambda: stream.read(BLOCK), b""):
        digest.update(block)


def update_with_file(digest: Any, path: Path, *, with_name: bool = False) -> None:
    """Feed a file's bytes (and, if asked, its name first) to a hashlib digest."""
    if with_name:
        digest.update(path.name.encode())
    with path.open("rb") as handle:
        update_with_stream(digest, handle)


def stream_sha256(opener: Callable[[], BinaryIO]) -> str:
    """SHA-256 (hex) of what ``opener()`` reads (a file, a member of a ZIP archive...)."""
    digest = hashlib.sha256()
    with opener() as stream:
        update_with_stream(digest, stream)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    """SHA-256 (hex) of a file's bytes."""
    return stream_sha256(lambda: path.open("rb"))
