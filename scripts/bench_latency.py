#!/usr/bin/env python3
"""Latency benchmark of the speaking brain on the embedded defaults.

For 20 varied chat prompts: time from the chat line being accepted to the first
audio chunk being ready (TTFA), the LLM's first token and tokens/s, and the TTS
real-time factor; prints p50/p95 and writes JSON.

    .venv/bin/python scripts/bench_latency.py [--out FILE] [--config FILE] [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.brain import Brain, make_backend  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.cpu import cores, thread_split  # noqa: E402
from bot.speech.pipeline import ChatLine, Speaker, SpeechPipeline  # noqa: E402
from bot.speech.repeat_guard import RepeatGuard  # noqa: E402
from bot.speech.tts.factory import make_tts  # noqa: E402

PROMPTS = [
    ("coolguy42", "hi Mochi! how is your day going?"),
    ("pixelpanda", "what game should I play tonight?"),
    ("night_owl_77", "tell us something funny about cats"),
    ("ramen_lord", "pizza or ramen?"),
    ("speedrunner_x", "can you beat my record of 12 minutes?"),
    ("sleepy_sam", "I have to go to bed soon, any tips for sleeping well?"),
    ("artsy_amy", "I just finished a drawing of you!"),
    ("newviewer01", "first time here, what is this stream about?"),
    ("quizmaster", "what is the capital of France?"),
    ("musicfan", "what kind of music do you like?"),
    ("coolguy42", "do you remember what I asked you before?"),
    ("gamer_gurl", "favourite pokemon?"),
    ("techie", "how do computers think?"),
    ("chef_bob", "give me a quick recipe idea for dinner"),
    ("weatherman", "it is raining so hard here today"),
    ("bookworm", "recommend me a fantasy book"),
    ("lurker_99", "hello from Brazil!"),
    ("coach_k", "motivate me to go to the gym"),
    ("pixelpanda", "what would you do with a million dollars?"),
    ("night_owl_77", "say goodnight to chat"),
]


class NullSink:
    async def start(self, u): ...
    async def segment(self, s): ...
    async def finish(self, u, stats): ...
    async def close(self): ...


def pct(values: list[float], q: float) -> float | None:
    vals = sorted(v for v in values if v is not None)
    if not vals:
        return None
    k = (len(vals) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(vals) - 1)
    return vals[lo] + (vals[hi] - vals[lo]) * (k - lo)


def summary(values: list[float]) -> dict[str, float | None]:
    vals = [v for v in values if v is not None]
    return {"p50": pct(vals, 0.5), "p95": pct(vals, 0.95), "mean": statistics.fmean(vals) if vals else None,
            "min": min(vals, default=None), "max": max(vals, default=None), "n": len(vals)}


async def run(args: argparse.Namespace) -> dict:
    loaded = load_config(args.config)
    cfg = loaded.config
    tts = make_tts(cfg.tts)
    backend = make_backend(cfg.llm, loaded.secrets)
    t = time.perf_counter()
    await asyncio.gather(tts.load(), backend.load())
    load_s = time.perf_counter() - t
    brain = Brain(backend, cfg.persona, cfg.llm)
    await brain.warm_up()
    pipe = SpeechPipeline(brain, Speaker(tts, [NullSink()]), cfg.chunker, [RepeatGuard()])
    rows = []
    for r in range(args.rounds):
        for viewer, text in PROMPTS:
            stats = await pipe.respond(ChatLine(viewer, text))
            rows.append({"viewer": viewer, "prompt": text, **stats.as_dict()})
            print(f"  TTFA {stats.first_audio_s or float('nan'):.3f} s  first token "
                  f"{stats.first_token_s or float('nan'):.3f} s  "
                  f"{stats.tokens_per_s or float('nan'):5.1f} tok/s  RTF {stats.tts_rtf or float('nan'):.3f}"
                  f"  | {viewer}: {text}", flush=True)
    await tts.close()
    await backend.close()
    brain_threads, voice_threads = thread_split()
    return {
        "benchmark": "bench_latency",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"cores": cores(), "cpu": platform.processor() or platform.machine(),
                    "python": platform.python_version(), "os": platform.platform()},
        "config": {"llm": backend.describe(), "tts": getattr(tts, "describe", lambda: tts.name)(),
                   "llm_threads": cfg.llm.llamacpp.threads or brain_threads,
                   "tts_threads": cfg.tts.piper.threads or voice_threads,
                   "first_piece_min_chars": cfg.chunker.first_piece_min_chars,
                   "max_reply_tokens": cfg.persona.max_reply_tokens},
        "load_s": load_s,
        "goal": {"ttfa_p50_s": 0.8},
        "ttfa_s": summary([r["first_audio_s"] for r in rows]),
        "llm_first_token_s": summary([r["first_token_s"] for r in rows]),
        "llm_tokens_per_s": summary([r["tokens_per_s"] for r in rows]),
        "tts_rtf": summary([r["tts_rtf"] for r in rows]),
        "errors": sum(r["error"] is not None for r in rows),
        "runs": rows,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "bench_latency.json")
    ap.add_argument("--config", type=Path, default=None)
    ap.add_argument("--rounds", type=int, default=1)
    args = ap.parse_args()
    os.environ.setdefault("VTBOT_BENCH", "1")
    result = asyncio.run(run(args))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))

    def fmt(d, unit="s"):
        return f"p50 {d['p50']:.3f} {unit} · p95 {d['p95']:.3f} {unit}" if d["p50"] is not None else "n/a"

    print(f"\nmodels loaded in {result['load_s']:.2f} s · {result['config']}")
    print(f"TTFA (accepted → first audio chunk): {fmt(result['ttfa_s'])}   goal p50 ≤ 0.8 s")
    print(f"LLM first token:                     {fmt(result['llm_first_token_s'])}")
    print(f"LLM tokens/s:                        {fmt(result['llm_tokens_per_s'], 'tok/s')}")
    print(f"TTS real-time factor:                {fmt(result['tts_rtf'], '')}")
    print(f"errors: {result['errors']} · wrote {args.out}")


if __name__ == "__main__":
    main()
