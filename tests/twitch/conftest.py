"""Fixtures for Twitch tests: a local fake Twitch with twitchio pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.twitch_server import FakeTwitch


@pytest.fixture
async def fake_twitch(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeTwitch]:
    """A running FakeTwitch; twitchio's Helix, OAuth and EventSub URLs point at it.

    The three twitchio globals are restored by ``monkeypatch`` after the test.
    """
    async with FakeTwitch() as tw:
        tw.patch_twitchio(monkeypatch)
        yield tw
