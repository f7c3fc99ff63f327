#!/usr/bin/env bash
# Checks that the shared library exports exactly the functions the public
# headers declare with TW_API: nothing missing (a declared function that was
# never defined, or hidden by the version script) and nothing extra (an
# internal function leaking out of -fvisibility=hidden / lib/libtw.map).
#
#   check_exports.sh LIBRARY HEADER...
#
# LIBRARY is the built libtemporal-workflow.so; the HEADERs are the public
# headers (meson passes the installed list, include/tw/meson.build, so a
# header still being written and not yet installed is not part of the API).
# Exits 0 when the two sets match, 1 listing the differences otherwise.
set -euo pipefail

if [ $# -lt 2 ]; then
    echo "usage: $0 LIBRARY HEADER..." >&2
    exit 2
fi
lib=$1
shift
files=("$@")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Declarations read "TW_API <return type> [*]tw_name(" on one line (the
# headers keep the name on the TW_API line; the cffi cdef relies on it too).
# Comments are stripped first so prose mentioning TW_API does not count.
sed -e 's://.*$::' "${files[@]}" \
    | perl -0777 -pe 's{/\*.*?\*/}{}gs' \
    | grep -oE '\bTW_API\b[^;(]*[[:space:]*]tw_[A-Za-z0-9_]+[[:space:]]*\(' \
    | grep -oE 'tw_[A-Za-z0-9_]+[[:space:]]*\($' \
    | sed -E 's/[[:space:]]*\($//' \
    | sort -u >"$tmp/declared"

# Every TW_API line must have been understood: a declaration split so that
# the name is not on the TW_API line would silently escape the check.
api_lines=$(sed -e 's://.*$::' "${files[@]}" | perl -0777 -pe 's{/\*.*?\*/}{}gs' \
    | grep -cE '^[[:space:]]*TW_API[[:space:]]' || true)
declared_count=$(wc -l <"$tmp/declared")
if [ "$api_lines" -ne "$declared_count" ]; then
    echo "check_exports: $api_lines TW_API declarations but $declared_count names parsed;" \
         "keep each function's name on its TW_API line (or a name is declared twice)" >&2
    exit 1
fi

# Defined, exported text symbols; strip the version suffix (tw_free@@TW_0).
nm -D --defined-only "$lib" \
    | awk '$2 == "T" || $2 == "i" { sub(/@.*/, "", $3); print $3 }' \
    | sort -u >"$tmp/exported"

# Any exported symbol that is not a function (data, absolute) other than the
# version node itself is a leak as well.
other=$(nm -D --defined-only "$lib" | awk '$2 != "T" && $2 != "i" && !($2 == "A" && $3 ~ /^TW_[0-9]+$/) { print }')

missing=$(comm -23 "$tmp/declared" "$tmp/exported")
extra=$(comm -13 "$tmp/declared" "$tmp/exported")
status=0
if [ -n "$missing" ]; then
    echo "declared with TW_API in the public headers but not exported by $lib:"
    printf '  %s\n' $missing
    status=1
fi
if [ -n "$extra" ]; then
    echo "exported by $lib but not declared with TW_API in the public headers:"
    printf '  %s\n' $extra
    status=1
fi
if [ -n "$other" ]; then
    echo "exported non-function symbols in $lib:"
    printf '  %s\n' "$other"
    status=1
fi
if [ $status -eq 0 ]; then
    echo "check_exports: $(wc -l <"$tmp/exported") exported functions match the ${#files[@]} public headers"
fi
# Headers beside the public ones that are not installed (yet) are not part
# of the API: say so, so that nobody wonders why their functions are absent.
for h in "$(dirname "${files[0]}")"/*.h; do
    known=0
    for f in "${files[@]}"; do
        if [ "$(basename "$f")" = "$(basename "$h")" ]; then
            known=1
        fi
    done
    if [ $known -eq 0 ]; then
        echo "note: $(basename "$h") is not in the installed headers (include/tw/meson.build); not checked"
    fi
done
exit $status
