"""Opening crawl files on any Beam filesystem, and undoing their compression (gzip, zstd) from the magic bytes."""

from __future__ import annotations

import gzip
import io
import zlib
from typing import IO, Optional

import zstandard
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_ZSTD_SKIPPABLE = (0x184D2A50, 0x184D2A5F)
_LZ4_MAGIC = b"\x04\x22\x4d\x18"


def compression_of(head: bytes) -> str:
    if head.startswith(_GZIP_MAGIC):
        return "gzip"
    if head.startswith(_ZSTD_MAGIC) or (len(head) >= 4 and _ZSTD_SKIPPABLE[0] <= int.from_bytes(head[:4], "little") <= _ZSTD_SKIPPABLE[1]):
        return "zstd"
    if head.startswith(_LZ4_MAGIC):
        return "lz4"
    return "none"


def open_raw(path: str) -> IO[bytes]:
    return FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)


def _zstd_reader(raw: IO[bytes]) -> IO[bytes]:
    """A zstd stream reader; honours the WARC-zstd convention of a dictionary in a leading skippable frame."""
    head = raw.read(8)
    magic = int.from_bytes(head[:4], "little") if len(head) >= 4 else 0
    dict_data = None
    if _ZSTD_SKIPPABLE[0] <= magic <= _ZSTD_SKIPPABLE[1]:
        size = int.from_bytes(head[4:8], "little")
        blob = raw.read(size)
        if blob.startswith(_ZSTD_MAGIC):
            blob = zstandard.ZstdDecompressor().decompress(blob, max_output_size=1 << 28)
        dict_data = zstandard.ZstdCompressionDict(blob)
        prefix = b""
    else:
        prefix = head
    dctx = zstandard.ZstdDecompressor(dict_data=dict_data) if dict_data else zstandard.ZstdDecompressor()
    source = io.BufferedReader(_Prefixed(prefix, raw)) if prefix else raw
    return dctx.stream_reader(source, read_across_frames=True)


class _Prefixed(io.RawIOBase):
    """A raw stream with some already-consumed bytes put back in front."""

    def __init__(self, prefix: bytes, raw: IO[bytes]):
        self._prefix, self._raw = prefix, raw

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._prefix:
            n = min(len(buffer), len(self._prefix))
            buffer[:n], self._prefix = self._prefix[:n], self._prefix[n:]
            return n
        chunk = self._raw.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def open_decompressed(path: str) -> tuple[IO[bytes], str]:
    """Open ``path`` on any Beam filesystem and undo gzip/zstd, detected from the magic bytes."""
    raw = open_raw(path)
    head = raw.read(8)
    raw.seek(0)
    compression = compression_of(head)
    if compression == "gzip":
        return gzip.GzipFile(fileobj=raw, mode="rb"), compression
    if compression == "zstd":
        return io.BufferedReader(_ZstdAsRaw(_zstd_reader(raw))), compression
    return raw, compression


class _ZstdAsRaw(io.RawIOBase):
    def __init__(self, reader):
        self._reader = reader

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        chunk = self._reader.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def compressed_tail_problem(path: str, last_offset: int) -> Optional[str]:
    """Why the compressed stream after the last record read is broken, or None.

    fastwarc ends iteration quietly at a gzip/zstd member that is cut short, so
    the records after the break would vanish unreported. Decompressing from the
    last record's offset to the end of the file is cheap (one record) and
    tells a complete file from a truncated one.
    """
    with open_raw(path) as raw:
        raw.seek(last_offset)
        tail = raw.read(_MAX_TAIL_CHECK)
    compression = compression_of(tail[:8])
    try:
        if compression == "gzip":
            while tail:
                member = zlib.decompressobj(wbits=31)
                member.decompress(tail, 1 << 30)
                if not member.eof:
                    return f"{path}: gzip stream cut short after byte offset {last_offset} (truncated file)"
                tail = member.unused_data
        elif compression == "zstd":
            while tail:
                frame = zstandard.ZstdDecompressor().decompressobj()
                frame.decompress(tail)
                if not frame.eof:
                    return f"{path}: zstd frame cut short after byte offset {last_offset} (truncated file)"
                tail = frame.unused_data
    except (zlib.error, zstandard.ZstdError) as err:
        return f"{path}: corrupt {compression} data after byte offset {last_offset}: {err}"
    return None


_MAX_TAIL_CHECK = 256 * 1024 * 1024
