#!/usr/bin/env bash
# Installs the build into a temporary prefix and builds a consumer against it twice: with CMake's
# find_package(imbal) (shared and static targets) and with pkg-config. Run by CTest.
#   check_install.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
libdir=$(ls -d "$tmp"/prefix/lib*/ | head -n1)
cmake -S "$src/tests/install/consumer" -B "$tmp/consumer" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/consumer" >/dev/null
LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$tmp/consumer/consumer_shared"
"$tmp/consumer/consumer_static"
export PKG_CONFIG_PATH="$libdir/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
cc -std=c11 "$src/tests/install/consumer/main.c" -o "$tmp/consumer_pc" \
  $(pkg-config --cflags imbal) $(pkg-config --libs imbal) -lm
LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$tmp/consumer_pc"
echo "install check: 3 passed, 0 failed"
