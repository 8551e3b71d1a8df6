"""The mouth at this moment: VRM mouth weights sampled from what is being heard.

The audio clock says which sample the speakers are playing (the samples handed to the
device minus its output latency); ``lead_s`` moves the lips slightly ahead of the
sound, as animators do, because a mouth that follows the sound looks late.
"""

from __future__ import annotations

from avatar.lipsync.visemes import VRM_SHAPES

from .speech_clock import SpeechClock

CLOSED = {shape: 0.0 for shape in VRM_SHAPES}


class MouthDriver:
    def __init__(self, clock: SpeechClock, *, lead_s: float = 0.03, latency_s: float = 0.0):
        self.clock = clock
        self.lead_s = lead_s
        self.latency_s = latency_s  # the device's output latency, set once the stream is open

    def heard_sample(self) -> int:
        """The stream sample the viewer hears now, shifted by the lead."""
        return int(self.clock.cursor + (self.lead_s - self.latency_s) * self.clock.rate)

    def weights(self) -> dict[str, float]:
        playing = self.clock.at(self.heard_sample())
        if playing is None:
            return dict(CLOSED)
        return playing.segment.visemes.weights_at(playing.seconds)

    def caption(self) -> str:
        playing = self.clock.at(self.heard_sample())
        return playing.segment.caption if playing is not None else ""
