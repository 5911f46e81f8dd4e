#!/usr/bin/env bash
# The C side of libplasmite's tests (run by .ci/run):
#  1. tests/test_abi.c with gcc -Wall -Wextra -Werror -fsanitize=address,undefined, against the
#     debug libplasmite.so;
#  2. examples/example.c (the one in spec/c-api.md, checked identical) under
#     valgrind --leak-check=full --error-exitcode=1;
#  3. install.sh into a temporary prefix, then a program built only with
#     `pkg-config --cflags --libs plasmite` links and runs (shared and static).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
target=${CARGO_TARGET_DIR:-$root/target}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cflags=(-std=c11 -Wall -Wextra -Werror -g)

echo "-- the header declares exactly the functions the library exports"
cargo build -p plasmite-c
grep -o 'plsm_[a-z_]*(' "$here/include/plasmite.h" | tr -d '(' | sort -u > "$tmp/declared"
nm -D --defined-only "$target/debug/libplasmite.so" | awk '$2 == "T" && $3 ~ /^plsm_/ {print $3}' | sort -u > "$tmp/exported"
diff -u "$tmp/declared" "$tmp/exported"

echo "-- test_abi.c (ASan + UBSan)"
gcc "${cflags[@]}" -fsanitize=address,undefined -fno-sanitize-recover=all -I"$here/include" \
    "$here/tests/test_abi.c" -L"$target/debug" -lplasmite -lpthread -o "$tmp/test_abi"
mkdir "$tmp/pools"
LD_LIBRARY_PATH="$target/debug" "$tmp/test_abi" "$tmp/pools"

echo "-- the example in spec/c-api.md is examples/example.c"
awk '/^```c$/{on=1;next} /^```$/{if(on){exit}} on' "$root/spec/c-api.md" > "$tmp/spec_example.c"
diff -u "$here/examples/example.c" "$tmp/spec_example.c"

echo "-- example.c under valgrind"
command -v valgrind >/dev/null || { echo "valgrind is missing" >&2; exit 1; }
gcc "${cflags[@]}" -I"$here/include" "$here/examples/example.c" -L"$target/debug" -lplasmite -o "$tmp/example"
LD_LIBRARY_PATH="$target/debug" valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
    --error-exitcode=1 "$tmp/example" "$tmp/example-pools" > "$tmp/example.out"
grep -q '^get: {"seq":1,' "$tmp/example.out"
grep -q '^tail: seq 2 tags 0 data \[1,2,3\]' "$tmp/example.out"

echo "-- install.sh PREFIX + pkg-config"
"$here/install.sh" "$tmp/prefix" >/dev/null
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig"
pkg-config --exists plasmite
# shellcheck disable=SC2046
gcc "${cflags[@]}" "$here/examples/example.c" -o "$tmp/example-pc" $(pkg-config --cflags --libs plasmite)
LD_LIBRARY_PATH="$tmp/prefix/lib" "$tmp/example-pc" "$tmp/pc-pools" | grep -q '^appended seq 1'
# shellcheck disable=SC2046
gcc "${cflags[@]}" "$here/examples/example.c" -o "$tmp/example-static" $(pkg-config --cflags plasmite) \
    "$tmp/prefix/lib/libplasmite.a" $(pkg-config --libs-only-other --static plasmite) -lpthread -ldl -lm
"$tmp/example-static" "$tmp/static-pools" | grep -q '^appended seq 1'
echo "bindings/c: C tests ok"
