#!/usr/bin/env python3
"""Runs Debian's OBS Studio headless, with its WebSocket server on, for tests and trials.

OBS gets a throw-away HOME whose global.ini turns the obs-websocket server on (with a
password, on a free port) and skips its first-run questions, and runs under
`xvfb-run -a` with Mesa's software OpenGL. (A bare `Xvfb -displayfd` without an
xauth cookie refused OBS's connection in CI; xvfb-run sets the cookie up.) Ready
means the port took a real obs-websocket login, not merely that it was open.

    python scripts/obs_headless.py [--port N] [--password P]    # Ctrl-C stops it

From Python: `with headless_obs(password="pw") as obs: ...` gives `obs.host`,
`obs.port`, `obs.password`, `obs.process`, and `obs.kill()`, `obs.stop()`,
`obs.start()`, `obs.restart()` to take OBS away mid-test and bring it back on the
same port with the same scenes (OBS saves its scene collection on every change),
and `obs.pause()` / `obs.resume()` to make it hang.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import websocket

# --multi: no "OBS is already running" dialog when another test's OBS is up.
# --disable-shutdown-check: OBS 30+ would offer safe mode after a kill; 29 ignores it.
OBS_ARGS = ("--multi", "--disable-shutdown-check", "--disable-missing-files-check")
SCREEN = "-screen 0 640x480x24 -nolisten tcp"  # OBS's canvas follows the screen: small is cheap
START_ATTEMPTS = 3


class _EarlyExit(Exception):
    """xvfb-run or OBS ended before OBS took a login."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def global_ini(port: int, password: str) -> str:
    """OBS 29's global.ini: the WebSocket server on, no first-run prompts."""
    return (
        "[General]\n"
        "FirstRun=true\n"  # OBS writes this itself after its first start
        "\n"
        "[OBSWebSocket]\n"
        "FirstLoad=false\n"  # else obs-websocket generates its own password and shows it
        "ServerEnabled=true\n"
        f"ServerPort={port}\n"
        "AlertsEnabled=false\n"
        "AuthRequired=true\n"
        f"ServerPassword={password}\n"
    )


def login(host: str, port: int, password: str, timeout: float = 2.0) -> None:
    """One obs-websocket v5 login (Hello, Identify, Identified); raises if it fails.

    Done by hand rather than with obsws-python, whose INFO log line shows the password.
    """
    ws = websocket.create_connection(f"ws://{host}:{port}", timeout=timeout)
    try:
        hello = json.loads(ws.recv())["d"]
        identify: dict[str, object] = {"rpcVersion": 1, "eventSubscriptions": 0}
        auth = hello.get("authentication")
        if auth:
            secret = base64.b64encode(hashlib.sha256((password + auth["salt"]).encode()).digest())
            identify["authentication"] = base64.b64encode(
                hashlib.sha256(secret + auth["challenge"].encode()).digest()).decode()
        ws.send(json.dumps({"op": 1, "d": identify}))
        reply = ws.recv()
        if not reply or json.loads(reply).get("op") != 2:
            raise PermissionError("OBS refused the login (wrong password?)")
    finally:
        ws.close()


