"""Markdown into chunks that keep their headings."""

from bot.knowledge.chunking import chunk_document


def words(text: str) -> int:
    return len(text.split()) + 2


def test_headings_paragraphs_and_lists():
    doc = """---
title: ignored front matter
---
# Mochi

Intro line one
continues here.

## Home
### The castle
It floats.

- a list item
- another one

```
# not a heading inside code
```
## Pets
Biscuit is a cat.
"""
    chunks = chunk_document(doc, "mochi", words, max_tokens=100)
    got = [(c.heading, c.text) for c in chunks]
    assert got[0] == ("Mochi", "Intro line one continues here.")
    # a "#" line inside a code fence is text, not a heading
    assert got[1] == ("Mochi > Home > The castle", "It floats.\n- a list item\n- another one\n# not a heading inside code")
    assert got[2] == ("Mochi > Pets", "Biscuit is a cat.")
    assert "front matter" not in str(got)
    assert chunks[2].embed_text() == "Mochi > Pets\nBiscuit is a cat."


def test_untitled_text_and_long_paragraphs():
    sentence = "This is one sentence with eight words here."
    doc = " ".join([sentence] * 30)
    chunks = chunk_document(doc, "notes", words, max_tokens=40)
    assert all(c.heading == "notes" for c in chunks)  # the file's name stands in for a heading
    assert all(words(c.embed_text()) <= 40 for c in chunks)
    assert " ".join(c.text for c in chunks).split() == doc.split()  # nothing lost, nothing doubled


def test_small_paragraphs_are_packed_under_one_heading():
    doc = "# A\n\none.\n\ntwo.\n\nthree.\n\n# B\n\nfour."
    chunks = chunk_document(doc, "x", words, max_tokens=100)
    assert [(c.heading, c.text) for c in chunks] == [("A", "one.\ntwo.\nthree."), ("B", "four.")]
