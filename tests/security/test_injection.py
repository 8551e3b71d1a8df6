"""Chat text never reaches a shell, a file path, a template engine or an eval.

The code is checked for the constructs that could run text (eval, exec, shells,
unsafe deserialisers, template engines), and hostile text is pushed through the places
where viewer text meets something that interprets: alert templates and output files.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np

from avatar.lipsync.timeline import VisemeTimeline
from bot.speech.segment import SpeechSegment, Utterance, UtteranceStats
from bot.speech.wav_writer import WavJsonWriter
from events.model import StreamEvent
from events.templates import Template

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "events", "overlay", "avatar")
HOSTILE = ["{user}", "{{bits}}", "{0.__class__.__mro__}", "%s%s%n", "${jndi:ldap://x}", "{{7*7}}",
           "`rm -rf ~`", "$(reboot)", "; shutdown -h now", "../../../../etc/passwd", "\x00", "__import__('os')"]

# module.function calls that interpret text as code or commands
FORBIDDEN_CALLS = {
    ("os", "system"), ("os", "popen"), ("os", "execv"), ("os", "execvp"), ("pickle", "load"),
    ("pickle", "loads"), ("marshal", "loads"), ("yaml", "load"), ("yaml", "unsafe_load"),
    ("subprocess", "getoutput"), ("subprocess", "getstatusoutput"),
}
FORBIDDEN_NAMES = {"eval", "exec", "compile", "__import__"}
FORBIDDEN_IMPORTS = {"jinja2", "mako", "string"}  # string: string.Template / Formatter


def python_files() -> list[Path]:
    return [p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")]


def test_no_code_runs_text():
    found = []
    for path in python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        where = path.relative_to(ROOT)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                f = node.func
                if isinstance(f, ast.Name) and f.id in FORBIDDEN_NAMES:
                    found.append(f"{where}:{node.lineno} {f.id}()")
                if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) \
                        and (f.value.id, f.attr) in FORBIDDEN_CALLS:
                    found.append(f"{where}:{node.lineno} {f.value.id}.{f.attr}()")
                for kw in node.keywords:
                    if kw.arg == "shell" and not (isinstance(kw.value, ast.Constant) and kw.value.value is False):
                        found.append(f"{where}:{node.lineno} shell=")
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                found += [f"{where}:{node.lineno} import {n}" for n in names
                          if n.split(".")[0] in FORBIDDEN_IMPORTS]
    assert found == []


def test_the_subprocesses_take_no_text_from_outside():
    """Only the overlay window and the doctor's llama.cpp self-test are started as
    processes: fixed arguments (the self-test's come from the config), no shell."""
    users = [p.relative_to(ROOT).as_posix() for p in python_files()
             if "create_subprocess" in p.read_text(encoding="utf-8") or "subprocess.run" in p.read_text(encoding="utf-8")
             or "Popen(" in p.read_text(encoding="utf-8")]
    assert sorted(users) == ["bot/brain/selftest.py", "bot/overlay_process.py"]
    src = (ROOT / "bot" / "overlay_process.py").read_text()
    assert "create_subprocess_exec(*args" in src and "create_subprocess_shell" not in src
    selftest = (ROOT / "bot" / "brain" / "selftest.py").read_text()
    assert 'cmd = [sys.executable, "-m", "bot.brain.selftest", "--extra-buffers", extra_buffers]' in selftest
    assert "subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)" in selftest
    assert "shell=" not in selftest


def test_viewer_text_in_an_alert_template_stays_text():
    template = Template.parse("Thanks {user} for {bits} bits: {message}")
    for hostile in HOSTILE:
        event = StreamEvent(type="cheer", id="x", source="trigger", user=hostile[:100], bits=5,
                            message=hostile)
        said = template.render(event.fields())
        assert said == f"Thanks {hostile[:100] or 'someone'} for 5 bits: {hostile}"  # verbatim, once


async def test_viewer_names_never_steer_output_paths(tmp_path):
    writer = WavJsonWriter(tmp_path / "out")
    n = 2205
    timeline = VisemeTimeline.from_dict({"format": "vtbot.visemes/1", "sample_rate": 22050, "n_samples": n,
                                         "keys": [[0, "sil"]]})
    for i, hostile in enumerate(HOSTILE + ["C:\\Windows\\win.ini", "/etc/shadow", "..", "~root"]):
        utt = Utterance(f"u{i}", hostile, hostile)
        await writer.start(utt)
        await writer.segment(SpeechSegment(utt.id, 0, "hi", np.zeros(n, np.int16), 22050, timeline))
        await writer.finish(utt, UtteranceStats(text="hi"))
    out = (tmp_path / "out").resolve()
    assert writer.written and all(p.resolve().parent == out for p in writer.written)
    assert {p.name for p in tmp_path.rglob("*") if p.is_file()} == {p.name for p in writer.written}
    doc = json.loads(writer.written[1].read_text())
    assert doc["viewer"] == HOSTILE[0]  # the name is kept as data, inside the file
