"""The one error the THA3 avatar raises for set-up mistakes (weights, image, torch)."""

from __future__ import annotations


class Tha3Error(RuntimeError):
    """Something THA3 needs is missing or wrong; the message says what and how to fix it.

    The overlay catches it to fall back to the default avatar, so the message must be
    complete on its own: what is missing, where it was looked for, how to get it.
    """
