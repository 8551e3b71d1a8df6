"""`vtbot auth` (run_auth) against the fake Twitch: the accounts the config needs log in
one after the other, and `vtbot run`'s token loading then finds, validates and uses them."""

from __future__ import annotations

import asyncio
import io
import stat
from pathlib import Path

from rich.console import Console

from bot.config import load_config
from bot.live import load_twitch_tokens
from bot.twitch.login import run_auth

BOT_ID, OWNER_ID = "2914196", "1971641"


def config(tmp_path: Path, tw, bot_login: str = "mochibot"):
    (tmp_path / "vtbot.yaml").write_text(
        f"twitch:\n  enabled: true\n  client_id: {tw.client_id}\n  channel: streamer\n"
        f"  bot_login: {bot_login}\n  token_file: {tmp_path / 'tokens.json'}\n")
    return load_config(tmp_path / "vtbot.yaml", env={}, dotenv=Path("/nonexistent"))


async def test_auth_logs_in_both_accounts_then_run_loads_them(fake_twitch, tmp_path):
    tw = fake_twitch
    tw.device_interval = 0.05
    tw.add_user(BOT_ID, "mochibot")
    tw.add_user(OWNER_ID, "streamer")
    loaded = config(tmp_path, tw)
    out = io.StringIO()
    console = Console(file=out, width=200)

    async def approve_as_users_type_codes():
        for user_id in (OWNER_ID, BOT_ID):  # broadcaster first, then the bot
            grant = await tw.wait_for(lambda: next((g for g in tw.device_grants.values()
                                                    if g.state == "pending" and len(g.polls) >= 1), None),
                                      timeout=10, what="a polled device code")
            assert grant.user_code in out.getvalue()  # shown to the user before it is polled
            tw.approve_device(grant.user_code, user_id)

    approver = asyncio.create_task(approve_as_users_type_codes())
    rc = await run_auth(loaded, console, "all")
    await approver
    text = out.getvalue()
    assert rc == 0, text
    assert "✓ broadcaster: streamer" in text and "✓ bot: mochibot" in text
    assert "channel:bot" in text and "user:write:chat" in text  # the scopes and why
    assert stat.S_IMODE((tmp_path / "tokens.json").stat().st_mode) == 0o600
    for token in tw.tokens.values():
        if token.user_id:
            assert token.access not in text

    store, bot_token, broadcaster, secret = await load_twitch_tokens(loaded)
    assert (bot_token.login, broadcaster.login, secret) == ("mochibot", "streamer", None)


async def test_one_account_gets_both_scope_sets(fake_twitch, tmp_path):
    tw = fake_twitch
    tw.device_interval = 0.05
    tw.add_user(OWNER_ID, "streamer")
    loaded = config(tmp_path, tw, bot_login="")
    out = io.StringIO()

    async def approve():
        grant = await tw.wait_for(lambda: next(iter(tw.device_grants.values()), None), what="a code")
        assert {"user:write:chat", "channel:bot", "bits:read"} <= set(grant.scopes)
        tw.approve_device(grant.user_code, OWNER_ID)

    approver = asyncio.create_task(approve())
    assert await run_auth(loaded, Console(file=out, width=200), "all") == 0
    await approver
    _, bot_token, broadcaster, _ = await load_twitch_tokens(loaded)
    assert bot_token == broadcaster and broadcaster.login == "streamer"


async def test_auth_without_client_id_says_where_to_get_one(tmp_path):
    (tmp_path / "vtbot.yaml").write_text("twitch:\n  channel: streamer\n")
    loaded = load_config(tmp_path / "vtbot.yaml", env={}, dotenv=Path("/nonexistent"))
    out = io.StringIO()
    assert await run_auth(loaded, Console(file=out, width=200), "all") == 2
    assert "dev.twitch.tv/console/apps" in out.getvalue()
