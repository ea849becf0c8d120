#!/usr/bin/env bash
# Installs every Debian package imbal needs to build, test and run (idempotent: packages already
# present are not reinstalled, and apt-get runs only when something is missing, after
# 'apt-get update'). The CUDA toolkit is expected at /usr/local/cuda where present; without it the
# build is CPU-only.
#   scripts/setup.sh            build + test dependencies
#   scripts/setup.sh --reference  also PyTorch/torchvision/scikit-learn (only to regenerate the
#                                 committed reference vectors under tests/data/)
#   scripts/setup.sh --fuzz       also clang with libFuzzer's runtime (libclang-rt-14-dev, only
#                                 recommended by clang, so named) and LLVM's OpenMP, for
#                                 scripts/fuzz.sh
set -euo pipefail

packages=(build-essential cmake pkg-config libcriterion-dev libturbojpeg0-dev libjpeg62-turbo-dev
          libpng-dev libopenblas-openmp-dev valgrind)
if [[ "${1:-}" == "--reference" ]]; then
  packages+=(python3-numpy python3-torch python3-torchvision python3-sklearn)
fi
if [[ "${1:-}" == "--fuzz" ]]; then
  packages+=(clang libclang-rt-14-dev libomp-dev)
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
echo "setup: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
