"""Rules: conditions are parsed (never eval'd), templates only show fields, and every
mistake in a rules file names the file, the rule, the key and the reason."""

from __future__ import annotations

import pytest

from events.conditions import Condition, ConditionError
from events.model import StreamEvent
from events.rules import ObsScene, RulesError, Say, Vfx, load_rules, parse_rules
from events.templates import Template, TemplateError
from tests.conftest import ROOT


def ev(**kw) -> StreamEvent:
    return StreamEvent(**{"type": "cheer", "id": "m1", "source": "trigger", "user": "Bob", **kw})


@pytest.mark.parametrize("text,fields,expected", [
    ("bits >= 100", {"bits": 150}, True),
    ("bits >= 100", {"bits": 99}, False),
    ("amount >= 5 and currency == \"usd\"", {"type": "donation", "amount": 5.0, "currency": "USD"}, True),
    ("reward == 'Hydrate' or reward == 'Stretch'", {"type": "redeem", "reward": "stretch"}, True),
    ("not anonymous and message contains \"song\"", {"message": "Play a SONG please"}, True),
    ("anonymous", {"anonymous": True}, True),
    ("(tier >= 2 or months >= 12) and type != \"gift\"", {"type": "resub", "tier": 1, "months": 12}, True),
    ("bits > 10 and not (bits > 100)", {"bits": 500}, False),
])
def test_conditions(text, fields, expected):
    assert Condition.parse(text)(ev(**fields)) is expected


@pytest.mark.parametrize("text,why", [
    ("bitz > 1", "unknown field 'bitz' at character 1"),
    ("bits >= \"a\"", "cannot compare bits (a number) with 'a' (text)"),
    ("reward < \"a\"", "< needs numbers"),
    ("bits", "bits needs a comparison"),
    ("bits >= 1 and", "expected a field or a value at character 14"),
    ("bits >= 1; import os", "unexpected '; import o' at character 10"),
    ("__import__('os') == 1", "unknown field '__import__'"),
    ("(bits > 1", "expected ')'"),
    ("", "empty"),
    ("bits > 1 " * 80, "longer than 500"),
])
def test_bad_conditions_say_where(text, why):
    with pytest.raises(ConditionError, match=__import__("re").escape(why)):
        Condition.parse(text)


def test_templates_show_fields_and_nothing_else():
    t = Template.parse("Thanks {user} for {bits} bits and ${amount}! {{not a field}}")
    assert t.render(ev(bits=100, amount=5.5).fields()) == "Thanks Bob for 100 bits and $5.50! {not a field}"
    assert Template.parse("{user}").render(ev(anonymous=True).fields()) == "someone"
    long = Template.parse("{message}").render(ev(message="word " * 200).fields())
    assert len(long) <= 301 and long.endswith("…")
    for bad in ("{user.__class__}", "{0}", "{user!r}", "{bits:>10}", "oops {"):
        with pytest.raises(TemplateError):
            Template.parse(bad)


def test_the_shipped_rules_cover_every_event_type():
    rules = load_rules(ROOT / "configs" / "rules.example.yaml")
    covered = {t for r in rules.rules for t in r.on}
    assert covered == {"follow", "cheer", "sub", "resub", "gift", "raid", "redeem", "donation",
                       "hype_train_begin", "hype_train_end"}


def test_rules_match_in_order_with_stop_and_cooldown():
    rules = parse_rules({"rules": [
        {"name": "huge", "on": "cheer", "when": "bits >= 1000", "stop": True, "do": [{"vfx": "fireworks"}]},
        {"name": "big", "on": "cheer", "when": "bits >= 100", "cooldown_s": 30,
         "do": [{"say": "Thanks {user}!"}]},
        {"name": "any", "on": ["cheer", "donation"], "do": [{"vfx": {"kind": "hearts", "scale": "bits", "per": 200}}]},
    ]})
    names = lambda e, t: [(r.name, held) for r, held in rules.match(e, t)]  # noqa: E731
    assert names(ev(bits=5000), 0) == [("huge", None)]
    assert names(ev(bits=150), 1) == [("big", None), ("any", None)]
    assert names(ev(bits=150), 10) == [("big", "cooling down (21 s left)"), ("any", None)]
    assert names(ev(bits=150), 32) == [("big", None), ("any", None)]
    vfx = rules.rules[2].actions[0]
    assert isinstance(vfx, Vfx) and vfx.strength(ev(bits=600).fields()) == 3.0
    assert vfx.strength(ev(bits=10).fields()) == 0.5 and vfx.strength(ev(bits=10**6).fields()) == 5.0


def test_short_and_long_action_forms():
    rules = parse_rules({"rules": [{"on": "raid", "do": [
        {"say": "Welcome {user}'s raiders"}, {"obs.scene": {"scene": "Celebration", "back_after_s": 8}},
        {"react": True}, {"wait": 2}, {"expression": "happy"}]}]})
    say, scene, react, wait, expression = rules.rules[0].actions
    assert say == Say("Welcome {user}'s raiders")
    assert scene == ObsScene("Celebration", 8.0)
    assert react.prompt == "" and wait.seconds == 2.0 and expression.name == "happy"
    assert rules.rules[0].name == "raid #1"


@pytest.mark.parametrize("rule,why", [
    ({"on": "cheers", "do": [{"vfx": "fireworks"}]}, "rules[0].on: one of follow, cheer"),
    ({"on": "cheer", "do": []}, "rule 'cheer #1'.do: a list of actions"),
    ({"on": "cheer", "when": "bitz > 1", "do": [{"vfx": "fireworks"}]}, ".when: unknown field 'bitz'"),
    ({"on": "cheer", "do": [{"vfx": "lasers"}]}, "do[0].vfx: unknown effect 'lasers'"),
    ({"on": "cheer", "do": [{"explode": True}]}, "do[0]: unknown action 'explode'"),
    ({"on": "cheer", "do": [{"say": "hi {usr}"}]}, "do[0].say: unknown field {usr}"),
    ({"on": "cheer", "do": [{"obs.scene": {"scene": "X", "back_after_s": -1}}]}, "back_after_s: more than 0"),
    ({"on": "cheer", "do": [{"obs.scene": {"scen": "X"}}]}, "unknown setting 'scen'"),
    ({"on": "cheer", "do": [{"vfx": {"kind": "confetti", "scale": "user"}}]}, "scale: a number field"),
    ({"on": "cheer", "do": [{"vfx": {"kind": "confetti", "intensity": "lots"}}]}, "intensity: a number"),
    ({"on": "cheer", "cooldown_s": "soon", "do": [{"vfx": "confetti"}]}, "cooldown_s: seconds"),
    ({"on": "cheer", "colour": 1, "do": [{"vfx": "confetti"}]}, "unknown key 'colour'"),
])
def test_bad_rules_name_the_file_rule_and_key(rule, why):
    with pytest.raises(RulesError) as e:
        parse_rules({"rules": [rule]}, "my-rules.yaml")
    assert str(e.value).startswith("my-rules.yaml: ") and why in str(e.value)


def test_yaml_problems_name_the_file_and_line(tmp_path):
    bad = tmp_path / "rules.yaml"
    bad.write_text("rules:\n  - on: cheer\n    do: [\n")
    with pytest.raises(RulesError, match=r"rules.yaml: not valid YAML at line \d"):
        load_rules(bad)
    with pytest.raises(RulesError, match="cannot read the rules"):
        load_rules(tmp_path / "missing.yaml")
