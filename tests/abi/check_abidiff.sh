#!/usr/bin/env bash
# Compares the ABI of the freshly built shared library with the committed
# baseline abi/libtemporal-workflow.abi, with abidw + abidiff (libabigail).
#
#   check_abidiff.sh ABI_DIR LIBRARY HEADER...            check
#   check_abidiff.sh --update ABI_DIR LIBRARY HEADER...   rewrite the baseline
#
# ABI_DIR holds the baseline (libtemporal-workflow.abi and .enums) and the
# suppressions (libtemporal-workflow.abignore); LIBRARY is the built
# libtemporal-workflow.so; the HEADERs are the public headers (meson passes
# the installed list from include/tw/meson.build).
#
# Policy (what passes and what fails):
#   - abidiff exit status bit 1 (error) or 2 (usage error): FAIL, the check
#     could not run.
#   - bit 8, ABIDIFF_ABI_INCOMPATIBLE_CHANGE (a function or variable was
#     removed, or its symbol version changed): FAIL.
#   - bit 4, ABIDIFF_ABI_CHANGE: abidiff sets it for additions as well as for
#     changes. Additions of functions (and variables) are allowed, so the
#     report is read: it FAILS if any function or variable was removed or
#     changed (a changed parameter or return type, a public struct whose
#     layout changed, an enumerator whose value changed, ...), and PASSES if
#     the only changes are additions.
#   - Changes the policy deems compatible are suppressed before counting
#     (libtemporal-workflow.abignore): the layout of opaque handles, which is
#     private, and fields appended at the end of size-versioned options
#     structs. Added enumerators are harmless to libabigail and not reported.
#   - Enumerator values: the API passes enums as int, so the public enum types
#     never reach the debug info and abidiff cannot see them. The script
#     therefore also compares every `TW_NAME = value` of the headers with
#     libtemporal-workflow.enums: a removed enumerator or a changed value
#     FAILS, a new one passes.
# A pass with additions prints them: refresh the baseline in the same change
# (see abi/README.md) so that the next check compares against the new ABI.
set -euo pipefail

update=0
if [ "${1:-}" = "--update" ]; then
    update=1
    shift
fi
if [ $# -lt 3 ]; then
    echo "usage: $0 [--update] ABI_DIR LIBRARY HEADER..." >&2
    exit 2
fi
abi_dir=$1
lib=$2
shift 2
headers=("$@")
header_args=()
for h in "${headers[@]}"; do
    header_args+=(--header-file "$h")
done
baseline=$abi_dir/libtemporal-workflow.abi
suppressions=$abi_dir/libtemporal-workflow.abignore
enums=$abi_dir/libtemporal-workflow.enums

for tool in abidw abidiff; do
    if ! command -v "$tool" >/dev/null; then
        echo "$tool not found: install abigail-tools" >&2
        exit 1
    fi
done

# Without debug info abidw sees only symbol names and every type change would
# pass unnoticed: refuse rather than pass.
if ! readelf -S "$lib" | grep -q '\.debug_info'; then
    echo "$lib has no debug info (build with -g, e.g. the default debugoptimized): cannot compare its ABI" >&2
    exit 1
fi

# One place for the abidw flags, so baseline and check always agree:
# only exported interfaces, no build-machine paths in the output.
dump() {
    abidw "${header_args[@]}" --exported-interfaces-only --drop-undefined-syms \
        --no-corpus-path --no-comp-dir-path "$lib" --out-file "$1"
}

# "TW_NAME value" for every enumerator with an explicit value, sorted by name.
enum_values() {
    cat "${headers[@]}" | perl -0777 -pe 's{/\*.*?\*/}{}gs; s{//[^\n]*}{}g' \
        | grep -oE '\bTW_[A-Z0-9_]+[[:space:]]*=[[:space:]]*-?[0-9]+' \
        | sed -E 's/[[:space:]]*=[[:space:]]*/ /' | LC_ALL=C sort
}

if [ $update -eq 1 ]; then
    dump "$baseline"
    enum_values >"$enums"
    echo "wrote $baseline and $enums from $lib and ${#headers[@]} headers"
    exit 0
fi

for f in "$baseline" "$enums"; do
    if [ ! -f "$f" ]; then
        echo "no baseline at $f: create it with $0 --update $abi_dir $lib HEADER..." >&2
        exit 1
    fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

enum_values >"$tmp/enums"
enum_errors=$(LC_ALL=C join -a 1 -e MISSING -o 0,1.2,2.2 "$enums" "$tmp/enums" \
    | awk '$2 != $3 { if ($3 == "MISSING") print "  " $1 " = " $2 " was removed"; else print "  " $1 " changed from " $2 " to " $3 }')
if [ -n "$enum_errors" ]; then
    echo "INCOMPATIBLE enumerator changes against $enums:"
    echo "$enum_errors"
    exit 1
fi

dump "$tmp/current.abi"

set +e
abidiff --suppressions "$suppressions" --no-show-locs "$baseline" "$tmp/current.abi" >"$tmp/report" 2>&1
rc=$?
set -e

if [ $((rc & 3)) -ne 0 ]; then
    echo "abidiff could not compare (exit status $rc):"
    cat "$tmp/report"
    exit 1
fi
if [ $((rc & 8)) -ne 0 ]; then
    echo "INCOMPATIBLE ABI change against $baseline:"
    cat "$tmp/report"
    exit 1
fi
if [ $((rc & 4)) -eq 0 ]; then
    echo "check_abidiff: ABI identical to $baseline"
    exit 0
fi

# Bit 4 only: allowed if nothing was removed or changed. The summary lines read
#   Functions changes summary: R Removed, C Changed (F filtered out), A Added functions
#   Variables changes summary: R Removed, C Changed, A Added variables
#   Function symbols changes summary: R Removed, A Added function symbols not referenced by debug info
summary_count() { # $1: summary line prefix, $2: Removed|Changed
    grep -E "^$1 changes summary:" "$tmp/report" | grep -oE "[0-9]+ $2" | grep -oE '^[0-9]+' || echo 0
}
bad=0
for what in Functions Variables "Function symbols" "Variable symbols"; do
    for kind in Removed Changed; do
        n=$(summary_count "$what" "$kind")
        if [ "${n:-0}" -ne 0 ]; then
            bad=1
        fi
    done
done
if [ $bad -ne 0 ] || ! grep -qE '^Functions changes summary:' "$tmp/report"; then
    echo "ABI change other than an addition against $baseline:"
    cat "$tmp/report"
    exit 1
fi
echo "check_abidiff: compatible additions only (refresh the baseline, see abi/README.md):"
cat "$tmp/report"
exit 0
