"""Train the audio estimator's frame classifier on Piper speech.

Piper (joe voice) speaks the training sentences at several speaking rates; its
phoneme alignments label every 10 ms frame with a viseme. Each utterance is also
used once more with a vocal-tract-length change (the audio re-read at a different
sample rate shifts all formants), noise and a spectral tilt, so that the classifier
sees more than one man's voice through one clean channel. The weights land in
``avatar/lipsync/data/viseme_mlp.npz``.

    .venv/bin/python scripts/train_lipsync.py            # ~10 min on 2 cores
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy.signal import lfilter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from avatar.lipsync import features as F  # noqa: E402
from avatar.lipsync.audio import EstimatorSettings, FrontEnd, StreamingVisemeEstimator  # noqa: E402
from avatar.lipsync.classifier import DEFAULT_WEIGHTS, VisemeMLP  # noqa: E402
from avatar.lipsync.piper_speech import PiperUtterance, synthesize  # noqa: E402
from avatar.lipsync.timeline import VisemeTimeline  # noqa: E402
from avatar.lipsync.timing import TimedPhoneme  # noqa: E402
from avatar.lipsync.visemes import VISEMES  # noqa: E402
from lipsync_sentences import TRAIN, random_phrases  # noqa: E402

OFFSETS = (-8, -4, -2, 0, 2, 4, 8)
HIDDEN = 96
SPEAKING_RATES = (0.85, 1.0, 1.2)


def synthesize_corpus(cache: Path) -> list[tuple[PiperUtterance, int]]:
    """(utterance, text index) for every text at every speaking rate, cached on disk."""
    from piper import SynthesisConfig

    if cache.exists():
        data = np.load(cache, allow_pickle=True)
        return list(data["items"])
    texts = list(TRAIN) + random_phrases(150, seed=1)
    items = []
    for rate_index, rate in enumerate(SPEAKING_RATES):
        config = SynthesisConfig(length_scale=rate, noise_scale=0.5 + 0.15 * rate_index,
                                 noise_w_scale=0.6 + 0.2 * rate_index)
        for text_index, text in enumerate(texts):
            for utt in synthesize(text, config):
                items.append((utt, text_index))
        print(f"synthesised rate {rate}: {len(items)} utterances", flush=True)
    np.savez(cache, items=np.array(items, dtype=object), allow_pickle=True)
    return items


def augment(utt: PiperUtterance, rng: np.random.Generator) -> tuple[np.ndarray, int, list[TimedPhoneme]]:
    """A changed copy: formants moved (the audio read at another rate), a tilted
    channel, coloured noise at 5-40 dB SNR, a DC offset, and noise-only pauses
    before and after. Returns audio, its nominal rate and its phoneme spans."""
    warp = float(np.exp(rng.uniform(np.log(0.85), np.log(1.25))))
    rate = int(round(utt.sample_rate * warp / 100.0)) * 100
    audio = lfilter([1.0, -rng.uniform(-0.6, 0.8)], [1.0], utt.audio)
    audio *= 10 ** (rng.uniform(-20, 0) / 20) / (np.abs(audio).max() + 1e-9)
    lead, trail = (int(rng.uniform(0.0, 0.6) * rate) for _ in range(2))
    speech_rms = np.sqrt(np.mean(audio**2))
    audio = np.concatenate([np.zeros(lead), audio, np.zeros(trail)])
    noise = lfilter([1.0], [1.0, -rng.uniform(0.0, 0.98)], rng.standard_normal(len(audio)))
    noise *= speech_rms * 10 ** (-rng.uniform(5, 40) / 20) / (np.sqrt(np.mean(noise**2)) + 1e-12)
    audio = audio + noise + rng.uniform(-0.05, 0.05)
    phonemes = [TimedPhoneme("", 0, lead)] if lead else []
    phonemes += [TimedPhoneme(p.phoneme, p.start + lead, p.end + lead) for p in utt.phonemes]
    end = phonemes[-1].end
    phonemes.append(TimedPhoneme("", end, len(audio)))
    return audio.astype(np.float32), rate, phonemes


def labelled_frames(audio: np.ndarray, rate: int, phonemes: list[TimedPhoneme],
                    front: FrontEnd) -> tuple[np.ndarray, np.ndarray]:
    timeline = VisemeTimeline.from_phonemes(phonemes, rate, len(audio))
    labels = timeline.frame_visemes()
    stacked, _ = front.process(audio, rate)
    n = min(len(labels), len(stacked))
    y = np.array([VISEMES.index(v) for v in labels[:n]])
    return stacked[:n], y


def raw_feature_stats(utts: list[PiperUtterance], blank: VisemeMLP) -> tuple[np.ndarray, np.ndarray]:
    """Mean and spread of cepstra and deltas over audible frames: the normaliser's prior."""
    rows = []
    for utt in utts:
        analysis = FrontEnd(blank, EstimatorSettings()).analyse(utt.audio, utt.sample_rate)
        feats = np.concatenate([analysis.cepstra, F.deltas(analysis.cepstra)], axis=1)
        rows.append(feats[analysis.audible])
    stacked = np.concatenate(rows)
    return stacked.mean(axis=0), stacked.std(axis=0) + 1e-6


