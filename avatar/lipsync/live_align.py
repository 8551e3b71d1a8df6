"""One piece of live speech whose text is known (XTTS): which aligner answers which chunk.

The best aligner follows Piper reading the text (``reference_align``). Making that
reference takes Piper a fraction of the piece's duration, in a background thread:
started by ``start_reference`` as soon as the piece's text is known (ideally before
the voice is asked for it, so the two run side by side), else when the first chunk
arrives. From chunk ``reference_from_chunk`` on (the first, by default) a chunk
waits for the reference, at most ``reference_wait_s``; the warping then catches up
on any chunks already heard, and the reference aligner answers. Chunks before that,
or when Piper is missing or too slow, are answered by the fast unit aligner
(``text_align``) or, without a phonemizer either, by the estimator. The switch is
at a fixed chunk, not a race against the clock, so a piece's timeline does not
depend on how busy the machine is (unless Piper takes longer than the wait).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout

import numpy as np

from avatar.lipsync import features as F
from avatar.lipsync.audio import FrameEstimate, StreamingVisemeEstimator, frames_to_timeline
from avatar.lipsync.reference_align import (
    PiperReference,
    ReferenceAligner,
    ReferenceAlignSettings,
    ReferenceUnavailable,
)
from avatar.lipsync.text_align import TextVisemeAligner
from avatar.lipsync.text_units import PhonemizerMissing
from avatar.lipsync.timeline import VisemeTimeline

log = logging.getLogger(__name__)

ReferenceMaker = Callable[[str], "PiperReference | None"]


def start_reference(text: str, make_reference: ReferenceMaker) -> Future:
    """Piper's reading of ``text`` (``make_reference(text)``), made in a background thread."""
    return _in_background(lambda: make_reference(text))


class LiveTextAligner:
    """Timelines for the chunks of one piece of text, in order.

    ``reference``: the future of Piper's reading of the text (``start_reference``;
    None: the unit aligner answers every chunk).
    """

    def __init__(self, text: str, estimator: StreamingVisemeEstimator,
                 reference: Future | None = None,
                 reference_from_chunk: int = 0,
                 reference_wait_s: float = 3.0,
                 settings: ReferenceAlignSettings | None = None) -> None:
        self.text = text
        self.estimator = estimator
        self.settings = settings or ReferenceAlignSettings()
        self.reference_unavailable = False
        self._from_chunk = reference_from_chunk
        self._wait_s = reference_wait_s
        self._chunks = 0
        self._heard: list[FrameEstimate] = []
        self._aligner: ReferenceAligner | None = None
        try:
            self._units: TextVisemeAligner | None = TextVisemeAligner(text, estimator)
        except PhonemizerMissing as e:
            log.info("%s; until Piper's reference is ready the mouth follows the audio", e)
            self._units = None
        self._pending = reference
        if self._units is None and self._pending is None:
            raise PhonemizerMissing("no phonemizer and no Piper reference for the text")

    @property
    def following_reference(self) -> bool:
        """Whether chunks are now matched to Piper's reading of the text."""
        return self._aligner is not None

    def push(self, pcm: np.ndarray, sample_rate: int) -> VisemeTimeline:
        """The timeline of the piece's next chunk."""
        audio = F.to_float_mono(pcm)
        if len(audio) == 0:
            return VisemeTimeline.silent(0, sample_rate)
        est = self.estimator.frames(audio, sample_rate)
        if self._chunks >= self._from_chunk:
            self._take_reference()
        self._chunks += 1
        if self._aligner is not None:
            labels = self._aligner.labels(est)
        else:
            self._heard.append(est)
            labels = self._units.labels(est) if self._units is not None else est.visemes
        return frames_to_timeline(labels, sample_rate, len(audio))

    def _take_reference(self) -> None:
        """Wait for the reference and warp the chunks heard so far onto it."""
        if self._pending is None:
            return
        try:
            reference = self._pending.result(timeout=self._wait_s)
        except FutureTimeout:
            if self._wait_s > 0:
                log.warning("Piper's lip-sync reference is late (over %.1f s); until it is "
                            "ready the piece follows the text's sounds alone", self._wait_s)
            self._wait_s = 0.0  # look again at later chunks, never wait again
            return
        except ReferenceUnavailable as e:
            log.warning("%s; lip sync follows the text's sounds alone", e)
            self.reference_unavailable = True
            return
        except Exception:  # noqa: BLE001 - a failed reference must not cost the mouth
            log.exception("making the lip-sync reference failed")
            return
        finally:
            if self._pending.done():
                self._pending = None
        if reference is None:
            return
        self._aligner = ReferenceAligner(self.text, reference, self.estimator, self.settings)
        for est in self._heard:
            self._aligner.labels(est)
        self._heard.clear()


def _in_background(work: Callable[[], object]) -> Future:
    """``work()`` in a daemon thread, its result (or error) in the future."""
    future: Future = Future()

    def run() -> None:
        try:
            future.set_result(work())
        except BaseException as e:  # noqa: BLE001 - handed to whoever waits
            future.set_exception(e)

    threading.Thread(target=run, name="vtbot-lipsync-reference", daemon=True).start()
    return future
