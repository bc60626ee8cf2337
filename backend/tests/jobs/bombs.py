"""Decompression bombs made in well under a second: a comic book (CBZ) whose one picture, a gray PGM of zeros,
inflates ~1000-fold — 1 MB on disk, 1 GB in memory when MuPDF reads the entry."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

_MIB = 1024 * 1024


def zip_bomb_cbz(path: Path, megabytes: int) -> Path:
    """A CBZ whose single page is a PGM image of about `megabytes` MiB of zeros (at most 4000)."""
    side = int((megabytes * _MIB) ** 0.5)
    header = f"P5\n{side} {side}\n255\n".encode()
    whole, rest = divmod(side * side, _MIB)
    chunk = bytes(_MIB)
    # After a full flush the compressor starts afresh, so every MiB of zeros compresses to the same bytes:
    # compress one and repeat it.
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = compressor.compress(header) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    data = head + block * whole + compressor.compress(bytes(rest)) + compressor.flush()
    crc = zlib.crc32(header)
    for _ in range(whole):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(bytes(rest), crc)

    name, usize = b"001.pgm", len(header) + side * side
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data), usize, len(name), 0)
    central = struct.pack(
        "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(data), usize, len(name), 0, 0, 0, 0, 0, 0
    )
    offset = len(local) + len(name) + len(data)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central) + len(name), offset, 0)
    path.write_bytes(local + name + data + central + name + end)
    return path
