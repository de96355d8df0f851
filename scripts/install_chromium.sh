#!/usr/bin/env bash
# Installs headless Chromium (Debian's package) for the documentation site's browser check
# (tests/docs/test_browser.py). Idempotent; needs root or sudo.
set -euo pipefail
bash "$(dirname "$0")/apt_install.sh" chromium chromium fonts-dejavu-core
chromium --version
