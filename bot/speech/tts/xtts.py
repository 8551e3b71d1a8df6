"""Coqui XTTS v2: a cloned voice, streamed in chunks as the model speaks.

XTTS runs through coqui-tts (import name ``TTS``) on torch; neither is imported until
:meth:`XttsEngine.load`, so the bot imports and runs without them. The voice comes
from reference recordings (their conditioning latents are computed once and can be
cached on disk), or from one of the built-in speakers of ``speakers_xtts.pth``.

``Xtts.inference_stream`` is a blocking generator: it runs in a worker thread and its
chunks reach the event loop as they are made. When the consumer stops listening, a
stopping criterion handed to the model's token loop ends generation at the next
token instead of after the whole sentence. XTTS knows no phoneme timing, so chunks
carry ``phonemes=None`` and lip sync estimates the mouth from the audio.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import json
import logging
import os
import textwrap
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.aio import stream_from_thread
from bot.cpu import thread_split

from .base import AudioChunk, TTSError, float_to_int16

log = logging.getLogger(__name__)

#: what ``Xtts.load_checkpoint`` reads from ``checkpoint_dir`` (coqui-tts 0.28)
REQUIRED_FILES = ("config.json", "model.pth", "vocab.json")
#: read when present: the built-in speakers' latents (``speaker:``)
OPTIONAL_FILES = ("speakers_xtts.pth",)

INSTALL_HINT = (
    "install the xtts extra: pip install -e '.[xtts]' (coqui-tts, torch, torchaudio, "
    "torchcodec), or run scripts/setup_xtts_env.sh for a ready environment in .venv-xtts"
)
MODEL_HINT = (
    "The XTTS v2 release (Coqui Public Model License: non-commercial use) is on Hugging Face "
    "as coqui/XTTS-v2; for example `hf download coqui/XTTS-v2 config.json model.pth "
    "vocab.json speakers_xtts.pth --local-dir ~/models/xtts_v2` (the `hf` command comes with "
    "huggingface_hub, a coqui-tts dependency), or let coqui-tts fetch it: "
    "`COQUI_TOS_AGREED=1 tts --model_name tts_models/multilingual/multi-dataset/xtts_v2 "
    "--text hi --speaker_idx 'Claribel Dervla' --language_idx en` and use the folder it "
    "reports; then set tts.xtts.model_dir to that folder"
)
_LATENTS_FORMAT = 1


class XttsSettings(BaseModel):
    """Everything the XTTS engine needs; ``tts.xtts`` in the config has the same keys."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    model_dir: Path | None = None  # a folder with config.json, model.pth, vocab.json
    reference_wavs: list[Path] = Field(default_factory=list)  # the voice to clone
    speaker: str | None = None  # or a built-in speaker from speakers_xtts.pth
    speaker_latents: Path | None = None  # a file for the cloned voice's latents
    cache_latents: bool = True  # without speaker_latents: keep them beside the model
    language: str = "en"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    use_deepspeed: Literal["auto", "on", "off"] = "auto"
    half: bool = False  # float16 autocast on CUDA; ignored on the CPU
    stream_chunk_size: int = Field(20, ge=2, le=400)  # GPT tokens per audio chunk
    temperature: float = Field(0.75, gt=0.0, le=2.0)
    speed: float = Field(1.0, gt=0.2, le=3.0)
    threads: int = Field(0, ge=0, le=256)  # CPU only; 0: the voice's share of the cores

    @field_validator("use_deepspeed", mode="before")
    @classmethod
    def _bool_to_switch(cls, v: Any) -> Any:
        if isinstance(v, bool):
            return "on" if v else "off"
        return v


class _Cancelled(Exception):
    """Raised inside the model's token loop when the listener went away."""


