#!/usr/bin/env bash
# The one command to check imbal on a GPU machine: configure a CUDA Release build, build it, show
# the GPU, run every test (the GPU tests included: they must RUN, not skip), then run every
# benchmark with --json into bench/results/<bench>-<gpu-slug>.jsonl (bench_train also with
# --pipeline on a synthetic set), and bench/torch_train.py into torch_train-<gpu-slug>.jsonl where
# a Python with a CUDA-enabled torch is found ($IMBAL_PYTHON, else python3). See docs/gpu.md.
# Between the two, the GPU tests run again under compute-sanitizer (memcheck with leak check,
# initcheck, synccheck over every GPU suite; racecheck, which is slow, over the suites of
# $racecheck_bins) and any report fails the check (docs/reliability.md).
#
#   scripts/gpu-check.sh [--build-dir DIR] [--skip-bench] [--skip-sanitizer] [--cuda-arch ARCHS]
#                        [--prefix DIR] [--deps-only] [--sanitizer-only]
#                        [--sanitizer-tools memcheck,initcheck,synccheck,racecheck]
#                        [--sanitizer-tests test_loss_gpu,...] [--sanitizer-jobs J]
#
# --sanitizer-only builds and runs the compute-sanitizer pass alone (no ctest, no benchmarks), for
# a device session too short for everything; --sanitizer-tools and --sanitizer-tests narrow it to
# some tools and test binaries. The (tool, binary) runs go side by side, J at a time (default 4),
# each under a time limit of IMBAL_SANITIZER_TIMEOUT seconds (default 900), and the pass prints
# each run's seconds, so a later session can split the pass where it will not fit.
#
# Without a package registry: if .deb/ exists in the repository root (scripts/fetch-gpu-debs.sh
# fills it), every .deb in it is unpacked with `dpkg -x` into --prefix (default /tmp/imbal-prefix;
# never /) and CMAKE_PREFIX_PATH, PKG_CONFIG_PATH, CPATH, LIBRARY_PATH and LD_LIBRARY_PATH point
# at it. --deps-only stops after that, says where pkg-config finds each dependency and prints the
# environment as export lines. IMBAL_GPU_CHECK_DRY=1 (for testing this script on a machine without
# a GPU) turns the two no-device failures into warnings; such a run checks nothing on a GPU.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=$root/build-gpu
skip_bench=0
skip_sanitizer=0
sanitizer_only=0
sanitizer_tools=memcheck,initcheck,synccheck,racecheck
sanitizer_tests=
sanitizer_jobs=4
no_device=0
deps_only=0
prefix=${IMBAL_PREFIX:-/tmp/imbal-prefix}
cuda_arch=${CMAKE_CUDA_ARCHITECTURES:-90}
jobs=$(nproc 2>/dev/null || echo 4)

die() {
    echo "gpu-check: FAILED: $*" >&2
    exit 1
}
step() {
    echo
    echo "==== gpu-check: $*"
}
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

while [ $# -gt 0 ]; do
    case $1 in
    --build-dir)
        build_dir=$(realpath -m "${2:?--build-dir needs a directory}")
        shift 2
        ;;
    --build-dir=*)
        build_dir=$(realpath -m "${1#*=}")
        shift
        ;;
    --skip-bench)
        skip_bench=1
        shift
        ;;
    --skip-sanitizer)
        skip_sanitizer=1
        shift
        ;;
    --sanitizer-only)
        sanitizer_only=1
        shift
        ;;
    --sanitizer-tools | --sanitizer-tests | --sanitizer-jobs)
        v=${2:?$1 needs a value}
        case $1 in
        --sanitizer-tools) sanitizer_tools=$v ;;
        --sanitizer-tests) sanitizer_tests=$v ;;
        *) sanitizer_jobs=$v ;;
        esac
        shift 2
        ;;
    --cuda-arch)
        cuda_arch=${2:?--cuda-arch needs a value, e.g. 90 or \"80;90\"}
        shift 2
        ;;
    --cuda-arch=*)
        cuda_arch=${1#*=}
        shift
        ;;
    --prefix)
        prefix=$(realpath -m "${2:?--prefix needs a directory}")
        shift 2
        ;;
    --prefix=*)
        prefix=$(realpath -m "${1#*=}")
        shift
        ;;
    --deps-only)
        deps_only=1
        shift
        ;;
    -h | --help)
        usage
        exit 0
        ;;
    *)
        usage >&2
        die "unknown option '$1'"
        ;;
    esac
