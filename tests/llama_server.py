"""The real llama-cpp-python OpenAI-compatible server serving SmolLM2, started on a port."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def start_llama_server(port: int, log_path: Path, timeout: float = 60.0) -> tuple[subprocess.Popen, str]:
    """(process, base URL) once /v1/models answers; raises with the server's log if it dies."""
    from bot.brain.llamacpp_backend import embedded_model_path

    log = log_path.open("a+b")
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(embedded_model_path()),
         "--model_alias", "smollm2", "--host", "127.0.0.1", "--port", str(port),
         "--n_threads", "2", "--n_ctx", "1024"],
        stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/models", timeout=1).read()
            return proc, url
        except OSError:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(log.read().decode(errors="replace")[-2000:]) from None
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("llama_cpp.server did not start")
