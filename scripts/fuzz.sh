#!/usr/bin/env bash
# Runs the libFuzzer targets (tests/fuzz/fuzz_*.c) for SECONDS each under ASan+UBSan and prints
# one JSON line per target: {"target", "seconds", "execs", "crashes", "corpus", "artifacts"}.
#   scripts/fuzz.sh SECONDS [TARGET...]     e.g. scripts/fuzz.sh 60, scripts/fuzz.sh 10 npy json
# Builds build-fuzz/ with clang first (installing clang and libFuzzer's runtime via setup.sh).
# Each target runs on a COPY of its committed corpus (tests/fuzz/corpus/TARGET) in
# build-fuzz/corpus-run/TARGET (emptied first), so the committed corpus never grows; to fold
# what a long run found into the seeds: build-fuzz/fuzz/fuzz_TARGET -merge=1
# tests/fuzz/corpus/TARGET build-fuzz/corpus-run/TARGET. A crash, leak, timeout or out-of-memory input
# is kept under build-fuzz/artifacts/TARGET/ (its path is in the JSON line and the log beside it),
# and the script exits 1. Commit such an input under tests/fuzz/regressions/TARGET/ before fixing
# the bug: the replay_fuzz_TARGET test of the normal builds then reruns it for good.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:?usage: scripts/fuzz.sh SECONDS [TARGET...]}
shift
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "fuzz: SECONDS must be a whole number, got '$seconds'" >&2; exit 2; }

"$root/scripts/setup.sh" --fuzz >&2
build=$root/build-fuzz
CC=clang cmake -S "$root" -B "$build" -DIMBAL_FUZZ=ON -DIMBAL_CUDA=OFF -DIMBAL_BUILD_BENCH=OFF \
  -DIMBAL_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >&2
cmake --build "$build" -j "${IMBAL_FUZZ_JOBS:-2}" >&2

targets=("$@")
if ((${#targets[@]} == 0)); then
  for f in "$root"/tests/fuzz/fuzz_*.c; do
    t=$(basename "$f" .c)
    [[ "$t" == fuzz_util ]] || targets+=("${t#fuzz_}")
  done
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
failed=0
for t in "${targets[@]}"; do
  exe=$build/fuzz/fuzz_$t
  [[ -x "$exe" ]] || { echo "fuzz: no target '$t' ($exe)" >&2; exit 2; }
  corpus=$build/corpus-run/$t
  rm -rf "$corpus"
  mkdir -p "$corpus"
  cp -r "$root/tests/fuzz/corpus/$t/." "$corpus/" 2>/dev/null || true
  artifacts=$build/artifacts/$t
  rm -rf "$artifacts"
  mkdir -p "$artifacts"
  args=(-max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048
        -artifact_prefix="$artifacts/")
  [[ -f "$root/tests/fuzz/$t.dict" ]] && args+=(-dict="$root/tests/fuzz/$t.dict")
  log=$artifacts/fuzz.log
  rc=0
  "$exe" "${args[@]}" "$corpus" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  mapfile -t found < <(find "$artifacts" -type f ! -name fuzz.log | sort)
  if ((rc != 0 && ${#found[@]} == 0)); then found=("$log"); fi
  list=""
  for f in "${found[@]}"; do list+="${list:+,}\"$f\""; done
  printf '{"target":"%s","seconds":%s,"execs":%s,"crashes":%d,"corpus":%d,"artifacts":[%s]}\n' \
    "$t" "$seconds" "${execs:-0}" "${#found[@]}" "$(find "$corpus" -type f | wc -l)" "$list"
  if ((${#found[@]} > 0)); then
    failed=1
    grep -m1 -E "ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error" "$log" >&2 || true
  fi
done
exit $failed
