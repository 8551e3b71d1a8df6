"""Ollama and OpenAI-compatible backends against local servers speaking their APIs.

The OpenAI-compatible server is the real llama-cpp-python server running SmolLM2;
the Ollama server speaks Ollama's documented /api/tags and streaming /api/chat
(NDJSON) shapes, since Ollama itself cannot be installed here.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bot.brain import Brain, BrainUnavailable, ChatMessage, GenerationParams
from bot.brain.ollama_backend import OllamaBackend
from bot.brain.openai_backend import OpenAIBackend
from bot.config.models import LLMConfig, OllamaConfig, OpenAIConfig

from .conftest import free_port
from .llama_server import start_llama_server

PARAMS = GenerationParams(max_tokens=16, temperature=0.0, top_p=1.0)
MSGS = [ChatMessage("system", "You are Mochi."), ChatMessage("user", "coolguy42 says: hi")]


class FakeOllama(BaseHTTPRequestHandler):
    models = ["llama3.2:3b"]
    reply = ["Hi ", "cool", "guy42", "! ", "Welcome."]
    requests: list[dict] = []
    fail_next = 0

    def log_message(self, *args):  # keep test output clean
        pass

    def _json(self, code: int, doc: dict) -> None:
        body = json.dumps(doc).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/api/tags":
            self._json(200, {"models": [{"name": m, "model": m, "modified_at": "2026-11-01T10:00:00Z",
                                         "size": 2019393189, "digest": "a80c4f17acd5",
                                         "details": {"format": "gguf", "family": "llama",
                                                     "parameter_size": "3.2B",
                                                     "quantization_level": "Q4_K_M"}}
                                        for m in self.models]})
        else:
            self._json(404, {"error": "not found"})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeOllama.requests.append(body)
        if FakeOllama.fail_next:
            FakeOllama.fail_next -= 1
            self._json(503, {"error": "server busy"})
            return
        if body["model"] not in self.models:
            self._json(404, {"error": f"model \"{body['model']}\" not found, try pulling it first"})
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.end_headers()
        for part in self.reply:
            line = {"model": body["model"], "created_at": "2026-11-23T08:00:00Z",
                    "message": {"role": "assistant", "content": part}, "done": False}
            self.wfile.write((json.dumps(line) + "\n").encode())
            self.wfile.flush()
        done = {"model": body["model"], "created_at": "2026-11-23T08:00:01Z",
                "message": {"role": "assistant", "content": ""}, "done": True, "done_reason": "stop",
                "total_duration": 123456, "eval_count": len(self.reply)}
        self.wfile.write((json.dumps(done) + "\n").encode())


@pytest.fixture
def ollama_server():
    FakeOllama.requests = []
    FakeOllama.fail_next = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOllama)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def run(coro):
    return asyncio.run(coro)


async def collect(agen):
    return [x async for x in agen]


async def load_and_stream(backend):
    """One event loop for the client's whole life: load, stream the test prompt, close."""
    await backend.load()
    try:
        return await collect(backend.stream(MSGS, PARAMS))
    finally:
        await backend.close()


def test_ollama_streams_chat(ollama_server):
    deltas = run(load_and_stream(OllamaBackend(OllamaConfig(host=ollama_server, model="llama3.2:3b"))))
    assert "".join(deltas) == "Hi coolguy42! Welcome."
    req = FakeOllama.requests[-1]
    assert req["stream"] is True
    assert req["messages"][1] == {"role": "user", "content": "coolguy42 says: hi"}
    assert req["options"]["num_predict"] == 16 and req["options"]["temperature"] == 0.0


def test_ollama_missing_model_says_what_to_pull(ollama_server):
    cfg = OllamaConfig(host=ollama_server, model="qwen2.5:7b")
    with pytest.raises(BrainUnavailable, match=r"run `ollama pull qwen2.5:7b`") as e:
        run(OllamaBackend(cfg).load())
    assert not e.value.retryable
    with pytest.raises(BrainUnavailable, match="ollama pull qwen2.5:7b"):
        run(collect(OllamaBackend(cfg).stream(MSGS, PARAMS)))


def test_ollama_down_is_reported_plainly():
    backend = OllamaBackend(OllamaConfig(host=f"http://127.0.0.1:{free_port()}"), timeout_s=2)
    with pytest.raises(BrainUnavailable, match="Ollama is not reachable .* `ollama serve`") as e:
        run(backend.load())
    assert e.value.retryable


def test_brain_retries_a_busy_server_with_backoff(ollama_server, defaults):
    FakeOllama.fail_next = 1
    backend = OllamaBackend(OllamaConfig(host=ollama_server))
    brain = Brain(backend, defaults.config.persona, LLMConfig(retry_attempts=3))
    t = time.perf_counter()
    text = "".join(run(collect(brain.reply("coolguy42", "hi"))))
    assert text == "Hi coolguy42! Welcome."
    assert len(FakeOllama.requests) == 2
    assert time.perf_counter() - t >= 0.5  # waited before retrying


def test_brain_gives_up_after_retries_without_crashing(defaults):
    backend = OllamaBackend(OllamaConfig(host=f"http://127.0.0.1:{free_port()}"), timeout_s=1)
    brain = Brain(backend, defaults.config.persona, LLMConfig(retry_attempts=2))
    with pytest.raises(BrainUnavailable, match="not reachable"):
        run(collect(brain.reply("coolguy42", "hi")))


@pytest.fixture(scope="module")
def openai_server(tmp_path_factory):
    """The real llama-cpp-python OpenAI-compatible server, serving SmolLM2."""
    proc, url = start_llama_server(free_port(), tmp_path_factory.mktemp("llama-server") / "server.log")
    yield url
    proc.terminate()
    proc.wait(10)


def test_openai_compatible_server_streams(openai_server):
    deltas = run(load_and_stream(OpenAIBackend(OpenAIConfig(base_url=openai_server, model="smollm2"))))
    assert len(deltas) >= 3
    assert any(c.isalpha() for c in "".join(deltas))


def test_openai_unknown_model_lists_what_the_server_has(openai_server):
    backend = OpenAIBackend(OpenAIConfig(base_url=openai_server, model="gpt-9"))
    with pytest.raises(BrainUnavailable, match="no model 'gpt-9'; it offers: smollm2"):
        run(backend.load())


def test_openai_server_down():
    backend = OpenAIBackend(OpenAIConfig(base_url=f"http://127.0.0.1:{free_port()}/v1"), timeout_s=2)
    with pytest.raises(BrainUnavailable, match="not reachable"):
        run(collect(backend.stream(MSGS, PARAMS)))


def test_openai_slow_server_is_not_called_unreachable():
    """A server that takes the request but has not answered when the timeout runs out is up,
    only busy or slow: the client calls that a connection error, the streamer must not be told
    to start it."""
    import socket

    with socket.create_server(("127.0.0.1", 0)) as silent:  # connects (the backlog), never answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/v1"
        backend = OpenAIBackend(OpenAIConfig(base_url=url), timeout_s=0.3)
        with pytest.raises(BrainUnavailable, match=r"did not answer within 0\.3 s") as e:
            run(collect(backend.stream(MSGS, PARAMS)))
        run(backend.close())
    assert "not reachable" not in str(e.value) and e.value.retryable
