"""glTF accessors to numpy arrays.

Handles every component type, `normalized` integers (turned into float32 the way
the spec defines), interleaved buffer views (`byteStride`), the column padding of
small-component matrices, accessors without a buffer view (zeros) and sparse
accessors. Every byte range is checked before it is read, so a bad index in a
file becomes a `VrmError` naming the accessor instead of an IndexError.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import as_strided

from avatar.vrm.errors import VrmError

COMPONENT_DTYPES: dict[int, np.dtype] = {
    5120: np.dtype("<i1"),
    5121: np.dtype("<u1"),
    5122: np.dtype("<i2"),
    5123: np.dtype("<u2"),
    5125: np.dtype("<u4"),
    5126: np.dtype("<f4"),
}
TYPE_COMPONENTS = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}
_MATRIX_SIZE = {"MAT2": 2, "MAT3": 3, "MAT4": 4}
_SPARSE_INDEX_TYPES = (5121, 5123, 5125)


class AccessorReader:
    """Reads (and caches) accessors of one glTF document.

    Results are read-only arrays: scalars as shape (count,), vectors as
    (count, n), matrices as (count, n, n) in math order (``m[row, col]``; glTF
    stores them column-major). Normalized integers come back as float32.
    """

    def __init__(self, path: Path, doc: dict, buffers: list[bytes]) -> None:
        self._path = path
        self._accessors = doc.get("accessors", [])
        self._views = doc.get("bufferViews", [])
        self._buffers = buffers
        self._cache: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self._accessors)

    def read(self, index: int) -> np.ndarray:
        if not isinstance(index, int) or not 0 <= index < len(self._accessors):
            raise self._error(
                f"accessor {index!r} does not exist ({len(self._accessors)} accessors)"
            )
        if index in self._cache:
            return self._cache[index]
        array = self._decode(index, self._accessors[index])
        array.flags.writeable = False
        self._cache[index] = array
        return array

    def view_bytes(self, view_index: int, what: str) -> bytes:
        """The whole byte range of a buffer view (images live in these)."""
        data, offset, length, _ = self._view(view_index, what)
        return data[offset : offset + length]

    # -- decoding ---------------------------------------------------------

    def _decode(self, index: int, acc: dict) -> np.ndarray:
        what = f"accessor {index}"
        ctype = acc.get("componentType")
        dtype = COMPONENT_DTYPES.get(ctype)
        if dtype is None:
            raise self._error(f"{what} has unknown componentType {ctype!r}")
        kind = acc.get("type")
        ncomp = TYPE_COMPONENTS.get(kind)
        if ncomp is None:
            raise self._error(f"{what} has unknown type {kind!r}")
        count = acc.get("count")
        if not isinstance(count, int) or count < 0:
            raise self._error(f"{what} has an invalid count {count!r}")
        normalized = bool(acc.get("normalized", False))
        if normalized and ctype in (5125, 5126):
            raise self._error(f"{what} is normalized but its components are not 8/16-bit ints")

        if "bufferView" in acc:
            flat = self._read_elements(
                acc["bufferView"], acc.get("byteOffset", 0), count, dtype, kind, what
            )
        else:
            flat = np.zeros((count, ncomp), dtype=dtype)
        if "sparse" in acc:
            flat = self._apply_sparse(acc["sparse"], flat, dtype, ncomp, what)

        values: np.ndarray = _normalize(flat, ctype) if normalized else flat
        if kind in _MATRIX_SIZE:
            n = _MATRIX_SIZE[kind]
            return np.ascontiguousarray(values.reshape(count, n, n).transpose(0, 2, 1))
        return values.reshape(count) if ncomp == 1 else values

    def _read_elements(
        self, view_index: int, byte_offset: int, count: int, dtype: np.dtype, kind: str, what: str
    ) -> np.ndarray:
        csize = dtype.itemsize
        ncomp = TYPE_COMPONENTS[kind]
        # Matrix columns start 4-byte aligned, so MAT2/MAT3 of bytes/shorts are padded.
        n = _MATRIX_SIZE.get(kind)
        col_bytes = n * csize if n else ncomp * csize
        col_stride = col_bytes + (-col_bytes % 4) if n else col_bytes
        elem_size = col_stride * (n or 1)
        raw = self._strided(view_index, byte_offset, count, elem_size, what)
        if n and col_stride != col_bytes:
            raw = np.ascontiguousarray(raw.reshape(count, n, col_stride)[:, :, :col_bytes])
        return raw.reshape(count, -1).view(dtype).reshape(count, ncomp)

    def _strided(
        self, view_index: int, byte_offset: int, count: int, elem_size: int, what: str,
        tight: bool = False,
    ) -> np.ndarray:
        """`count` elements of `elem_size` bytes from a buffer view, as a (count, elem_size)
        uint8 copy; honours byteStride unless `tight` (sparse data is always packed)."""
        data, view_offset, view_length, stride = self._view(view_index, what)
        stride = elem_size if tight or not stride else stride
        if stride < elem_size:
            raise self._error(
                f"{what}: bufferView {view_index} has byteStride {stride} but an element "
                f"takes {elem_size} bytes"
            )
        if not isinstance(byte_offset, int) or byte_offset < 0:
            raise self._error(f"{what} has an invalid byteOffset {byte_offset!r}")
        end = byte_offset + stride * (count - 1) + elem_size if count else byte_offset
        if end > view_length:
            raise self._error(
                f"{what} points past its data: it needs bytes {byte_offset}..{end} of "
                f"bufferView {view_index}, which has only {view_length} bytes"
            )
        if count == 0:
            return np.zeros((0, elem_size), dtype=np.uint8)
        base = np.frombuffer(data, dtype=np.uint8, count=end - byte_offset,
                             offset=view_offset + byte_offset)
        rows = as_strided(base, shape=(count, elem_size), strides=(stride, 1), writeable=False)
        return np.ascontiguousarray(rows)

    def _view(self, view_index: int, what: str) -> tuple[bytes, int, int, int | None]:
        if not isinstance(view_index, int) or not 0 <= view_index < len(self._views):
            raise self._error(f"{what} uses bufferView {view_index!r}, which does not exist")
        view = self._views[view_index]
        buf_index = view.get("buffer")
        if not isinstance(buf_index, int) or not 0 <= buf_index < len(self._buffers):
            raise self._error(
                f"bufferView {view_index} uses buffer {buf_index!r}, which does not exist"
            )
        data = self._buffers[buf_index]
        offset = view.get("byteOffset", 0)
        length = view.get("byteLength")
        if not isinstance(length, int) or not isinstance(offset, int) or offset < 0 or length < 0:
            raise self._error(f"bufferView {view_index} has an invalid byteOffset/byteLength")
        if offset + length > len(data):
            raise self._error(
                f"bufferView {view_index} points past buffer {buf_index}: bytes "
                f"{offset}..{offset + length} of {len(data)}"
            )
        return data, offset, length, view.get("byteStride")

    def _apply_sparse(
        self, sparse: dict, flat: np.ndarray, dtype: np.dtype, ncomp: int, what: str
    ) -> np.ndarray:
        count = sparse.get("count", 0)
        if count == 0:
            return flat
        idx_info, val_info = sparse.get("indices", {}), sparse.get("values", {})
        idx_type = idx_info.get("componentType")
        if idx_type not in _SPARSE_INDEX_TYPES:
            raise self._error(f"{what}: sparse indices have componentType {idx_type!r}")
        idx_dtype = COMPONENT_DTYPES[idx_type]
        raw_idx = self._strided(
            idx_info.get("bufferView"), idx_info.get("byteOffset", 0), count,
            idx_dtype.itemsize, f"{what} (sparse indices)", tight=True,
        )
        indices = raw_idx.reshape(-1).view(idx_dtype).astype(np.int64)
        raw_val = self._strided(
            val_info.get("bufferView"), val_info.get("byteOffset", 0), count,
            ncomp * dtype.itemsize, f"{what} (sparse values)", tight=True,
        )
        values = raw_val.reshape(count, -1).view(dtype).reshape(count, ncomp)
        if indices.size and (indices.min() < 0 or indices.max() >= len(flat)):
            raise self._error(f"{what}: a sparse index is outside 0..{len(flat) - 1}")
        out = flat.copy()
        out[indices] = values
        return out

    def _error(self, problem: str) -> VrmError:
        return VrmError(self._path, problem)


def _normalize(values: np.ndarray, ctype: int) -> np.ndarray:
    """Integer components to float32 as glTF defines it (signed: max(c / MAX, -1))."""
    info = np.iinfo(COMPONENT_DTYPES[ctype])
    scaled = values.astype(np.float32) / np.float32(info.max)
    return np.maximum(scaled, np.float32(-1.0)) if info.min < 0 else scaled
