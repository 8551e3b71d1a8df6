"""Node transforms: TRS <-> 4x4 matrices and rest-pose world matrices.

Matrices here are in math order (``m[row, col]``, translation in ``m[:3, 3]``),
float64 for the arithmetic; glTF stores them column-major, so a renderer that
uploads them to OpenGL passes ``transpose=GL_TRUE`` or sends ``m.T``.
Quaternions are glTF's ``(x, y, z, w)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

IDENTITY_QUAT = (0.0, 0.0, 0.0, 1.0)


def quat_to_matrix(q: Sequence[float]) -> np.ndarray:
    """3x3 rotation matrix of a (not necessarily unit) quaternion (x, y, z, w)."""
    x, y, z, w = (float(c) for c in q)
    n = x * x + y * y + z * z + w * w
    if n == 0.0:
        return np.eye(3)
    s = 2.0 / n
    return np.array(
        [
            [1 - s * (y * y + z * z), s * (x * y - z * w), s * (x * z + y * w)],
            [s * (x * y + z * w), 1 - s * (x * x + z * z), s * (y * z - x * w)],
            [s * (x * z - y * w), s * (y * z + x * w), 1 - s * (x * x + y * y)],
        ]
    )


def matrix_to_quat(r: np.ndarray) -> tuple[float, float, float, float]:
    """Unit quaternion (x, y, z, w) of a 3x3 rotation matrix (Shepperd's method)."""
    trace = r[0, 0] + r[1, 1] + r[2, 2]
    if trace > 0:
        s = 2.0 * np.sqrt(trace + 1.0)
        q = ((r[2, 1] - r[1, 2]) / s, (r[0, 2] - r[2, 0]) / s, (r[1, 0] - r[0, 1]) / s, s / 4)
    elif r[0, 0] >= r[1, 1] and r[0, 0] >= r[2, 2]:
        s = 2.0 * np.sqrt(1.0 + r[0, 0] - r[1, 1] - r[2, 2])
        q = (s / 4, (r[0, 1] + r[1, 0]) / s, (r[0, 2] + r[2, 0]) / s, (r[2, 1] - r[1, 2]) / s)
    elif r[1, 1] >= r[2, 2]:
        s = 2.0 * np.sqrt(1.0 + r[1, 1] - r[0, 0] - r[2, 2])
        q = ((r[0, 1] + r[1, 0]) / s, s / 4, (r[1, 2] + r[2, 1]) / s, (r[0, 2] - r[2, 0]) / s)
    else:
        s = 2.0 * np.sqrt(1.0 + r[2, 2] - r[0, 0] - r[1, 1])
        q = ((r[0, 2] + r[2, 0]) / s, (r[1, 2] + r[2, 1]) / s, s / 4, (r[1, 0] - r[0, 1]) / s)
    arr = np.array(q, dtype=np.float64)
    arr /= np.linalg.norm(arr)
    if arr[3] < 0:  # keep w >= 0 so equal rotations compare equal
        arr = -arr
    return tuple(float(c) for c in arr)  # type: ignore[return-value]


def compose(
    translation: Sequence[float], rotation: Sequence[float], scale: Sequence[float]
) -> np.ndarray:
    """The 4x4 matrix T * R * S, as glTF defines a node's local transform."""
    m = np.eye(4)
    m[:3, :3] = quat_to_matrix(rotation) * np.asarray(scale, dtype=np.float64)[None, :]
    m[:3, 3] = translation
    return m


def decompose(m: np.ndarray) -> tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]:
    """Translation, rotation (x, y, z, w) and scale of an affine TRS matrix.

    A negative determinant is given to the x scale; shear is not representable
    and is dropped (glTF forbids it for nodes that are animated anyway).
    """
    t = tuple(float(c) for c in m[:3, 3])
    basis = np.array(m[:3, :3], dtype=np.float64)
    s = np.linalg.norm(basis, axis=0)
    if np.linalg.det(basis) < 0:
        s[0] = -s[0]
    safe = np.where(s == 0, 1.0, s)
    r = matrix_to_quat(basis / safe[None, :]) if np.all(s != 0) else IDENTITY_QUAT
    return t, r, tuple(float(c) for c in s)


def parent_first(parents: Sequence[int]) -> list[int]:
    """Every node once, each after its parent (``parents``: -1 for roots; a forest)."""
    order: list[int] = []
    seen = [False] * len(parents)
    for start in range(len(parents)):
        chain = []
        node = start
        while node >= 0 and not seen[node]:
            chain.append(node)
            node = parents[node]
        for node in reversed(chain):
            seen[node] = True
            order.append(node)
    return order


def world_matrices(local: np.ndarray, parents: Sequence[int]) -> np.ndarray:
    """World matrices from local ones, given each node's parent (-1 for roots).

    Nodes are visited parent first; `parents` must describe a forest (the glTF
    reader checks that before calling this).
    """
    world = np.empty_like(local)
    for node in parent_first(parents):
        parent = parents[node]
        world[node] = local[node] if parent < 0 else world[parent] @ local[node]
    return world
