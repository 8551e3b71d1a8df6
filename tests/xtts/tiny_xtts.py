"""Builds a tiny XTTS v2 model folder with coqui-tts's own classes and random weights.

Same files and layout as the official release (config.json, model.pth, vocab.json),
so the engine loads it through the real loading code; only the sizes are small.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SENTENCES = [
    "hello chat, welcome to the stream!",
    "thanks for the follow, you are awesome.",
    "what game should we play tonight?",
    "the quick brown fox jumps over the lazy dog.",
]


def build_vocab(path: Path) -> None:
    """A small BPE vocabulary with the special tokens XTTS's tokenizer relies on."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    specials = ["[STOP]", "[UNK]", "[SPACE]", "[START]", "[en]"]
    trainer = trainers.BpeTrainer(vocab_size=120, special_tokens=specials,
                                  initial_alphabet=list("abcdefghijklmnopqrstuvwxyz.,!?'-"))
    tok.train_from_iterator(SENTENCES * 4, trainer)
    tok.save(str(path))


def write_reference_wav(path: Path, seconds: float = 3.0, rate: int = 22050) -> None:
    """A voiced, vowel-like signal (harmonics with a moving pitch) as the voice to clone."""
    import soundfile

    t = np.arange(int(seconds * rate)) / rate
    f0 = 120 + 20 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    voice = sum(np.sin(k * phase) / k for k in range(1, 12))
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 3 * t) ** 2
    soundfile.write(str(path), (0.3 * voice * envelope / np.abs(voice).max()).astype(np.float32), rate)


def build_tiny_xtts(folder: Path, seed: int = 0) -> Path:
    import torch
    from TTS.tts.configs.xtts_config import XttsArgs, XttsConfig
    from TTS.tts.layers.xtts.tokenizer import VoiceBpeTokenizer
    from TTS.tts.models.xtts import Xtts

    folder.mkdir(parents=True, exist_ok=True)
    build_vocab(folder / "vocab.json")
    args = XttsArgs(
        gpt_layers=1, gpt_n_model_channels=64, gpt_n_heads=2,
        gpt_max_audio_tokens=40, gpt_max_text_tokens=120, gpt_max_prompt_tokens=24,
        gpt_num_audio_tokens=130, gpt_start_audio_token=128, gpt_stop_audio_token=129,
        gpt_use_perceiver_resampler=True, decoder_input_dim=64, d_vector_dim=512,
    )
    config = XttsConfig(model_args=args)
    config.save_json(str(folder / "config.json"))

    torch.manual_seed(seed)
    model = Xtts(config)
    model.tokenizer = VoiceBpeTokenizer(vocab_file=str(folder / "vocab.json"))
    model.init_models()
    with torch.no_grad():
        # random weights may pick the stop token at once; forbid it, so every run
        # speaks until the token limit and the streaming path is always exercised
        model.gpt.mel_head.bias[args.gpt_stop_audio_token] = -1e4
    torch.save({"model": model.state_dict(), "config": config.to_dict()}, folder / "model.pth")
    return folder
