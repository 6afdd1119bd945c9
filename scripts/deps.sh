#!/usr/bin/env bash
# Installs what Shouhou needs and is missing: Debian packages via apt-get.
# Idempotent and quiet when everything is there. Usage: scripts/deps.sh [run|test|bench]
set -euo pipefail
what="${1:-run}"

pkgs=(g++ cmake ninja-build pkg-config make libboost-dev nlohmann-json3-dev libspdlog-dev libcli11-dev
      libsodium-dev libsqlite3-dev libpq-dev zlib1g-dev)
case "$what" in
  test)  pkgs+=(libgtest-dev postgresql chromium) ;;
  bench) pkgs+=(libbenchmark-dev wrk postgresql curl) ;;
esac
command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
