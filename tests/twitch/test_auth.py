"""Device Code Flow, token file and refresh, against the local fake Twitch."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import stat
import traceback
from collections.abc import Callable
from pathlib import Path

import pytest
import twitchio

from bot.twitch import auth
from bot.twitch.auth import (
    SCOPES,
    AuthError,
    DeviceCode,
    DeviceLoginDenied,
    DeviceLoginExpired,
    MissingScopes,
    Secret,
    StoredToken,
    TokenFileError,
    TokenRefreshFailed,
    TokenStore,
    default_token_path,
    device_code_login,
    ensure_fresh,
    refresh,
)
from tests.fakes.twitch_server import CATALOG, FakeTwitch

BOT_ID, OWNER_ID = "2914196", "1971641"


@pytest.fixture
def tw(fake_twitch: FakeTwitch) -> FakeTwitch:
    fake_twitch.device_interval = 0.05  # Twitch says 5 s; the client must honour what it gets
    fake_twitch.add_user(BOT_ID, "vtbot_bot")
    fake_twitch.add_user(OWNER_ID, "streamer")
    return fake_twitch


@pytest.fixture
def store(tmp_path: Path) -> TokenStore:
    return TokenStore(tmp_path / "config" / "vtbot" / "twitch-tokens.json")


def secrets_of(tw: FakeTwitch) -> set[str]:
    """Every credential the fake handed out or holds."""
    found = {tw.client_secret}
    for tok in tw.tokens.values():
        found.add(tok.access)
        if tok.refresh:
            found.add(tok.refresh)
    found.update(g.device_code for g in tw.device_grants.values())
    return found


class Approver:
    """Plays the user at twitch.tv/activate, after the client polled ``polls`` times."""

    def __init__(self, tw: FakeTwitch, act: Callable[[str], None], polls: int = 1) -> None:
        self.tw, self.act, self.polls = tw, act, polls
        self.codes: list[DeviceCode] = []
        self.task: asyncio.Task[None] | None = None

    def __call__(self, code: DeviceCode) -> None:
        self.codes.append(code)
        self.task = asyncio.create_task(self._run(code.user_code))

    async def _run(self, user_code: str) -> None:
        grant = self.tw.device_grant(user_code)
        await self.tw.wait_for(lambda: len(grant.polls) >= self.polls, what="the client to poll")
        self.act(user_code)


async def login(tw: FakeTwitch, approver: Approver, role: auth.Role = "bot",
                **kw: object) -> StoredToken:
    try:
        return await asyncio.wait_for(
            device_code_login(tw.client_id, role, on_code=approver, **kw),  # type: ignore[arg-type]
            timeout=10)
    finally:
        if approver.task is not None:
            await asyncio.gather(approver.task, return_exceptions=True)


# --------------------------------------------------------------------------- scopes


def test_scopes_are_minimal_known_and_explained() -> None:
    for role, scopes in SCOPES.items():
        assert twitchio.Scopes(list(scopes)).selected.__len__() == len(scopes), role
        for scope, reason in scopes.items():
            assert reason and "\n" not in reason and len(reason) < 90, scope
    assert {"user:read:chat", "user:write:chat", "user:bot"} <= SCOPES["bot"].keys()
    assert {"channel:bot", "bits:read", "channel:read:subscriptions",
            "channel:read:redemptions", "moderator:read:followers", "channel:read:hype_train"} == SCOPES["broadcaster"].keys()
    assert all("manage:banned_users" not in s for scopes in SCOPES.values() for s in scopes)


@pytest.mark.parametrize(("event", "role"), [
    (("channel.chat.message", "1"), "bot"),
    (("channel.follow", "2"), "bot"),
    (("channel.follow", "2"), "broadcaster"),
    (("channel.cheer", "1"), "broadcaster"),
    (("channel.subscribe", "1"), "broadcaster"),
    (("channel.subscription.gift", "1"), "broadcaster"),
    (("channel.subscription.message", "1"), "broadcaster"),
    (("channel.channel_points_custom_reward_redemption.add", "1"), "broadcaster"),
])
def test_each_event_vtbot_needs_is_covered_by_a_role(event, role) -> None:
    assert CATALOG[event].scopes & SCOPES[role].keys()


# --------------------------------------------------------------------------- device flow


async def test_device_flow_end_to_end(tw, store) -> None:
    approver = Approver(tw, lambda code: tw.approve_device(code, BOT_ID), polls=2)
    token = await login(tw, approver, store=store)

    [code] = approver.codes
    assert code.role == "bot" and len(code.user_code) == 8
    assert code.verification_uri.startswith("https://www.twitch.tv/activate")
    assert code.user_code in code.instructions()
    grant = tw.device_grant(code.user_code)
    assert len(grant.polls) >= 3  # two pending answers, then the token
    device_call = next(c for c in tw.oauth_calls if c.path == "/oauth2/device")
    assert set(device_call.params["scopes"].split()) == set(SCOPES["bot"])
    assert "client_secret" not in device_call.params  # a public client flow

    assert (token.user_id, token.login) == (BOT_ID, "vtbot_bot")
    assert set(token.scopes) == set(SCOPES["bot"])
    assert token.access_token.reveal() == tw.token_for_user(BOT_ID).access
    assert token.expires_at is not None and token.expires_at > token.obtained_at

    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
    assert store.get("bot") == token
    on_disk = json.loads(store.path.read_text())["tokens"]["bot"]
    assert on_disk["access_token"] == token.access_token.reveal()


async def test_device_flow_honours_interval_and_slow_down(tw) -> None:
    tw.device_interval = 0.1

    def act(code: str) -> None:
        tw.script_device(code, "slow_down")
        tw.approve_device(code, BOT_ID)

    approver = Approver(tw, act)
    await login(tw, approver, slow_down_step=0.2)
    polls = tw.device_grant(approver.codes[0].user_code).polls
    gaps = [b - a for a, b in zip(polls, polls[1:], strict=False)]
    assert len(polls) == 3  # pending, slow_down, token
    assert gaps[0] >= 0.1 * 0.95  # the announced interval
    assert gaps[1] >= 0.3 * 0.95  # interval + slow_down step


@pytest.mark.parametrize("twitch_says", ["invalid device code", "access_denied"])
async def test_denied_code_gives_a_clear_error(tw, store, twitch_says) -> None:
    approver = Approver(tw, lambda code: tw.deny_device(code, message=twitch_says))
    with pytest.raises(DeviceLoginDenied) as caught:
        await login(tw, approver, store=store)
    text = str(caught.value)
    assert "bot login was declined" in text and "Log in again" in text
    assert "twitch.tv/activate" in text and approver.codes[0].user_code in text
    assert approver.codes[0].device_code.reveal() not in text
    assert not store.path.exists()


async def test_unapproved_code_expires_with_a_clear_error(tw) -> None:
    """The login gives up when the code expires, not a poll interval later: the interval
    is an hour, so only a client that watches the expiry gets done (login's timeout is a
    safety net, far below that hour and far above the 0.3 s lifetime)."""
    tw.device_expires_in = 0.3
    tw.device_interval = 3600
    approver = Approver(tw, lambda code: None, polls=0)  # never approves
    with pytest.raises(DeviceLoginExpired, match="expired before it was approved"):
        await login(tw, approver)
    assert tw.device_grant(approver.codes[0].user_code).polls == []  # no poll was due


async def test_partial_approval_is_refused(tw, store) -> None:
    approver = Approver(tw, lambda code: tw.approve_device(
        code, OWNER_ID, scopes=["channel:bot", "bits:read"]))
    with pytest.raises(MissingScopes) as caught:
        await login(tw, approver, role="broadcaster", store=store)
    assert set(caught.value.missing) == {"channel:read:subscriptions", "channel:read:redemptions",
                                         "moderator:read:followers", "channel:read:hype_train"}
    assert "approve every permission" in str(caught.value)
    assert not store.path.exists()


async def test_wrong_client_id_names_the_console(tw) -> None:
    with pytest.raises(AuthError, match="dev.twitch.tv/console") as caught:
        await device_code_login("not-our-app", "bot", on_code=lambda code: None)
    assert "invalid client" in str(caught.value)


async def test_unknown_scope_is_a_programming_error(tw) -> None:
    with pytest.raises(ValueError, match="not:a:scope"):
        await device_code_login(tw.client_id, "bot", ["user:read:chat", "not:a:scope"],
                                on_code=lambda code: None)


# --------------------------------------------------------------------------- refresh


async def test_refresh_replaces_and_stores_the_pair(tw, store) -> None:
    approver = Approver(tw, lambda code: tw.approve_device(code, BOT_ID))
    first = await login(tw, approver, store=store)
    tw.expire_token(first.access_token.reveal())

    second = await refresh(tw.client_id, first, store=store)
    assert second.access_token != first.access_token
    assert second.refresh_token != first.refresh_token
    assert (second.user_id, second.role, second.scopes) == (first.user_id, "bot", first.scopes)
    assert store.get("bot") == second
    calls = [c for c in tw.oauth_calls if c.grant_type == "refresh_token"]
    assert calls[-1].params["refresh_token"] == first.refresh_token.reveal()

    # A public client's refresh token is single use: the old one now fails, clearly.
    with pytest.raises(TokenRefreshFailed, match="Log in again for the bot account"):
        await refresh(tw.client_id, first)


async def test_ensure_fresh_keeps_a_good_token_and_refreshes_a_dead_one(tw, store) -> None:
    approver = Approver(tw, lambda code: tw.approve_device(code, BOT_ID))
    token = await login(tw, approver, store=store)
    same = await ensure_fresh(tw.client_id, token, store=store)
    assert same.access_token == token.access_token
    tw.expire_token(token.access_token.reveal())
    fresh = await ensure_fresh(tw.client_id, token, store=store)
    assert fresh.access_token != token.access_token and store.get("bot") == fresh


async def test_secrets_never_reach_logs_or_errors(tw, store, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[BaseException] = []
    approver = Approver(tw, lambda code: tw.approve_device(code, BOT_ID))
    token = await login(tw, approver, store=store)
    tw.expire_token(token.access_token.reveal())
    token = await refresh(tw.client_id, token, store=store)
    tw.revoke_refresh(token.refresh_token.reveal())
    with pytest.raises(TokenRefreshFailed) as failed:
        await refresh(tw.client_id, token, client_secret=tw.client_secret)
    errors.append(failed.value)
    with pytest.raises(DeviceLoginDenied) as denied:
        await login(tw, Approver(tw, lambda code: tw.deny_device(code)))
    errors.append(denied.value)

    shown = [caplog.text, repr(token), str(token), f"{token}", repr(store), repr(store.load())]
    for err in errors:
        assert err.__cause__ is None and err.__context__ is None  # nothing chained
        shown.append("".join(traceback.format_exception(err)))
    leaked = [s for s in secrets_of(tw) for text in shown if s in text]
    assert not leaked
    assert "Twitch bot login approved for vtbot_bot" in caplog.text


# --------------------------------------------------------------------------- token file


def _token(role: auth.Role = "bot", user_id: str = BOT_ID) -> StoredToken:
    import datetime as dt

    return StoredToken(role=role, user_id=user_id, login="someone",
                       access_token=Secret("access-abc123"), refresh_token=Secret("refresh/xyz="),
                       scopes=("user:read:chat",),
                       obtained_at=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC))


def test_secret_is_masked_everywhere() -> None:
    s = Secret("hunter2-token")
    assert "hunter2" not in repr(s) + str(s) + f"{s}" + f"{s!r}" + format(s, ">20")
    assert s == Secret("hunter2-token") and s != Secret("other") and s.reveal() == "hunter2-token"
    assert "access-abc123" not in repr(_token())


def test_store_round_trip_is_atomic_and_private(store) -> None:
    old_umask = os.umask(0)  # the file must still come out 0600
    try:
        store.save(_token("bot"))
    finally:
        os.umask(old_umask)
    first_inode = store.path.stat().st_ino
    store.save(_token("broadcaster", OWNER_ID))
    assert store.path.stat().st_ino != first_inode  # a new file renamed into place
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert sorted(p.name for p in store.path.parent.iterdir()) == [store.path.name]
    assert store.load() == {"bot": _token("bot"), "broadcaster": _token("broadcaster", OWNER_ID)}
    assert store.remove("bot") and not store.remove("bot")
    assert list(store.load()) == ["broadcaster"]


def test_too_open_file_is_fixed_with_a_warning(store, caplog) -> None:
    store.save(_token())
    os.chmod(store.path, 0o644)
    with caplog.at_level(logging.WARNING, logger="bot.twitch.auth"):
        assert store.get("bot") == _token()
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert "could be read by other users (mode 644)" in caplog.text
    assert "access-abc123" not in caplog.text


def test_damaged_file_says_what_to_do(store) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.write_text('{"tokens": {"bot": {"user_id": "1", "access_token": "access-abc123"}}}')
    with pytest.raises(TokenFileError, match="log in again for the bot account") as caught:
        store.load()
    assert "access-abc123" not in str(caught.value)
    store.path.write_text("not json")
    with pytest.raises(TokenFileError, match="remove it and log in again"):
        store.load()


def test_default_path_follows_xdg(tmp_path) -> None:
    assert default_token_path({"XDG_CONFIG_HOME": str(tmp_path)}) == (
        tmp_path / "vtbot" / "twitch-tokens.json")
    assert default_token_path({"XDG_CONFIG_HOME": "relative", "HOME": str(tmp_path)}) == (
        tmp_path / ".config" / "vtbot" / "twitch-tokens.json")
    assert default_token_path({"HOME": "/home/streamer"}) == Path(
        "/home/streamer/.config/vtbot/twitch-tokens.json")


def test_store_inside_a_git_tree_warns(tmp_path, caplog) -> None:
    (tmp_path / ".git").mkdir()
    with caplog.at_level(logging.WARNING, logger="bot.twitch.auth"):
        TokenStore(tmp_path / "tokens.json").save(_token())
    assert "inside a git work tree" in caplog.text
