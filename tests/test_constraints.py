"""The environments install from the locks kept in the repository, and the locks agree
with what pyproject.toml promises users: loosening either is a deliberate change."""

from __future__ import annotations

import json
import subprocess
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
MAIN_LOCK = ROOT / "scripts" / "constraints.txt"
XTTS_LOCK = ROOT / "scripts" / "constraints-xtts.txt"


def read_lock(path: Path) -> dict[str, str]:
    pins: dict[str, str] = {}
    for n, line in enumerate(path.read_text().splitlines(), 1):
        line = line.split("#")[0].strip()
        if not line:
            continue
        name, sep, ver = line.partition("==")
        assert sep and name and ver and " " not in ver, f"{path.name}:{n}: not name==version: {line!r}"
        pins[canonicalize_name(name)] = ver
    return pins


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def requirements(group: str | None) -> list[Requirement]:
    proj = project()
    raw = proj["dependencies"] if group is None else proj["optional-dependencies"][group]
    return [Requirement(r) for r in raw]


def test_locks_are_exact_pins():
    for lock in (MAIN_LOCK, XTTS_LOCK):
        assert len(read_lock(lock)) > 20, lock


@pytest.mark.parametrize("group", [None, "test"])
def test_the_main_lock_satisfies_pyproject(group):
    pins = read_lock(MAIN_LOCK)
    for req in requirements(group):
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is not in {MAIN_LOCK.name}"
        assert req.specifier.contains(pins[name], prereleases=True), \
            f"{MAIN_LOCK.name} pins {req.name}=={pins[name]}, pyproject asks {req}"


def test_the_xtts_lock_satisfies_the_xtts_extra():
    pins = read_lock(XTTS_LOCK)
    for req in requirements("xtts"):
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is not in {XTTS_LOCK.name}"
        assert req.specifier.contains(pins[name], prereleases=True), (req, pins[name])


def test_transformers_5_is_kept_out_of_the_xtts_voice():
    """transformers 5 breaks XTTS streaming ('NoneType' object has no attribute
    'get_seq_length'); coqui-tts 0.28 sets no upper bound, so vtbot does."""
    xtts = {canonicalize_name(r.name): r for r in requirements("xtts")}
    assert not xtts["transformers"].specifier.contains("5.0.0")
    assert read_lock(XTTS_LOCK)["transformers"].startswith("4.")


def test_this_environment_was_installed_from_the_lock():
    drift = []
    for name, pinned in read_lock(MAIN_LOCK).items():
        try:
            got = version(name)
        except PackageNotFoundError:
            continue  # a lock entry another platform needs
        if got != pinned:
            drift.append(f"{name}: {got} installed, {pinned} locked")
    assert drift == []


def test_the_xtts_environment_was_installed_from_its_lock():
    python = ROOT / ".venv-xtts" / "bin" / "python"
    if not python.exists():
        pytest.skip("the torch environment .venv-xtts is missing: run scripts/setup_xtts_env.sh")
    code = ("import json, importlib.metadata as m; "
            "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))")
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True).stdout
    installed = {canonicalize_name(k): v for k, v in json.loads(out).items()}
    drift = [f"{n}: {installed[n]} installed, {v} locked"
             for n, v in read_lock(XTTS_LOCK).items() if n in installed and installed[n] != v]
    assert drift == []
