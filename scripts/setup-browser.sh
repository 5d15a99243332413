#!/bin/sh
# Gives this machine the browser the end-to-end test drives: Chromium at /usr/bin/chromium.
# On Debian, as root, installs the distribution's `chromium` package when it is missing (the
# test never downloads a browser of its own). Elsewhere it says what to install. Idempotent.
set -eu
CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
  echo "setup-browser: $("$CHROMIUM" --version 2>/dev/null | head -n 1) already installed"
  exit 0
fi
if [ ! -r /etc/os-release ] || ! grep -q '^ID=debian' /etc/os-release; then
  echo "setup-browser: $CHROMIUM is missing and this is not Debian; install Chromium there (or link it) and run again." >&2
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "setup-browser: $CHROMIUM is missing; installing it needs root: apt-get install chromium" >&2
  exit 1
fi
echo "setup-browser: installing Debian's chromium package"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
echo "setup-browser: $("$CHROMIUM" --version 2>/dev/null | head -n 1) installed"
