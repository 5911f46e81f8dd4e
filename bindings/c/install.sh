#!/usr/bin/env bash
# Builds libplasmite (release) and installs it under PREFIX:
#   PREFIX/lib/libplasmite.so, PREFIX/lib/libplasmite.a, PREFIX/include/plasmite.h,
#   PREFIX/lib/pkgconfig/plasmite.pc
# Usage: bindings/c/install.sh PREFIX   (then: PKG_CONFIG_PATH=PREFIX/lib/pkgconfig pkg-config --cflags --libs plasmite)
set -euo pipefail
prefix=${1:?usage: install.sh PREFIX}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
cargo build --release -p plasmite-c
target=${CARGO_TARGET_DIR:-$root/target}/release
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$here/Cargo.toml" | head -1)
mkdir -p "$prefix/lib/pkgconfig" "$prefix/include"
prefix=$(cd "$prefix" && pwd)
install -m 0755 "$target/libplasmite.so" "$prefix/lib/libplasmite.so"
install -m 0644 "$target/libplasmite.a" "$prefix/lib/libplasmite.a"
install -m 0644 "$here/include/plasmite.h" "$prefix/include/plasmite.h"
sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|$version|" "$here/plasmite.pc.in" \
    > "$prefix/lib/pkgconfig/plasmite.pc"
echo "installed libplasmite $version under $prefix"
