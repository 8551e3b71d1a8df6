"""ObsClient against a real OBS Studio 29 (headless, under Xvfb).

Each test builds its own client on the module's OBS. The tests that kill or freeze
OBS bring it back (on the same port, with the same scenes) before they end.
"""

from __future__ import annotations

import logging
import threading

import pytest
from pydantic import SecretStr

from bot.config.models import ObsConfig
from events.obs import ObsClient, ObsNotConnectedError, ObsRequestError, RunResult
from events.sources.common import MASK

from .obs_fixture import (
    CELEBRATION,
    FILTER,
    MAIN,
    SOURCE,
    admin,
    ensure_scenes,
    obs_config,
    obs_server,
    program_scene,
    wait_for,
)

__all__ = ["obs_server"]  # the fixture, imported for pytest

CONNECT_S = 15.0


def obs_threads() -> list[str]:
    """Threads the client or obsws-python started and that are still running."""
    return [t.name for t in threading.enumerate() if t.name.startswith("vtbot-obs") or "(trigger)" in t.name]


async def connected_client(server, cfg: ObsConfig | None = None, **kw) -> ObsClient:
    client = ObsClient(cfg or obs_config(server), SecretStr(server.password), **kw)
    await client.start()
    assert await client.wait_connected(CONNECT_S), client.state
    return client


async def test_set_scene_switches_and_current_scene_follows_the_event(obs_server):
    ensure_scenes(obs_server)
    states: list[str] = []
    client = await connected_client(obs_server, on_state=states.append)
    try:
        assert {MAIN, CELEBRATION} <= set(await client.scenes())
        assert client.current_scene == program_scene(obs_server)  # read at connect
        assert "29." in (client.obs_version or "")

        for scene in (MAIN, CELEBRATION, MAIN):
            await client.set_scene(scene)
            assert program_scene(obs_server) == scene  # OBS switched at once...
            # ...the event comes once the 300 ms fade is over
            assert await wait_for(lambda s=scene: client.current_scene == s, 3.0), client.current_scene

        with admin(obs_server) as r:  # someone else switches: the event still reaches us
            r.set_current_program_scene(CELEBRATION)
        assert await wait_for(lambda: client.current_scene == CELEBRATION, 3.0)
    finally:
        await client.close()
    assert states[:2] == ["connecting", "connected"]
    assert states[-1] == "disconnected: closed"
    assert not client.connected
    assert obs_threads() == []


async def test_source_visibility_and_filter_toggle(obs_server):
    ensure_scenes(obs_server)
    with admin(obs_server) as r:
        r.set_current_program_scene(CELEBRATION)
        item = r.get_scene_item_id(CELEBRATION, SOURCE).scene_item_id

    def item_enabled() -> bool:
        with admin(obs_server) as r:
            return r.get_scene_item_enabled(CELEBRATION, item).scene_item_enabled

    def filter_enabled() -> bool:
        with admin(obs_server) as r:
            return r.get_source_filter(SOURCE, FILTER).filter_enabled

    client = await connected_client(obs_server)
    try:
        await client.set_source_visible(SOURCE, False, scene=CELEBRATION)
        assert item_enabled() is False
        await client.set_source_visible(SOURCE, True)  # the program scene, Celebration
        assert item_enabled() is True

        await client.set_filter_enabled(SOURCE, FILTER, False)
        assert filter_enabled() is False
        await client.set_filter_enabled(SOURCE, FILTER, True)
        assert filter_enabled() is True

        with pytest.raises(ObsRequestError) as e:
            await client.set_filter_enabled(SOURCE, "No Such Filter", True)
        assert e.value.code == 600 and "No Such Filter" in str(e.value)
        with pytest.raises(ObsRequestError) as e:
            await client.set_source_visible("No Such Source", True, scene=CELEBRATION)
        assert e.value.code == 600 and "No Such Source" in str(e.value)
    finally:
        await client.close()


