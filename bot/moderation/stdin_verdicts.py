"""`vtbot moderate`: chat lines in, one JSON verdict per line out.

A plain line is one message with no viewer: the checks that need no history run
(lists, rules, injection, links, floods). A JSON line with a ``user`` (and optionally
``text``, ``badges``, ``emotes``, ``ts`` in seconds) goes through exactly what live
chat goes through, history included: repeats, copy-pasta, cooldowns and the rate.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from bot.chat.message import ChatMessage

from .gate import Moderator, Verdict


class LineError(ValueError):
    pass


def parse_line(line: str, number: int) -> ChatMessage | str:
    """A ChatMessage for a JSON object line, else the text itself."""
    stripped = line.strip()
    if not stripped.startswith("{"):
        return line.rstrip("\r\n")
    try:
        data = json.loads(stripped)
    except json.JSONDecodeError as e:
        raise LineError(f"line {number}: not valid JSON ({e.msg}); write plain text or one JSON object") from None
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        raise LineError(f"line {number}: a JSON line needs a \"text\" string")
    user = data.get("user") or data.get("user_login") or "viewer"
    badges = data.get("badges") or []
    emotes = data.get("emotes") or []
    if not isinstance(badges, list) or not isinstance(emotes, list):
        raise LineError(f"line {number}: \"badges\" and \"emotes\" must be lists")
    return ChatMessage(data["text"], str(user), user_id=str(data.get("user_id", "")),
                       message_id=str(data.get("message_id", data.get("id", ""))),
                       badges=frozenset(str(b) for b in badges),
                       emotes=tuple(str(e) for e in emotes), source="stdin",
                       received_at=float(data["ts"]) if isinstance(data.get("ts"), (int, float)) else 0.0)


def verdicts(lines: Iterable[str], moderator: Moderator, *, interval_s: float = 1.0,
             deep: bool = True) -> Iterator[dict[str, Any]]:
    """One verdict per input line. JSON lines without ``ts`` are ``interval_s`` apart."""
    clock = 0.0
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = parse_line(line, number)
        except LineError as e:
            yield {"line": number, "error": str(e)}
            continue
        row: dict[str, Any] = {"line": number}
        if isinstance(item, ChatMessage):
            clock = item.received_at if item.received_at else clock + interval_s
            v = moderator.input.check(item, now=clock)
            row["user"] = item.user_login
        else:
            v = moderator.input.check_text(item)
        if v.allowed and deep:
            v = _deep(moderator, v)
        row.update(v.to_dict())
        yield row


def _deep(moderator: Moderator, v: Verdict) -> Verdict:
    deep = moderator.input.deep_check(v.text)
    return v if deep.allowed else deep
