# cmake -DBINARY=<coordinator_core_link_check> -P CheckCoreLink.cmake
# Fails unless the core's link-check program (1) runs and succeeds, (2) needs
# no gRPC, torch or prometheus shared library, and (3) defines or references
# no gRPC/torch symbol (grpc::, c10::, at::, torch::, prometheus::).
if(NOT BINARY OR NOT EXISTS "${BINARY}")
  message(FATAL_ERROR "CheckCoreLink: BINARY not given or missing: '${BINARY}'")
endif()

execute_process(COMMAND "${BINARY}" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message(STATUS "${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "CheckCoreLink: ${BINARY} failed (rc=${rc})")
endif()

execute_process(COMMAND ldd "${BINARY}" RESULT_VARIABLE rc OUTPUT_VARIABLE libs)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "CheckCoreLink: ldd ${BINARY} failed")
endif()
message(STATUS "shared libraries:\n${libs}")
foreach(forbidden grpc torch c10 prometheus)
  if(libs MATCHES "lib[^ ]*${forbidden}")
    message(FATAL_ERROR "CheckCoreLink: the core links a ${forbidden} library:\n${libs}")
  endif()
endforeach()

execute_process(COMMAND nm -C "${BINARY}" RESULT_VARIABLE rc OUTPUT_VARIABLE symbols)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "CheckCoreLink: nm ${BINARY} failed")
endif()
foreach(ns "grpc::" "grpc_" "c10::" "at::" "torch::" "prometheus::")
  string(FIND "${symbols}" " ${ns}" at)
  if(NOT at EQUAL -1)
    string(SUBSTRING "${symbols}" ${at} 200 context)
    message(FATAL_ERROR "CheckCoreLink: symbol from ${ns} in the core:${context}")
  endif()
endforeach()
message(STATUS "CheckCoreLink: the coordinator core links without gRPC, torch and prometheus")
