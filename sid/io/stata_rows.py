"""The data rows of a .dta file (format 118/119) from numpy, with pyreadstat's header.

pyreadstat writes every cell through Python (a row iterator, ``pd.isna`` per cell): the
analysts' file at demo scale 50 (377,000 respondents x 173 variables) takes 20-35 s and
1 GB beside the frame (benchmarks/README.md, issue 18).
:func:`write_dta_rows` lets pyreadstat write the whole file (header, map, variable types,
names, formats, value-label names, variable labels, value labels) with a few rows of the
data, then writes all the rows itself in blocks. The rows pyreadstat wrote are chosen to
show every kind of cell each column holds (its first value, its first missing value, the
first row of each extended missing value ``.a``-``.z``, its longest string) and are
compared byte for byte with this module's encoding of the same rows; the whole file is
written only when they are equal, so the comparison proves the encoding of every kind
present; every column's storage type is compared too. Otherwise (a column kind or a
layout it does not know, a string needing a strL, a NUL byte in a string, a value
readstat refuses) :func:`write_dta_rows` returns False and the caller writes the file
with pyreadstat alone (which then writes it, or raises as it always did).

Layout (Stata's dta 118/119 specification, ``help dta``; readstat's
``readstat_dta_write.c``): ``<stata_dta><header>`` with ``<K>`` (variables, uint16 in
118, uint32 in 119) and ``<N>`` (rows, uint64), then ``<map>``: 14 uint64 file offsets of
the sections (9: ``<data>``, 10: ``<strls>``, 11: ``<value_labels>``, 12:
``</stata_dta>``, 13: end of file), ``<variable_types>`` (uint16 per variable: 1-2045 a
string of that many bytes, 32768 strL, 65526 double, 65527 float, 65528 long, 65529 int,
65530 byte), ..., ``<data>`` rows ``</data>``, ``<strls>``, ``<value_labels>``. A row is
each variable's bytes in order, little-endian: a double (missing ``.`` =
0x7FE0000000000000, ``.a`` = 0x7FE0010000000000, each next letter 2**40 more), a long
(int32; ``.`` = 0x7FFFFFE5, ``.a`` = 0x7FFFFFE6, ...), a string's UTF-8 bytes NUL-padded
to its width. readstat writes what pyreadstat gives it: doubles (numbers, datetime64 as
milliseconds since 1960-01-01), int32 for 8-32-bit integer and boolean columns.

The rows and the counts (``N``, the map's offsets after the data) are the only bytes of
pyreadstat's file changed.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from sid.io.timestamps import epoch_doubles

MISSING_DOUBLE = np.uint64(0x7FE0000000000000)  # Stata's "." as a double
MISSING_DOUBLE_A = 0x7FE0010000000000  # ".a"; ".b" ... each 1 << 40 more
MAX_DOUBLE = struct.unpack("<d", struct.pack("<Q", 0x7FDFFFFFFFFFFFFF))[0]  # larger: readstat refuses
MISSING_LONG, MISSING_LONG_A, MAX_LONG, MIN_LONG = 0x7FFFFFE5, 0x7FFFFFE6, 0x7FFFFFE4, -0x7FFFFFFF
TYPE_DOUBLE, TYPE_LONG, TYPE_STRL, STR_MAX = 65526, 65528, 32768, 2045
STATA_OFFSET_SECS = 315619200  # seconds from 1960-01-01 (Stata's day 0) to 1970-01-01
_LONG_DTYPES = {"int8", "int16", "int32", "uint8", "uint16", "bool", "Int8", "Int16", "Int32", "UInt8", "UInt16",
                "boolean"}  # pyreadstat: int32 (Stata long); wider integers are written as doubles
_LETTERS = np.array(list("abcdefghijklmnopqrstuvwxyz"), dtype=object)  # Python str: what pyreadstat compares
_MAP_N = 14
BLOCK_ROWS = 16384


class _Column:
    """One variable's cells as readstat writes them: ``kind`` "double", "long" or "str";
    ``values`` (float64, NaN where Stata's ``.``; int32; or an 'S' array: the frame's own
    float64 column where it can, not a copy); ``missing`` (``.`` of a long) or None;
    ``tags`` (0-25: ``.a``-``.z``, -1: none; doubles only) or None; ``width`` the storage bytes."""

    def __init__(self, kind: str, values: np.ndarray, missing: np.ndarray | None = None,
                 tags: np.ndarray | None = None):
        self.kind, self.values, self.missing, self.tags = kind, values, missing, tags
        if kind == "str":
            self.width = max(1, values.dtype.itemsize)
        else:
            self.width = 8 if kind == "double" else 4

    @property
    def typecode(self) -> int:
        return {"double": TYPE_DOUBLE, "long": TYPE_LONG}.get(self.kind, self.width)

    def head_rows(self) -> list[int]:
        """The first row of each kind of cell: a value, ``.``, each letter; the longest string."""
        rows = [0]
        special = np.zeros(self.values.shape[0], dtype=bool)
        missing = np.isnan(self.values) if self.kind == "double" else self.missing
        if self.tags is not None:
            missing = missing & (self.tags < 0)
        if missing is not None and missing.any():
            rows.append(int(np.argmax(missing)))
            special |= missing
        if self.tags is not None:
            present = np.flatnonzero(np.bincount(self.tags[self.tags >= 0], minlength=26))
            rows.extend(int(np.argmax(self.tags == letter)) for letter in present)
            special |= self.tags >= 0
        if not special.all():
            rows.append(int(np.argmax(~special)))
        if self.kind == "str" and self.values.size:
            lengths = np.char.str_len(self.values)
            rows.extend([int(np.argmax(lengths)), int(np.argmin(lengths))])
        return rows

    def encode(self, rows: np.ndarray | slice, out: np.ndarray) -> None:
        """Put the cells of ``rows`` into ``out`` (this variable's field of the rows: uint64
        for a double, int32 for a long, 'S' bytes for a string)."""
        v = self.values[rows]
        if self.kind == "str":
            out[...] = v
            return
        out[...] = v.view(np.uint64) if self.kind == "double" else v
        m = np.isnan(v) if self.kind == "double" else self.missing[rows] if self.missing is not None else None
        if m is not None and m.any():
            out[m] = MISSING_DOUBLE if self.kind == "double" else MISSING_LONG
        if self.tags is not None:  # doubles only
            t = self.tags[rows]
            at = t >= 0
            if at.any():
                out[at] = np.uint64(MISSING_DOUBLE_A) + (t[at].astype(np.uint64) << np.uint64(40))


def _strings(s: pd.Series) -> np.ndarray | None:
    """UTF-8 bytes (an 'S' array) of a text column, or None when a value is missing, not
    text (pyreadstat writes ``str(value)``), holds a NUL byte (readstat stops there) or
    cannot be encoded. The bytes come from pyarrow's buffers (no loop over values)."""
    import pyarrow as pa

    if pd.api.types.is_object_dtype(s.dtype):
        if pd.api.types.infer_dtype(s, skipna=False) != "string":
            return None
    elif not pd.api.types.is_string_dtype(s.dtype):
        return None
    try:
        arr = pa.array(s, type=pa.large_string(), from_pandas=True)
    except (pa.ArrowException, TypeError, ValueError, UnicodeError):
        return None
    if arr.null_count or len(arr) != len(s):
        return None
    _, offsets_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int64)[arr.offset:arr.offset + len(arr) + 1]
    raw = np.frombuffer(data_buf, dtype=np.uint8)[offsets[0]:offsets[-1]] if data_buf is not None else \
        np.zeros(0, dtype=np.uint8)
    if (raw == 0).any():
        return None
    lengths = np.diff(offsets)
    width = max(1, int(lengths.max()) if lengths.size else 1)
    out = np.zeros((len(s), width), dtype=np.uint8)
    row = np.repeat(np.arange(len(s)), lengths)
    out[row, np.arange(raw.size) - (offsets[:-1] - offsets[0])[row]] = raw
    return out.view(f"S{width}").reshape(len(s))


