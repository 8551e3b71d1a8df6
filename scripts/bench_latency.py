#!/usr/bin/env python3
"""Latency benchmark of the speaking brain on the shipped defaults, as `vtbot demo` runs them.

The bot is built by the same code as `vtbot demo` (bot.app.build_runtime): the
embedded SmolLM2 and Piper voice, the sample lore, viewer notes, the mood reader and
the output moderation. For 20 varied chat prompts it measures, from the chat line
being accepted, the LLM's first token and the first audio chunk (TTFA), and breaks
the TTFA down: the lookups (lore, notes), the prompt prefill (and how many prompt
tokens llama.cpp reused from its cache), the first clause's tokens, and the voice's
first chunk. Prints p50/p95 and writes JSON.

Like the live bot, each line is answered once the previous answer has been heard
(its audio's duration is waited out, as the demo waits for the speakers);
``--back-to-back`` sends the next line as soon as the voice has finished computing,
the worst case.

    .venv/bin/python scripts/bench_latency.py [--out FILE] [--config FILE] [--rounds N] [--back-to-back]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

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


class Listener:
    """Stands in for the speakers: an answer ends once its audio would have been heard."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self._ends_at = 0.0

    async def start(self, u): ...

    async def segment(self, s) -> None:
        self._ends_at = max(time.perf_counter(), self._ends_at) + s.duration_s

    async def finish(self, u, stats) -> None:
        if self.enabled:
            await asyncio.sleep(max(0.0, self._ends_at - time.perf_counter()))

    async def close(self): ...


@dataclass
class Probe:
    """Times what happens inside one answer without changing it: the lookups, llama.cpp's
    evaluations (prompt tokens read, tokens reused from the cache) and mood readings."""

    evals: list[tuple[float, float, int, int]] = field(default_factory=list)  # (start, end, n_past, n_new)
    lookups: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    moods: list[tuple[float, float]] = field(default_factory=list)
    shares: list[tuple[float, bool, float | None]] = field(default_factory=list)  # (when, borrowed, others' cores)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def watch_llama(self, llm: Any) -> None:
        inner = llm.eval

        def timed_eval(tokens):
            n_past, t = llm.n_tokens, time.perf_counter()
            try:
                return inner(tokens)
            finally:
                with self.lock:
                    self.evals.append((t, time.perf_counter(), n_past, len(tokens)))

        llm.eval = timed_eval

    def watch_share(self, share: Any) -> None:
        inner = share.lend

        def timed() -> bool:
            lent = inner()
            with self.lock:
                self.shares.append((time.perf_counter(), lent, share.others_cores))
            return lent

        share.lend = timed

    def watch_provider(self, provider: Any) -> None:
        inner = provider.context
        spans = self.lookups.setdefault(provider.name, [])

        async def timed(asker):
            t = time.perf_counter()
            try:
                return await inner(asker)
            finally:
                spans.append((t, time.perf_counter()))

        provider.context = timed

    def watch_mood(self, reader: Any) -> None:
        inner = reader.read

        def timed(text):
            t = time.perf_counter()
            try:
                return inner(text)
            finally:
                with self.lock:
                    self.moods.append((t, time.perf_counter()))

        reader.read = timed

    def turn(self, t0: float, first_token_at: float | None) -> dict[str, Any]:
        """The breakdown of the answer accepted at ``t0`` (perf_counter seconds)."""
        lookup_end = max((e for spans in self.lookups.values() for s, e in spans if s >= t0), default=None)
        with self.lock:
            prompt_evals = [ev for ev in self.evals if ev[0] >= t0 and ev[3] > 1
                            and (first_token_at is None or ev[0] < first_token_at)]
            moods = [m for m in self.moods if m[0] >= t0]
            shares = [sh for sh in self.shares if sh[0] >= t0 and (first_token_at is None or sh[0] < first_token_at)]
        out: dict[str, Any] = {
            "lookup_s": None if lookup_end is None else lookup_end - t0,
            **{f"lookup_{name.replace(' ', '_')}_s": max((e - s for s, e in spans if s >= t0), default=None)
               for name, spans in self.lookups.items()},
            "prefill_s": sum(e - s for s, e, _, _ in prompt_evals) if prompt_evals else None,
            "prefill_tokens": sum(n for *_, n in prompt_evals),
            "cached_tokens": prompt_evals[-1][2] if prompt_evals else None,
            "mood_read_s": statistics.fmean([e - s for s, e in moods]) if moods else None,
            # whether the prompt was read on the voice's cores too (no: other programs were busy on them)
            "prefill_borrowed_cores": shares[-1][1] if shares else None,
            "others_busy_cores": shares[-1][2] if shares else None,
        }
        if prompt_evals:
            out["wait_before_prefill_s"] = prompt_evals[-1][0] - t0 - sum(
                e - s for s, e, _, _ in prompt_evals[:-1])
        return out


