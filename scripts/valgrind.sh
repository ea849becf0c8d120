#!/usr/bin/env bash
# valgrind memcheck over the CPU path: a short subset of the Criterion tests and the imbal command
# itself (synth -> stats -> weights -> train -> eval on a tiny set). Fails on any memory error
# and on any definite or indirect leak, in the library, the tests or the command. A minute or two
# on 2 cores. docs/reliability.md.
#
#   scripts/valgrind.sh [BUILD_DIR]     (default build-valgrind/: CPU-only Debug, built if needed)
#
# Criterion runs every test in a child process that it re-executes, and a leak found when that
# child exits does not change the test's result: so every process (--trace-children=yes) logs
# to its own file, and any non-empty log is a failure. Only definite and indirect leaks are
# shown; "still reachable" blocks (OpenMP's and OpenBLAS's thread pools, Criterion's runner)
# are memory held at exit, not leaks. Third-party noise is suppressed in scripts/valgrind.supp,
# each entry commented.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-valgrind}
"$root/scripts/setup.sh"
command -v valgrind >/dev/null || {
    echo "valgrind.sh: valgrind is not installed" >&2
    exit 1
}

logs=$(mktemp -d)
work=$(mktemp -d)
trap 'rm -rf "$logs" "$work"' EXIT
vg=(valgrind --quiet --trace-children=yes --trace-children-skip='*/sh,*/bash,*/dash,*/mkdir,*/rm'
    --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect
    --suppressions="$root/scripts/valgrind.supp" --error-exitcode=99 --num-callers=30)
# One thread each: the subset is about memory, not speed, and thread pools only add noise.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1

# The subset: the readers of untrusted files, the statistics, and the fault tests (the edge and
# disk-full tests run the command through /bin/sh, which is not traced: the command is checked
# below on its own). test:filter, the filter in Criterion's glob syntax.
subset=(
    "test_npy:*"
    "test_safetensors:*"
    "test_json_parse:*"
    "test_metrics:*"
    "test_nn:nn_conv/direct_path_matches_im2col"
    "test_loss:loss_cpu/*"
    "test_reliability_edges:edges/[!t]*"
    "test_reliability_diskfull:reliability_unreadable/*"
)
# Only what runs below is built (the library, the subset's test programs and the command).
targets=(imbal_cli)
for entry in "${subset[@]}"; do targets+=("${entry%%:*}"); done
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DIMBAL_CUDA=OFF -DIMBAL_BUILD_BENCH=OFF \
    >/dev/null
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" --target "${targets[@]}" >/dev/null

failed=()
t0=$(date +%s)
for entry in "${subset[@]}"; do
    bin=${entry%%:*}
    filter=${entry#*:}
    echo "-- valgrind $bin --filter '$filter'"
    if ! "${vg[@]}" --log-file="$logs/$bin.%p.log" "$build/$bin" --jobs 1 --short-filename \
        --filter "$filter"; then
        failed+=("$bin")
    fi
done

# The command: a tiny synthetic set through stats, weights, a two-epoch training run and eval.
cli=$build/imbal
run_cli() {
    echo "-- valgrind imbal $*"
    "${vg[@]}" --log-file="$logs/imbal-$1.%p.log" "$cli" "$@" >/dev/null || failed+=("imbal $1")
}
run_cli synth --out "$work/set" --classes 3 --max-per-class 12 --ratio 4 --size 8 \
    --test-per-class 4 --seed 1
run_cli stats "$work/set/train"
run_cli weights "$work/set/train" --scheme ens
run_cli train --data "$work/set/train" --val "$work/set/test" --out "$work/run" --arch resnet8 \
    --width 4 --size 8 --epochs 2 --batch 8 --augment crop=8:pad=1,flip,normalize=cifar10 \
    --threads 1 --quiet
run_cli eval --model "$work/run" --data "$work/set/test" --out "$work/eval"

for f in "$logs"/*.log; do
    [ -s "$f" ] || continue
    echo "==== $(basename "$f")"
    cat "$f"
    failed+=("$(basename "$f")")
done
echo "valgrind.sh: $(($(date +%s) - t0)) s"
if ((${#failed[@]})); then
    echo "valgrind.sh: FAILED: ${failed[*]}" >&2
    exit 1
fi
echo "valgrind.sh: OK (no memory errors, no definite or indirect leaks)"
