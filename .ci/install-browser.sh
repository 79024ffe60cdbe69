#!/usr/bin/env bash
# Installs Debian's Chromium for the headless-browser report test (idempotent).
# Playwright's own browser download does not work here; we use /usr/bin/chromium
# (override the path the tests use with CHROMIUM_PATH).
set -euo pipefail

CHROMIUM_BIN="${CHROMIUM_PATH:-/usr/bin/chromium}"

if [ ! -x "$CHROMIUM_BIN" ]; then
  echo "install-browser: $CHROMIUM_BIN not found, installing Debian's chromium..." >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

if [ ! -x "$CHROMIUM_BIN" ]; then
  echo "install-browser: $CHROMIUM_BIN still missing after install" >&2
  exit 1
fi

# (Debian's wrapper script prints a harmless shell warning on stderr on some machines.)
if ! "$CHROMIUM_BIN" --version 2>/dev/null; then
  echo "install-browser: '$CHROMIUM_BIN --version' failed" >&2
  "$CHROMIUM_BIN" --version
fi
