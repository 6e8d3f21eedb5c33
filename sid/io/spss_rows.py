"""The data rows of an uncompressed .sav file from numpy, with pyreadstat's dictionary.

pyreadstat writes every cell through Python (a row iterator, ``pd.isna`` per cell): 385,000
respondents x 250 variables (the analysts' file with 100 replicate weights) take 20-30 s.
:func:`write_sav_rows` lets pyreadstat write the file's dictionary (header, variables,
labels, missing values, notes, extension records) with a few rows of the data, then writes
all the rows itself in blocks: readstat's uncompressed row layout (``readstat_sav_write.c``)
is 8 bytes per number (the double, SYSMIS = -DBL_MAX where missing) and, per string, its
bytes padded with spaces to the storage width (a string longer than 255 bytes in segments
of 255 bytes in 256). The dictionary is pyreadstat's own, and the rows pyreadstat wrote
are compared byte for byte with this module's encoding of the same rows: when they
differ (a column kind or a layout it does not know), or a value is outside what it
handles (a NUL byte in a string), :func:`write_sav_rows` returns False and the caller
writes the file with pyreadstat alone. The two case counts are the only bytes of the dictionary
changed.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pandas as pd

from sid.io.timestamps import epoch_doubles

SYSMIS = np.uint64(0xFFEFFFFFFFFFFFFF)  # -DBL_MAX: SPSS's system-missing number
SPSS_OFFSET_SECS = 12219379200  # seconds from 1582-10-14 (SPSS's day 0) to 1970-01-01
_HEADER, _LAYOUT, _NCASES = 176, 64, 80  # header bytes; layout code, case size, compression; cases
BLOCK_ROWS = 16384


def _numbers(s: pd.Series) -> np.ndarray | None:
    """The doubles pyreadstat writes for a numeric column (NaN where missing), or None
    for a column kind this module does not encode."""
    dt = s.dtype
    if isinstance(dt, np.dtype) and dt.kind == "M":
        return epoch_doubles(s, SPSS_OFFSET_SECS)
    if pd.api.types.is_bool_dtype(dt) or not pd.api.types.is_numeric_dtype(dt):
        return None
    return s.to_numpy(dtype=float, na_value=np.nan)


def _strings(s: pd.Series) -> np.ndarray | None:
    """UTF-8 bytes (an 'S' array) of a string column as pyreadstat writes it (str of each
    value), or None when a value is missing or holds a NUL byte (readstat stops there)."""
    if not pd.api.types.is_object_dtype(s.dtype) or s.isna().any():
        return None
    text = s.to_numpy(dtype=str)
    enc = np.char.encode(text, "utf-8") if text.size else np.zeros(0, dtype="S1")
    if enc.dtype.itemsize > 0 and enc.size:
        raw = enc.view(np.uint8).reshape(enc.size, enc.dtype.itemsize)
        inside = np.arange(raw.shape[1])[None, :] < np.char.str_len(enc)[:, None]
        if (inside & (raw == 0)).any():
            return None
    return enc


def _storage(width: int) -> int:
    """readstat's storage bytes of a string of ``width`` bytes (sav_variable_width)."""
    if width > 255:
        segments = (width + 251) // 252
        return (segments - 1) * 256 + ((width - (segments - 1) * 252) + 7) // 8 * 8
    return (width + 7) // 8 * 8


