#!/usr/bin/env bash
# System packages the tests need: Debian's Chromium (browser tests; no browser download)
# and Debian's PostgreSQL server (the catalog's PostgreSQL tests start a throwaway one).
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium fonts-liberation)
compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null || missing+=(postgresql)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
command -v chromium
compgen -G "/usr/lib/postgresql/*/bin/pg_ctl"
