"""Runs a suite that needs another environment (.venv-xtts) and judges its report.

The main suite runs tests/tha3 and tests/xtts as subprocesses. Their exit status alone
would let a whole module skip unseen, so the JUnit report is read: at least one test
must pass, and every skip must be one the test marked as not applicable on this
machine (its reason starts with ``NOT_APPLICABLE``). Any other skip is a failure: a
missing tool or package there means the set-up is broken, not that the test may rest.
"""

from __future__ import annotations

import os
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import pytest

#: how a test says it does not apply here (e.g. it needs hardware this machine lacks)
NOT_APPLICABLE = "not applicable here:"


def not_applicable(why: str) -> None:
    """Skip a test in a way the wrapper accepts; for cases that cannot apply here."""
    pytest.skip(f"{NOT_APPLICABLE} {why}")


@dataclass
class Report:
    passed: int = 0
    failed: int = 0
    not_applicable: list[str] = field(default_factory=list)
    unexpected_skips: list[str] = field(default_factory=list)


def read_report(path: Path) -> Report:
    """Counts from a pytest ``--junitxml`` file; skips sorted by their reason."""
    report = Report()
    for case in ET.parse(path).getroot().iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        skipped = case.find("skipped")
        if case.find("failure") is not None or case.find("error") is not None:
            report.failed += 1
        elif skipped is not None:
            if skipped.get("type") == "pytest.xfail":
                continue  # an expected failure, declared by the test
            reason = skipped.get("message") or ""
            bucket = (report.not_applicable if reason.startswith(NOT_APPLICABLE)
                      else report.unexpected_skips)
            bucket.append(f"{name}: {reason}")
        else:
            report.passed += 1
    return report


def run_suite(python: Path, suite: str, root: Path, tmp_path: Path, hint: str = "") -> Report:
    """Run ``suite`` with ``python``; fail on failures, nothing passed or unexpected skips."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "VIRTUAL_ENV")}
    xml = tmp_path / "report.xml"
    r = subprocess.run([str(python), "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                        f"--junitxml={xml}", suite],
                       cwd=root, env=env, capture_output=True, text=True, timeout=900)
    tail = (r.stdout + r.stderr)[-3000:]
    assert r.returncode == 0, tail + (f"\n({hint})" if hint else "")
    report = read_report(xml)
    assert report.passed > 0 and report.failed == 0, tail
    assert not report.unexpected_skips, "skipped without being marked not applicable:\n" + \
        "\n".join(report.unexpected_skips) + "\n" + tail
    return report
