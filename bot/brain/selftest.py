"""One short, real llama.cpp generation in a child process.

A native crash (a segfault in ggml, an illegal instruction from a wheel built for
another CPU) kills the process it happens in. Run there, it becomes a named problem
with its fix in ``vtbot doctor`` instead of a dead bot.

    python -m bot.brain.selftest [--extra-buffers auto|on|off] [--model PATH]

prints one JSON line: llama.cpp's system info, the extra-buffer plan and the answer.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PROMPT = "Name three colours of the rainbow."
SEED = 1234
MAX_TOKENS = 24


def _dictionary() -> frozenset[str]:
    from english_words import get_english_words_set

    return frozenset(get_english_words_set(["web2", "gcide"], lower=True, alpha=True))


def looks_like_text(text: str, words: frozenset[str] | None = None) -> bool:
    """Sane English, not the token soup a broken kernel writes."""
    tokens = re.findall(r"[A-Za-z]+", text)
    if len(tokens) < 3:
        return False
    printable = sum(ch.isprintable() or ch.isspace() for ch in text) / max(len(text), 1)
    vocab = words if words is not None else _dictionary()
    known = sum(t.lower() in vocab for t in tokens) / len(tokens)
    return printable > 0.95 and known >= 0.6


@dataclass(frozen=True)
class SelfTest:
    ok: bool
    detail: str
    fix: str = ""
    system_info: str = ""
    text: str = ""


def child(extra_buffers: str, model: str | None) -> dict:
    """Runs in the child: load as the bot does, answer one fixed-seed prompt greedily."""
    import llama_cpp

    from bot.brain.llamacpp_backend import LlamaCppBackend
    from bot.config.models import LlamaCppConfig

    cfg = LlamaCppConfig(model_path=Path(model) if model else None, n_ctx=512, seed=SEED,
                         extra_buffers=extra_buffers)  # type: ignore[arg-type]
    backend = LlamaCppBackend(cfg)
    backend._load_sync()
    llm = backend._llm
    out = llm.create_chat_completion(messages=[{"role": "user", "content": PROMPT}],
                                     max_tokens=MAX_TOKENS, temperature=0.0, seed=SEED)
    text = out["choices"][0]["message"]["content"] or ""
    info = llama_cpp.llama_print_system_info()
    plan = backend.cpu_plan
    result = {
        "system_info": info.decode("utf-8", "replace") if isinstance(info, bytes) else str(info),
        "extra_buffers": backend.extra_buffers_in_use,
        "plan": plan.describe() if plan else "",
        "model": backend.describe(),
        "text": text,
    }
    llm.close()
    return result


def run(extra_buffers: str = "auto", model: Path | None = None, timeout: float = 180.0) -> SelfTest:
    """Runs the child and names what went wrong, if anything."""
    cmd = [sys.executable, "-m", "bot.brain.selftest", "--extra-buffers", extra_buffers]
    if model is not None:
        cmd += ["--model", str(model)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return SelfTest(False, f"llama.cpp gave no answer within {timeout:.0f} s",
                        "check the CPU load; set llm.llamacpp.threads")
    return interpret(proc)


def interpret(proc: subprocess.CompletedProcess[str]) -> SelfTest:
    """The child's exit (a signal, an error, or its JSON line) as a verdict."""
    if proc.returncode < 0:
        sig = signal.Signals(-proc.returncode).name
        fix = ("re-run scripts/setup.sh: it builds llama-cpp-python for this CPU, without AMX; "
               "or set llm.llamacpp.extra_buffers: off")
        if sig == "SIGILL":
            fix = ("this llama-cpp-python was built for another CPU: re-run scripts/setup.sh, "
                   "which builds one for this CPU's instruction sets")
        return SelfTest(False, f"llama.cpp crashed ({sig}) while generating", fix)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return SelfTest(False, f"the test generation failed (exit {proc.returncode}): {tail}",
                        "see `python -m bot.brain.selftest` for the whole error")
    data = json.loads(lines[-1])
    info = " ".join(data["system_info"].split())
    if not looks_like_text(data["text"]):
        return SelfTest(False, f"llama.cpp answered with garbage: {data['text'][:60]!r}",
                        "set llm.llamacpp.extra_buffers: off, or re-run scripts/setup.sh",
                        info, data["text"])
    answer = " ".join(data["text"].split())
    return SelfTest(True, f"{data['model']}; answered {answer[:40]!r}", "", info, data["text"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--extra-buffers", choices=["auto", "on", "off"], default="auto")
    ap.add_argument("--model", default=None)
    args = ap.parse_args(argv)
    print(json.dumps(child(args.extra_buffers, args.model)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
