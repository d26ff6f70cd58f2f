# Finds libtorch through the pinned PyPI torch's cmake prefix and decides
# whether CUDA code is built (CLUEDROP_CUDA_ENABLED).
if(NOT CLUEDROP_PYTHON)
  if(DEFINED ENV{CLUEDROP_VENV} AND EXISTS "$ENV{CLUEDROP_VENV}/bin/python")
    set(CLUEDROP_PYTHON "$ENV{CLUEDROP_VENV}/bin/python")
  else()
    find_program(CLUEDROP_PYTHON NAMES python3 REQUIRED)
  endif()
endif()

# Reads torch's location, version and CUDA version without importing it:
# importing a CUDA wheel needs its nvidia-* libraries, which a CPU-only
# image build leaves out (docker/Dockerfile.cpu installs torch --no-deps).
execute_process(
  COMMAND "${CLUEDROP_PYTHON}" -c
    "import importlib.util, os\nspec = importlib.util.find_spec('torch')\nd = spec.submodule_search_locations[0]\nv = {}\nexec(open(os.path.join(d, 'version.py')).read(), v)\nprint(d); print(v['__version__']); print(v['cuda'] or '')"
  OUTPUT_VARIABLE _cluedrop_torch_out
  RESULT_VARIABLE _cluedrop_torch_rc
  OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT _cluedrop_torch_rc EQUAL 0)
  message(FATAL_ERROR
    "cluedrop: '${CLUEDROP_PYTHON}' has no torch package. Run scripts/setup, or pass "
    "-DCLUEDROP_PYTHON=<python with torch>.")
endif()
string(REPLACE "\n" ";" _cluedrop_torch_out "${_cluedrop_torch_out}")
list(GET _cluedrop_torch_out 0 CLUEDROP_TORCH_DIR)
list(GET _cluedrop_torch_out 1 Torch_VERSION_STRING)
set(CLUEDROP_TORCH_PREFIX "${CLUEDROP_TORCH_DIR}/share/cmake")
list(LENGTH _cluedrop_torch_out _n)
set(CLUEDROP_TORCH_CUDA "")
if(_n GREATER 2)
  list(GET _cluedrop_torch_out 2 CLUEDROP_TORCH_CUDA)
endif()

find_program(CLUEDROP_NVCC nvcc PATHS /usr/local/cuda/bin NO_CACHE)
if(CLUEDROP_WITH_CUDA STREQUAL "AUTO")
  if(CLUEDROP_TORCH_CUDA AND CLUEDROP_NVCC)
    set(CLUEDROP_CUDA_ENABLED ON)
  else()
    set(CLUEDROP_CUDA_ENABLED OFF)
  endif()
elseif(CLUEDROP_WITH_CUDA)
  if(NOT CLUEDROP_TORCH_CUDA)
    message(FATAL_ERROR "cluedrop: CLUEDROP_WITH_CUDA=ON but torch ${Torch_VERSION_STRING} has no CUDA")
  endif()
  if(NOT CLUEDROP_NVCC)
    message(FATAL_ERROR "cluedrop: CLUEDROP_WITH_CUDA=ON but nvcc was not found")
  endif()
  set(CLUEDROP_CUDA_ENABLED ON)
else()
  set(CLUEDROP_CUDA_ENABLED OFF)
endif()

if(CLUEDROP_CUDA_ENABLED)
  if(NOT CMAKE_CUDA_COMPILER)
    set(CMAKE_CUDA_COMPILER "${CLUEDROP_NVCC}")
  endif()
  if(NOT CMAKE_CUDA_ARCHITECTURES)
    # Hopper (H100/H200) and Ampere; extend for other clusters.
    set(CMAKE_CUDA_ARCHITECTURES 80 90)
  endif()
  enable_language(CUDA)
  set(CMAKE_CUDA_STANDARD 17)
  set(CMAKE_CUDA_EXTENSIONS OFF)
  # Debian 12's stock CMake 3.25.1 FindCUDAToolkit marks CUDA::nvToolsExt
  # deprecated without checking that the target exists when the project
  # requires CMake >= 3.25; CUDA 13 has no libnvToolsExt (NVTX 3 is
  # header-only), so configure fails ("set_property could not find TARGET
  # CUDA::nvToolsExt"). Later CMakes guard it; for the module's duration,
  # claim an older minimum so the unguarded branch is skipped.
  set(_cluedrop_saved_min_version "${CMAKE_MINIMUM_REQUIRED_VERSION}")
  set(CMAKE_MINIMUM_REQUIRED_VERSION 3.24)
  find_package(CUDAToolkit REQUIRED)
  set(CMAKE_MINIMUM_REQUIRED_VERSION "${_cluedrop_saved_min_version}")
