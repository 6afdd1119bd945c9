#!/usr/bin/env bash
# Builds the web UI into web/dist when its sources changed (npm ci from the
# committed package-lock.json when node_modules is missing or stale).
set -euo pipefail
cd "$(dirname "$0")/../web"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
stamp=dist/.build-stamp
if [ ! -f "$stamp" ] || [ -n "$(find src index.html vite.config.* package-lock.json -newer "$stamp" 2>/dev/null | head -1)" ]; then
  npm run build --silent
  touch "$stamp"
fi