done

# ---- dependencies from carried .deb files ------------------------------------------------------
unpack_deb() { # dpkg -x where dpkg exists, else ar + tar (binutils comes with any compiler)
    if command -v dpkg-deb >/dev/null; then
        dpkg -x "$1" "$prefix"
    else
        local tmp
        tmp=$(mktemp -d)
        (cd "$tmp" && ar x "$1" && tar -xf data.tar.* -C "$prefix")
        rm -rf "$tmp"
    fi
}

prepend() { # prepend VAR DIR: puts DIR first in the :-list VAR if DIR exists
    [ -d "$2" ] || return 0
    local cur=${!1:-}
    export "$1=$2${cur:+:$cur}"
}

setup_deb_prefix() {
    local debs=("$root"/.deb/*.deb)
    if [ ! -e "${debs[0]}" ]; then
        echo "gpu-check: .deb/ is empty; using the system's packages"
        return 0
    fi
    [ "$prefix" != / ] || die "refusing to unpack packages into /"
    step "unpacking ${#debs[@]} packages from .deb/ into $prefix"
    mkdir -p "$prefix"
    local f d v multiarch lib
    for f in "${debs[@]}"; do unpack_deb "$f"; done
    # The .pc files say /usr; point them (prefix=, libdir=, includedir=, absolute paths in Libs)
    # at the prefix. Idempotent: a rewritten path no longer starts with /usr.
    find "$prefix" -name '*.pc' -type f -print0 |
        xargs -0 -r sed -i -E "s#(^|[= ])/usr(/|\$)#\1$prefix/usr\2#g"
    multiarch=$(gcc -print-multiarch 2>/dev/null || true)
    [ -n "$multiarch" ] || multiarch=$(basename "$(ls -d "$prefix"/usr/lib/*-linux-gnu | head -n 1)")
    lib=$prefix/usr/lib/$multiarch
    for d in "$prefix/usr/share/pkgconfig" "$lib/openblas-pthread/pkgconfig" "$lib/pkgconfig"; do
        prepend PKG_CONFIG_PATH "$d"
    done
    prepend CMAKE_PREFIX_PATH "$prefix/usr"
    for d in "$prefix/usr/include/$multiarch/openblas-pthread" "$prefix/usr/include/$multiarch" \
        "$prefix/usr/include"; do
        prepend CPATH "$d"
    done
    for v in LIBRARY_PATH LD_LIBRARY_PATH; do
        prepend $v "$lib/openblas-pthread"
        prepend $v "$lib"
    done
    # pkg-config itself may be missing from a bare CUDA image.
    if ! command -v pkg-config >/dev/null; then
        [ -x "$prefix/usr/bin/pkgconf" ] || die "no pkg-config here and none in .deb/"
        ln -sf pkgconf "$prefix/usr/bin/pkg-config"
        prepend PATH "$prefix/usr/bin"
    fi
    echo "PKG_CONFIG_PATH=$PKG_CONFIG_PATH"
    echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
}

if [ -d "$root/.deb" ]; then setup_deb_prefix; fi

# ---- cuDNN -------------------------------------------------------------------------------------
# The build needs cuDNN 9. Where the CUDA toolkit has none (and CUDNN_ROOT is unset), take the one
# PyTorch brings (the nvidia-cudnn-cu13 wheel): its lib/ has only libcudnn.so.9, so a shim folder
# gives the linker the unversioned name, and the wheel's lib/ goes on LD_LIBRARY_PATH.
nvcc=${CUDACXX:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
find_cudnn() {
    [ -x "$nvcc" ] || return 0 # no toolkit: the check below says so
    local cuda_root
    cuda_root=$(dirname "$(dirname "$(realpath "$nvcc")")")
    if [ -n "${CUDNN_ROOT:-}" ] || ls "$cuda_root"/include/cudnn.h "$cuda_root"/targets/*/include/cudnn.h >/dev/null 2>&1; then
        echo "cuDNN: ${CUDNN_ROOT:-$cuda_root}"
        return 0
    fi
    local py=${IMBAL_PYTHON:-python3} wheel shim
    wheel=$("$py" -c 'import nvidia.cudnn as m; print(list(m.__path__)[0])' 2>/dev/null || true)
    [ -n "$wheel" ] && [ -f "$wheel/include/cudnn.h" ] ||
        die "no cuDNN: none in $cuda_root and no nvidia.cudnn wheel in $py (set CUDNN_ROOT)"
    shim=$(mktemp -d)
    mkdir -p "$shim/lib"
    ln -s "$wheel/include" "$shim/include"
    ln -s "$wheel/lib/libcudnn.so.9" "$shim/lib/libcudnn.so"
    export CUDNN_ROOT=$shim
    prepend LD_LIBRARY_PATH "$wheel/lib"
    echo "cuDNN: the PyTorch wheel's, $wheel (shim $shim)"
}
find_cudnn

if [ $deps_only = 1 ]; then
    step "where pkg-config finds the dependencies"
    missing=0
    for m in criterion libturbojpeg libpng openblas; do
        if pkg-config --exists "$m"; then
            printf '%-13s libdir=%s\n' "$m" "$(pkg-config --variable=libdir "$m")"
        else
            printf '%-13s MISSING\n' "$m"
            missing=1
        fi
    done
    # For a shell that wants the same environment:
    #   eval "$(scripts/gpu-check.sh --deps-only | grep ^export)"
    for v in PATH PKG_CONFIG_PATH CMAKE_PREFIX_PATH CPATH LIBRARY_PATH LD_LIBRARY_PATH CUDNN_ROOT; do
        [ -z "${!v:-}" ] || printf 'export %s=%q\n' "$v" "${!v}"
    done
    [ $missing = 0 ] || die "dependencies missing (see above)"
    exit 0
fi

# ---- does a CUDA device answer? ----------------------------------------------------------------
step "GPU"
command -v cmake >/dev/null || die "cmake is not installed (3.25 or newer is needed)"
[ -x "$nvcc" ] || die "no nvcc (looked on PATH and at /usr/local/cuda/bin/nvcc): the CUDA build needs the toolkit"
gpu_name=unknown-gpu
if command -v nvidia-smi >/dev/null; then
    nvidia-smi || true
    gpu_name=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n 1 || true)
    [ -n "$gpu_name" ] || gpu_name=unknown-gpu
