"""Spam signals: repeats, shouting, floods, and copy-pasta that moves across viewers.

State is bounded: per-viewer history keeps a few recent messages, and the copy-pasta
table forgets texts older than its window, so a chat of thousands cannot grow it
without limit.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass

# pictographs and symbols that chat uses as emoji
_EMOJI = re.compile("[\u2190-\u21ff\u2300-\u23ff\u2460-\u27bf\u2900-\u297f\u2b00-\u2bff"
                    "\u3030\u303d\u3297\u3299\U0001f000-\U0001faff]")


_UPPER_BYTES = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True, slots=True)
class SpamSettings:
    repeat_window_s: float = 60.0  # the same viewer saying the same thing again
    max_repeats: int = 1  # times a viewer may say their last text again in the window (0: never)
    caps_min_letters: int = 12
    caps_ratio: float = 0.7
    char_flood: int = 10  # one character this many times in a row
    emote_flood: int = 8  # emotes + emoji in one message
    copypasta_min_chars: int = 60
    copypasta_users: int = 3  # distinct viewers sending the same long text...
    copypasta_window_s: float = 120.0  # ...within this window
    max_tracked_texts: int = 20_000


class SpamGuard:
    def __init__(self, settings: SpamSettings | None = None):
        self.s = settings or SpamSettings()
        self._char_flood = re.compile(r"(.)\1{%d,}" % (self.s.char_flood - 1), re.DOTALL) \
            if self.s.char_flood > 1 else None
        # bounded: the oldest entry goes when one is full (one at a time: no pauses)
        self._history: OrderedDict[str, tuple[str, float, int]] = OrderedDict()
        self._pasta: OrderedDict[str, tuple[float, set[str]]] = OrderedDict()

    def check(self, user: str, display: str, folded: str, emotes: int, now: float,
              emote_texts: tuple[str, ...] = ()) -> tuple[str, str] | None:
        """(reason, detail) when the message is spam, else None. Records the message."""
        return self.text_check(display, emotes, emote_texts) or self.history_check(user, folded, now)

    def text_check(self, display: str, emotes: int = 0,
                   emote_texts: tuple[str, ...] = ()) -> tuple[str, str] | None:
        """What the text alone shows: floods and shouting."""
        s = self.s
        if self._char_flood is not None and len(display) >= s.char_flood:
            m = self._char_flood.search(display)
            if m is not None:
                return "spam.flood", f"{m.group(1)!r} {len(m.group())} times in a row"
        ascii_text = display.isascii()
        n_emoji = 0 if ascii_text else len(_EMOJI.findall(display))
        if emotes + n_emoji >= s.emote_flood:
            return "spam.emotes", f"{emotes + n_emoji} emotes/emoji (limit {s.emote_flood - 1})"
        if len(display) >= s.caps_min_letters:
            caps = self._caps(display, ascii_text, emote_texts)
            if caps is not None:
                return caps
        return None

    def history_check(self, user: str, folded: str, now: float) -> tuple[str, str] | None:
        """What the viewer's and chat's recent messages show: repeats and copy-pasta."""
        s = self.s
        last = self._history.get(user)  # (text, first said, times) of the viewer's last text
        if last is not None and last[0] == folded and now - last[1] <= s.repeat_window_s:
            times = last[2] + 1
            self._history[user] = (folded, last[1], times)
            if times > s.max_repeats + 1:
                return "spam.repeat", f"said {times} times in a row within {s.repeat_window_s:g} s"
        else:
            if last is None and len(self._history) >= s.max_tracked_texts:
                self._history.popitem(last=False)
            self._history[user] = (folded, now, 1)
        if len(folded) >= s.copypasta_min_chars:
            return self._copypasta(user, folded, now)
        return None

    def _caps(self, display: str, ascii_text: bool, emote_texts: tuple[str, ...]) -> tuple[str, str] | None:
        s = self.s
        text = display
        for e in emote_texts:  # emotes are CamelCase by convention ("KEKW"): not shouting
            text = text.replace(e, "")
        if ascii_text:
            raw = text.encode("ascii")
            upper = len(raw) - len(raw.translate(None, _UPPER_BYTES))
        else:
            upper = sum(1 for c in text if c.isupper())
        if upper < s.caps_min_letters:
            return None
        letters = sum(1 for c in text if c.isalpha())
        if upper / letters >= s.caps_ratio:
            return "spam.caps", f"{upper}/{letters} letters in capitals"
        return None

    def _copypasta(self, user: str, key: str, now: float) -> tuple[str, str] | None:
        s = self.s
        entry = self._pasta.get(key)
        if entry is None or now - entry[0] > s.copypasta_window_s:
            if entry is None and len(self._pasta) >= s.max_tracked_texts:
                self._pasta.popitem(last=False)
            self._pasta[key] = (now, {user})
            return None
        entry[1].add(user)
        if len(entry[1]) >= s.copypasta_users:
            return "spam.copypasta", f"the same text from {len(entry[1])} viewers"
        return None

