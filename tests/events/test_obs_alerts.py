"""Alerts against a real, headless OBS: a cheer over the threshold shows a source and
switches the scene, and the scene comes back after the delay; with OBS killed, the bot
goes on and the alert's scene change happens once OBS is back."""

from __future__ import annotations

import asyncio

from pydantic import SecretStr

from events.actions import ActionRunner
from events.bus import EventBus
from events.journal import Journal
from events.model import StreamEvent
from events.obs import ObsClient
from events.rules import parse_rules
from tests.events.obs_fixture import (CELEBRATION, MAIN, SOURCE, admin, ensure_scenes, obs_config,  # noqa: F401
                                      obs_server, program_scene, wait_for)

RULES = {"rules": [{
    "name": "big cheer", "on": "cheer", "when": "bits >= 100",
    "do": [{"obs.source": {"source": SOURCE, "scene": CELEBRATION, "visible": True}},
           {"obs.scene": {"scene": CELEBRATION, "back_after_s": 1.0}}],
}]}


def item_enabled(server, scene: str, source: str) -> bool:
    with admin(server) as r:
        item = r.get_scene_item_id(scene, source).scene_item_id
        return r.get_scene_item_enabled(scene, item).scene_item_enabled


def hide(server, scene: str, source: str) -> None:
    with admin(server) as r:
        r.set_scene_item_enabled(scene, r.get_scene_item_id(scene, source).scene_item_id, False)


async def bus_with_obs(server, tmp_path):
    client = ObsClient(obs_config(server), SecretStr(server.password))
    await client.start()
    assert await client.wait_connected(20), client.state
    bus = EventBus(parse_rules(RULES), Journal(tmp_path / "journal.sqlite3"), ActionRunner(obs=client), gap_s=0)
    await bus.start()
    return bus, client


def cheer(mid: str, bits: int) -> StreamEvent:
    return StreamEvent(type="cheer", id=mid, source="twitch", user="Bob", bits=bits)


async def test_a_big_cheer_switches_scene_and_comes_back(obs_server, tmp_path):
    ensure_scenes(obs_server)
    hide(obs_server, CELEBRATION, SOURCE)
    bus, client = await bus_with_obs(obs_server, tmp_path)
    try:
        await client.set_scene(MAIN)
        assert await wait_for(lambda: client.current_scene == MAIN, 3)
        assert await bus.publish(cheer("small", 50)) == "no rule"
        assert program_scene(obs_server) == MAIN
        assert await bus.publish(cheer("big", 500)) == "queued"
        assert await wait_for(lambda: program_scene(obs_server) == CELEBRATION, 5)
        assert item_enabled(obs_server, CELEBRATION, SOURCE)
        assert await wait_for(lambda: program_scene(obs_server) == MAIN, 5)  # back after the delay
        await bus.idle()
        (entry,) = [h for h in bus.journal.history() if h["key"] == "twitch:big"]
        assert entry["actions"] == ["done", "done"]
        assert await bus.publish(cheer("big", 500)) == "duplicate"
    finally:
        await bus.close()
        await client.close()


async def test_obs_killed_mid_run_the_alert_waits_for_it(obs_server, tmp_path):
    ensure_scenes(obs_server)
    bus, client = await bus_with_obs(obs_server, tmp_path)
    try:
        await client.set_scene(MAIN)
        assert await wait_for(lambda: client.current_scene == MAIN, 3)
        hide(obs_server, CELEBRATION, SOURCE)
        obs_server.kill()
        assert await wait_for(lambda: not client.connected, 5)
        assert await bus.publish(cheer("while-down", 500)) == "queued"
        await bus.idle()  # the alert is not stuck behind OBS: its actions were queued by the client
        (entry,) = [h for h in bus.journal.history() if h["key"] == "twitch:while-down"]
        assert entry["actions"] == ["done", "done"]
        assert client.queued == 2
        obs_server.start()
        assert await client.wait_connected(30), client.state
        assert await wait_for(lambda: client.queued == 0, 10)
        assert await wait_for(lambda: program_scene(obs_server) == CELEBRATION, 5)
        assert item_enabled(obs_server, CELEBRATION, SOURCE)
        # and back to what OBS showed when it came back (a killed OBS may not have saved "Main")
        assert await wait_for(lambda: program_scene(obs_server) != CELEBRATION, 5)
    finally:
        await bus.close()
        await client.close()
        if not obs_server.running:
            obs_server.start()


async def test_doctor_checks_obs(obs_server, tmp_path, monkeypatch):
    from bot.config import load_config
    from bot.doctor import _obs_check

    (tmp_path / "vtbot.yaml").write_text(f"obs:\n  enabled: true\n  port: {obs_server.port}\n  timeout_s: 2\n")
    monkeypatch.setenv("VTBOT_OBS_PASSWORD", obs_server.password)
    ensure_scenes(obs_server)
    ok = await _obs_check(load_config(tmp_path / "vtbot.yaml"))
    assert ok.ok and "OBS 29" in ok.detail and CELEBRATION in ok.detail
    monkeypatch.setenv("VTBOT_OBS_PASSWORD", "wrong-password-123")
    bad = await _obs_check(load_config(tmp_path / "vtbot.yaml"))
    assert not bad.ok and "WebSocket Server Settings" in bad.detail
    assert "wrong-password-123" not in bad.detail