class HeadlessObs:
    """One OBS instance under Xvfb: its HOME, port and password survive restarts."""

    def __init__(self, password: str | None = None, port: int | None = None, *,
                 host: str = "127.0.0.1", obs_binary: str = "obs", startup_timeout: float = 60.0):
        self.host = host
        self.port = port or free_port(host)
        self.password = password or secrets.token_urlsafe(16)
        self.obs_binary = obs_binary
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None  # xvfb-run, the group leader
        self.obs_pid: int | None = None
        self.root = Path(tempfile.mkdtemp(prefix="vtbot-obs-"))
        self.home = self.root / "home"
        self.log_path = self.root / "obs.log"
        self.startup_s: float | None = None  # how long the last start took
        self._write_config()

    def __repr__(self) -> str:  # no password
        return f"HeadlessObs(ws://{self.host}:{self.port}, running={self.running})"

    def _write_config(self) -> None:
        config = self.home / ".config" / "obs-studio"
        config.mkdir(parents=True, exist_ok=True)
        (config / "global.ini").write_text(global_ini(self.port, self.password))
        for d in ("tmp", "runtime"):
            (self.root / d).mkdir(mode=0o700, exist_ok=True)

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if k not in ("DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY", "DBUS_SESSION_BUS_ADDRESS",
                            "QT_QPA_PLATFORM", "XDG_CONFIG_HOME", "XDG_RUNTIME_DIR")}
        env.update(HOME=str(self.home), TMPDIR=str(self.root / "tmp"),
                   XDG_RUNTIME_DIR=str(self.root / "runtime"),
                   LIBGL_ALWAYS_SOFTWARE="1", QT_QPA_PLATFORM="xcb")
        return env

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        """Starts OBS and returns once a login works; RuntimeError (with OBS's log) if not."""
        if self.running:
            return
        for tool in ("xvfb-run", self.obs_binary):
            if shutil.which(tool) is None:
                raise RuntimeError(f"{tool} is not installed (scripts/setup.sh test installs it)")
        began = time.monotonic()
        for attempt in range(1, START_ATTEMPTS + 1):
            try:
                self._start_once(began + self.startup_timeout)
                break
            except _EarlyExit:
                # two `xvfb-run -a` starting at once can pick the same display number;
                # the loser's Xvfb fails at once, and a second try picks another
                if attempt == START_ATTEMPTS:
                    raise RuntimeError(f"OBS exited during start-up; its log ends:\n{self.log_tail()}") from None
                time.sleep(0.2 * attempt)
        self.startup_s = time.monotonic() - began

    def _start_once(self, deadline: float) -> None:
        pidfile = self.root / "obs.pid"
        pidfile.unlink(missing_ok=True)
        with open(self.log_path, "ab") as log:
            log.write(b"\n==== vtbot: starting OBS ====\n")
            log.flush()
            # the shell records OBS's own pid, then becomes OBS: kill() can hit OBS alone
            # and let xvfb-run clean its Xvfb and lock files up as usual
            self.process = subprocess.Popen(
                ["xvfb-run", "-a", "-s", SCREEN, "sh", "-c", 'echo $$ > "$0"; exec "$@"', str(pidfile),
                 self.obs_binary, *OBS_ARGS],
                env=self._env(), cwd=self.root, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self._wait_ready(pidfile, deadline)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, pidfile: Path, deadline: float) -> None:
        last = "no answer yet"
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise _EarlyExit()
            if self.obs_pid is None and pidfile.exists():
                with contextlib.suppress(ValueError):
                    self.obs_pid = int(pidfile.read_text().strip())
            if self.obs_pid is not None:
                try:
                    login(self.host, self.port, self.password)
                    return
                except PermissionError:
                    raise RuntimeError("OBS refused the password written to its global.ini") from None
                except (OSError, websocket.WebSocketException, ValueError, KeyError) as e:
                    last = f"{type(e).__name__}: {e}"
            time.sleep(0.1)
        raise RuntimeError(f"OBS did not accept a login on port {self.port} within "
                           f"{self.startup_timeout:.0f} s ({last}); its log ends:\n{self.log_tail()}")

    def kill(self) -> None:
        """Takes OBS away the hard way (SIGKILL), as a crash would."""
        self._signal_obs(signal.SIGKILL)

    def stop(self, timeout: float = 10.0) -> None:
        """Ends OBS (OBS 29 quits at once on SIGTERM), then Xvfb; idempotent."""
        self._signal_obs(signal.SIGTERM, timeout)

    def pause(self) -> None:
        """Freezes OBS (SIGSTOP): its sockets stay open but nothing answers, as in a hang."""
        if self.running and self.obs_pid is not None:
            os.kill(self.obs_pid, signal.SIGSTOP)

    def resume(self) -> None:
        """Lets a paused OBS go on (SIGCONT)."""
        if self.running and self.obs_pid is not None:
            os.kill(self.obs_pid, signal.SIGCONT)

    def restart(self) -> None:
        """Stops OBS if it runs, then starts it again on the same port and HOME."""
        self.stop()
        self.start()

    def _signal_obs(self, sig: signal.Signals, timeout: float = 10.0) -> None:
        process = self.process
        if process is None:
            return
        if process.poll() is None and self.obs_pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.obs_pid, sig)
                os.kill(self.obs_pid, signal.SIGCONT)  # a paused OBS would not see SIGTERM
        try:
            process.wait(timeout)  # xvfb-run returns once OBS is gone and Xvfb is down
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        self.process = None
        self.obs_pid = None

    def close(self) -> None:
        """Stops OBS and removes its HOME."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return "(no log)"

    def __enter__(self) -> HeadlessObs:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def headless_obs(password: str | None = None, port: int | None = None, **kwargs: object) -> Iterator[HeadlessObs]:
    """A started HeadlessObs, stopped and cleaned up on exit."""
    obs = HeadlessObs(password, port, **kwargs)  # type: ignore[arg-type]
    try:
        obs.start()
        yield obs
    finally:
        obs.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run OBS Studio headless with its WebSocket server on.")
    parser.add_argument("--port", type=int, default=None, help="WebSocket port (default: a free one)")
    parser.add_argument("--password", default=None, help="WebSocket password (default: random)")
    args = parser.parse_args(argv)
    stop = False

    def on_signal(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    with headless_obs(args.password, args.port) as obs:
        print(f"OBS is up at ws://{obs.host}:{obs.port} (password {obs.password}) after "
              f"{obs.startup_s:.1f} s; HOME {obs.home}; Ctrl-C stops it", flush=True)
        while not stop and obs.running:
            time.sleep(0.2)
        if not obs.running:
            print(f"OBS exited; its log ends:\n{obs.log_tail()}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