def train_mlp(x: np.ndarray, y: np.ndarray, n_classes: int, epochs: int,
              rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Softmax MLP with one ReLU layer, Adam, class-balanced (square-root) weights."""
    n, d = x.shape
    w1 = rng.standard_normal((d, HIDDEN)) * np.sqrt(2.0 / d)
    b1 = np.zeros(HIDDEN)
    w2 = rng.standard_normal((HIDDEN, n_classes)) * np.sqrt(1.0 / HIDDEN)
    b2 = np.zeros(n_classes)
    params = [w1, b1, w2, b2]
    moments = [(np.zeros_like(p), np.zeros_like(p)) for p in params]
    counts = np.bincount(y, minlength=n_classes).astype(float)
    class_weight = np.where(counts > 0, 1.0 / np.sqrt(np.maximum(counts, 1)), 0.0)
    class_weight *= n / (class_weight[y].sum())
    step, lr, decay, batch = 0, 2e-3, 1e-4, 512
    for epoch in range(epochs):
        order = rng.permutation(n)
        total = 0.0
        for lo in range(0, n, batch):
            idx = order[lo : lo + batch]
            xb, yb = x[idx], y[idx]
            h_pre = xb @ w1 + b1
            h = np.maximum(h_pre, 0.0)
            logits = h @ w2 + b2
            logits -= logits.max(axis=1, keepdims=True)
            p = np.exp(logits)
            p /= p.sum(axis=1, keepdims=True)
            wb = class_weight[yb][:, None]
            total += float(-(wb[:, 0] * np.log(p[np.arange(len(yb)), yb] + 1e-12)).sum())
            g_logits = p.copy()
            g_logits[np.arange(len(yb)), yb] -= 1.0
            g_logits *= wb / len(yb)
            g_w2 = h.T @ g_logits + decay * w2
            g_b2 = g_logits.sum(axis=0)
            g_h = (g_logits @ w2.T) * (h_pre > 0)
            g_w1 = xb.T @ g_h + decay * w1
            g_b1 = g_h.sum(axis=0)
            step += 1
            for param, grad, (m, v) in zip(params, [g_w1, g_b1, g_w2, g_b2], moments):
                m *= 0.9
                m += 0.1 * grad
                v *= 0.999
                v += 0.001 * grad**2
                param -= lr * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
        lr *= 0.85
        print(f"epoch {epoch + 1}: loss {total / n:.3f}", flush=True)
    return w1, b1, w2, b2


def class_accuracy(model: VisemeMLP, settings: EstimatorSettings,
                   items: list[tuple[np.ndarray, int, list[TimedPhoneme]]]) -> float:
    """Vowel-class frame accuracy of the full estimator on held-out utterances."""
    hits = total = 0
    for audio, rate, phonemes in items:
        est = StreamingVisemeEstimator(model, settings).push(audio, rate)
        ref = VisemeTimeline.from_phonemes(phonemes, rate, len(audio))
        a, b = ref.frame_labels(), est.frame_labels()
        hits += sum(x == y for x, y in zip(a, b))
        total += min(len(a), len(b))
    return hits / total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_WEIGHTS)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/vtbot_lipsync_corpus.npz"))
    parser.add_argument("--epochs", type=int, default=14)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    started = time.time()

    items = synthesize_corpus(args.cache)
    held_out = {i for i in range(len(TRAIN) + 150) if i % 10 == 0}
    train = [utt for utt, i in items if i not in held_out]
    valid = [utt for utt, i in items if i in held_out]
    print(f"{len(train)} training and {len(valid)} validation utterances", flush=True)

    classes = VISEMES
    n_feats = 2 * F.N_MFCC
    n_inputs = len(OFFSETS) * (n_feats + 2)

    def make_model(mean, std, in_mean, in_std, w1, b1, w2, b2) -> VisemeMLP:
        return VisemeMLP(classes, OFFSETS, mean, std, in_mean, in_std, w1, b1, w2, b2)

    unit = make_model(np.zeros(n_feats), np.ones(n_feats), np.zeros(n_inputs), np.ones(n_inputs),
                      np.zeros((n_inputs, 1)), np.zeros(1), np.zeros((1, len(classes))),
                      np.zeros(len(classes)))
    mean, std = raw_feature_stats(train, unit)
    blank = make_model(mean, std, *[getattr(unit, k) for k in ("input_mean", "input_std", "w1",
                                                               "b1", "w2", "b2")])
    settings = EstimatorSettings()

    xs, ys = [], []
    for utt in train:
        versions = [(utt.audio, utt.sample_rate, utt.phonemes), augment(utt, rng)]
        for audio, rate, phonemes in versions:
            x, y = labelled_frames(audio, rate, phonemes, FrontEnd(blank, settings))
            xs.append(x.astype(np.float32))
            ys.append(y)
    x, y = np.concatenate(xs), np.concatenate(ys)
    print(f"{len(y)} frames; class counts {dict(zip(classes, np.bincount(y, minlength=15)))}")
    in_mean, in_std = x.mean(axis=0), x.std(axis=0) + 1e-6
    w1, b1, w2, b2 = train_mlp((x - in_mean) / in_std, y, len(classes), args.epochs, rng)
    model = make_model(mean, std, in_mean, in_std, w1, b1, w2, b2)

    valid_items = [(u.audio, u.sample_rate, u.phonemes) for u in valid]
    valid_items += [augment(u, rng) for u in valid]
    for penalty in (0.0, 1.0, 2.0, 3.0, 5.0):
        s = EstimatorSettings(switch_penalty=penalty)
        print(f"switch penalty {penalty}: validation vowel-class accuracy "
              f"{class_accuracy(model, s, valid_items):.3f}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes) in {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
