"""alt-profanity-check as one more signal: a linear model over character and word
n-grams that ships inside its package (no download).

Its ``predict_prob`` costs ~8 ms per call in scikit-learn's input checks, so the gate
runs it only on what is about to become a prompt or be spoken, never on all of chat.
It loads in the background (scikit-learn takes ~2 s to import).
"""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)


class ProfanityClassifier:
    def __init__(self, threshold: float):
        self.threshold = threshold
        self._predict = None
        self._error: str | None = None
        self._loaded = threading.Event()

    def load(self) -> None:
        """Blocking; safe to call from a worker thread, and more than once."""
        if self._loaded.is_set():
            return
        try:
            from profanity_check import predict_prob

            predict_prob(["warm up"])
            self._predict = predict_prob
        except Exception as e:  # noqa: BLE001 - the lists still protect; say why it is off
            self._error = f"{type(e).__name__}: {e}"
            log.warning("moderation: the profanity classifier is off (%s)", self._error)
        self._loaded.set()

    def load_in_background(self) -> None:
        threading.Thread(target=self.load, name="vtbot-classifier", daemon=True).start()

    @property
    def ready(self) -> bool:
        return self._predict is not None

    @property
    def error(self) -> str | None:
        return self._error

    def score(self, text: str, *, wait: float = 0.0) -> float | None:
        """Probability that ``text`` is offensive; None while unavailable (still loading,
        or broken). By default never waits: the bot does not stall on a loading model."""
        if not self._loaded.wait(wait) or self._predict is None:
            return None
        return float(self._predict([text])[0])
