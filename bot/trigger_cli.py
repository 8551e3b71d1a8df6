"""`vtbot trigger`: post a rehearsal event to the running bot's trigger endpoint."""

from __future__ import annotations

from typing import Any

import aiohttp
from rich.console import Console

from bot.config.loader import LoadedConfig
from bot.stream_events import trigger_token


async def send_trigger(loaded: LoadedConfig, body: dict[str, Any], console: Console, err: Console) -> int:
    t = loaded.config.events.triggers
    host = "127.0.0.1" if t.host in ("0.0.0.0", "::") else t.host
    url = f"http://{host}:{t.port}/trigger"
    headers = {"Authorization": f"Bearer {trigger_token(loaded)}"}
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            async with session.post(url, json=body, headers=headers) as resp:
                answer = await resp.json(content_type=None)
    except aiohttp.ClientConnectorError:
        err.print(f"[bold red]trigger:[/] nothing listens on {url}: is `vtbot run` running "
                  "(with events.triggers.enabled)?")
        return 2
    except (aiohttp.ClientError, TimeoutError, ValueError) as e:
        err.print(f"[bold red]trigger:[/] {url} did not answer properly: {e}")
        return 2
    if not answer.get("ok"):
        err.print(f"[bold red]trigger refused:[/] {answer.get('error', answer)}")
        return 1
    result = answer.get("result")
    said = {"queued": "queued: watch the overlay", "duplicate": "already seen: ignored (same --id)",
            "no rule": "no rule applies to it (see your rules file)",
            "skipped": "skipped: too many alerts waiting"}.get(result, result)
    console.print(f"{body['type']} from {body.get('user', '?')}: {said}")
    return 0
