"""Ollama as the brain, through the official ``ollama`` client (streaming chat)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from bot.config.models import OllamaConfig

from .backend import BrainUnavailable, ChatMessage, GenerationParams, estimate_tokens


class OllamaBackend:
    name = "ollama"

    def __init__(self, cfg: OllamaConfig, *, timeout_s: float = 30.0, api_key: str | None = None):
        import ollama

        self.cfg = cfg
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else None
        self._client = ollama.AsyncClient(host=cfg.host, timeout=timeout_s, headers=headers)
        self._checked = False

    def describe(self) -> str:
        return f"ollama · {self.cfg.model} @ {self.cfg.host}"

    def _down(self) -> BrainUnavailable:
        return BrainUnavailable(
            f"Ollama is not reachable at {self.cfg.host}: start it with `ollama serve` "
            f"(or fix llm.ollama.host)", retryable=True)

    def _missing(self) -> BrainUnavailable:
        return BrainUnavailable(
            f"the Ollama model {self.cfg.model!r} is not installed: run `ollama pull {self.cfg.model}`",
            retryable=False)

    def _translate(self, e: Exception) -> BrainUnavailable:
        import httpx
        import ollama

        if isinstance(e, ollama.ResponseError):
            if e.status_code == 404 or "not found" in str(e.error).lower():
                return self._missing()
            return BrainUnavailable(f"Ollama answered HTTP {e.status_code}: {e.error}")
        if isinstance(e, (ConnectionError, httpx.TransportError)):
            return self._down()
        return BrainUnavailable(f"Ollama failed: {e.__class__.__name__}: {e}")

    async def load(self) -> None:
        """Check the server is up and the model is pulled, with a fix for each."""
        try:
            listing = await self._client.list()
        except Exception as e:  # noqa: BLE001 - translated into a plain message
            raise self._translate(e) from None
        names = {m.model for m in listing.models}
        wanted = self.cfg.model if ":" in self.cfg.model else f"{self.cfg.model}:latest"
        if self.cfg.model not in names and wanted not in names:
            raise self._missing()
        self._checked = True

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)

    async def stream(self, messages: Sequence[ChatMessage], params: GenerationParams) -> AsyncIterator[str]:
        options = {
            "temperature": params.temperature, "top_p": params.top_p,
            "repeat_penalty": params.repeat_penalty, "num_predict": params.max_tokens,
        }
        if params.stop:
            options["stop"] = list(params.stop)
        try:
            response = await self._client.chat(
                model=self.cfg.model, messages=[m.as_dict() for m in messages], stream=True,
                options=options, keep_alive=self.cfg.keep_alive)
            async for part in response:
                text = part.message.content if part.message else None
                if text:
                    yield text
        except BrainUnavailable:
            raise
        except Exception as e:  # noqa: BLE001 - translated into a plain message
            raise self._translate(e) from None

    async def close(self) -> None:
        client = getattr(self._client, "_client", None)
        if client is not None:
            await client.aclose()
