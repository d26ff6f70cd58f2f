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
export CLUEDROP_ROOT CLUEDROP_CACHE CLUEDROP_VENV CLUEDROP_BUILD CLUEDROP_TORCH_VERSION
