#!/usr/bin/env bash
# Installs the speech synthesiser the spoken_words generator needs (Debian/Ubuntu).
# Idempotent: does nothing when espeak-ng is already on PATH. Needs root or sudo.
set -euo pipefail

if command -v espeak-ng >/dev/null 2>&1; then
    echo "espeak-ng already installed: $(command -v espeak-ng)"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "install_deps.sh: need root or sudo to install espeak-ng" >&2
    exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_deps.sh: apt-get not found; install espeak-ng with your package manager" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends espeak-ng
espeak-ng --version
