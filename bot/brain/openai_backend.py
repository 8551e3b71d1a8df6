"""Any OpenAI-compatible server (LM Studio, llama.cpp server, vLLM) as the brain."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from bot.config.models import OpenAIConfig

from .backend import BrainUnavailable, ChatMessage, GenerationParams, estimate_tokens


class OpenAIBackend:
    name = "openai"

    def __init__(self, cfg: OpenAIConfig, *, timeout_s: float = 30.0, api_key: str | None = None):
        import openai

        self.cfg = cfg
        self.timeout_s = timeout_s  # per read: how long a slow answer may pause before it is given up
        # Local servers ignore the key, but the client insists on one.
        self._client = openai.AsyncOpenAI(base_url=cfg.base_url, api_key=api_key or "not-needed",
                                          timeout=timeout_s, max_retries=0)

    def describe(self) -> str:
        return f"openai-compatible · {self.cfg.model} @ {self.cfg.base_url}"

    def _translate(self, e: Exception) -> BrainUnavailable:
        import httpx
        import openai

        # A timeout is an APIConnectionError to the client, but once connected the server is
        # up, only slow (busy, or reading a long prompt cold): "start it" would mislead.
        if isinstance(e, openai.APITimeoutError) and not isinstance(e.__cause__, httpx.ConnectTimeout):
            return BrainUnavailable(
                f"the OpenAI-compatible server at {self.cfg.base_url} did not answer within "
                f"{self.timeout_s:g} s: it is busy or slow (a smaller model, or raise "
                f"llm.request_timeout_s)")
        if isinstance(e, openai.APIConnectionError):
            return BrainUnavailable(
                f"the OpenAI-compatible server at {self.cfg.base_url} is not reachable: start it "
                f"(LM Studio, llama.cpp server, vLLM) or fix llm.openai.base_url")
        if isinstance(e, openai.AuthenticationError):
            return BrainUnavailable(
                "the server refused the API key: set VTBOT_OPENAI_API_KEY", retryable=False)
        if isinstance(e, openai.NotFoundError):
            return BrainUnavailable(
                f"the server has no model {self.cfg.model!r}: check llm.openai.model "
                f"(`vtbot doctor` lists what the server offers)", retryable=False)
        if isinstance(e, openai.APIStatusError):
            return BrainUnavailable(f"the server answered HTTP {e.status_code}: {e.message}")
        return BrainUnavailable(f"OpenAI-compatible request failed: {e.__class__.__name__}: {e}")

    async def available_models(self) -> list[str]:
        try:
            page = await self._client.models.list()
        except Exception as e:  # noqa: BLE001
            raise self._translate(e) from None
        return [m.id for m in page.data]

    async def load(self) -> None:
        models = await self.available_models()
        if models and self.cfg.model not in models:
            raise BrainUnavailable(
                f"the server has no model {self.cfg.model!r}; it offers: {', '.join(models[:8])} "
                f"(set llm.openai.model)", retryable=False)

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)

    async def stream(self, messages: Sequence[ChatMessage], params: GenerationParams) -> AsyncIterator[str]:
        try:
            stream = await self._client.chat.completions.create(
                model=self.cfg.model, messages=[m.as_dict() for m in messages], stream=True,
                max_tokens=params.max_tokens, temperature=params.temperature, top_p=params.top_p,
                stop=list(params.stop) or None,
            )
            async for chunk in stream:
                if chunk.choices:
                    text = chunk.choices[0].delta.content
                    if text:
                        yield text
        except Exception as e:  # noqa: BLE001 - translated into a plain message
            raise self._translate(e) from None

    async def close(self) -> None:
        await self._client.close()
