"""The moderation audit log rotates, so hours of busy chat never fill the disk."""

from __future__ import annotations

import json

from bot.moderation.audit import AuditLog
from bot.moderation.gate import Verdict


def test_audit_log_rotates_and_keeps_a_bounded_number_of_files(tmp_path):
    path = tmp_path / "moderation.jsonl"
    audit = AuditLog(path, max_bytes=2000, backups=2)
    for i in range(200):
        audit.record("input", Verdict(True, "ok", "", f"message {i}"), user=f"viewer{i}")
    audit.close()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["moderation.jsonl", "moderation.jsonl.1", "moderation.jsonl.2"]
    assert all(p.stat().st_size < 2000 + 300 for p in tmp_path.iterdir())
    assert audit.rotations > 2
    newest = [json.loads(line) for line in path.read_text().splitlines()]
    assert newest[-1]["user"] == "viewer199"  # the newest decisions are in the live file
    previous = [json.loads(line) for line in (tmp_path / "moderation.jsonl.1").read_text().splitlines()]
    assert previous[-1]["user"] == f"viewer{199 - len(newest)}"  # nothing lost between files
