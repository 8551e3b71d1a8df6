"""What every benchmark does last: its figures as JSON, where the README says they are."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_json(path: Path, result: dict[str, Any]) -> int:
    """Write ``result`` to ``path`` (folders made), say so, and return the exit code 0."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path}")
    return 0