def _doubles(s: pd.Series) -> np.ndarray:
    """The column as float64, NaN where missing: the column's own array when it is one."""
    if isinstance(s.dtype, np.dtype) and s.dtype == np.float64:
        return s.to_numpy()
    return s.to_numpy(dtype=float, na_value=np.nan)


def _column(s: pd.Series, tags: np.ndarray | None) -> _Column | None:
    """``s`` as readstat writes it, or None for a kind this module does not encode."""
    dt = s.dtype
    if tags is not None:  # the numbers of a column with extended missing values
        if not pd.api.types.is_numeric_dtype(dt) or pd.api.types.is_bool_dtype(dt):
            return None
        return _Column("double", _doubles(s), tags=tags)
    if isinstance(dt, np.dtype) and dt.kind == "M":
        x = epoch_doubles(s, STATA_OFFSET_SECS, per_second=1000.0)  # Stata %tc: milliseconds
        return None if x is None else _Column("double", x)
    if str(dt) in _LONG_DTYPES:
        missing = s.isna().to_numpy()
        return _Column("long", s.to_numpy(dtype=np.int32, na_value=0), missing)  # all fit in int32
    if pd.api.types.is_numeric_dtype(dt) and not pd.api.types.is_complex_dtype(dt) and \
            not isinstance(dt, pd.CategoricalDtype):
        return _Column("double", _doubles(s))
    enc = _strings(s)
    return None if enc is None else _Column("str", enc)


