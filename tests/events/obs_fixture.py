"""A real OBS Studio for the OBS client's tests: headless under Xvfb, once per module.

scripts/obs_headless.py does the starting; here are the fixture, an admin
obsws-python client for setting scenes up and checking OBS's side, and a polling wait.
"""

from __future__ import annotations

import asyncio
import importlib.util
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import obsws_python as obs
import pytest

from bot.config.models import ObsConfig

ROOT = Path(__file__).resolve().parents[2]
MAIN, CELEBRATION, SOURCE, FILTER = "Main", "Celebration", "Confetti", "Tint"


def load_headless() -> ModuleType:
    """scripts/ is not a package: load obs_headless.py by path."""
    name = "vtbot_obs_headless"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / "obs_headless.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="module")
def obs_server() -> Iterator[Any]:
    """One headless OBS for the module; a test that kills it must start it again."""
    if shutil.which("obs") is None:
        pytest.skip("the obs binary is missing: scripts/setup.sh test installs obs-studio")
    headless = load_headless()
    with headless.headless_obs() as server:
        yield server


def admin(server: Any) -> obs.ReqClient:
    """A plain obsws-python client for the test's own set-up and checks."""
    return obs.ReqClient(host=server.host, port=server.port, password=server.password, timeout=5)


def ensure_scenes(server: Any) -> None:
    """Scenes Main and Celebration; a colour source in Celebration with a colour filter."""
    with admin(server) as r:
        scenes = {s["sceneName"] for s in r.get_scene_list().scenes}
        for scene in (MAIN, CELEBRATION):
            if scene not in scenes:
                r.create_scene(scene)
        if SOURCE not in {i["inputName"] for i in r.get_input_list().inputs}:
            r.create_input(CELEBRATION, SOURCE, "color_source_v3",
                           {"color": 0xFF3366FF, "width": 64, "height": 64}, True)
        if FILTER not in {f["filterName"] for f in r.get_source_filter_list(SOURCE).filters}:
            r.create_source_filter(SOURCE, FILTER, "color_filter_v2", {"opacity": 0.8})


def program_scene(server: Any) -> str:
    with admin(server) as r:
        data = r.send("GetCurrentProgramScene", raw=True)
    return data.get("sceneName") or data["currentProgramSceneName"]


def obs_config(server: Any, **changes: Any) -> ObsConfig:
    """Short timeouts and a 1 s backoff ceiling, so reconnects in tests are quick."""
    values: dict[str, Any] = {"enabled": True, "host": server.host, "port": server.port, "timeout_s": 3.0,
                              "reconnect_max_s": 1.0, "queue_while_down": 20}
    values.update(changes)
    return ObsConfig(**values)


async def wait_for(condition: Callable[[], bool], timeout: float = 5.0, interval: float = 0.02) -> bool:
    """Polls `condition` until it holds or `timeout` seconds pass."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(interval)
    return True
