"""Whether a .sav/.zsav file whose header leaves the case count unknown holds whole cases.

The file header gives the number of cases (``ncases``, int32 at byte 80 of the 176-byte
header record), but the format allows -1, "unknown": readers then read until the end of
the file, and readstat (hence pyreadstat) silently drops a partial last case, so a file
cut off in the middle of its data reads as a shorter file with no error. When ``ncases``
is known, :func:`sid.io.spss.read_spss` compares it with the rows read; when it is -1,
:func:`check_whole_cases` checks the data section itself against the rows read:

* uncompressed (``compression`` 0): the data are ``rows * width * 8`` bytes exactly;
* bytecode-compressed (1): the data are 8-byte command blocks, each followed by the
  8 raw bytes of its commands 253. A complete file ends on a block boundary with every
  block's raw bytes present, and its commands fill ``rows * width`` 8-byte slots
  (1-251, 253, 254 and 255 fill a slot, 0 is padding, 252 ends the data);
* zlib-compressed (.zsav, 2): the zlib trailer, written last, ends the file exactly
  (its offset and length are in the zlib header at the start of the data).

``width`` is the number of variable records (type 2, one per 8-byte segment of a case).
A file cut exactly where a case ends is indistinguishable from a complete shorter file
(without a case count, nothing in the format tells them apart); every other cut is
detected. Record layout: the PSPP manual, "System File Format".
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sid.errors import InputFileError

HEADER_BYTES = 176
_AGAIN = "ask for the file to be delivered again"


@dataclass(frozen=True)
class SavLayout:
    """Where the data of a system file lie: byte order, compression, case width, offset."""

    endian: str  # "<" or ">"
    compression: int  # 0 none, 1 bytecode, 2 zlib (.zsav)
    ncases: int  # -1 when unknown
    width: int  # 8-byte slots per case (number of type-2 records)
    data_offset: int  # first byte after the dictionary termination record (type 999)


def header_ncases(path: Path) -> int | None:
    """``ncases`` of the file header, or None when the file is not a system file."""
    with open(path, "rb") as f:
        head = f.read(HEADER_BYTES)
    if len(head) < HEADER_BYTES or head[:4] not in (b"$FL2", b"$FL3"):
        return None
    return struct.unpack(_endian(head) + "i", head[80:84])[0]


def _endian(head: bytes) -> str:
    # layout_code (byte 64) is 2 or 3 in the file's own byte order
    return "<" if struct.unpack("<i", head[64:68])[0] in (2, 3) else ">"


def read_layout(buf: bytes, where: str) -> SavLayout:
    """Walk the dictionary records of the system file in ``buf`` up to the data."""
    e = _endian(buf)
    compression, _, ncases = struct.unpack(e + "iii", buf[72:84])
    pos, width = HEADER_BYTES, 0

    def ints(n: int) -> tuple[int, ...]:
        nonlocal pos
        if pos + 4 * n > len(buf):
            raise InputFileError(f"{where}: the dictionary ends early; {_AGAIN}")
        out = struct.unpack(f"{e}{n}i", buf[pos:pos + 4 * n])
        pos += 4 * n
        return out

    while True:
        (rec,) = ints(1)
        if rec == 2:  # variable: type, has_label, n_missing, print, write, name[8]
            _, has_label, n_missing, _, _ = ints(5)
            pos += 8
            if has_label:
                (n,) = ints(1)
                pos += (n + 3) // 4 * 4
            pos += 8 * abs(n_missing)
            width += 1
        elif rec == 3:  # value labels: count x (value[8], len, label padded to 8)
            (count,) = ints(1)
            for _ in range(count):  # the labels of one variable set, not rows of data
                if pos + 9 > len(buf):
                    raise InputFileError(f"{where}: the dictionary ends early; {_AGAIN}")
                pos += 8 + (buf[pos + 8] + 1 + 7) // 8 * 8
        elif rec == 4:  # the variables of the preceding value labels
            (count,) = ints(1)
            pos += 4 * count
        elif rec == 6:  # document: lines of 80 bytes
            (n,) = ints(1)
            pos += 80 * n
        elif rec == 7:  # extension: subtype, size, count, data
            _, size, count = ints(3)
            pos += size * count
        elif rec == 999:
            ints(1)
            return SavLayout(e, compression, ncases, width, pos)
        else:
            raise InputFileError(f"{where}: unknown dictionary record type {rec}; {_AGAIN}")


def _bytecode(data: np.ndarray) -> tuple[int, bool]:
    """(slots filled, whether the command stream is complete) of bytecode-compressed data.

    The blocks form a chain (a block's successor lies 1 + its count of 253 units further);
    the chain from the first unit is followed by pointer doubling, vectorised over all
    8-byte units (log2 of the number of blocks passes), not one block at a time.
    """
    tail = len(data) % 8
    units = data[: len(data) - tail].reshape(-1, 8)
    n = len(units)
    idx = np.int32 if n < 2**31 // 9 else np.int64  # slots <= 8 * units
    n253 = np.zeros(n, dtype=idx)
    slots = np.zeros(n, dtype=idx)
    ended = np.zeros(n, dtype=bool)  # a 252 (end of data) in the block
    for k in range(8):  # the 8 commands of each unit read as a command block
        c = units[:, k]
        live = ~ended
        n253 += live & (c == 253)
        slots += live & (c != 0) & (c != 252)
        ended |= live & (c == 252)
    raw_next = np.arange(n, dtype=idx) + 1 + n253
    over = np.append(raw_next > n, False)  # the block's raw bytes run past the end
    nxt = np.append(np.where(ended, n, np.minimum(raw_next, n)), n).astype(idx)  # index n: the end
    acc = np.append(slots, 0).astype(idx)
    stop = np.append(ended, False)
    while n and nxt[0] != n:
        acc = acc + acc[nxt]
        over = over | over[nxt]
        stop = stop | stop[nxt]
        nxt = nxt[nxt]
    complete = not over[0] and (bool(stop[0]) or tail == 0)
    return int(acc[0]), complete


def check_whole_cases(path: Path, rows: int, where: str | None = None) -> None:
    """Raise :class:`InputFileError` unless the data of ``path`` (header case count -1)
    hold exactly ``rows`` whole cases (module doc: how each compression is checked)."""
    where = where or str(path)
    buf = path.read_bytes()
    lay = read_layout(buf, where)
    data_bytes = len(buf) - lay.data_offset
    what = None
    if lay.compression == 0:
        size = 8 * lay.width
        if data_bytes != rows * size:
            what = f"{data_bytes} data bytes are not {rows} whole cases of {size} bytes"
    elif lay.compression == 1:
        data = np.frombuffer(buf, dtype=np.uint8, offset=lay.data_offset)
        slots, complete = _bytecode(data)
        if not complete:
            what = "the compressed data stop in the middle of a block"
        elif slots != rows * lay.width:
            what = f"the compressed data hold {slots / lay.width:.2f} cases, {rows} were read"
    elif lay.compression == 2:
        if data_bytes < 24:
            what = "the zlib header is cut off"
        else:
            _, trailer_ofs, trailer_len = struct.unpack(lay.endian + "qqq", buf[lay.data_offset:lay.data_offset + 24])
            if trailer_ofs + trailer_len != len(buf):
                what = f"the zlib trailer should end at byte {trailer_ofs + trailer_len}, the file has {len(buf)}"
    if what:
        raise InputFileError(
            f"{where}: header leaves the case count unknown (-1) and the data end in a partial "
            f"case ({what}): the file is truncated; {_AGAIN}"
        )
