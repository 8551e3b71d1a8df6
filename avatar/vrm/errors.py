"""The one error type the VRM loader raises.

Anything wrong with a model file (truncated, not glTF, indices out of range) ends
up as a `VrmError` whose message names the file and the problem, so the overlay
can show the streamer something useful instead of a numpy traceback.
"""

from __future__ import annotations

from pathlib import Path


class VrmError(ValueError):
    """A model file that cannot be read; the message starts with the file's name."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path.name}: {problem}")
