"""Getting the JSON and the raw buffers out of a .glb/.vrm/.vrma or .gltf file.

Binary glTF is a 12-byte header and then chunks: JSON first, then an optional
BIN chunk. Every length in there is checked against the real file size, because a
half-downloaded avatar is the most likely broken input and it should fail with a
sentence, not with a slice that is silently too short.
"""

from __future__ import annotations

import base64
import binascii
import json
import struct
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from avatar.vrm.errors import VrmError

GLB_MAGIC = b"glTF"
CHUNK_JSON = 0x4E4F534A  # "JSON" read as a little-endian uint32
CHUNK_BIN = 0x004E4942  # "BIN\0"
_HEADER = struct.Struct("<4sII")
_CHUNK_HEADER = struct.Struct("<II")


@dataclass(frozen=True)
class Container:
    """The parsed JSON of a glTF asset and its buffers, in `buffers[]` order."""

    path: Path
    json: dict
    buffers: list[bytes]

    @property
    def base_dir(self) -> Path:
        return self.path.parent


def read_container(path: str | Path) -> Container:
    """Read a binary (.glb/.vrm/.vrma) or text (.gltf) glTF file and all its buffers."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise VrmError(path, f"cannot read the file ({exc.strerror or exc})") from exc
    if not data:
        raise VrmError(path, "the file is empty")
    if data[:4] == GLB_MAGIC:
        doc, bin_chunk = _split_glb(path, data)
    elif path.suffix.lower() == ".gltf" or data.lstrip()[:1] == b"{":
        doc, bin_chunk = _parse_json(path, data, "the file"), None
    else:
        raise VrmError(
            path, f"not a glTF file: bad magic number {data[:4]!r} (expected {GLB_MAGIC!r})"
        )
    asset = doc.get("asset")
    if not isinstance(asset, dict) or not str(asset.get("version", "")).startswith("2"):
        version = asset.get("version") if isinstance(asset, dict) else None
        raise VrmError(path, f"asset.version is {version!r}; only glTF 2.0 is supported")
    buffers = [
        _load_buffer(path, i, b, bin_chunk) for i, b in enumerate(doc.get("buffers", []))
    ]
    return Container(path=path, json=doc, buffers=buffers)


def _split_glb(path: Path, data: bytes) -> tuple[dict, bytes | None]:
    if len(data) < _HEADER.size:
        raise VrmError(path, f"truncated: {len(data)} bytes is shorter than the 12-byte header")
    _, version, length = _HEADER.unpack_from(data)
    if version != 2:
        raise VrmError(path, f"binary glTF version {version}; only version 2 is supported")
    if length > len(data):
        raise VrmError(
            path, f"truncated: the header says {length} bytes but the file has {len(data)}"
        )
    if length < _HEADER.size:
        raise VrmError(path, f"the header's total length {length} is smaller than the header")
    chunks: list[tuple[int, bytes]] = []
    offset = _HEADER.size
    while offset < length:
        if offset + _CHUNK_HEADER.size > length:
            raise VrmError(path, f"truncated: chunk {len(chunks)} header runs past byte {length}")
        size, kind = _CHUNK_HEADER.unpack_from(data, offset)
        start = offset + _CHUNK_HEADER.size
        if start + size > length:
            raise VrmError(
                path,
                f"truncated: chunk {len(chunks)} ({_chunk_name(kind)}) needs {size} bytes "
                f"from byte {start} but the file ends at {length}",
            )
        chunks.append((kind, data[start : start + size]))
        offset = start + size + (-size % 4)  # chunks start 4-byte aligned
    if not chunks or chunks[0][0] != CHUNK_JSON:
        found = _chunk_name(chunks[0][0]) if chunks else "nothing"
        raise VrmError(path, f"the first chunk must be JSON, found {found}")
    doc = _parse_json(path, chunks[0][1], "the JSON chunk")
    # Unknown chunk types are skipped, as the glTF spec asks; only the first BIN counts.
    bin_chunk = next((body for kind, body in chunks[1:] if kind == CHUNK_BIN), None)
    return doc, bin_chunk


def _chunk_name(kind: int) -> str:
    raw = struct.pack("<I", kind)
    return repr(raw.rstrip(b"\0").decode("ascii", "replace")) if raw.isascii() else hex(kind)


def _parse_json(path: Path, raw: bytes, where: str) -> dict:
    try:
        doc = json.loads(raw.decode("utf-8-sig").rstrip(" \t\r\n\0"))
    except UnicodeDecodeError as exc:
        raise VrmError(path, f"{where} is not UTF-8 text ({exc.reason} at byte {exc.start})")
    except json.JSONDecodeError as exc:
        raise VrmError(path, f"{where} is not valid JSON: {exc.msg} at char {exc.pos}") from None
    if not isinstance(doc, dict):
        raise VrmError(path, f"{where} is JSON but not an object")
    return doc


def _load_buffer(path: Path, index: int, buffer: dict, bin_chunk: bytes | None) -> bytes:
    length = buffer.get("byteLength")
    if not isinstance(length, int) or length < 0:
        raise VrmError(path, f"buffer {index} has no valid byteLength ({length!r})")
    uri = buffer.get("uri")
    if uri is None:
        if index != 0 or bin_chunk is None:
            raise VrmError(path, f"buffer {index} has no uri and there is no BIN chunk for it")
        data = bin_chunk
    else:
        data = read_uri(path, uri, f"buffer {index}")
    if len(data) < length:
        raise VrmError(
            path, f"buffer {index} is truncated: byteLength {length} but only {len(data)} bytes"
        )
    return data[:length]


def read_uri(path: Path, uri: str, what: str) -> bytes:
    """Bytes behind a glTF URI: a base64 `data:` URI or a file relative to the model."""
    if uri.startswith("data:"):
        header, sep, payload = uri.partition(",")
        if not sep or not header.endswith(";base64"):
            raise VrmError(path, f"{what}: only base64 data: URIs are supported")
        try:
            return base64.b64decode(payload, validate=False)
        except (binascii.Error, ValueError) as exc:
            raise VrmError(path, f"{what}: the data: URI is not valid base64 ({exc})") from None
    if "://" in uri or uri.startswith("/"):
        raise VrmError(path, f"{what}: only relative file URIs are supported, not {uri!r}")
    target = path.parent / unquote(uri)
    try:
        return target.read_bytes()
    except OSError as exc:
        raise VrmError(path, f"{what}: cannot read {uri!r} ({exc.strerror or exc})") from None


def data_uri_mime(uri: str) -> str | None:
    """The media type written in a `data:` URI, if any."""
    if not uri.startswith("data:"):
        return None
    media = uri[5:].split(",", 1)[0].split(";", 1)[0]
    return media or None