else
    echo "nvidia-smi is not installed"
fi
# A tiny CUDA runtime program, independent of imbal: without a device every GPU test would only
# skip and the run would look green.
probe_dir=$(mktemp -d)
trap 'rm -rf "$probe_dir"' EXIT
cat >"$probe_dir/probe.cu" <<'CU'
#include <cstdio>
#include <cuda_runtime.h>
int main() {
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) { std::printf("0 (%s)\n", cudaGetErrorString(e)); return 0; }
    std::printf("%d\n", n);
    return 0;
}
CU
"$nvcc" -o "$probe_dir/probe" "$probe_dir/probe.cu" || die "nvcc cannot build a CUDA program"
probe=$("$probe_dir/probe")
echo "CUDA devices that answer: $probe"
case $probe in
0*)
    [ "${IMBAL_GPU_CHECK_DRY:-0}" = 1 ] ||
        die "no CUDA device answers: the GPU tests would only skip ($probe)"
    echo "gpu-check: WARNING: no CUDA device answers; going on because IMBAL_GPU_CHECK_DRY=1"
    no_device=1
    ;;
esac
gpu_slug=$(printf '%s' "$gpu_name" | tr '[:upper:]' '[:lower:]' |
    sed -E 's/[^a-z0-9]+/-/g; s/^-+//; s/-+$//')
