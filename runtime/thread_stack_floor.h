// A floor under thread stack sizes that libraries request explicitly.
//
// Why: civetweb (under prometheus-cpp's Exposer) creates its threads with a
// compiled-in 100 KiB stack. glibc carves a thread's static TLS out of its
// stack, and processes that load libtorch + CUDA carry more static TLS than
// that, so pthread_create fails with EINVAL and /metrics never starts. This
// file interposes pthread_attr_setstacksize for the whole process and raises
// requests below kThreadStackFloorBytes to it; larger requests pass through.
#ifndef CLUEDROP_RUNTIME_THREAD_STACK_FLOOR_H_
#define CLUEDROP_RUNTIME_THREAD_STACK_FLOOR_H_

#include <cstddef>

namespace cluedrop {

inline constexpr size_t kThreadStackFloorBytes = size_t{4} << 20;

// Returns the floor in effect; calling it guarantees the interposer is
// linked into the binary.
size_t ThreadStackFloorBytes();

}  // namespace cluedrop

#endif  // CLUEDROP_RUNTIME_THREAD_STACK_FLOOR_H_
