#!/usr/bin/env sh
# The production layout puts nginx in front of gunicorn (deploy/nginx.conf); tests/ops/test_slow_clients.py
# runs that config. Installs Debian's nginx-light with apt-get when nginx is missing and we are root;
# otherwise says how to install it.
set -eu
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's nginx-light for the production-layout tests…"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light
  exit 0
fi
echo "nginx is not installed, so the production-layout tests will be skipped (and fail under CI=true)." >&2
echo "Install it with:  sudo apt-get install -y nginx-light" >&2
