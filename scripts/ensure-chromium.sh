#!/usr/bin/env sh
# The browser tests drive Debian's chromium (Playwright's own browser download cannot work here).
# Installs it with apt-get when it is missing and we are root; otherwise says how to install it.
set -eu
CHROMIUM=/usr/bin/chromium
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests…"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
  exit 0
fi
echo "chromium is not installed, so the browser tests will be skipped (and fail under CI=true)." >&2
echo "Install it with:  sudo apt-get install -y chromium" >&2