echo "GPU: $gpu_name (results slug: $gpu_slug)"

# ---- build and test ----------------------------------------------------------------------------
step "configure $build_dir (CUDA architectures: $cuda_arch)"
cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DIMBAL_CUDA=ON \
    "-DCMAKE_CUDA_ARCHITECTURES=$cuda_arch" || die "configure"
step "build"
cmake --build "$build_dir" -j "$jobs" || die "build"

if [ $sanitizer_only = 1 ] && [ $skip_sanitizer = 1 ]; then
    die "--sanitizer-only and --skip-sanitizer leave nothing to do"
fi
case $sanitizer_jobs in '' | *[!0-9]* | 0) die "--sanitizer-jobs needs a positive number" ;; esac
for tool in ${sanitizer_tools//,/ }; do
    case $tool in memcheck | initcheck | synccheck | racecheck) ;; *) die "unknown sanitizer tool '$tool'" ;; esac
done

run_tests() {
step "tests"
# Suites run side by side; each gets its share of the cores as OpenMP threads (16 threads each in
# 8 suites at once made the CPU training tests 10x slower and one ran past its timeout).
ctest_jobs=$((jobs < 8 ? jobs : 8))
OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(((jobs + ctest_jobs - 1) / ctest_jobs))} \
    ctest --test-dir "$build_dir" --output-on-failure -j "$ctest_jobs" || die "some tests failed (see above)"

# Every GPU test suite is named *_gpu; with a device answering none of them may skip.
step "GPU tests must run, not skip"
skipped=0
for t in "$build_dir"/test_*; do
    [ -f "$t" ] && [ -x "$t" ] || continue
    out=$("$t" --filter='*_gpu/*' --verbose --short-filename 2>&1) ||
        die "$(basename "$t") GPU tests failed: $out"
    ran=$(printf '%s\n' "$out" | grep -c '^\[PASS\]' || true)
    # Tests outside the filter are reported as "Test is disabled"; any other skip is a GPU test
    # that found no device.
    gpu_skips=$(printf '%s\n' "$out" | grep '^\[SKIP\]' | grep -v ': Test is disabled$' || true)
    if [ -n "$gpu_skips" ]; then
        printf '%s\n' "$gpu_skips"
        skipped=1
    fi
    [ "$ran" = 0 ] || echo "$(basename "$t"): $ran GPU tests passed"
done
if [ $skipped = 1 ]; then
    [ "${IMBAL_GPU_CHECK_DRY:-0}" = 1 ] || die "GPU tests skipped although a device answers"
    echo "gpu-check: WARNING: GPU tests skipped (IMBAL_GPU_CHECK_DRY=1: this is no GPU check)"
fi
}
if [ $sanitizer_only = 1 ]; then
    step "tests skipped (--sanitizer-only)"
else
    run_tests
fi