def pct(values: list[float], q: float) -> float | None:
    vals = sorted(v for v in values if v is not None)
    if not vals:
        return None
    k = (len(vals) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(vals) - 1)
    return vals[lo] + (vals[hi] - vals[lo]) * (k - lo)


def summary(values: list[float | None]) -> dict[str, float | None]:
    vals = [v for v in values if v is not None]
    return {"p50": pct(vals, 0.5), "p95": pct(vals, 0.95), "mean": statistics.fmean(vals) if vals else None,
            "min": min(vals, default=None), "max": max(vals, default=None), "n": len(vals)}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


async def run(args: argparse.Namespace) -> dict:
    from rich.console import Console

    from bot.app import build_runtime
    from bot.config import load_config
    from bot.cpu import cores, thread_split
    from bot.speech.pipeline import ChatLine

    loaded = load_config(args.config)
    cfg = loaded.config
    listener = Listener(enabled=not args.back_to_back)
    t = time.perf_counter()
    rt = await build_runtime(loaded, Console(quiet=True), with_brain=True, play=False, out_dir=None,
                             extra_sinks=[listener], demo=True)
    load_s = time.perf_counter() - t
    brain, mind = rt.brain, rt.mind
    probe = Probe()
    llm = getattr(brain.backend, "_llm", None)
    if llm is not None:
        probe.watch_llama(llm)
    if getattr(brain.backend, "cpu_share", None) is not None:
        probe.watch_share(brain.backend.cpu_share)
    for provider in brain.context:
        probe.watch_provider(provider)
    if mind.mood is not None:
        probe.watch_mood(mind.mood)
    rows = []
    try:
        for r in range(args.rounds):
            for viewer, text in PROMPTS:
                if mind.viewers is not None:  # as the chat flow does for every line that passed moderation
                    mind.viewers.observe(viewer, viewer, text)
                line = ChatLine(viewer, text, login=viewer)
                stats = await rt.pipeline.respond(line)
                first_token_at = None if stats.first_token_s is None else line.accepted_at + stats.first_token_s
                parts = probe.turn(line.accepted_at, first_token_at)
                clause = (None if stats.first_piece_s is None or stats.first_token_s is None
                          else stats.first_piece_s - stats.first_token_s)
                row = {"viewer": viewer, "prompt": text, **stats.as_dict(), **parts,
                       "first_clause_s": clause, "context_chars": sum(len(c) for c in brain.last_context)}
                rows.append(row)
                print(f"  TTFA {stats.first_audio_s or float('nan'):.3f} s  token {stats.first_token_s or float('nan'):.3f}"
                      f"  lookup {parts['lookup_s'] or 0:.3f}  prefill {parts['prefill_s'] or 0:.3f} s"
                      f" ({parts['prefill_tokens']} read, {parts['cached_tokens']} cached)"
                      f"  clause {clause or float('nan'):.3f}  voice {stats.tts_first_chunk_s or float('nan'):.3f}"
                      f"  | {viewer}: {text}", flush=True)
    finally:
        await rt.close()
    brain_threads, voice_threads = thread_split()
    col = lambda key: [r.get(key) for r in rows]  # noqa: E731
    return {
        "benchmark": "bench_latency",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"cpu": cpu_model(), "cores": cores(), "logical_cpus": os.cpu_count(),
                    "arch": platform.machine(), "python": platform.python_version(), "os": platform.platform()},
        "config": {"llm": brain.backend.describe(), "tts": getattr(rt.tts, "describe", lambda: rt.tts.name)(),
                   "llm_threads": cfg.llm.llamacpp.threads or brain_threads,
                   "tts_threads": cfg.tts.piper.threads or voice_threads,
                   "lore": mind.knowledge is not None and f"{mind.knowledge.size} passages",
                   "viewer_notes": mind.viewers is not None, "moods": mind.mood is not None,
                   "context": [p.name for p in brain.context],
                   "pacing": "back-to-back" if args.back_to_back else "after each answer is heard",
                   "first_piece_min_chars": cfg.chunker.first_piece_min_chars,
                   "max_reply_tokens": cfg.persona.max_reply_tokens},
        "load_s": load_s,
        "goal": {"ttfa_p50_s": 0.6},
        "ttfa_s": summary(col("first_audio_s")),
        "llm_first_token_s": summary(col("first_token_s")),
        "llm_tokens_per_s": summary(col("tokens_per_s")),
        "tts_rtf": summary(col("tts_rtf")),
        # where the TTFA goes, in order: lookups, prompt prefill, first clause, voice's first chunk
        "breakdown": {
            "lookup_s": summary(col("lookup_s")),
            "lookup_knowledge_s": summary(col("lookup_knowledge_s")),
            "lookup_viewer_notes_s": summary(col("lookup_viewer_notes_s")),
            "wait_before_prefill_s": summary(col("wait_before_prefill_s")),
            "prefill_s": summary(col("prefill_s")),
            "prefill_tokens": summary(col("prefill_tokens")),
            "cached_prompt_tokens": summary(col("cached_tokens")),
            "first_clause_s": summary(col("first_clause_s")),
            "voice_first_chunk_s": summary(col("tts_first_chunk_s")),
            "mood_read_s": summary(col("mood_read_s")),
            "context_chars": summary(col("context_chars")),
            "others_busy_cores": summary(col("others_busy_cores")),
            "prefills_on_borrowed_cores": sum(r.get("prefill_borrowed_cores") is True for r in rows),
        },
        "errors": sum(r["error"] is not None for r in rows),
        "runs": rows,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "bench_latency.json")
    ap.add_argument("--config", type=Path, default=None)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--back-to-back", action="store_true",
                    help="send the next line as soon as the voice is computed, without waiting for it to be heard")
    args = ap.parse_args()
    os.environ.setdefault("VTBOT_BENCH", "1")
    with tempfile.TemporaryDirectory(prefix="vtbot-bench-") as state:
        # a fresh lore index and viewer notes each run: the figures do not depend on earlier runs
        os.environ["XDG_STATE_HOME"] = state
        result = asyncio.run(run(args))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))

    def fmt(d, unit="s"):
        return f"p50 {d['p50']:.3f} {unit} · p95 {d['p95']:.3f} {unit}" if d["p50"] is not None else "n/a"

    b = result["breakdown"]
    print(f"\nmodels loaded in {result['load_s']:.2f} s · {result['config']}")
    print(f"TTFA (accepted → first audio chunk): {fmt(result['ttfa_s'])}   goal p50 ≤ {result['goal']['ttfa_p50_s']} s")
    print(f"LLM first token:                     {fmt(result['llm_first_token_s'])}")
    print(f"  lookups (lore, notes):             {fmt(b['lookup_s'])}")
    print(f"  prompt prefill:                    {fmt(b['prefill_s'])}  "
          f"(tokens read p50 {b['prefill_tokens']['p50']:.0f}, reused p50 {b['cached_prompt_tokens']['p50'] or 0:.0f})")
    print(f"first clause (first token → piece):  {fmt(b['first_clause_s'])}")
    print(f"voice's first chunk:                 {fmt(b['voice_first_chunk_s'])}")
    print(f"mood reading (per piece):            {fmt(b['mood_read_s'])}")
    print(f"LLM tokens/s:                        {fmt(result['llm_tokens_per_s'], 'tok/s')}")
    print(f"TTS real-time factor:                {fmt(result['tts_rtf'], '')}")
    print(f"errors: {result['errors']} · wrote {args.out}")


if __name__ == "__main__":
    main()
