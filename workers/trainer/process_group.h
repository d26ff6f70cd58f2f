// Collectives for data-parallel training, and the c10d process group that
// implements them: a TCPStore hosted by rank 0 for the rendezvous, then
// ProcessGroupGloo (CPU tensors) or ProcessGroupNCCL (CUDA tensors, CUDA
// builds only). Tests use FakeCollectives (process_group_fake.h) instead.
//
// Example (every rank runs this; the coordinator tells ranks > 0 the port
// that rank 0 reported):
//   StoreOptions so{.host = "10.0.0.5", .port = 0, .rank = rank, .world_size = 4};
//   CLUEDROP_ASSIGN_OR_RETURN(auto store, RendezvousStore::Create(so));
//   if (rank == 0) ReportPort(store->port());
//   ProcessGroupOptions po;
//   po.device = "cuda:0";  // NCCL; "cpu" gives Gloo
//   CLUEDROP_ASSIGN_OR_RETURN(auto pg, CreateProcessGroup(store, po));
//   CLUEDROP_ASSIGN_OR_RETURN(auto work, pg->AllReduce(grads, ReduceOp::kAvg));
//   CLUEDROP_RETURN_IF_ERROR(work->Wait());
//
// Every collective must be issued by all ranks in the same order (c10d
// matches them by sequence number); a rank that skips one makes the others
// wait until the timeout.
//
// Thread-safety: Collectives implementations may be called from several
// threads (autograd hooks run on the engine's threads), but callers must
// serialise the *order* of calls themselves. CollectiveWork objects are used
// by one thread.
#ifndef CLUEDROP_WORKERS_TRAINER_PROCESS_GROUP_H_
#define CLUEDROP_WORKERS_TRAINER_PROCESS_GROUP_H_

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <chrono>
#include <memory>
#include <string>

#include "base/status.h"

namespace cluedrop::trainer {

enum class ReduceOp {
  kSum,
  kAvg,  // sum / world_size
};

// A collective in flight.
class CollectiveWork {
 public:
  virtual ~CollectiveWork() = default;
  // Blocks until the collective finished; the tensor then holds the result.
  // UNAVAILABLE when a peer failed or the backend timed out, INTERNAL for
  // other backend errors. Call at most once.
  virtual Status Wait() = 0;
};

// All-reduce, broadcast and barrier over the ranks of one job.
class Collectives {
 public:
  virtual ~Collectives() = default;

  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  // Where collective tensors must live: CPU for Gloo, the rank's GPU for NCCL.
  virtual c10::Device device() const = 0;

  // Starts an in-place all-reduce of `tensor` (dense, contiguous, on
  // device()). The tensor must stay alive and unmodified until Wait returns.
  // INVALID_ARGUMENT for a tensor on another device or not contiguous.
  virtual StatusOr<std::unique_ptr<CollectiveWork>> AllReduce(const at::Tensor& tensor,
                                                              ReduceOp op) = 0;
  // Copies rank `root`'s `tensor` into every rank's `tensor` (blocking).
  virtual Status Broadcast(const at::Tensor& tensor, int root) = 0;
  // Returns once every rank has called Barrier.
  virtual Status Barrier() = 0;

  // AllReduce + Wait.
  Status AllReduceSync(const at::Tensor& tensor, ReduceOp op) {
    auto work = AllReduce(tensor, op);
    if (!work.ok()) return work.status();
    return (*work)->Wait();
  }
};

struct StoreOptions {
  // Rank 0's address: the others connect to it.
  std::string host = "127.0.0.1";
  // Rank 0 listens on this address only (an IP or a name; "": every
  // interface). Binding to the address the ranks use keeps the store off the
  // host's other networks (127.0.0.1: this machine only; docs/security.md).
  std::string bind_host;
  // Rank 0: the port to listen on (0: any free port, read back with port()).
  // Other ranks: the port rank 0 listens on.
  int port = 29500;
  int rank = 0;
  int world_size = 1;
  // How long ranks > 0 retry connecting, and every store wait.
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};
};

// The rendezvous store (a c10d TCPStore): rank 0 hosts it, every rank holds
// a client. Keep it alive while the process group lives (the process group
// also holds a reference).
class RendezvousStore {
 public:
  // Rank 0 binds and listens (does not wait for the others); ranks > 0
  // connect, retrying until the timeout. INVALID_ARGUMENT for a bad rank,
  // world size or port; FAILED_PRECONDITION when rank 0's port is taken or
  // its bind_host is not this machine's (CheckStoreAddressFree); UNAVAILABLE
  // when rank 0 cannot be reached in time.
  static StatusOr<std::shared_ptr<RendezvousStore>> Create(const StoreOptions& options);

  ~RendezvousStore();
  RendezvousStore(const RendezvousStore&) = delete;
  RendezvousStore& operator=(const RendezvousStore&) = delete;

  // The port rank 0 listens on (the chosen one when created with port 0).
  int port() const;
  int rank() const;
  int world_size() const;

  struct Impl;  // process_group_backend.h
  Impl& impl() { return *impl_; }

 private:
  explicit RendezvousStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

enum class CollectiveBackend {
  kAuto,  // NCCL for a CUDA device, else Gloo
  kGloo,
  kNccl,
};

struct ProcessGroupOptions {
  CollectiveBackend backend = CollectiveBackend::kAuto;
  // "cpu" or "cuda:N": where this rank's gradients live.
  std::string device = "cpu";
  // Timeout of the rendezvous and of every collective.
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};
  // Gloo: the address this rank's Gloo transport binds to ("" = resolve this
  // host's name, falling back to the loopback address).
  std::string gloo_hostname;
  // Gloo: worker threads running collectives.
  int gloo_threads = 2;
};

// Joins the process group of `store`'s rank and world size; blocks until
// every rank joined (Gloo connects a full mesh here; NCCL creates its
// communicator at the first collective). INVALID_ARGUMENT for a bad device or
// a backend that cannot serve it (Gloo with CUDA, NCCL with CPU);
// UNIMPLEMENTED for NCCL in a build without CUDA; UNAVAILABLE when peers do
// not join in time.
StatusOr<std::unique_ptr<Collectives>> CreateProcessGroup(std::shared_ptr<RendezvousStore> store,
                                                          const ProcessGroupOptions& options);

}  // namespace cluedrop::trainer

#endif  // CLUEDROP_WORKERS_TRAINER_PROCESS_GROUP_H_
