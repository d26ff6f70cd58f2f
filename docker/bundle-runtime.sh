#!/bin/sh
# Copies the shared libraries that the given binaries load from the build
# stage's system (gRPC, Protobuf, abseil, prometheus-cpp, SQLite, PCRE2,
# libyaml, ICU, OpenSSL, ...) into DEST, so that the final image needs no
# -dev packages and no compiler. Left out, because the final base image has
# them or they are copied whole by the Dockerfile:
#   - glibc (libc, libm, libdl, libpthread, librt, libutil, ld-linux),
#     libstdc++ and libgcc_s: the base image's (same or newer ABI);
#   - without --with-torch, the libraries of the Python venv (torch's lib/
#     and the nvidia-* wheels): the CUDA image copies those trees whole,
#     because cuDNN and NCCL dlopen libraries that ldd does not list. The
#     CPU image links only torch_cpu and c10 and passes --with-torch: those
#     and what they load (libgomp, libcudart, libcupti) come along too;
#   - the CUDA toolkit (/usr/local/cuda*): only the build stage has it.
# Fails when a library is not found.
#
# Usage: bundle-runtime.sh [--with-torch] DEST BINARY...
set -eu
with_torch=0
if [ "${1:-}" = "--with-torch" ]; then
  with_torch=1
  shift
fi
dest=$1
shift
mkdir -p "$dest"
listing=$(for binary in "$@"; do ldd "$binary"; done)
if printf '%s\n' "$listing" | grep -q 'not found'; then
  printf '%s\n' "$listing" | grep 'not found' >&2
  echo "bundle-runtime: unresolved libraries" >&2
  exit 1
fi
printf '%s\n' "$listing" | awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }' | sort -u |
  while read -r name lib; do
    case "$lib" in
      /usr/local/cuda*) continue ;;
      */site-packages/*) [ "$with_torch" = 1 ] || continue ;;
      */libc.so.* | */libm.so.* | */libdl.so.* | */libpthread.so.* | */librt.so.* | \
        */libutil.so.* | */ld-linux*.so.* | */libstdc++.so.* | */libgcc_s.so.*) continue ;;
    esac
    # Under the name the binaries ask for (ldd's left column), which for
    # torch's own libraries (libgomp-<hash>.so.1) differs from the file's.
    cp -L "$lib" "$dest/$name"
    echo "bundle-runtime: $lib"
  done
