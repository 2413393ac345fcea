#!/bin/sh
# make lint: every header compiles alone, every .c includes common/banned.h,
# includes point only leftwards in the layering, and clang-format agrees.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
fail=0
cflags="-std=c17 -D_GNU_SOURCE -I. $(pkg-config --cflags libsodium libssh libarchive libmagic sqlite3 libcrypto libxml-2.0 2>/dev/null) -Wall -Wextra -Werror"
for h in common/*.h crypto/*.h audit/*.h vault/*.h intake/*.h tools/*.h; do
	[ -f "$h" ] || continue
	if ! printf '#include "%s"\n' "$h" | cc $cflags -fsyntax-only -x c - 2>/dev/null; then
		echo "lint: $h does not compile alone"
		fail=1
	fi
done
for c in common/*.c crypto/*.c audit/*.c vault/*.c intake/*.c tools/*.c; do
	[ -f "$c" ] || continue
	grep -q '#include "common/banned.h"' "$c" || {
		echo "lint: $c does not include common/banned.h"
		fail=1
	}
done
# Layering: common -> crypto -> audit -> vault -> intake -> tools.
rank() { case $1 in common) echo 0 ;; crypto) echo 1 ;; audit) echo 2 ;; vault) echo 3 ;; intake) echo 4 ;; tools) echo 5 ;; *) echo 9 ;; esac; }
for f in common/* crypto/* audit/* vault/* intake/*; do
	[ -f "$f" ] || continue
	me=$(rank "${f%%/*}")
	for inc in $(grep -oE '#include "[a-z]+/' "$f" | sed -E 's/#include "//; s/\///'); do
		[ "$(rank "$inc")" -le "$me" ] || {
			echo "lint: $f includes $inc/ (a higher layer)"
			fail=1
		}
	done
done
if command -v clang-format >/dev/null 2>&1 && [ -f .clang-format ]; then
	for f in $(git ls-files '*.c' '*.h'); do
		clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || {
			echo "lint: clang-format would change $f"
			[ "${LINT_FORMAT_STRICT:-0}" = 1 ] && fail=1
		}
	done
fi
[ $fail -eq 0 ] && echo "lint: clean"
exit $fail
