"""The overlay's sound: a sounddevice stream whose callback feeds from the speech clock.

The stream runs at the device's preferred rate (speech is resampled on arrival), so
the callback does nothing but copy samples: no allocation, no waiting. The device's
reported output latency feeds the mouth, so lips match what the viewer hears, not
what was handed to the driver.
"""

from __future__ import annotations

import logging

from bot.speech.player import AudioDeviceError, resolve_output_device

from .speech_clock import SpeechClock

log = logging.getLogger(__name__)


class AudioOut:
    """Opened at the first segment's rate (speech at another rate is resampled)."""

    def __init__(self, device: str | None = None, *, rate: int = 22050, volume: float = 1.0,
                 blocksize: int = 0):
        self.device_name = device
        self.rate = rate
        self.clock = SpeechClock(rate, volume=volume)
        self.blocksize = blocksize
        self._stream = None
        self.latency_s = 0.0

    def open(self) -> None:
        import sounddevice as sd

        device = resolve_output_device(self.device_name)
        for rate in dict.fromkeys((self.rate, 48000, 44100, 22050)):
            try:
                stream = sd.OutputStream(samplerate=rate, channels=1, dtype="int16", device=device,
                                         callback=self._callback, latency="low", blocksize=self.blocksize)
            except sd.PortAudioError as e:
                log.debug("overlay audio: %s Hz refused (%s)", rate, e)
                continue
            if rate != self.clock.rate:
                self.clock = SpeechClock(rate, volume=self.clock.volume)
            self.rate = rate
            self._stream = stream
            self.latency_s = float(stream.latency)
            stream.start()
            log.info("overlay audio: %d Hz, %.0f ms output latency", rate, self.latency_s * 1000)
            return
        raise AudioDeviceError("the output device refused every sample rate tried")

    def _callback(self, outdata, frames, _time, _status) -> None:
        self.clock.fill(outdata[:, 0])

    def close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.stop()
            stream.close()

    @property
    def is_open(self) -> bool:
        return self._stream is not None