class _Layout:
    """Per column its encoded values and byte offset in a row."""

    def __init__(self, data: pd.DataFrame, string_columns: set[str]):
        self.columns: list[tuple[int, np.ndarray, int | None]] = []  # offset, values, width (None: number)
        self.ok = True
        offset = 0
        for name in data.columns:
            s = data[name]
            if name in string_columns:
                enc = _strings(s)
                if enc is None:
                    self.ok = False
                    return
                width = max(1, int(np.char.str_len(enc).max()) if enc.size else 1)
                self.columns.append((offset, enc, width))
                offset += _storage(width)
            else:
                num = _numbers(s)
                if num is None:
                    self.ok = False
                    return
                self.columns.append((offset, num, None))
                offset += 8
        self.row_len = offset

    def template_rows(self) -> np.ndarray:
        """Row 0 and, per string column, the rows of its longest value in bytes and in
        characters (so pyreadstat's dictionary gets every string's full width)."""
        rows = [0]
        for _, values, width in self.columns:
            if width is not None and values.size:
                rows.append(int(np.argmax(np.char.str_len(values))))
                rows.append(int(np.argmax(np.char.str_len(np.char.decode(values, "utf-8")))))
        return np.unique(rows)

    def encode(self, rows: np.ndarray | slice) -> bytes:
        """The rows' bytes in readstat's uncompressed layout."""
        first = self.columns[0][1][rows] if self.columns else np.zeros(0)
        k = first.shape[0]
        out = np.empty((k, self.row_len), dtype=np.uint8)
        for offset, values, width in self.columns:
            v = values[rows]
            if width is None:
                bits = np.ascontiguousarray(v, dtype="<f8").view(np.uint64)
                bits = np.where(np.isnan(v), SYSMIS, bits).astype("<u8")
                out[:, offset:offset + 8] = bits.view(np.uint8).reshape(k, 8)
                continue
            store = _storage(width)
            block = np.full((k, store), ord(" "), dtype=np.uint8)
            vb = np.zeros((k, max(width, 1)), dtype=np.uint8)
            if v.dtype.itemsize:
                raw = np.ascontiguousarray(v).view(np.uint8).reshape(k, v.dtype.itemsize)
                vb[:, :raw.shape[1]] = raw
            # value byte j goes to row byte j + j // 255 (segments of 255 bytes in 256)
            src = np.arange(width)
            dst = src + src // 255
            pad = vb == 0  # NUL padding of numpy's bytes: readstat's spaces
            block[:, dst] = np.where(pad, ord(" "), vb)[:, src]
            out[:, offset:offset + store] = block
        return out.tobytes()


def write_sav_rows(data: pd.DataFrame, string_columns: set[str], path: Path, write_dictionary) -> bool:
    """Write ``data`` as an uncompressed .sav at ``path``: the dictionary by
    ``write_dictionary(frame, path)`` (pyreadstat's write_sav with the caller's metadata)
    on a few template rows, the rows by numpy. False (``path`` left to the caller) when
    the module cannot reproduce pyreadstat's rows; ``string_columns``: the columns
    written as SPSS strings."""
    n = len(data)
    if n == 0 or n > np.iinfo(np.int32).max:
        return False
    layout = _Layout(data, string_columns)
    if not layout.ok:
        return False
    rows = layout.template_rows()
    write_dictionary(data.iloc[rows].reset_index(drop=True), path)
    head = path.read_bytes()
    if len(head) < _HEADER or head[:4] != b"$FL2":
        return False
    layout_code, case_size, compression = struct.unpack_from("<iii", head, _LAYOUT)
    (ncases,) = struct.unpack_from("<i", head, _NCASES)
    k = rows.shape[0]
    size = k * layout.row_len
    if (layout_code != 2 or compression != 0 or ncases != k or case_size * 8 != layout.row_len
            or len(head) < _HEADER + size or head[len(head) - size:] != layout.encode(rows)):
        return False
    dictionary = bytearray(head[:len(head) - size])
    # the case count: in the header (int32) and in the 64-bit count record (type 7, subtype 16)
    record = struct.pack("<iiiiq", 7, 16, 8, 2, 1)
    at = dictionary.find(record + struct.pack("<q", k))
    if at < 0 or dictionary.find(record, at + 1) >= 0:
        return False
    struct.pack_into("<i", dictionary, _NCASES, n)
    struct.pack_into("<q", dictionary, at + len(record), n)
    with open(path, "wb") as f:
        f.write(dictionary)
        for start in range(0, n, BLOCK_ROWS):
            f.write(layout.encode(slice(start, min(start + BLOCK_ROWS, n))))
    return True
