# One small helper per target kind, so every CMakeLists reads as a list of
# targets and their dependencies (the idea of abseil's absl_cc_library).
#
#   cluedrop_cc_library(NAME n SRCS a.cc [CUDA_SRCS k.cu] DEPS d... [TORCH])
#   cluedrop_cc_binary(NAME n SRCS main.cc DEPS d... [OUTPUT_NAME o])
#   cluedrop_cc_test(NAME n SRCS t_test.cc DEPS d... [LABELS l...] [TORCH]
#                    [TEST_PREFIX p.] [PROPERTIES prop value...])
#
# TORCH links libtorch publicly (the library's headers use torch types);
# TORCH_PRIVATE links it without passing torch's include directories on.
# Prefer TORCH_PRIVATE: torch's include tree carries its own, older
# google/protobuf headers, which break any TU that also includes our
# generated protos. Keep torch and proto code in separate TUs.
# Only targets that need libtorch say so; a test whose sources include torch
# says TORCH (it then reuses the precompiled <torch/torch.h>, as TORCH and
# TORCH_PRIVATE libraries do: cmake/CluedropTorch.cmake). CUDA_SRCS are
# compiled only when CLUEDROP_CUDA_ENABLED, else CPU_SRCS are used instead.

function(_cluedrop_common_target_setup target)
  target_include_directories(${target} PUBLIC
    "$<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>"
    "$<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/gen>")
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wno-unused-parameter>)
endfunction()

# Appends FLAG (one option, e.g. -O1) to TARGET's C++ compile lines in
# RelWithDebInfo builds; it comes after CMAKE_CXX_FLAGS_RELWITHDEBINFO, so it
# wins over its -O2. The shared torch PCH is built at -O2 and GCC accepts it
# at -O1/-Og (both define __OPTIMIZE__; -O0 would not).
function(_cluedrop_opt_flag target flag)
  if(flag)
    target_compile_options(${target} PRIVATE
      $<$<AND:$<CONFIG:RelWithDebInfo>,$<COMPILE_LANGUAGE:CXX>>:${flag}>)
  endif()
endfunction()

function(cluedrop_cc_library)
  cmake_parse_arguments(ARG "TORCH;TORCH_PRIVATE" "NAME" "SRCS;CUDA_SRCS;CPU_SRCS;DEPS" ${ARGN})
  set(srcs ${ARG_SRCS})
  if(CLUEDROP_CUDA_ENABLED)
    list(APPEND srcs ${ARG_CUDA_SRCS})
  else()
    list(APPEND srcs ${ARG_CPU_SRCS})
  endif()
  add_library(${ARG_NAME} STATIC ${srcs})
  _cluedrop_common_target_setup(${ARG_NAME})
  target_link_libraries(${ARG_NAME} PUBLIC ${ARG_DEPS})
  if(ARG_TORCH)
    target_link_libraries(${ARG_NAME} PUBLIC ${TORCH_LIBRARIES})
  elseif(ARG_TORCH_PRIVATE)
    target_link_libraries(${ARG_NAME} PRIVATE ${TORCH_LIBRARIES})
  endif()
  if(ARG_TORCH OR ARG_TORCH_PRIVATE)
    cluedrop_use_torch_pch(${ARG_NAME})
    _cluedrop_opt_flag(${ARG_NAME} "${CLUEDROP_TORCH_OPT_FLAG}")
  endif()
  if(CLUEDROP_CUDA_ENABLED AND ARG_CUDA_SRCS)
    target_link_libraries(${ARG_NAME} PUBLIC CUDA::cudart)
    set_target_properties(${ARG_NAME} PROPERTIES CUDA_SEPARABLE_COMPILATION OFF)
  endif()
endfunction()

