#!/bin/sh
# Copies the shared libraries that the given binaries load from the build
# stage's system (gRPC, Protobuf, abseil, prometheus-cpp, SQLite, PCRE2,
# yaml-cpp, ICU, OpenSSL, ...) into DEST, so that the final image needs no
# -dev packages and no compiler. Left out, because the final base image has
# them or they are copied whole by the Dockerfile:
#   - glibc (libc, libm, libdl, libpthread, librt, libutil, ld-linux),
#     libstdc++ and libgcc_s: the base image's (same or newer ABI);
#   - torch's lib/ and the nvidia-* wheels (site-packages): copied whole,
#     because cuDNN and NCCL dlopen libraries that ldd does not list;
#   - the CUDA toolkit (/usr/local/cuda*): the CUDA runtime base has it.
# Fails when a library is not found.
#
# Usage: bundle-runtime.sh DEST BINARY...
set -eu
dest=$1
shift
mkdir -p "$dest"
listing=$(for binary in "$@"; do ldd "$binary"; done)
if printf '%s\n' "$listing" | grep -q 'not found'; then
  printf '%s\n' "$listing" | grep 'not found' >&2
  echo "bundle-runtime: unresolved libraries" >&2
  exit 1
fi
printf '%s\n' "$listing" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u |
  while read -r lib; do
    case "$lib" in
      */site-packages/* | /usr/local/cuda*) continue ;;
      */libc.so.* | */libm.so.* | */libdl.so.* | */libpthread.so.* | */librt.so.* | \
        */libutil.so.* | */ld-linux*.so.* | */libstdc++.so.* | */libgcc_s.so.*) continue ;;
    esac
    cp -L "$lib" "$dest/"
    echo "bundle-runtime: $lib"
  done
