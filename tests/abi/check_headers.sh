#!/usr/bin/env bash
# Checks that every public header compiles on its own, as strict C99 and as
# C++11, with no warnings: each header includes what it uses and nothing
# relies on an include order or on GNU extensions.
#
#   check_headers.sh INCLUDE_DIR
#
# INCLUDE_DIR is the directory holding tw/ (the repository's include/). Every
# tw/*.h is checked, installed or not yet: a header must stand alone from the
# moment it exists. CC and CXX may name the compilers (default cc and c++).
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 INCLUDE_DIR" >&2
    exit 2
fi
inc=$1
cc=${CC:-cc}
cxx=${CXX:-c++}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

shopt -s nullglob
headers=("$inc"/tw/*.h)
if [ ${#headers[@]} -eq 0 ]; then
    echo "no headers found in $inc/tw" >&2
    exit 2
fi

status=0
for h in "${headers[@]}"; do
    name=tw/$(basename "$h")
    # Included twice: the include guard must work too.
    printf '#include <%s>\n#include <%s>\n' "$name" "$name" >"$tmp/one.c"
    cp "$tmp/one.c" "$tmp/one.cpp"
    if ! "$cc" -std=c99 -pedantic -Wall -Wextra -Werror -fsyntax-only -I "$inc" "$tmp/one.c" 2>"$tmp/err"; then
        echo "FAIL (C99): $name"
        sed 's/^/    /' "$tmp/err"
        status=1
    fi
    if ! "$cxx" -x c++ -std=c++11 -pedantic -Wall -Wextra -Werror -fsyntax-only -I "$inc" "$tmp/one.cpp" 2>"$tmp/err"; then
        echo "FAIL (C++11): $name"
        sed 's/^/    /' "$tmp/err"
        status=1
    fi
done

# Declarations must get C linkage in C++: a C++ translation unit taking the
# address of tw_version must reference the unmangled symbol.
printf '#include <tw/tw.h>\nconst void *p = (const void *)&tw_version;\n' >"$tmp/linkage.cpp"
"$cxx" -std=c++11 -c -I "$inc" "$tmp/linkage.cpp" -o "$tmp/linkage.o"
if ! nm "$tmp/linkage.o" | grep -qE '[[:space:]]U tw_version$'; then
    echo "FAIL (C++ linkage): tw_version is not referenced with C linkage"
    nm "$tmp/linkage.o" | sed 's/^/    /'
    status=1
fi

if [ $status -eq 0 ]; then
    echo "check_headers: ${#headers[@]} headers compile alone as C99 and C++11"
fi
exit $status