function(cluedrop_cc_binary)
  cmake_parse_arguments(ARG "" "NAME;OUTPUT_NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  _cluedrop_common_target_setup(${ARG_NAME})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS})
  if(ARG_OUTPUT_NAME)
    set_target_properties(${ARG_NAME} PROPERTIES OUTPUT_NAME ${ARG_OUTPUT_NAME})
  endif()
  set_target_properties(${ARG_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${PROJECT_BINARY_DIR}/bin")
endfunction()

function(cluedrop_cc_test)
  if(NOT CLUEDROP_BUILD_TESTS)
    return()
  endif()
  # TEST_PREFIX is prepended to every discovered test name; PROPERTIES are
  # extra ctest properties for them (e.g. ENVIRONMENT, FIXTURES_REQUIRED).
  cmake_parse_arguments(ARG "TORCH" "NAME;TEST_PREFIX" "SRCS;DEPS;LABELS;PROPERTIES" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  if(ARG_TORCH)
    cluedrop_use_torch_pch(${ARG_NAME})
  endif()
  _cluedrop_common_target_setup(${ARG_NAME})
  _cluedrop_opt_flag(${ARG_NAME} "${CLUEDROP_TEST_OPT_FLAG}")
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} GTest::gmock GTest::gtest_main)
  set_target_properties(${ARG_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${PROJECT_BINARY_DIR}/tests")
  # gtest_discover_tests re-splits PROPERTIES three times on the way to
  # set_tests_properties, so a LABELS list needs its ';' escaped three
  # levels deep (7 backslashes) to stay one value (checked with CMake 3.25).
  string(REPLACE ";" "\\\\\\\\\\\\\\;" labels "unit;${ARG_LABELS}")
  gtest_discover_tests(${ARG_NAME} DISCOVERY_MODE PRE_TEST TEST_PREFIX "${ARG_TEST_PREFIX}"
    PROPERTIES TIMEOUT 60 ${ARG_PROPERTIES} LABELS "${labels}")
endfunction()

# cluedrop_proto_library(NAME n PROTOS cluedrop/v1/a.proto ... [GRPC])
# Runs protoc (and the gRPC plugin, with mocks) on protos relative to the
# current source dir; output lands in ${PROJECT_BINARY_DIR}/gen only.
# Two libraries: n_messages (the messages; protobuf only, for the gRPC-free
# core) and n (n_messages plus, with GRPC, the service stubs on grpc++).
function(cluedrop_proto_library)
  cmake_parse_arguments(ARG "GRPC" "NAME" "PROTOS" ${ARGN})
  set(out_dir "${PROJECT_BINARY_DIR}/gen")
  file(MAKE_DIRECTORY "${out_dir}")
  if(ARG_GRPC)
    get_target_property(grpc_plugin gRPC::grpc_cpp_plugin LOCATION)
  endif()
  set(messages)
  set(stubs)
  foreach(proto ${ARG_PROTOS})
    string(REGEX REPLACE "\\.proto$" "" base "${proto}")
    set(outs "${out_dir}/${base}.pb.h" "${out_dir}/${base}.pb.cc")
    list(APPEND messages "${out_dir}/${base}.pb.h" "${out_dir}/${base}.pb.cc")
    set(args --cpp_out=${out_dir})
    if(ARG_GRPC)
      set(grpc_outs "${out_dir}/${base}.grpc.pb.h" "${out_dir}/${base}.grpc.pb.cc"
                    "${out_dir}/${base}_mock.grpc.pb.h")
      list(APPEND outs ${grpc_outs})
      list(APPEND stubs ${grpc_outs})
      list(APPEND args --grpc_out=generate_mock_code=true:${out_dir}
                       --plugin=protoc-gen-grpc=${grpc_plugin})
    endif()
    add_custom_command(
      OUTPUT ${outs}
      COMMAND protobuf::protoc ARGS ${args} -I "${CMAKE_CURRENT_SOURCE_DIR}"
              "${CMAKE_CURRENT_SOURCE_DIR}/${proto}"
      DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/${proto}" protobuf::protoc
      COMMENT "protoc ${proto}"
      VERBATIM)
  endforeach()
  add_library(${ARG_NAME}_messages STATIC ${messages})
  # Generated sources define same-named file-local tables: never merged.
  set_target_properties(${ARG_NAME}_messages PROPERTIES UNITY_BUILD OFF)
  target_include_directories(${ARG_NAME}_messages PUBLIC "${out_dir}")
  target_link_libraries(${ARG_NAME}_messages PUBLIC protobuf::libprotobuf)
  if(ARG_GRPC)
    add_library(${ARG_NAME} STATIC ${stubs})
    set_target_properties(${ARG_NAME} PROPERTIES UNITY_BUILD OFF)
    target_link_libraries(${ARG_NAME} PUBLIC ${ARG_NAME}_messages gRPC::grpc++)
  else()
    add_library(${ARG_NAME} ALIAS ${ARG_NAME}_messages)
  endif()
endfunction()

# cluedrop_fuzz_target(NAME n SRCS f_fuzz.cc DEPS d... CORPUS dir)
# A libFuzzer entry point (LLVMFuzzerTestOneInput). With clang and
# CLUEDROP_FUZZ=ON it links libFuzzer + ASan/UBSan (run it from scripts/fuzz);
# otherwise it links tests/fuzz/replay_main.cc and its seed corpus runs as a
# ctest regression test (label fuzz).
function(cluedrop_fuzz_target)
  if(NOT CLUEDROP_BUILD_TESTS AND NOT CLUEDROP_FUZZ)
    return()
  endif()
  cmake_parse_arguments(ARG "" "NAME;CORPUS" "SRCS;DEPS" ${ARGN})
  if(CLUEDROP_FUZZ)
    add_executable(${ARG_NAME} ${ARG_SRCS})
    target_compile_options(${ARG_NAME} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_options(${ARG_NAME} PRIVATE -fsanitize=fuzzer,address,undefined)
  else()
    add_executable(${ARG_NAME} ${ARG_SRCS} "${PROJECT_SOURCE_DIR}/tests/fuzz/replay_main.cc")
  endif()
  _cluedrop_common_target_setup(${ARG_NAME})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS})
  set_target_properties(${ARG_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${PROJECT_BINARY_DIR}/fuzz")
  if(CLUEDROP_BUILD_TESTS AND NOT CLUEDROP_FUZZ)
    add_test(NAME ${ARG_NAME}.corpus COMMAND ${ARG_NAME} "${CMAKE_CURRENT_SOURCE_DIR}/${ARG_CORPUS}")
    set_tests_properties(${ARG_NAME}.corpus PROPERTIES LABELS "fuzz" TIMEOUT 60)
  endif()
endfunction()

# The Python packages of the source tree that tests import: cluedrop_local
# (python/: real daemons), cluedrop_testing (tests/python/: test helpers)
# and cluedrop_demo (demo/). Call cluedrop_python_path_for_tests() at the
# end of a CMakeLists that adds tests: every test of that directory gets
# PYTHONPATH (CMake 3.25 sets test properties per directory only).
set(CLUEDROP_PYTHONPATH
  "${PROJECT_SOURCE_DIR}/python:${PROJECT_SOURCE_DIR}/tests/python:${PROJECT_SOURCE_DIR}/demo")
function(cluedrop_python_path_for_tests)
  get_property(tests DIRECTORY PROPERTY TESTS)
  foreach(test ${tests})
    set_property(TEST ${test} APPEND PROPERTY ENVIRONMENT "PYTHONPATH=${CLUEDROP_PYTHONPATH}")
  endforeach()
endfunction()
