#!/usr/bin/env bash
# Runs fuzz targets for a fixed time each, one after another, on stable Rust (no sanitizer).
#   fuzz/run.sh SECONDS [TARGET...]      (all targets when none are named)
# New inputs go to fuzz/target/work/TARGET (not checked in); the checked-in seeds in fuzz/corpus/TARGET
# are read, never written. A finding stops with libFuzzer's report and a failing status; the input is
# saved under fuzz/artifacts/TARGET/. Full logs: fuzz/target/work/TARGET.log.
# PLASMITE_FUZZ_SEED fixes libFuzzer's seed (0 = random): CI uses a fixed seed so its short smoke run
# starts from the same inputs every time (the model target reads the clock, so runs still diverge);
# long local runs use random seeds to find new things.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:?usage: fuzz/run.sh SECONDS [TARGET...]}
shift
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(frame header model ingest json filter http mcp)
fi
cargo fuzz build -s none
for t in "${targets[@]}"; do
    mkdir -p "fuzz/target/work/$t"
    log="fuzz/target/work/$t.log"
    printf '\n== fuzz %s for %ss\n' "$t" "$secs"
    status=0
    cargo fuzz run -s none "$t" "fuzz/target/work/$t" "fuzz/corpus/$t" -- \
        -max_total_time="$secs" -seed="${PLASMITE_FUZZ_SEED:-0}" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
        -print_final_stats=1 >"$log" 2>&1 || status=$?
    grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)|^#[0-9]+ +DONE' "$log" || true
    if [ "$status" -ne 0 ]; then
        tail -n 40 "$log"
        echo "fuzz target $t failed (status $status)"
        exit 1
    fi
done