def _fingerprint(paths: list[Path], extra: dict[str, Any]) -> str:
    h = hashlib.sha256(json.dumps(extra, sort_keys=True).encode())
    for p in paths:
        st = p.stat()
        h.update(f"{p.resolve()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:20]


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at spaces (XTTS's own splitter
    needs spaCy; the bot's chunker already keeps pieces short)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return [text] if text else []
    return textwrap.wrap(text, width=limit, break_long_words=True, break_on_hyphens=False)


class XttsEngine:
    """The :class:`~bot.speech.tts.base.TTSEngine` for Coqui XTTS v2."""

    name = "xtts"
    phoneme_timing = False  # the mouth follows Piper reading the same text (bot/speech/lipsync_link.py)

    def __init__(self, settings: XttsSettings | BaseModel | dict[str, Any] | None = None):
        if settings is None:
            settings = XttsSettings()
        elif not isinstance(settings, XttsSettings):
            data = settings.model_dump() if isinstance(settings, BaseModel) else dict(settings)
            settings = XttsSettings.model_validate(data)
        self.settings: XttsSettings = settings
        self._model = None
        self._latents: tuple[Any, Any] | None = None  # (gpt_cond_latent, speaker_embedding)
        self._device = "cpu"
        self._half = False
        self._deepspeed = False
        self._sample_rate: int | None = None
        self._lock = threading.Lock()  # one generation at a time: the model is stateful
        self._load_lock = asyncio.Lock()
        self.latents_source = ""  # where the voice came from: computed, cache or speaker

    # -- facts -------------------------------------------------------------------------

    @property
    def sample_rate(self) -> int:
        if self._sample_rate is None:
            raise TTSError("XTTS model not loaded yet")
        return self._sample_rate

    @property
    def device(self) -> str:
        return self._device

    @property
    def deepspeed(self) -> bool:
        return self._deepspeed

    def describe(self) -> str:
        s = self.settings
        voice = s.speaker or (", ".join(p.name for p in s.reference_wavs) or "no voice set")
        where = self._device + (" fp16" if self._half else "") + (" deepspeed" if self._deepspeed else "")
        return f"xtts · {voice} · {s.language} · {where}"

    def model_files(self) -> Path:
        """The model folder, checked: every required file is there."""
        expected = ", ".join(REQUIRED_FILES)
        if self.settings.model_dir is None:
            raise TTSError("tts.xtts.model_dir is not set: it must name a folder with the XTTS v2 "
                           f"files ({expected}). {MODEL_HINT}")
        d = Path(self.settings.model_dir).expanduser()
        if not d.is_dir():
            raise TTSError(f"XTTS model folder not found: {d} (tts.xtts.model_dir; expected a "
                           f"folder with {expected}). {MODEL_HINT}")
        missing = [f for f in REQUIRED_FILES if not (d / f).is_file()]
        if missing:
            raise TTSError(
                f"XTTS model folder {d} lacks {', '.join(missing)} (expected {expected}); "
                f"download the XTTS v2 release ({', '.join(OPTIONAL_FILES)} is optional: the "
                f"built-in speakers). {MODEL_HINT}")
        return d

    def check_voice(self) -> None:
        """The voice settings make sense and their files exist (no torch needed)."""
        s = self.settings
        if s.speaker and s.reference_wavs:
            raise TTSError("tts.xtts: set either speaker (a built-in voice) or reference_wavs "
                           "(a cloned voice), not both")
        latents = Path(s.speaker_latents).expanduser() if s.speaker_latents else None
        if not s.speaker and not s.reference_wavs and not (latents and latents.is_file()):
            raise TTSError("XTTS needs a voice: set tts.xtts.reference_wavs (6-30 s of clean "
                           "speech of the voice to clone) or tts.xtts.speaker (a built-in voice "
                           "from speakers_xtts.pth)"
                           + (f"; speaker_latents {latents} does not exist" if latents else ""))
        missing = [str(Path(p).expanduser()) for p in s.reference_wavs
                   if not Path(p).expanduser().is_file()]
        if missing:
            raise TTSError(f"tts.xtts.reference_wavs: reference audio not found: {', '.join(missing)}")

    # -- loading -------------------------------------------------------------------------

    async def load(self) -> None:
        async with self._load_lock:
            if self._model is None:
                await asyncio.to_thread(self._load_sync)

    def _load_sync(self) -> None:
        s = self.settings
        model_dir = self.model_files()
        self.check_voice()
        try:
            import torch
            from TTS.tts.configs.xtts_config import XttsConfig
            from TTS.tts.models.xtts import Xtts
        except ImportError as e:
            raise TTSError(f"XTTS needs coqui-tts and torch, which are not importable ({e}): "
                           f"{INSTALL_HINT}") from None

        self._device = self._pick_device(torch)
        self._deepspeed = self._pick_deepspeed()
        self._half = s.half and self._device == "cuda"
        if s.half and not self._half:
            log.warning("xtts: half precision needs CUDA; running in float32 on the CPU")
        if self._device == "cpu":
            threads = s.threads or thread_split()[1]
            torch.set_num_threads(threads)

        try:
            config = XttsConfig()
            config.load_json(str(model_dir / "config.json"))
        except Exception as e:  # noqa: BLE001 - json, type and coqpit errors
            raise TTSError(f"XTTS config {model_dir / 'config.json'} is not readable: {e}") from None
        lang = s.language.lower()
        langs = list(getattr(config, "languages", None) or [])
        if langs and lang not in langs and lang.split("-")[0] not in langs:
            raise TTSError(f"tts.xtts.language {s.language!r} is not one this model speaks: "
                           f"{', '.join(langs)}")
        try:
            model = Xtts(config)
            model.load_checkpoint(config, checkpoint_dir=str(model_dir), eval=True,
                                  use_deepspeed=self._deepspeed)
            model.to(self._device)
        except Exception as e:  # noqa: BLE001 - torch, pickle and shape errors
            raise TTSError(f"XTTS could not load the model in {model_dir}: {e}") from e
        self._model = model
        self._sample_rate = int(config.model_args.output_sample_rate)
        try:
            self._latents = self._load_voice(torch, model, config, model_dir)
        except BaseException:
            self._model = None
            self._sample_rate = None
            raise
        log.info("xtts: loaded %s on %s%s%s (voice from %s)", model_dir, self._device,
                 " fp16" if self._half else "", " with DeepSpeed" if self._deepspeed else "",
                 self.latents_source)

    def _pick_device(self, torch) -> str:
        want = self.settings.device
        has_cuda = bool(torch.cuda.is_available())
        if want == "cuda" and not has_cuda:
            raise TTSError("tts.xtts.device is cuda, but torch sees no CUDA device "
                           f"(torch {torch.__version__}, CUDA build: {torch.version.cuda})")
        if want == "auto":
            return "cuda" if has_cuda else "cpu"
        return want

    def _pick_deepspeed(self) -> bool:
        want = self.settings.use_deepspeed
        have = importlib.util.find_spec("deepspeed") is not None
        if want == "on":
            if not have:
                raise TTSError("tts.xtts.use_deepspeed is on, but deepspeed is not installed: "
                               "pip install deepspeed (CUDA only)")
            if self._device != "cuda":
                raise TTSError("tts.xtts.use_deepspeed is on, but XTTS runs on the CPU; "
                               "DeepSpeed inference needs CUDA")
            return True
        return want == "auto" and have and self._device == "cuda"

    # -- the voice -----------------------------------------------------------------------

    def _latents_file(self, model_dir: Path) -> Path | None:
        s = self.settings
        if s.speaker_latents is not None:
            return Path(s.speaker_latents).expanduser()
        if s.cache_latents and s.reference_wavs:
            return model_dir / f"vtbot-voice-{self._voice_key(model_dir)}.pt"
        return None

    def _voice_key(self, model_dir: Path) -> str:
        refs = [Path(p).expanduser() for p in self.settings.reference_wavs]
        return _fingerprint([model_dir / "model.pth", *refs], {"format": _LATENTS_FORMAT})

    def _load_voice(self, torch, model, config, model_dir: Path) -> tuple[Any, Any]:
        s = self.settings
        if s.speaker:
            manager = getattr(model, "speaker_manager", None)
            names = list(manager.speakers) if manager is not None else []
            if s.speaker not in names:
                where = (f"speakers_xtts.pth has {len(names)}: {', '.join(names[:8])}"
                         + (", ..." if len(names) > 8 else "")) if names else \
                    f"{model_dir / 'speakers_xtts.pth'} is missing"
                raise TTSError(f"tts.xtts.speaker {s.speaker!r} is not a built-in speaker ({where})")
            latents = manager.speakers[s.speaker]
            self.latents_source = f"built-in speaker {s.speaker}"
            return latents["gpt_cond_latent"], latents["speaker_embedding"]

        path = self._latents_file(model_dir)
        key = self._voice_key(model_dir) if s.reference_wavs else None
        if path is not None and path.is_file():
            cached = self._read_latents(torch, path)
            if cached is not None and (key is None or cached[2] == key):
                self.latents_source = f"cache {path}"
                return cached[0], cached[1]
        if not s.reference_wavs:
            raise TTSError(f"tts.xtts.speaker_latents {path} is not a readable voice file, and no "
                           "reference_wavs are set to compute one from")
        gpt_cond_latent, speaker_embedding = self._compute_latents(torch, model, config)
        self.latents_source = "reference wavs"
        if path is not None:
            self._write_latents(torch, path, gpt_cond_latent, speaker_embedding, key)
        return gpt_cond_latent, speaker_embedding

    def _compute_latents(self, torch, model, config) -> tuple[Any, Any]:
        """What ``Xtts.get_conditioning_latents`` does, but reading the recordings with
        soundfile: torchaudio.load needs torchcodec and FFmpeg from torch 2.9 on."""
        import soundfile
        import torchaudio

        load_sr = 22050
        max_ref = int(getattr(config, "max_ref_len", 30))
        audios, embeddings = [], []
        with torch.inference_mode():
            for p in self.settings.reference_wavs:
                p = Path(p).expanduser()
                try:
                    data, sr = soundfile.read(str(p), dtype="float32", always_2d=True)
                except Exception as e:  # noqa: BLE001 - libsndfile's errors
                    raise TTSError(f"cannot read reference recording {p}: {e}") from None
                if data.shape[0] == 0:
                    raise TTSError(f"reference recording {p} is empty")
                audio = torch.from_numpy(np.ascontiguousarray(data.mean(axis=1)))[None, :]
                if sr != load_sr:
                    audio = torchaudio.functional.resample(audio, sr, load_sr)
                audio = audio.clamp(-1.0, 1.0)[:, : load_sr * max_ref].to(self._device)
                if getattr(config, "sound_norm_refs", False):
                    audio = audio / audio.abs().max().clamp(min=1e-8) * 0.75
                embeddings.append(model.get_speaker_embedding(audio, load_sr))
                audios.append(audio)
            try:
                gpt_cond_latent = model.get_gpt_cond_latents(
                    torch.cat(audios, dim=-1), load_sr,
                    length=int(getattr(config, "gpt_cond_len", 30)),
                    chunk_length=int(getattr(config, "gpt_cond_chunk_len", 6)))
            except RuntimeError as e:  # "reference audio too short"
                raise TTSError(f"XTTS could not clone the voice: {e}") from None
            speaker_embedding = torch.stack(embeddings).mean(dim=0)
        return gpt_cond_latent, speaker_embedding

    @staticmethod
    def _read_latents(torch, path: Path) -> tuple[Any, Any, str | None] | None:
        try:
            d = torch.load(str(path), map_location="cpu", weights_only=True)
            if d.get("format") != _LATENTS_FORMAT:
                return None
            return d["gpt_cond_latent"], d["speaker_embedding"], d.get("key")
        except Exception as e:  # noqa: BLE001 - a stale or foreign file is recomputed
            log.warning("xtts: ignoring unreadable voice latents %s: %s", path, e)
            return None

    @staticmethod
    def _write_latents(torch, path: Path, gpt_cond_latent, speaker_embedding, key) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp")
            torch.save({"format": _LATENTS_FORMAT, "key": key,
                        "gpt_cond_latent": gpt_cond_latent.detach().cpu(),
                        "speaker_embedding": speaker_embedding.detach().cpu()}, str(tmp))
            os.replace(tmp, path)
        except OSError as e:
            log.warning("xtts: could not cache the voice latents in %s: %s", path, e)

    # -- speaking ------------------------------------------------------------------------

    def _generate(self, text: str, stop: threading.Event) -> Iterator[AudioChunk]:
        """Runs in the worker thread: XTTS's chunks for ``text`` as int16 PCM."""
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList

        class StopWhenAsked(StoppingCriteria):
            def __call__(self, input_ids, scores, **kwargs):
                if stop.is_set():
                    raise _Cancelled
                return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)

        model = self._model
        if model is None or self._latents is None:
            raise TTSError("XTTS model not loaded (or closed)")
        s, config = self.settings, model.config
        gpt_cond_latent, speaker_embedding = self._latents
        lang = s.language.lower()
        limit = model.tokenizer.char_limits.get(lang.split("-")[0], 250)
        n = 0
        for piece_index, piece in enumerate(split_text(text, limit)):
            gen = model.inference_stream(
                piece, lang, gpt_cond_latent, speaker_embedding,
                stream_chunk_size=s.stream_chunk_size, temperature=s.temperature, speed=s.speed,
                length_penalty=config.length_penalty, repetition_penalty=config.repetition_penalty,
                top_k=config.top_k, top_p=config.top_p, enable_text_splitting=False,
                stopping_criteria=StoppingCriteriaList([StopWhenAsked()]))
            autocast = (torch.autocast("cuda", dtype=torch.float16) if self._half
                        else _nullcontext())
            try:
                with autocast:
                    for wav in gen:
                        pcm = float_to_int16(wav.detach().float().cpu().numpy().reshape(-1))
                        if pcm.size:
                            yield AudioChunk(pcm, self.sample_rate, None, piece,
                                             {"engine": self.name, "piece": piece_index, "chunk": n})
                            n += 1
                        if stop.is_set():
                            return
            except _Cancelled:
                return
            except TTSError:
                raise
            except Exception as e:  # noqa: BLE001 - torch errors become the engine's
                raise TTSError(f"XTTS failed while speaking {piece[:60]!r}: {e}") from e
            finally:
                gen.close()

    async def stream(self, text: str) -> AsyncIterator[AudioChunk]:
        await self.load()
        if not text.strip():
            return
        async for chunk in stream_from_thread(lambda stop: self._generate(text, stop),
                                              lock=self._lock, name="vtbot-xtts"):
            yield chunk

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no generation runs (a stopped stream's worker has finished)."""
        if not self._lock.acquire(timeout=-1 if timeout is None else timeout):
            return False
        self._lock.release()
        return True

    async def close(self) -> None:
        await asyncio.to_thread(self.wait_idle, 30.0)
        model, self._model, self._latents = self._model, None, None
        if model is not None and self._device == "cuda":
            del model
            try:
                import torch

                torch.cuda.empty_cache()
            except Exception:  # noqa: BLE001 - best effort
                pass


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
