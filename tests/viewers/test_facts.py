"""What a viewer says about themselves, found with patterns."""

import pytest

from bot.viewers.facts import extract_facts, topics

CASES = [
    ("my cat is called Miso and I love Hollow Knight", [("pet:cat", "has a cat named Miso"),
                                                         ("likes", "likes Hollow Knight")]),
    ("I'm from Lisbon, Portugal!", [("home", "is from Lisbon")]),
    ("i live in Porto now", [("home", "lives in Porto now")]),
    ("My favourite food is ramen", [("favourite:food", "favourite food is ramen")]),
    ("I have a dog named Rex", [("pet:dog", "has a dog named Rex")]),
    ("my hamster's name is Nugget", [("pet:hamster", "has a hamster named Nugget")]),
    ("i hate spiders lol", [("dislikes", "dislikes spiders")]),
    ("I work as a nurse", [("job", "works as a nurse")]),
    ("I am playing Elden Ring tonight", [("plays", "plays Elden Ring tonight")]),
    ("my birthday is March 3rd", [("birthday", "birthday is March 3rd")]),
    ("call me Sam", [("name", "is called Sam")]),
]


@pytest.mark.parametrize("text,want", CASES)
def test_facts(text, want):
    assert [(f.kind, f.text) for f in extract_facts(text)] == want


@pytest.mark.parametrize("text", ["I love you Mochi", "I like it", "I'm 12 years old", "i really enjoy your streams",
                                  "I like that", "lol", "my name is"])
def test_not_facts(text):
    """About the avatar, too vague, or an age (never kept: viewers may be children)."""
    assert extract_facts(text) == []


def test_topics_skip_small_words_and_names():
    assert topics("Mochi do you like speedrunning Celeste? I think it's hard", {"mochi"}) == \
        ["speedrunning", "celeste", "hard"]