# ---- compute-sanitizer -------------------------------------------------------------------------
# Every suite named *_gpu, and nn_cudnn_desc (cuDNN descriptors), under each tool. Criterion runs
# each test in a child process that it re-executes, and a finding in a child does not change the
# test's result: so every process logs to its own file (--target-processes all) and any log whose
# ERROR SUMMARY is not 0 fails the check. racecheck (shared-memory hazards) costs ~10-100x: it
# runs over the suites of the binaries below only (the kernels with shared-memory reductions).
racecheck_bins=(test_loss_gpu test_optim_gpu test_reliability_gpu)
# Tests named *_unsanitized fault on purpose (test_reliability_gpu.c) and are left out.
gpu_filter() { # the Criterion filter of binary $1's GPU suites, empty when it has none
    "$1" --list 2>/dev/null |
        awk -F: '/^[a-z0-9_]+: [0-9]+ test/ && ($1 ~ /_gpu$/ || $1 == "nn_cudnn_desc") { s = s (n++ ? "|" : "") $1 } END { if (n) printf "@(%s)/!(*_unsanitized)", s }'
}
# One (tool, binary) run; writes "<exit status> <seconds>" to $3/<tool>-<binary>.status.
sanitize_one() {
    local tool=$1 t=$2 logs=$3 name filter sec0 rc=0 extra=()
    name=$(basename "$t")
    filter=$(gpu_filter "$t" || true)
    [ -n "$filter" ] || return 0
    # The tests provoke CUDA API errors on purpose (out of memory, a bad device index) and check
    # the statuses: API errors are not memcheck's findings here.
    [ $tool = memcheck ] && extra=(--leak-check full --report-api-errors no)
    sec0=$(date +%s)
    timeout "${IMBAL_SANITIZER_TIMEOUT:-900}" "$sanitizer" --tool $tool "${extra[@]}" \
        --error-exitcode 1 --target-processes all --log-file "$logs/$tool-$name.%p.log" "$t" \
        --jobs 1 --short-filename --filter "$filter" >"$logs/$tool-$name.out" 2>&1 || rc=$?
    echo "$rc $(($(date +%s) - sec0))" >"$logs/$tool-$name.status"
}
run_sanitizer() {
    sanitizer=${COMPUTE_SANITIZER:-$(command -v compute-sanitizer || echo "$(dirname "$nvcc")/compute-sanitizer")}
    [ -x "$sanitizer" ] || die "no compute-sanitizer (looked on PATH and beside nvcc)"
    local logs t name tool bad=() sec0 running=0 f rc secs
    logs=$(mktemp -d)
    sec0=$(date +%s)
    step "compute-sanitizer: ${sanitizer_tools//,/ } over ${sanitizer_tests:-every GPU suite}, $sanitizer_jobs at a time"
    # Each run gets its share of the cores as OpenMP threads, as the tests above do.
    export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(((jobs + sanitizer_jobs - 1) / sanitizer_jobs))}
    for tool in ${sanitizer_tools//,/ }; do
        for t in "$build_dir"/test_*; do
            [ -f "$t" ] && [ -x "$t" ] || continue
            name=$(basename "$t")
            if [ -n "$sanitizer_tests" ] && [[ ",$sanitizer_tests," != *",$name,"* ]]; then
                continue
            fi
            if [ $tool = racecheck ] && [[ " ${racecheck_bins[*]} " != *" $name "* ]]; then
                continue
            fi
            if [ $running -ge "$sanitizer_jobs" ]; then
                wait -n || true
                running=$((running - 1))
            fi
            sanitize_one $tool "$t" "$logs" &
            running=$((running + 1))
        done
    done
    wait || true
    for f in "$logs"/*.status; do
        [ -e "$f" ] || continue
        name=$(basename "$f" .status)
        read -r rc secs <"$f"
        case $rc in
        0) echo "compute-sanitizer $name: clean, $secs s" ;;
        124) echo "compute-sanitizer $name: TIMED OUT after $secs s" && bad+=("$name(timeout)") ;;
        *) echo "compute-sanitizer $name: exit $rc, $secs s" && bad+=("$name") ;;
        esac
    done
    for f in "$logs"/*.log; do
        [ -e "$f" ] || continue
        if grep -q 'ERROR SUMMARY: [1-9]' "$f"; then
            echo "==== $(basename "$f")"
            cat "$f"
            bad+=("$(basename "$f")")
        fi
    done
    # A run that failed without a finding in its logs (a crash, a test failure): its output.
    for f in "$logs"/*.out; do
        name=$(basename "$f" .out)
        if [[ " ${bad[*]} " == *" $name "* ]]; then
            echo "==== $name output"
            tail -n 40 "$f"
        fi
    done
    rm -rf "$logs"
    echo "compute-sanitizer: $(($(date +%s) - sec0)) s"
    [ ${#bad[@]} = 0 ] || die "compute-sanitizer found errors: ${bad[*]}"
}
if [ $skip_sanitizer = 1 ]; then
    step "compute-sanitizer skipped (--skip-sanitizer)"
elif [ $no_device = 1 ]; then
    step "compute-sanitizer skipped: no device (IMBAL_GPU_CHECK_DRY=1)"
else
    run_sanitizer
fi
if [ $sanitizer_only = 1 ]; then
    [ $no_device = 1 ] && echo "gpu-check: dry run finished: nothing was checked on a GPU" || echo "gpu-check: OK (sanitizer pass only)"
    exit 0
fi

# ---- benchmarks --------------------------------------------------------------------------------
if [ $skip_bench = 1 ]; then
    step "benchmarks skipped (--skip-bench)"
    [ "${IMBAL_GPU_CHECK_DRY:-0}" = 1 ] && echo "gpu-check: dry run finished: nothing was checked on a GPU" || echo "gpu-check: OK"
    exit 0
fi
step "benchmarks"
results=$root/bench/results
mkdir -p "$results"
written=()
failed=()
# bench_train also times the full input pipeline (decode + augment, with and without training)
# on a synthetic ImageFolder of 32 x 32 JPEGs.
train_set=$(mktemp -d)
trap 'rm -rf "$probe_dir" "$train_set"' EXIT
train_extra=()
if "$build_dir/imbal" synth --out "$train_set" --classes 10 --max-per-class 1000 --ratio 10 \
    --size 32 --test-per-class 0 >/dev/null; then
    train_extra=(--pipeline "$train_set/train")
else
    echo "gpu-check: WARNING: imbal synth failed; bench_train runs without --pipeline"
fi
for b in "$build_dir"/bench/*; do
    [ -f "$b" ] && [ -x "$b" ] || continue
    name=$(basename "$b")
    name=${name#bench_}
    out=$results/$name-$gpu_slug.jsonl
    extra=()
    [ "$name" != train ] || extra=("${train_extra[@]}")
    echo "-- $name"
    if "$b" --json "${extra[@]}" >"$out.tmp"; then
        mv "$out.tmp" "$out"
        written+=("$out")
    else
        rm -f "$out.tmp"
        failed+=("$name")
    fi
done
[ ${#written[@]} -gt 0 ] || [ ${#failed[@]} -gt 0 ] || echo "no benchmarks under $build_dir/bench"
# The PyTorch baseline of bench_train (the same ResNet, channels_last, f32 and AMP bf16) where a
# Python with a CUDA-enabled torch is found ($IMBAL_PYTHON, else python3), and the ratio table.
py=${IMBAL_PYTHON:-python3}
if "$py" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
    out=$results/torch_train-$gpu_slug.jsonl
    echo "-- torch_train.py ($py)"
    if "$py" "$root/bench/torch_train.py" --device cuda --json >"$out.tmp"; then
        mv "$out.tmp" "$out"
        written+=("$out")
        [ ! -f "$results/train-$gpu_slug.jsonl" ] ||
            "$py" "$root/bench/train_table.py" "$results/train-$gpu_slug.jsonl" "$out" || true
    else
        rm -f "$out.tmp"
        failed+=(torch_train.py)
    fi
else
    echo "gpu-check: no Python with a CUDA-enabled torch ($py): torch_train.py skipped" \
        "(set IMBAL_PYTHON)"
fi
[ ${#failed[@]} = 0 ] || die "benchmarks failed: ${failed[*]}"
step "done: benchmark JSON written to"
for f in "${written[@]}"; do echo "  $f"; done
[ "${IMBAL_GPU_CHECK_DRY:-0}" = 1 ] && echo "gpu-check: dry run finished (IMBAL_GPU_CHECK_DRY=1): nothing was checked on a GPU" || echo "gpu-check: OK"