def _in_range(col: _Column) -> bool:
    """Whether readstat takes every value: it refuses doubles beyond +-8.988e307 (infinities
    too) and longs beyond -2,147,483,647..2,147,483,620 (the bit patterns above are Stata's
    missing values); pyreadstat then raises, and so it must on the whole frame."""
    if col.kind == "str":
        return col.width < STR_MAX  # pyreadstat writes a string of 2045 bytes or more as a strL
    if col.kind == "double":
        bad = np.abs(col.values) > MAX_DOUBLE
    else:
        bad = (col.values > MAX_LONG) | (col.values < MIN_LONG)
    if not bad.any():
        return True
    if col.missing is not None:
        bad &= ~col.missing
    if col.tags is not None:  # the numbers there are not written
        bad &= col.tags < 0
    return not bad.any()


def _encode_rows(columns: list[_Column], rows: np.ndarray | slice, dtype: np.dtype) -> np.ndarray:
    """The rows as a structured array of ``dtype`` (one field per variable, no padding)."""
    k = columns[0].values[rows].shape[0]
    rec = np.empty(k, dtype=dtype)
    for j, col in enumerate(columns):
        col.encode(rows, rec[f"f{j}"])
    return rec


class _Sections:
    """Where the counts, the variable types and the rows are in a .dta file written by
    readstat (format 118/119, little-endian); ``ok`` False for anything else."""

    def __init__(self, head: bytes):
        self.ok = False
        self._head, self._at = head, 0
        if not self._tag(b"<stata_dta><header><release>"):
            return
        release = head[self._at:self._at + 3]
        self._at += 3
        if release not in (b"118", b"119") or not self._tag(b"</release><byteorder>LSF</byteorder><K>"):
            return
        k_len = 4 if release == b"119" else 2
        self.nvar = int.from_bytes(head[self._at:self._at + k_len], "little")
        self._at += k_len
        if not self._tag(b"</K><N>"):
            return
        self.n_at = self._at
        (self.nobs,) = struct.unpack_from("<Q", head, self.n_at)
        self._at += 8
        if not self._tag(b"</N><label>"):
            return
        (label_len,) = struct.unpack_from("<H", head, self._at)
        self._at += 2 + label_len
        if not self._tag(b"</label>"):
            return
        self.timestamp = slice(self._at, self._at)
        if self._tag(b"<timestamp>"):
            self.timestamp = slice(self._at + 1, self._at + 1 + head[self._at])
            self._at = self.timestamp.stop
            if not self._tag(b"</timestamp>"):
                return
        if not self._tag(b"</header><map>"):
            return
        self.map_at = self._at
        self.map = list(struct.unpack_from(f"<{_MAP_N}Q", head, self.map_at))
        self._at = self.map[2]
        if not self._tag(b"<variable_types>") or self.map[13] != len(head):
            return
        self.types = list(struct.unpack_from(f"<{self.nvar}H", head, self._at))
        self._at = self.map[9]
        if not self._tag(b"<data>"):
            return
        self.data = slice(self._at, self.map[10] - len(b"</data>"))
        self._at = self.data.stop
        self.ok = self._tag(b"</data><strls>")

    def _tag(self, tag: bytes) -> bool:
        """Whether ``tag`` comes next (then step over it)."""
        if self._head[self._at:self._at + len(tag)] != tag:
            return False
        self._at += len(tag)
        return True