async def test_missing_scene_is_a_clear_error_and_the_client_stays_connected(obs_server, caplog):
    ensure_scenes(obs_server)
    client = await connected_client(obs_server)
    try:
        with pytest.raises(ObsRequestError) as e:
            await client.set_scene("No Such Scene")
        err = e.value
        assert err.code == 600  # ResourceNotFound
        assert err.request_type == "SetCurrentProgramScene"
        assert "No Such Scene" in err.comment  # OBS's own words
        assert "scene 'No Such Scene'" in str(err) and "600" in str(err)
        logged = [r for r in caplog.records if r.name == "events.obs.client" and r.levelno == logging.WARNING]
        assert any("600" in r.getMessage() and "No Such Scene" in r.getMessage() for r in logged)

        assert client.connected
        await client.set_scene(MAIN)  # the connection still works
        assert program_scene(obs_server) == MAIN
        assert await client.run_or_queue("a scene that is not there",
                                         lambda c: c.set_scene("Nope")) is RunResult.FAILED
        assert await client.run_or_queue("main", lambda c: c.set_scene(MAIN)) is RunResult.RAN
        assert client.connected and client.queued == 0
    finally:
        await client.close()


async def test_wrong_password_is_reported_and_retried(obs_server, caplog):
    states: list[str] = []
    client = ObsClient(obs_config(obs_server), SecretStr("not-the-password"), on_state=states.append)
    await client.start()
    try:
        def failures() -> int:
            return sum(s.startswith("disconnected: authentication failed") for s in states)

        assert await wait_for(lambda: failures() >= 2, 10.0), states  # it keeps trying
        assert not client.connected
        assert states[0] == "connecting"
        assert any(r.levelno == logging.WARNING and "authentication failed" in r.getMessage()
                   for r in caplog.records)
        assert await client.run_or_queue("later", lambda c: c.set_scene(MAIN)) is RunResult.QUEUED
    finally:
        await client.close()
    assert client.queued == 0  # dropped on close, with a warning
    assert obs_threads() == []


async def test_obs_killed_mid_run_queues_and_replays_once_on_the_same_port(obs_server, caplog):
    caplog.set_level(logging.INFO)
    ensure_scenes(obs_server)
    states: list[str] = []
    client = await connected_client(obs_server, on_state=states.append)
    calls: list[str] = []

    async def celebrate(c: ObsClient) -> None:
        calls.append("celebrate")
        await c.set_scene(CELEBRATION)
        calls.append("done")

    try:
        await client.set_scene(MAIN)
        assert await wait_for(lambda: client.current_scene == MAIN, 3.0)

        obs_server.kill()
        assert await wait_for(lambda: client.state.startswith("disconnected"), 5.0), client.state
        assert not client.connected
        with pytest.raises(ObsNotConnectedError):
            await client.set_scene(CELEBRATION)
        assert await client.run_or_queue("celebrate", celebrate) is RunResult.QUEUED
        assert client.queued == 1 and calls == []
        refused = lambda: sum("connection refused" in s for s in states)  # noqa: E731
        assert await wait_for(lambda: refused() >= 2, 10.0), states  # it keeps knocking
        assert calls == [] and client.queued == 1

        obs_server.start()  # same port, same HOME: the scenes are back
        assert await client.wait_connected(CONNECT_S), client.state
        assert await wait_for(lambda: calls == ["celebrate", "done"], 5.0), calls
        assert client.queued == 0
        assert program_scene(obs_server) == CELEBRATION
        assert await wait_for(lambda: client.current_scene == CELEBRATION, 3.0)
        assert client.connected
        assert calls == ["celebrate", "done"]  # exactly once
        assert await client.run_or_queue("celebrate again", celebrate) is RunResult.RAN
        assert calls == ["celebrate", "done"] * 2
    finally:
        await client.close()
        if not obs_server.running:
            obs_server.start()
    i = states.index("connected")
    assert any(s.startswith("disconnected: ") for s in states[i:]), states
    assert "connected" in states[i + 1:], states
    assert any("queued celebrate: ran" in r.getMessage() for r in caplog.records)


