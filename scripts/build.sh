#!/usr/bin/env bash
# Configures and builds imbal. Used by test.sh, demo.sh and gpu-check.sh.
#   scripts/build.sh [BUILD_DIR] [extra cmake arguments...]
# CUDA is on when nvcc is found (/usr/local/cuda/bin/nvcc or on PATH); pass -DIMBAL_CUDA=OFF for
# a CPU-only build.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
shift || true
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-Release}" "$@" >/dev/null
cmake --build "$build" -j "$jobs"
