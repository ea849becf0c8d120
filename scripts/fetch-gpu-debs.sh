#!/usr/bin/env bash
# Downloads into .deb/ (git-ignored) the Debian packages that imbal's build and tests need on a
# GPU machine that has the CUDA toolkit, a C compiler and CMake but no package registry:
# Criterion (and its libgit2/nanomsg/boxfort/ffi stack), libturbojpeg, libpng, OpenBLAS and
# pkg-config. scripts/gpu-check.sh unpacks them with `dpkg -x` into a prefix (never into /).
#
#   scripts/fetch-gpu-debs.sh [DEST]     # on a development machine with apt (Debian 12 here)
#   then carry .deb/ to the GPU machine and run scripts/gpu-check.sh there.
#
# The closure is computed with apt-cache, minus what any glibc image with a compiler already has
# (libc, libgcc, libstdc++, libgomp: OpenMP must match the machine's own compiler) and minus the
# OpenBLAS variants we do not use (openmp, serial). See docs/gpu.md.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$root/.deb}

top=(libcriterion3 libcriterion-dev libturbojpeg0 libturbojpeg0-dev libpng16-16 libpng-dev
    libopenblas0-pthread libopenblas-pthread-dev libopenblas-dev pkgconf pkgconf-bin)
skip='^(libc6|libc6-dev|libc-dev-bin|linux-libc-dev|libcrypt1|libcrypt-dev|libgcc-s1|gcc-[0-9]+-base|libstdc\+\+6|libgomp1|zlib1g|libnsl-dev|libnsl2|libtirpc-dev|libtirpc3|libtirpc-common|rpcsvc-proto|libgssapi-krb5-2|libkrb5-3|libk5crypto3|libkrb5support0|libcom-err2|libkeyutils1|pkg-config|libopenblas0-openmp|libopenblas-openmp-dev|libopenblas0-serial|libopenblas-serial-dev|debconf|dpkg)$'

command -v apt-get >/dev/null || {
    echo "fetch-gpu-debs.sh: needs apt-get (a Debian/Ubuntu machine)" >&2
    exit 1
}
mapfile -t pkgs < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
    --no-breaks --no-replaces --no-enhances "${top[@]}" | grep -v '^[ <]' | sort -u |
    grep -Ev "$skip")
[ ${#pkgs[@]} -gt 0 ] || {
    echo "fetch-gpu-debs.sh: apt-cache found no packages" >&2
    exit 1
}

mkdir -p "$dest"
rm -f "$dest"/*.deb
echo "fetching ${#pkgs[@]} packages into $dest:"
printf '  %s\n' "${pkgs[@]}"
(cd "$dest" && apt-get download "${pkgs[@]}")
du -sh "$dest"
grep -qx '/.deb/' "$root/.gitignore" 2>/dev/null || echo '/.deb/' >>"$root/.gitignore"
echo "done: carry $dest to the GPU machine (device runs: carry [\".deb\"]) and run scripts/gpu-check.sh"
