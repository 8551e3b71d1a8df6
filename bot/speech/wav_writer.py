"""Writes each utterance as a WAV file plus a JSON file with captions and visemes."""

from __future__ import annotations

import asyncio
import json
import re
import wave
from pathlib import Path

import numpy as np

from avatar.lipsync.timeline import VisemeTimeline

from .segment import SpeechSegment, Utterance, UtteranceStats

_SAFE = re.compile(r"[^A-Za-z0-9_-]+")


def write_wav(path: Path, pcm: np.ndarray, sample_rate: int) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(np.asarray(pcm, dtype=np.int16).tobytes())


class WavJsonWriter:
    """One ``NNN_viewer.wav`` + ``NNN_viewer.json`` per utterance in ``directory``.

    File names come from a counter and a sanitised viewer name, never from chat text.
    """

    def __init__(self, directory: Path, *, write_wav: bool = True, stem: str | None = None):
        self.dir = Path(directory)
        self.write_wav = write_wav
        self.stem = stem  # a fixed file name (``vtbot say --out``) instead of NNN_viewer
        self._segments: dict[str, list[SpeechSegment]] = {}
        self._count = 0
        self.written: list[Path] = []

    async def start(self, utterance: Utterance) -> None:
        self._segments[utterance.id] = []

    async def segment(self, segment: SpeechSegment) -> None:
        self._segments.setdefault(segment.utterance_id, []).append(segment)

    async def finish(self, utterance: Utterance, stats: UtteranceStats) -> None:
        segments = self._segments.pop(utterance.id, [])
        self._count += 1
        await asyncio.to_thread(self._write, utterance, stats, segments, self._count)

    def _write(self, utterance: Utterance, stats: UtteranceStats, segments: list[SpeechSegment],
               number: int) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        who = _SAFE.sub("_", utterance.viewer or "say")[:25] or "say"
        stem = self.dir / (self.stem or f"{number:03d}_{who}")
        doc: dict[str, object] = {
            "utterance": utterance.id, "viewer": utterance.viewer, "prompt": utterance.prompt,
            "reply": stats.text, "stats": stats.as_dict(), "segments": [],
        }
        if segments:
            rate = segments[0].sample_rate
            pcm = np.concatenate([s.pcm for s in segments])
            timeline = VisemeTimeline.concat([s.timeline for s in segments])
            offset = 0
            for s in segments:
                doc["segments"].append({"index": s.index, "caption": s.caption, "start_sample": offset,
                                        "n_samples": len(s.pcm)})
                offset += len(s.pcm)
            doc["sample_rate"] = rate
            doc["visemes"] = timeline.to_dict()
            if self.write_wav:
                write_wav(stem.with_suffix(".wav"), pcm, rate)
                self.written.append(stem.with_suffix(".wav"))
        path = stem.with_suffix(".json")
        path.write_text(json.dumps(doc, indent=1, ensure_ascii=False), encoding="utf-8")
        self.written.append(path)

    async def close(self) -> None:
        return None
