"""Zip downloads of a selection: streamed in chunks, never the whole archive in memory."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from generation import storage
from generation.models import Image

ZIP_CHUNK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ZipEntry:
    name: str
    key: str
    size: int
    created_at: datetime


def zip_entries(images: Sequence[Image]) -> list[ZipEntry]:
    """Each image's original under its real file name (``download_name``),
    made unique within the archive."""
    taken: set[str] = set()
    entries = []
    for image in images:
        name = storage.download_name(image.job, image.index, image.extension)
        stem, dot, extension = name.rpartition(".")
        counter = 2
        while name in taken:
            name = f"{stem}-{counter}{dot}{extension}"
            counter += 1
        taken.add(name)
        entries.append(ZipEntry(name, image.original_key, image.bytes, image.created_at))
    return entries


def zip_filename(count: int, now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    return f"darkroom-{count}-image{'s' if count != 1 else ''}-{stamp}.zip"


class _Sink(io.RawIOBase):
    """An unseekable file that collects what ``zipfile`` writes until drained,
    so the archive streams out in chunks instead of being built in memory."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.chunks.append(chunk)
        self.size += len(chunk)
        return len(chunk)

    def drain(self) -> bytes:
        data = b"".join(self.chunks)
        self.chunks, self.size = [], 0
        return data


def zip_chunks(entries: Sequence[ZipEntry]) -> Generator[bytes]:
    """A zip of the entries' files, read from storage and yielded in chunks of
    about ``ZIP_CHUNK_BYTES``. Stored, not deflated: images are compressed
    already. A file missing from storage is left out and named in MISSING.txt."""
    sink = _Sink()
    missing: list[str] = []
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as archive:
        for entry in entries:
            try:
                handle = storage.open_file(entry.key).handle
                first = handle.read(ZIP_CHUNK_BYTES)
            except FileNotFoundError:
                missing.append(entry.name)
                continue
            info = zipfile.ZipInfo(entry.name, date_time=entry.created_at.timetuple()[:6])
            info.compress_type = zipfile.ZIP_STORED
            info.file_size = entry.size
            with handle, archive.open(info, "w") as out:
                chunk = first
                while chunk:
                    out.write(chunk)
                    if sink.size >= ZIP_CHUNK_BYTES:
                        yield sink.drain()
                    chunk = handle.read(ZIP_CHUNK_BYTES)
            if sink.size >= ZIP_CHUNK_BYTES:
                yield sink.drain()
        if missing:
            archive.writestr(
                "MISSING.txt",
                "These images are no longer in storage:\n" + "\n".join(missing) + "\n",
            )
    yield sink.drain()