def with_tags(data: pd.DataFrame, tags: dict[str, np.ndarray]) -> pd.DataFrame:
    """``data`` with each tagged column as pyreadstat takes extended missing values: an
    object column of the numbers (floats) and, where tagged, the letter ("a"-"z")."""
    out = data.copy(deep=False)
    for name, t in tags.items():
        col = data[name].to_numpy(dtype=float, na_value=np.nan).astype(object)
        at = t >= 0
        col[at] = _LETTERS[t[at]]
        out[name] = col
    return out


def write_dta_rows(data: pd.DataFrame, path: Path, write_file: Callable[[pd.DataFrame, Path], None], *,
                   tags: dict[str, np.ndarray] | None = None) -> bool:
    """Write ``data`` as a .dta at ``path``: the file by ``write_file(frame, path)``
    (pyreadstat's write_dta with the caller's metadata) on a few rows, then all the rows by
    numpy. False (``path`` left to the caller) when the module cannot reproduce
    pyreadstat's rows.

    ``tags``: per column of numbers, the extended missing value of each row (0-25:
    ``.a``-``.z``, -1: none; the number there is not written); ``write_file`` gets those
    columns as :func:`with_tags` makes them, as the caller gives pyreadstat the full frame."""
    tags = tags or {}
    n = len(data)
    if n == 0 or data.shape[1] == 0:
        return False
    columns = []
    for name in data.columns:
        t = tags.get(name)
        if t is not None and (t.shape != (n,) or (t >= len(_LETTERS)).any()):
            return False
        col = _column(data[name], None if t is None else t.astype(np.int8))
        if col is None or not _in_range(col):
            return False
        columns.append(col)
    rows = np.unique(np.concatenate([np.asarray(c.head_rows(), dtype=np.int64) for c in columns]))
    head_frame = data.iloc[rows].reset_index(drop=True)
    head_frame = with_tags(head_frame, {c: t[rows] for c, t in tags.items()})
    write_file(head_frame, path)
    head = path.read_bytes()
    parts = _Sections(head)
    if not parts.ok or parts.nvar != len(columns) or parts.nobs != rows.shape[0] or \
            parts.types != [c.typecode for c in columns]:
        return False
    widths = [c.width for c in columns]
    offsets = np.concatenate([[0], np.cumsum(widths)[:-1]]).tolist()
    formats = ["<u8" if c.kind == "double" else "<i4" if c.kind == "long" else f"S{c.width}" for c in columns]
    dtype = np.dtype({"names": [f"f{j}" for j in range(len(columns))], "formats": formats,
                      "offsets": offsets, "itemsize": int(sum(widths))})
    if head[parts.data] != _encode_rows(columns, rows, dtype).tobytes():
        return False
    grow = (n - rows.shape[0]) * dtype.itemsize
    prefix = bytearray(head[:parts.data.start])
    struct.pack_into("<Q", prefix, parts.n_at, n)
    struct.pack_into(f"<{_MAP_N - 10}Q", prefix, parts.map_at + 10 * 8, *(m + grow for m in parts.map[10:]))
    with open(path, "wb") as f:
        f.write(prefix)
        for start in range(0, n, BLOCK_ROWS):
            f.write(_encode_rows(columns, slice(start, min(start + BLOCK_ROWS, n)), dtype).data)
        f.write(head[parts.data.stop:])
    return True
