#!/usr/bin/env python3
"""Regenerates every figure the README shows: runs each benchmark (each writes its
JSON under scripts/results/), then rewrites the README's figures from that JSON.

    .venv/bin/python scripts/figures.py                    # everything (~25 min on 2 cores)
    .venv/bin/python scripts/figures.py --only latency,lipsync
    .venv/bin/python scripts/figures.py --readme-only      # rewrite the README from the JSON

The test suite holds the README to the JSON (tests/test_readme_figures.py), so a figure
that is not regenerated here goes stale loudly.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import readme_figures  # noqa: E402 - a sibling script, not a package

ROOT = readme_figures.ROOT
PY = sys.executable
XTTS_PY = str(ROOT / ".venv-xtts" / "bin" / "python")

# name → (command, the JSON files it writes under scripts/results/)
BENCHMARKS: dict[str, tuple[list[str], tuple[str, ...]]] = {
    "latency": ([PY, "scripts/bench_latency.py"], ("bench_latency",)),
    "moderation": ([PY, "scripts/bench_moderation.py"], ("bench_moderation",)),
    "overlay": ([PY, "scripts/bench_overlay.py"], ("bench_overlay",)),
    "vfx": ([PY, "scripts/bench_vfx.py"], ("bench_vfx",)),
    "knowledge": ([PY, "scripts/bench_knowledge.py"], ("bench_knowledge",)),
    "lipsync": ([PY, "scripts/eval_lipsync.py"], ("lipsync_eval",)),
    "tha3": ([XTTS_PY, "scripts/bench_tha3.py"], ("bench_tha3",)),
    "soak": ([PY, "scripts/soak.py", "--duration", "600", "--check"], ("soak",)),
}


def sources(readme: str) -> set[str]:
    return {fig.file for fig in readme_figures.figures(readme)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="", help="comma-separated: " + ",".join(BENCHMARKS))
    ap.add_argument("--readme-only", action="store_true", help="run nothing; rewrite the README")
    args = ap.parse_args(argv)
    readme = readme_figures.README.read_text()
    cited = sources(readme)
    uncovered = cited - {f for _, files in BENCHMARKS.values() for f in files}
    if uncovered:
        print(f"the README cites JSON no benchmark here writes: {sorted(uncovered)}", file=sys.stderr)
        return 2
    chosen = [n for n in args.only.split(",") if n] or list(BENCHMARKS)
    unknown = [n for n in chosen if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {unknown}; known: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    failed = []
    if not args.readme_only:
        for name in chosen:
            cmd, _ = BENCHMARKS[name]
            print(f"==> {name}: {' '.join(Path(c).name if i == 0 else c for i, c in enumerate(cmd))}",
                  flush=True)
            t0 = time.monotonic()
            rc = subprocess.run(cmd, cwd=ROOT).returncode
            print(f"==> {name}: exit {rc} after {time.monotonic() - t0:.0f} s", flush=True)
            if rc != 0:
                failed.append(name)
    new = readme_figures.render(readme)
    if new != readme:
        readme_figures.README.write_text(new)
    changed = sum(a.text != b.text for a, b in zip(readme_figures.figures(readme),
                                                    readme_figures.figures(new)))
    print(f"README: {len(readme_figures.figures(new))} figures, {changed} changed")
    if failed:
        print(f"failed: {', '.join(failed)} (their old JSON stays)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
