#!/usr/bin/env bash
# One dev environment for every part of Peerwatch: a Python 3.13 virtualenv in .venv with the
# edge, the registrar and the integration's test stack; the PWA's npm packages; and the Debian
# programs the tests start (Chromium, Redis, FFmpeg). Safe to run again: each step is skipped
# while what it installs is up to date.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

log() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

find_python() {
    local candidate
    for candidate in "${PYTHON:-}" "$(command -v python3.13 || true)"; do
        if [ -n "$candidate" ] && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null; then
            echo "$candidate"; return 0
        fi
    done
    if command -v pyenv >/dev/null 2>&1; then
        for candidate in "$(pyenv root)"/versions/3.13*/bin/python3.13; do
            [ -x "$candidate" ] && { echo "$candidate"; return 0; }
        done
    fi
    return 1
}

debian_packages() {
    local missing=()
    command -v chromium >/dev/null 2>&1 || missing+=(chromium fonts-liberation)
    command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
    command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing Debian packages: ${missing[*]}"
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

python_env() {
    local python stamp want
    python=$(find_python) || die "Python 3.13 not found: put python3.13 on PATH, install it with pyenv, or set PYTHON=/path/to/python3.13"
    want=$(cat requirements-dev.txt addon/pyproject.toml registrar/pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)
    stamp=.venv/.peerwatch-setup
    if [ -x .venv/bin/python ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
        log "Python environment up to date (.venv)"
        return 0
    fi
    if ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null; then
        log "creating .venv with $python"
        rm -rf .venv
        "$python" -m venv .venv
    fi
    log "installing Python packages (first run takes a few minutes)"
    .venv/bin/python -m pip install -q --disable-pip-version-check -U pip wheel
    .venv/bin/python -m pip install -q --disable-pip-version-check \
        -r requirements-dev.txt -e "$root/addon" -e "$root/registrar"
    echo "$want" > "$stamp"
}

node_env() {
    command -v npm >/dev/null 2>&1 || die "npm not found: install Node.js 20 or newer (Debian: apt-get install nodejs npm)"
    if [ -d pwa/node_modules ] && [ pwa/node_modules/.package-lock.json -nt pwa/package-lock.json ]; then
        log "npm packages up to date (pwa/node_modules)"
        return 0
    fi
    log "installing npm packages for the PWA"
    (cd pwa && npm ci --no-audit --no-fund --loglevel=error)
}

pwa_build() {
    if [ -f pwa/dist/index.html ] && [ -z "$(find pwa/src pwa/build.mjs pwa/icon.mjs pwa/package-lock.json -newer pwa/dist/index.html -print -quit)" ]; then
        log "PWA build up to date (pwa/dist)"
        return 0
    fi
    log "building the PWA (pwa/dist)"
    (cd pwa && npm run build --silent)
}

debian_packages
python_env
node_env
pwa_build
log "ready"
