#include "runtime/thread_stack_floor.h"

#include <dlfcn.h>
#include <pthread.h>

#include <algorithm>

namespace cluedrop {

size_t ThreadStackFloorBytes() { return kThreadStackFloorBytes; }

}  // namespace cluedrop

// Exported from the executable (see CMake: --export-dynamic-symbol), so the
// shared libraries' calls bind here first.
extern "C" int pthread_attr_setstacksize(pthread_attr_t* attr, size_t size) {
  using Fn = int (*)(pthread_attr_t*, size_t);
  static const Fn real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "pthread_attr_setstacksize"));
  return real(attr, std::max(size, cluedrop::kThreadStackFloorBytes));
}
