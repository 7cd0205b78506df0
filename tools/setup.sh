#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks for Waygate (nats-server from Debian's packages), then the npm
# dependencies from the lockfile. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v nats-server >/dev/null 2>&1 && [ ! -x /usr/sbin/nats-server ]; then
  echo "Installing nats-server (Debian package, JetStream included) ..."
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nats-server >/dev/null
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "Waygate needs Node.js 20.19 or newer (found $(node --version))." >&2
  exit 1
fi

echo "Installing npm dependencies (better-sqlite3 compiles from source, about 2 minutes) ..."
npm ci --no-audit --no-fund
