// Internal to process_group*.cc: the c10d types behind RendezvousStore and
// the per-backend factories. Each factory lives in its own TU so that only
// process_group_gloo.cc sees Gloo's headers and only CUDA builds compile
// process_group_nccl_gpu.cc (the CPU build links process_group_nccl_cpu.cc,
// which references no NCCL symbol).
#ifndef CLUEDROP_WORKERS_TRAINER_PROCESS_GROUP_BACKEND_H_
#define CLUEDROP_WORKERS_TRAINER_PROCESS_GROUP_BACKEND_H_

#include <c10/util/Exception.h>

#include <exception>
#include <string>
#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>

#include "base/status.h"
#include "workers/trainer/process_group.h"

namespace cluedrop::trainer {

struct RendezvousStore::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  int port = 0;
  int rank = 0;
  int world_size = 1;
};

// ProcessGroupGloo over `store` with one transport device (see
// ProcessGroupOptions::gloo_hostname). Blocks until all ranks connected.
StatusOr<c10::intrusive_ptr<c10d::Backend>> CreateGlooBackend(
    const c10::intrusive_ptr<c10d::Store>& store, int rank, int world_size,
    const ProcessGroupOptions& options);

// ProcessGroupNCCL over `store` for CUDA `device`; UNIMPLEMENTED in builds
// without CUDA.
StatusOr<c10::intrusive_ptr<c10d::Backend>> CreateNcclBackend(
    const c10::intrusive_ptr<c10d::Store>& store, int rank, int world_size, c10::Device device,
    const ProcessGroupOptions& options);

// Runs fn(); c10d's distributed errors (peer gone, timeout, store failure)
// and other std::exceptions (Gloo's transport errors) become UNAVAILABLE,
// other c10::Errors INTERNAL; `what` is the context.
template <typename Fn>
Status DistCall(const std::string& what, Fn&& fn) {
  try {
    fn();
    return OkStatus();
  } catch (const c10::DistError& e) {
    return UnavailableError(what + ": " + e.what_without_backtrace());
  } catch (const c10::Error& e) {
    return InternalError(what + ": " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    return UnavailableError(what + ": " + e.what());
  }
}

}  // namespace cluedrop::trainer

#endif  // CLUEDROP_WORKERS_TRAINER_PROCESS_GROUP_BACKEND_H_
