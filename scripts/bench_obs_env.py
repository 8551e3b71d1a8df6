"""A headless OBS for scripts/bench_vfx.py --obs: two scenes, a connected ObsClient,
and a way to tell when OBS has put a scene on program (read from OBS itself)."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import obsws_python as obsws
from pydantic import SecretStr

ROOT = Path(__file__).resolve().parents[1]


def _headless_module():
    spec = importlib.util.spec_from_file_location("vtbot_obs_headless", ROOT / "scripts" / "obs_headless.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["vtbot_obs_headless"] = module
    spec.loader.exec_module(module)
    return module


async def obs_environment(run: Callable[[dict[str, Any]], Awaitable[dict]]) -> dict:
    from bot.config.models import ObsConfig
    from events.obs import ObsClient

    with _headless_module().headless_obs() as server:
        admin = obsws.ReqClient(host=server.host, port=server.port, password=server.password, timeout=5)
        names = {s["sceneName"] for s in admin.get_scene_list().scenes}
        for scene in ("Main", "Celebration"):
            if scene not in names:
                admin.create_scene(scene)
        changed: dict[str, float] = {}
        watcher = obsws.EventClient(host=server.host, port=server.port, password=server.password, timeout=5)
        # OBS's default Fade takes 300 ms before OBS reports the new program scene; a Cut
        # shows what vtbot itself adds
        admin.set_current_scene_transition("Cut")
        # obsws-python picks the event from the handler's name
        def on_current_program_scene_changed(data: Any) -> None:
            changed[data.scene_name] = time.perf_counter()

        watcher.callback.register(on_current_program_scene_changed)
        client = ObsClient(ObsConfig(enabled=True, host=server.host, port=server.port),
                           SecretStr(server.password))
        await client.start()
        if not await client.wait_connected(30):
            raise RuntimeError(f"OBS did not accept the client: {client.state}")

        async def reset() -> None:
            """Back to Main, and wait until OBS has said so: the next switch's event is
            then the one that counts."""
            asked = time.perf_counter()
            admin.set_current_program_scene("Main")
            deadline = asked + 5
            while changed.get("Main", 0) < asked and time.perf_counter() < deadline:
                await asyncio.sleep(0.005)
            changed.pop("Celebration", None)
            await asyncio.sleep(0.05)

        async def scene_reached(name: str, since: float) -> float:
            deadline = time.perf_counter() + 10
            while time.perf_counter() < deadline:
                if name in changed and changed[name] >= since:
                    return changed[name] - since
                await asyncio.sleep(0.001)
            raise TimeoutError(f"OBS never showed {name}")

        try:
            return await run({"client": client, "reset": reset, "scene_reached": scene_reached})
        finally:
            await client.close()
            watcher.disconnect()
            admin.disconnect()
