#!/usr/bin/env bash
# Runs every test: C unit, integration and ABI tests (also under AddressSanitizer
# and UndefinedBehaviorSanitizer), mypy --strict, and pytest, against a real
# Temporal dev server (TW_TEST_ADDRESS, or one started here and stopped after).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

if [ -z "${TW_TEST_ADDRESS:-}" ]; then
    state=.devserver/test
    .venv/bin/python scripts/devserver.py start --state "$state" >/dev/null
    trap '.venv/bin/python scripts/devserver.py stop --state '"$state" EXIT
    TW_TEST_ADDRESS=$(cat "$state/address")
    export TW_TEST_ADDRESS
fi
echo "test: Temporal dev server at $TW_TEST_ADDRESS"

echo "== C tests (unit, integration, abi, examples)"
meson test -C build --print-errorlogs

echo "== the C ABI from Go (cgo): examples/go"
(cd examples/go && go build -o ../../build/examples/go_ffi_example .)
./build/examples/go_ffi_example "$TW_TEST_ADDRESS"

echo "== C tests under ASan + UBSan"
if [ ! -f build-asan/build.ninja ]; then
    meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dwerror=true -Dexamples=false >/dev/null
fi
ninja -C build-asan >/dev/null
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0 \
    meson test -C build-asan --suite unit --suite integration --print-errorlogs

echo "== mypy --strict"
(cd bindings/python && ../../.venv/bin/mypy --strict temporalio)
.venv/bin/mypy --strict examples/python

echo "== pytest"
# The official SDK, in a venv of its own (same import name): the interop tests
# replay this package's histories with it.
if [ ! -x .venv-ref/bin/python ]; then
    "${PYTHON:-python3}" -m venv .venv-ref
    .venv-ref/bin/pip install -q temporalio
fi
.venv/bin/pytest
