# Finds libtorch through the pinned PyPI torch's cmake prefix and decides
# whether CUDA code is built (CLUEDROP_CUDA_ENABLED).
if(NOT CLUEDROP_PYTHON)
  if(DEFINED ENV{CLUEDROP_VENV} AND EXISTS "$ENV{CLUEDROP_VENV}/bin/python")
    set(CLUEDROP_PYTHON "$ENV{CLUEDROP_VENV}/bin/python")
  else()
    find_program(CLUEDROP_PYTHON NAMES python3 REQUIRED)
  endif()
endif()

execute_process(
  COMMAND "${CLUEDROP_PYTHON}" -c
    "import torch, torch.utils; print(torch.utils.cmake_prefix_path); print(torch.__version__); print(torch.version.cuda or '')"
  OUTPUT_VARIABLE _cluedrop_torch_out
  RESULT_VARIABLE _cluedrop_torch_rc
  OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT _cluedrop_torch_rc EQUAL 0)
  message(FATAL_ERROR
    "cluedrop: '${CLUEDROP_PYTHON}' cannot import torch. Run scripts/setup, or pass "
    "-DCLUEDROP_PYTHON=<python with torch>.")
endif()
string(REPLACE "\n" ";" _cluedrop_torch_out "${_cluedrop_torch_out}")
list(GET _cluedrop_torch_out 0 CLUEDROP_TORCH_PREFIX)
list(GET _cluedrop_torch_out 1 Torch_VERSION_STRING)
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
  find_package(CUDAToolkit REQUIRED)
endif()

list(APPEND CMAKE_PREFIX_PATH "${CLUEDROP_TORCH_PREFIX}")
# Torch probes the local GPUs for an arch list unless given one; none are on
# the build machines, so name the targets (matches CMAKE_CUDA_ARCHITECTURES).
if(NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST} AND NOT TORCH_CUDA_ARCH_LIST)
  set(TORCH_CUDA_ARCH_LIST "8.0;9.0")
endif()
# Torch's config probes CUDA itself when the wheel has CUDA; keep it quiet
# about optional pieces (cuDNN, kineto) that cluedrop does not use.
find_package(Torch REQUIRED)
message(STATUS "cluedrop: libtorch ${Torch_VERSION_STRING} (CUDA '${CLUEDROP_TORCH_CUDA}') from ${CLUEDROP_TORCH_PREFIX}")
