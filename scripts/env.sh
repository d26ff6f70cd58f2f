# Shared paths for cluedrop's scripts. Source it; it sets no options.
# The Python environment (torch is several GB) and the ccache directory live
# outside the clone, in a per-user cache folder, so a fresh clone reuses them.
CLUEDROP_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLUEDROP_CACHE="${CLUEDROP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cluedrop}"
CLUEDROP_VENV="${CLUEDROP_VENV:-$CLUEDROP_CACHE/venv}"
CLUEDROP_BUILD="${CLUEDROP_BUILD:-$CLUEDROP_ROOT/build}"
# Pinned PyPI torch: its bundled libtorch is cluedrop's C++ dependency.
# 2.11.0 matches the GPU machines' torch (built for CUDA 13).
CLUEDROP_TORCH_VERSION="2.11.0"
export CCACHE_DIR="${CCACHE_DIR:-$CLUEDROP_CACHE/ccache}"
export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-5G}"
# Hash paths relative to the clone, so a fresh clone elsewhere hits the cache.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$CLUEDROP_ROOT}"
export CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"
# Precompiled headers (cmake/CluedropTorch.cmake) need these to be cached:
# the PCH is force-included (-include), and its users hash its contents.
export CCACHE_SLOPPINESS="${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}"
export CLUEDROP_ROOT CLUEDROP_CACHE CLUEDROP_VENV CLUEDROP_BUILD CLUEDROP_TORCH_VERSION

# Stage timing: every stage of set-up, build, test and demo prints how long
# it took, so a user sees where the minutes go.
#   stage_begin "build"; ...; stage_end
# Nested stages are fine (a stack); the line is "== <name>: <seconds> s".
CLUEDROP_STAGES=()
CLUEDROP_STAGE_STARTS=()
stage_begin() {
  CLUEDROP_STAGES+=("$1")
  CLUEDROP_STAGE_STARTS+=("$(date +%s)")
  echo "== $1 ..."
}
stage_end() {
  local i=$(( ${#CLUEDROP_STAGES[@]} - 1 ))
  local name="${CLUEDROP_STAGES[$i]}" start="${CLUEDROP_STAGE_STARTS[$i]}"
  unset "CLUEDROP_STAGES[$i]" "CLUEDROP_STAGE_STARTS[$i]"
  CLUEDROP_STAGES=("${CLUEDROP_STAGES[@]}")
  CLUEDROP_STAGE_STARTS=("${CLUEDROP_STAGE_STARTS[@]}")
  echo "== $name: $(( $(date +%s) - start )) s"
}
