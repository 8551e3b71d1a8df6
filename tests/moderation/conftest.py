"""One moderator per test session: building the matchers reads the dictionary (~1 s)."""

from __future__ import annotations

import pytest

from bot.config.models import ModerationConfig
from bot.moderation.gate import Moderator, WordLists


@pytest.fixture(scope="session")
def mod_cfg() -> ModerationConfig:
    return ModerationConfig(audit_log=None)


@pytest.fixture(scope="session")
def word_lists(mod_cfg) -> WordLists:
    return WordLists(mod_cfg)


@pytest.fixture(scope="session")
def matcher(word_lists):
    return word_lists.matcher("mild")


@pytest.fixture
def moderator(mod_cfg) -> Moderator:
    """Fresh gate state (spam history, cooldowns) per test; no classifier."""
    return Moderator(mod_cfg, classifier=False)
