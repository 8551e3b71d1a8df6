"""Facts a viewer tells the avatar about themselves, found with simple patterns.

"my cat is called Miso", "I'm from Lisbon", "I love Hollow Knight": each match is a
fact with a kind, so a newer one of the same kind replaces the older ("I live in
Porto now"). Likes and games keep several. Ages are never kept: a viewer who says
they are twelve must not be remembered as such.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_END = r"(?=[.!?,;]|\s+(?:and|but|because|so|lol|haha)\b|$)"
_THING = r"([^.!?,;]{2,40}?)"
_NAME = r"([A-Za-z][\w'-]{1,20}(?:\s[A-Z][\w'-]{1,20})?)"
_PETS = r"(dog|cat|puppy|kitten|bird|parrot|fish|hamster|rabbit|bunny|snake|lizard|turtle|horse|ferret|rat|guinea pig)"


@dataclass(frozen=True, slots=True)
class Fact:
    kind: str  # name, home, pet:<animal>, likes, dislikes, favourite:<thing>, job, plays, birthday
    text: str  # how the prompt says it: "has a cat named Miso"

    @property
    def single(self) -> bool:
        """One of a kind: a new one replaces the old (likes and games keep several)."""
        return self.kind not in ("likes", "dislikes", "plays")


_PATTERNS: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(rf"\b(?:my name is|call me)\s+{_NAME}{_END}", re.I), "name", "is called {0}"),
    (re.compile(rf"\bi(?:'m| am) (?:from|based in)\s+{_THING}{_END}", re.I), "home", "is from {0}"),
    (re.compile(rf"\bi live in\s+{_THING}{_END}", re.I), "home", "lives in {0}"),
    (re.compile(rf"\bmy {_PETS}(?:'s name is| is (?:called|named))\s+{_NAME}{_END}", re.I), "pet:{0}",
     "has a {0} named {1}"),
    (re.compile(rf"\bi have an? {_PETS} (?:called|named)\s+{_NAME}{_END}", re.I), "pet:{0}", "has a {0} named {1}"),
    (re.compile(rf"\bmy fav(?:ou?rite)? ([a-z][a-z ]{{1,20}}?) is\s+{_THING}{_END}", re.I), "favourite:{0}",
     "favourite {0} is {1}"),
    (re.compile(rf"\bi (?:really |absolutely )?(?:love|like|enjoy|adore)\s+{_THING}{_END}", re.I), "likes", "likes {0}"),
    (re.compile(rf"\bi (?:really )?(?:hate|dislike|can't stand|cannot stand)\s+{_THING}{_END}", re.I), "dislikes",
     "dislikes {0}"),
    (re.compile(rf"\bi work as an?\s+{_THING}{_END}", re.I), "job", "works as a {0}"),
    (re.compile(rf"\bi(?:'m| am) an? ([a-z]{{3,20}}) by (?:trade|profession)\b", re.I), "job", "works as a {0}"),
    (re.compile(rf"\bmy job is\s+{_THING}{_END}", re.I), "job", "job: {0}"),
    (re.compile(rf"\bi(?:'m| am)? (?:currently )?playing\s+{_THING}{_END}", re.I), "plays", "plays {0}"),
    (re.compile(rf"\bmy birthday is\s+{_THING}{_END}", re.I), "birthday", "birthday is {0}"),
]
_ABOUT_US = {"you", "u", "your", "ur", "yours", "it", "that", "this", "those", "these"}
_VAGUE = {"it", "that", "this", "you", "u", "them", "him", "her", "so", "too", "to", "the", "a", "it lol",
          "your stream", "this stream", "the stream", "your streams", "you mochi", "here", "there"}


def extract_facts(text: str) -> list[Fact]:
    """Every fact in one chat line, in order of appearance."""
    found: list[tuple[int, Fact]] = []
    for pattern, kind, template in _PATTERNS:
        for m in pattern.finditer(text):
            groups = [" ".join(g.split()).strip(" '\"") for g in m.groups()]
            if any(not g or g.lower() in _VAGUE or g.lower().split()[0] in _ABOUT_US for g in groups):
                continue  # "I love you", "I like your hair": about the avatar, not the viewer
            if len(groups) > 1:
                groups[0] = groups[0].lower()
            found.append((m.start(), Fact(kind.format(*groups).lower(), template.format(*groups))))
    found.sort(key=lambda x: x[0])
    return [f for _, f in found]


_STOP = set("""a about above after again against all am an and any are aren't as at be because been before being
below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down during each
few for from further had hadn't has hasn't have haven't having he he'd he'll he's her here here's hers herself him
himself his how how's i i'd i'll i'm i've if in into is isn't it it's its itself let's me more most mustn't my
myself no nor not of off on once only or other ought our ours ourselves out over own same shan't she she'd she'll
she's should shouldn't so some such than that that's the their theirs them themselves then there there's these
they they'd they'll they're they've this those through to too under until up very was wasn't we we'd we'll we're
we've were weren't what what's when when's where where's which while who who's whom why why's with won't would
wouldn't you you'd you'll you're you've your yours yourself yourselves just really like know think today tonight
yeah yes lol lmao haha hello hey hi chat stream streams streaming going gonna wanna want got get good nice cool
thanks thank please also still much many well one two make made said says tell something anything everything
ever never always maybe sure okay ok right now time back look love feel live lives living
first last next""".split())


def topics(text: str, exclude: set[str]) -> list[str]:
    """Content words of a chat line (4+ letters, not stopwords, not the avatar's name)."""
    words = re.findall(r"[a-zA-Z][a-zA-Z'-]{3,24}", text)
    out: list[str] = []
    for w in words:
        lw = w.lower().strip("'-")
        if lw in _STOP or lw in exclude or lw in out:
            continue
        out.append(lw)
    return out
