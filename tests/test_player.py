"""Playback through the real sounddevice/PortAudio/ALSA stack into a capture file."""

import os
import subprocess
import sys
import textwrap

import numpy as np

from bot.speech.player import AudioDeviceError, resolve_output_device

SCRIPT = textwrap.dedent("""
    import asyncio, sys
    import numpy as np
    from bot.speech.player import AudioPlayer
    tone = (np.sin(np.arange(22050) * 2 * np.pi * 440 / 22050) * 12000).astype(np.int16)
    async def main():
        p = AudioPlayer(device=sys.argv[1] if len(sys.argv) > 1 else None)
        p.enqueue(tone, 22050)
        p.enqueue(tone[:11025], 22050)
        await p.drain(timeout=20)
        print("played", p.samples_played, p._stream_rate)
        p.close_stream()
    asyncio.run(main())
""")


def run_player(home, *args):
    env = {**os.environ, "HOME": str(home)}
    return subprocess.run([sys.executable, "-c", SCRIPT, *args], env=env, capture_output=True,
                          text=True, timeout=60)


def test_player_sends_every_sample_to_the_named_device(alsa_capture):
    home, raw = alsa_capture
    result = run_player(home, "vtbot_capture")
    assert result.returncode == 0, result.stderr
    played = int(result.stdout.split()[1])
    rate = int(result.stdout.split()[2])
    assert played == (22050 + 11025) * rate // 22050
    data = np.fromfile(raw, dtype=np.int16)
    assert data.size >= played  # what reached ALSA, plus silence padding
    assert rate == 22050  # ALSA's plug layer takes the voice's own rate
    tone = (np.sin(np.arange(22050) * 2 * np.pi * 440 / 22050) * 12000).astype(np.int16)
    expected = np.concatenate([tone, tone[:11025]])
    start = int(np.argmax(data != 0)) - 1  # the tone starts at sin(0) == 0
    assert np.array_equal(data[start:start + expected.size], expected)  # bit-exact, in order


def test_unknown_device_name_lists_the_real_ones(alsa_capture):
    home, _ = alsa_capture
    code = ("from bot.speech.player import resolve_output_device\n"
            "try:\n resolve_output_device('Focusrite')\n"
            "except Exception as e:\n print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "HOME": str(home)},
                         capture_output=True, text=True, timeout=60).stdout
    assert "no output device matches 'Focusrite' (audio.output_device); available:" in out
    assert "'vtbot_capture'" in out


def test_no_device_is_a_clear_error_in_this_process():
    # the test process itself has no ALSA device configured (CI machines have no sound card)
    try:
        idx = resolve_output_device(None)
    except AudioDeviceError as e:
        assert "no audio output device found" in str(e)
    else:
        assert idx is None