async def test_a_hung_obs_is_caught_by_the_heartbeat_and_reconnected(obs_server):
    states: list[str] = []
    client = ObsClient(obs_config(obs_server, timeout_s=1.0), SecretStr(obs_server.password),
                       on_state=states.append, heartbeat_s=0.3)
    await client.start()
    try:
        assert await client.wait_connected(CONNECT_S), client.state
        obs_server.pause()  # the socket stays open: only the heartbeat can tell
        try:
            assert await wait_for(lambda: client.state.startswith("disconnected: timed out"), 5.0), states
            assert not client.connected
        finally:
            obs_server.resume()
        assert await client.wait_connected(CONNECT_S), client.state
        assert await client.scenes()
    finally:
        await client.close()
    assert obs_threads() == []


async def test_an_interrupted_action_is_retried_only_if_its_request_was_not_sent(obs_server):
    ensure_scenes(obs_server)
    client = await connected_client(obs_server, obs_config(obs_server, timeout_s=1.0))  # quick hang
    calls: list[str] = []

    async def while_hung(c: ObsClient) -> None:
        calls.append("hung")
        obs_server.pause()
        await c.set_scene(MAIN)  # sent, then no answer: OBS may act on it when it wakes

    async def while_dead(c: ObsClient) -> None:
        calls.append("dead")
        if calls.count("dead") == 1:
            obs_server.kill()
            assert await wait_for(lambda: not c.connected, 5.0)
        await c.set_scene(CELEBRATION)  # first time: never sent

    try:
        try:
            assert await client.run_or_queue("switch while hung", while_hung) is RunResult.FAILED
            assert client.queued == 0  # dropped, not retried
        finally:
            obs_server.resume()
        assert await client.wait_connected(CONNECT_S), client.state

        assert await client.run_or_queue("switch while dead", while_dead) is RunResult.QUEUED
        assert client.queued == 1
        obs_server.start()
        assert await client.wait_connected(CONNECT_S), client.state
        assert await wait_for(lambda: client.queued == 0 and calls.count("dead") == 2, 5.0), calls
        assert program_scene(obs_server) == CELEBRATION
        assert calls == ["hung", "dead", "dead"]
    finally:
        await client.close()
        obs_server.resume()
        if not obs_server.running:
            obs_server.start()


async def test_password_never_reaches_a_log_line_or_repr(obs_server, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = "wrong-secret-" + obs_server.password[::-1]
    good_client = await connected_client(obs_server)
    bad_client = ObsClient(obs_config(obs_server), SecretStr(wrong))
    await bad_client.start()
    try:
        with pytest.raises(ObsRequestError) as e:
            await good_client.set_scene("No Such Scene")
        assert await wait_for(lambda: bad_client.state.startswith("disconnected: authentication"), 10.0)
        shown = [repr(good_client), repr(bad_client), str(e.value), good_client.state, bad_client.state]
    finally:
        await good_client.close()
        await bad_client.close()

    text = caplog.text + "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    for secret in (obs_server.password, wrong):
        assert secret not in text
        assert all(secret not in s for s in shown)
    # obsws-python's own "Connecting with parameters: ... password='...'" line was caught and masked
    library = [r.getMessage() for r in caplog.records if r.name.startswith("obsws_python")]
    assert any("Connecting with parameters" in m and MASK in m for m in library), library


async def test_queue_is_bounded_and_drops_the_oldest(caplog):
    cfg = ObsConfig(enabled=True, host="127.0.0.1", port=1, timeout_s=1.0, reconnect_max_s=1.0,
                    queue_while_down=2)
    client = ObsClient(cfg, None)
    await client.start()
    try:
        for name in ("a", "b", "c"):
            assert await client.run_or_queue(name, lambda c: c.set_scene(MAIN)) is RunResult.QUEUED
        assert client.queued == 2
        assert any("dropped the oldest, a" in r.getMessage() for r in caplog.records)
        assert await wait_for(lambda: "connection refused" in client.state, 5.0), client.state
    finally:
        await client.close()
    off = ObsClient(cfg.model_copy(update={"queue_while_down": 0}), None)
    assert await off.run_or_queue("x", lambda c: c.set_scene(MAIN)) is RunResult.DROPPED
    await off.close()
