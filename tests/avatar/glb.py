"""Test helpers: take binary glTF files apart and put edited ones back together.

The malformed-file and spring-bone tests start from a real sample model, change
its JSON (or its bytes), and write the result to tmp_path.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

JSON_CHUNK = 0x4E4F534A
BIN_CHUNK = 0x004E4942


def split_glb(data: bytes) -> tuple[dict, bytes]:
    """(JSON document, BIN chunk) of a well-formed .glb/.vrm."""
    json_len, _ = struct.unpack_from("<II", data, 12)
    doc = json.loads(data[20 : 20 + json_len])
    offset = 20 + json_len
    bin_len, _ = struct.unpack_from("<II", data, offset)
    return doc, data[offset + 8 : offset + 8 + bin_len]


def make_glb(doc: dict, binary: bytes = b"") -> bytes:
    """A .glb with the given JSON and BIN chunk, padded as the spec requires."""
    raw = json.dumps(doc).encode()
    raw += b" " * (-len(raw) % 4)
    chunks = struct.pack("<II", len(raw), JSON_CHUNK) + raw
    if binary:
        padded = binary + b"\0" * (-len(binary) % 4)
        chunks += struct.pack("<II", len(padded), BIN_CHUNK) + padded
    return struct.pack("<4sII", b"glTF", 2, 12 + len(chunks)) + chunks


def edited_copy(source: Path, target: Path, edit) -> Path:
    """Copy a .vrm with `edit(doc)` applied to its JSON."""
    doc, binary = split_glb(source.read_bytes())
    edit(doc)
    target.write_bytes(make_glb(doc, binary))
    return target
