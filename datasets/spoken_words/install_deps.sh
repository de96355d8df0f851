#!/usr/bin/env bash
# Installs the speech synthesiser the spoken_words generator needs (Debian/Ubuntu).
# Idempotent: does nothing when espeak-ng is already on PATH. Needs root or sudo.
set -euo pipefail
bash "$(dirname "$0")/../../scripts/apt_install.sh" espeak-ng espeak-ng
espeak-ng --version
