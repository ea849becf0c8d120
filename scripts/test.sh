#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs every test.
#   scripts/test.sh                         Release build in build/ (CUDA compiled if nvcc exists)
#   scripts/test.sh --sanitize address,undefined
#                                           CPU-only Debug build in build-asan/ under ASan+UBSan
# GPU tests skip (saying so) where no CUDA device answers; scripts/gpu-check.sh runs them on a GPU.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"

if [[ "${1:-}" == "--sanitize" ]]; then
  sanitizers=${2:?--sanitize needs a list, e.g. address,undefined}
  build=$root/build-asan
  CMAKE_BUILD_TYPE=Debug "$root/scripts/build.sh" "$build" -DIMBAL_CUDA=OFF \
    -DIMBAL_SANITIZE="$sanitizers" -DIMBAL_BUILD_BENCH=OFF
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
else
  build=$root/build
  "$root/scripts/build.sh" "$build"
fi
ctest --test-dir "$build" --output-on-failure -j 2
