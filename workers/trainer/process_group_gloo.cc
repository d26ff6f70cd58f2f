// ProcessGroupGloo factory. The only TU that sees c10d's Gloo header; the
// wheel lacks Gloo's own headers, so CMake puts process_group_gloo_shim/ (see
// its README) on this file's include path.
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1  // what torch's own build defines; enables the header
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>

#include "workers/trainer/process_group_backend.h"

namespace cluedrop::trainer {

StatusOr<c10::intrusive_ptr<c10d::Backend>> CreateGlooBackend(
    const c10::intrusive_ptr<c10d::Store>& store, int rank, int world_size,
    const ProcessGroupOptions& options) {
  if (options.gloo_threads < 1) {
    return InvalidArgumentError("gloo_threads: must be >= 1, got " +
                                std::to_string(options.gloo_threads));
  }
  c10::intrusive_ptr<c10d::Backend> backend;
  Status s =
      DistCall("Gloo process group (rank " + std::to_string(rank) + " of " +
                   std::to_string(world_size) + ")",
               [&] {
                 auto gloo_options = c10d::ProcessGroupGloo::Options::create(options.timeout);
                 gloo_options->devices.push_back(
                     options.gloo_hostname.empty()
                         ? c10d::ProcessGroupGloo::createDefaultDevice()
                         : c10d::ProcessGroupGloo::createDeviceForHostname(options.gloo_hostname));
                 gloo_options->threads = options.gloo_threads;
                 backend = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, world_size,
                                                                       gloo_options);
               });
  if (!s.ok()) return s;
  return backend;
}

}  // namespace cluedrop::trainer
