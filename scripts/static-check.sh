#!/usr/bin/env bash
# Builds the fully static distribution binary (with and without `tls`), proves it needs nothing beside
# it, and runs a smoke script inside an otherwise empty root. Used by .ci/run; see spec/deploy.md.
#
#   scripts/static-check.sh [OUT_DIR]
#
# Fails when a binary has an interpreter or a needed library, grows past its size budget by more than
# 10%, or fails the smoke script in the empty root.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/static-check}
mkdir -p "$out"
target=$(rustc -vV | sed -n 's/^host: //p')

# Size budgets in bytes (spec/deploy.md says where they come from). A binary may exceed its budget
# by at most 10% before this fails.
budget_notls=${PLASMITE_STATIC_BUDGET_NOTLS:-2883584}  # 2.75 MiB
budget_tls=${PLASMITE_STATIC_BUDGET_TLS:-4194304}  # 4 MiB

build() { # FEATURES_FLAG NAME
    RUSTFLAGS="-C target-feature=+crt-static" cargo build -q --locked --profile dist \
        --target "$target" $1
    cp "target/$target/dist/plasmite" "$out/$2"
}
build --no-default-features plasmite-notls
build "" plasmite-tls

check_static() { # BINARY BUDGET
    local bin=$1 budget=$2 size max
    if readelf -l "$bin" | grep -q 'INTERP'; then
        echo "error: $bin has a program interpreter (it is not static)" >&2; return 1
    fi
    if readelf -d "$bin" | grep -q '(NEEDED)'; then
        echo "error: $bin needs shared libraries:" >&2; readelf -d "$bin" | grep NEEDED >&2; return 1
    fi
    size=$(stat -c %s "$bin")
    max=$((budget + budget / 10))
    awk -v b="$bin" -v s="$size" -v g="$budget" -v m="$max" \
        'BEGIN { printf "%s: %d bytes (%.2f MiB), budget %d, limit %d\n", b, s, s / 1048576, g, m }'
    if [ "$size" -gt "$max" ]; then
        echo "error: $bin is larger than its budget + 10%" >&2; return 1
    fi
}
check_static "$out/plasmite-notls" "$budget_notls"
check_static "$out/plasmite-tls" "$budget_tls"

# The empty root: the binary, /etc/hosts and a pool directory; nothing else (no /tmp, no /dev, no
# libraries). Entered with chroot as root, or with an unprivileged user namespace otherwise.
smoke() { # BINARY
    local root
    root=$(mktemp -d)
    mkdir -p "$root/etc" "$root/pools"
    cp "$1" "$root/plasmite"
    printf '127.0.0.1 localhost\n::1 localhost ip6-localhost\n' > "$root/etc/hosts"
    local enter=(chroot "$root")
    [ "$(id -u)" -eq 0 ] || enter=(unshare -r --root="$root")
    local p=(/plasmite --dir /pools)
    set -x
    "${enter[@]}" "${p[@]}" pool create demo
    "${enter[@]}" "${p[@]}" poke demo '{"hello":"world"}' | grep -q '"hello":"world"'
    echo '{"n":2}' | "${enter[@]}" "${p[@]}" poke demo | grep -q '"seq":2'
    "${enter[@]}" "${p[@]}" peek demo --tail 2 --replay 0 --jsonl | grep -c '"seq"' | grep -qx 2
    "${enter[@]}" "${p[@]}" get demo 1 | grep -q '"hello":"world"'
    "${enter[@]}" "${p[@]}" doctor demo
    # serve on loopback, then a remote poke and peek through a host name from /etc/hosts.
    "${enter[@]}" "${p[@]}" serve --bind 127.0.0.1:0 > "$root/banner" 2>&1 &
    local srv=$! addr="" i
    for i in $(seq 1 100); do
        addr=$(grep -o '127\.0\.0\.1:[0-9]\+' "$root/banner" | head -1 || true)
        [ -n "$addr" ] && break
        sleep 0.1
    done
    [ -n "$addr" ] || { cat "$root/banner" >&2; kill "$srv"; set +x; return 1; }
    local url="http://localhost:${addr#127.0.0.1:}/demo"
    "${enter[@]}" "${p[@]}" poke "$url" '{"via":"http"}' | grep -q '"seq":3'
    "${enter[@]}" "${p[@]}" peek "$url" --tail 1 --one --jsonl | grep -q '"via":"http"'
    kill -TERM "$srv"; wait "$srv" || true
    set +x
    # Nothing but what we put there (and the server's output file) may be left in the root.
    local extra
    extra=$(cd "$root" && find . -mindepth 1 | grep -v -x -e ./plasmite -e ./etc -e ./etc/hosts \
        -e ./pools -e ./pools/demo.plasmite -e ./banner || true)
    if [ -n "$extra" ]; then
        echo "error: the run left files in the empty root:" >&2; echo "$extra" >&2; return 1
    fi
    rm -rf "$root"
    echo "smoke passed in an empty root: $1"
}
smoke "$out/plasmite-notls"
smoke "$out/plasmite-tls"