endif()

# Torch probes the local GPUs for an arch list unless given one; none are on
# the build machines, so name the targets (matches CMAKE_CUDA_ARCHITECTURES).
if(NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST} AND NOT TORCH_CUDA_ARCH_LIST)
  set(TORCH_CUDA_ARCH_LIST "8.0;9.0")
endif()
if(CLUEDROP_TORCH_CUDA AND NOT CLUEDROP_CUDA_ENABLED)
  # A CUDA wheel in a build without CUDA code: torch's own config would
  # demand a CUDA toolkit (Caffe2Config: "uses CUDA but I cannot find the
  # CUDA libraries"), and libtorch.so pulls in libtorch_cuda and all of the
  # nvidia-* libraries. cluedrop's CPU code needs only torch_cpu (tensors,
  # autograd, the C++ API, c10d with Gloo) and c10: link those two, with the
  # definitions torch_cpu's own target exports. libtorch_cpu still needs
  # libcudart and libcupti (its profiler) at run time; the CPU image carries
  # just those two (docker/Dockerfile.cpu).
  add_library(cluedrop_torch_cpu INTERFACE IMPORTED)
  set_target_properties(cluedrop_torch_cpu PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES
      "${CLUEDROP_TORCH_DIR}/include;${CLUEDROP_TORCH_DIR}/include/torch/csrc/api/include"
    INTERFACE_COMPILE_DEFINITIONS "USE_DISTRIBUTED;USE_C10D_GLOO;USE_RPC;USE_TENSORPIPE"
    INTERFACE_LINK_LIBRARIES
      "-Wl,--no-as-needed;${CLUEDROP_TORCH_DIR}/lib/libtorch_cpu.so;-Wl,--as-needed;${CLUEDROP_TORCH_DIR}/lib/libc10.so")
  set(TORCH_LIBRARIES cluedrop_torch_cpu)
  message(STATUS "cluedrop: libtorch ${Torch_VERSION_STRING} CPU part only (torch_cpu, c10) from ${CLUEDROP_TORCH_DIR}")
else()
  # Torch's config probes CUDA itself when the wheel has CUDA.
  list(APPEND CMAKE_PREFIX_PATH "${CLUEDROP_TORCH_PREFIX}")
  find_package(Torch REQUIRED)
  message(STATUS "cluedrop: libtorch ${Torch_VERSION_STRING} (CUDA '${CLUEDROP_TORCH_CUDA}') from ${CLUEDROP_TORCH_PREFIX}")
endif()

# --- One precompiled <torch/torch.h> for every torch translation unit -------
# Parsing torch/torch.h is most of a torch TU's cost (about 15 of its 20 s on
# the 2-core CI machine). cluedrop_torch_pch precompiles it once with the
# project's flags; every target that compiles torch code reuses that PCH
# (cluedrop_use_torch_pch, called by the target helpers for TORCH /
# TORCH_PRIVATE libraries and TORCH tests). GCC checks the PCH's validity
# per TU (-Winvalid-pch warns when it cannot be used). ccache caches PCH
# builds and their users with the sloppiness scripts/env.sh sets.
option(CLUEDROP_TORCH_PCH "Precompile <torch/torch.h> once for all torch targets" ON)
if(CLUEDROP_TORCH_PCH)
  add_library(cluedrop_torch_pch OBJECT "${PROJECT_SOURCE_DIR}/cmake/torch_pch.cc")
  target_include_directories(cluedrop_torch_pch PRIVATE
    "${PROJECT_SOURCE_DIR}" "${PROJECT_BINARY_DIR}/gen")
  target_compile_options(cluedrop_torch_pch PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wno-unused-parameter>)
  target_link_libraries(cluedrop_torch_pch PRIVATE ${TORCH_LIBRARIES})
  target_precompile_headers(cluedrop_torch_pch PRIVATE
    "$<$<COMPILE_LANGUAGE:CXX>:<torch/torch.h$<ANGLE-R>>")
endif()

# Makes `target`'s C++ sources use the shared torch PCH (no-op without it).
function(cluedrop_use_torch_pch target)
  if(TARGET cluedrop_torch_pch)
    target_precompile_headers(${target} REUSE_FROM cluedrop_torch_pch)
  endif()
endfunction()
