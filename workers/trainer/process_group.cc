#include "workers/trainer/process_group.h"

#include <mutex>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <utility>
#include <vector>

#include "workers/trainer/process_group_backend.h"
#include "workers/trainer/store_address.h"

namespace cluedrop::trainer {
namespace {

std::string DeviceName(const c10::Device& d) { return d.str(); }

class BackendWork : public CollectiveWork {
 public:
  // `divide_by` > 1 emulates AVG on backends without it (Gloo): SUM, then
  // divide after the wait.
  BackendWork(c10::intrusive_ptr<c10d::Work> work, at::Tensor tensor, int divide_by)
      : work_(std::move(work)), tensor_(std::move(tensor)), divide_by_(divide_by) {}

  Status Wait() override {
    return DistCall("all-reduce", [&] {
      work_->wait();
      if (divide_by_ > 1) tensor_.div_(divide_by_);
    });
  }

 private:
  c10::intrusive_ptr<c10d::Work> work_;
  at::Tensor tensor_;
  int divide_by_;
};

class BackendCollectives : public Collectives {
 public:
  BackendCollectives(std::shared_ptr<RendezvousStore> store,
                     c10::intrusive_ptr<c10d::Backend> backend, c10::Device device, bool native_avg)
      : store_(std::move(store)),
        backend_(std::move(backend)),
        device_(device),
        native_avg_(native_avg) {}

  int rank() const override { return backend_->getRank(); }
  int world_size() const override { return backend_->getSize(); }
  c10::Device device() const override { return device_; }

  StatusOr<std::unique_ptr<CollectiveWork>> AllReduce(const at::Tensor& tensor,
                                                      ReduceOp op) override {
    CLUEDROP_RETURN_IF_ERROR(CheckTensor(tensor, "AllReduce"));
    c10d::AllreduceOptions options;
    int divide_by = 1;
    if (op == ReduceOp::kAvg && native_avg_) {
      options.reduceOp = c10d::ReduceOp::AVG;
    } else {
      options.reduceOp = c10d::ReduceOp::SUM;
      if (op == ReduceOp::kAvg) divide_by = world_size();
    }
    c10::intrusive_ptr<c10d::Work> work;
    std::vector<at::Tensor> tensors = {tensor};
    {
      // c10d tags collectives with a counter that is not thread-safe in
      // every backend; launches are serialised here.
      std::lock_guard<std::mutex> lock(mu_);
      CLUEDROP_RETURN_IF_ERROR(
          DistCall("all-reduce launch", [&] { work = backend_->allreduce(tensors, options); }));
    }
    return std::unique_ptr<CollectiveWork>(
        std::make_unique<BackendWork>(std::move(work), tensor, divide_by));
  }

  Status Broadcast(const at::Tensor& tensor, int root) override {
    CLUEDROP_RETURN_IF_ERROR(CheckTensor(tensor, "Broadcast"));
    if (root < 0 || root >= world_size()) {
      return InvalidArgumentError("Broadcast: root " + std::to_string(root) + " out of range");
    }
    c10d::BroadcastOptions options;
    options.rootRank = root;
    std::vector<at::Tensor> tensors = {tensor};
    c10::intrusive_ptr<c10d::Work> work;
    {
      std::lock_guard<std::mutex> lock(mu_);
      CLUEDROP_RETURN_IF_ERROR(
          DistCall("broadcast launch", [&] { work = backend_->broadcast(tensors, options); }));
    }
    return DistCall("broadcast", [&] { work->wait(); });
  }

  Status Barrier() override {
    c10d::BarrierOptions options;
    if (device_.is_cuda()) options.device_ids = {device_.index()};
    c10::intrusive_ptr<c10d::Work> work;
    {
      std::lock_guard<std::mutex> lock(mu_);
      CLUEDROP_RETURN_IF_ERROR(
          DistCall("barrier launch", [&] { work = backend_->barrier(options); }));
    }
    return DistCall("barrier", [&] { work->wait(); });
  }

 private:
  Status CheckTensor(const at::Tensor& tensor, const char* what) const {
    if (!tensor.defined()) return InvalidArgumentError(std::string(what) + ": undefined tensor");
    if (tensor.device() != device_) {
      return InvalidArgumentError(std::string(what) + ": tensor on " + DeviceName(tensor.device()) +
                                  ", process group on " + DeviceName(device_));
    }
    if (!tensor.is_contiguous() || tensor.is_sparse()) {
      return InvalidArgumentError(std::string(what) + ": tensor must be dense and contiguous");
    }
    return OkStatus();
  }

  std::shared_ptr<RendezvousStore> store_;  // keeps the TCPStore (server on rank 0) alive
  c10::intrusive_ptr<c10d::Backend> backend_;
  c10::Device device_;
  bool native_avg_;
  std::mutex mu_;
};

}  // namespace

RendezvousStore::RendezvousStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RendezvousStore::~RendezvousStore() = default;
int RendezvousStore::port() const { return impl_->port; }
int RendezvousStore::rank() const { return impl_->rank; }
int RendezvousStore::world_size() const { return impl_->world_size; }

StatusOr<std::shared_ptr<RendezvousStore>> RendezvousStore::Create(const StoreOptions& options) {
  if (options.world_size < 1) {
    return InvalidArgumentError("world_size: must be >= 1, got " +
                                std::to_string(options.world_size));
  }
  if (options.rank < 0 || options.rank >= options.world_size) {
    return InvalidArgumentError("rank: must be in [0, " + std::to_string(options.world_size) +
                                "), got " + std::to_string(options.rank));
  }
  if (options.port < 0 || options.port > 65535 || (options.port == 0 && options.rank != 0)) {
    return InvalidArgumentError("port: " + std::to_string(options.port) +
                                " (ranks > 0 need rank 0's real port)");
  }
  if (options.host.empty()) return InvalidArgumentError("host: empty");
  c10d::TCPStoreOptions tcp;
  tcp.port = static_cast<uint16_t>(options.port);
  tcp.isServer = options.rank == 0;
  tcp.numWorkers = static_cast<size_t>(options.world_size);
  tcp.waitWorkers = false;  // the backend's rendezvous waits for the others
  tcp.timeout = options.timeout;
  if (options.rank == 0 && !options.bind_host.empty()) {
    StatusOr<int> fd = ListenOn(options.bind_host, options.port);
    if (!fd.ok()) return fd.status();
    tcp.masterListenFd = *fd;  // the server owns it from here
  } else if (options.rank == 0) {
    // The TCPStore binds every interface itself; a taken port is found
    // first, so that it is named as such (torch's error does not say).
    CLUEDROP_RETURN_IF_ERROR(CheckStoreAddressFree("", options.port));
  }
  auto impl = std::make_unique<Impl>();
  impl->rank = options.rank;
  impl->world_size = options.world_size;
  const std::string where =
      options.rank == 0
          ? "listening on " + (options.bind_host.empty() ? "port" : options.bind_host) + " " +
                std::to_string(options.port)
          : "connecting to " + options.host + ":" + std::to_string(options.port);
  Status s = DistCall("rendezvous store (" + where + ")", [&] {
    auto store = c10::make_intrusive<c10d::TCPStore>(options.host, tcp);
    impl->port = store->getPort();
    impl->store = std::move(store);
  });
  if (!s.ok()) return s;
  return std::shared_ptr<RendezvousStore>(new RendezvousStore(std::move(impl)));
}

StatusOr<std::unique_ptr<Collectives>> CreateProcessGroup(std::shared_ptr<RendezvousStore> store,
                                                          const ProcessGroupOptions& options) {
  if (store == nullptr) return InvalidArgumentError("CreateProcessGroup: null store");
  std::optional<c10::Device> device;
  try {
    device.emplace(options.device);
  } catch (const c10::Error& e) {
    return InvalidArgumentError("device: '" + options.device + "': " + e.what_without_backtrace());
  }
  if (!device->is_cpu() && !device->is_cuda()) {
    return InvalidArgumentError("device: '" + options.device + "' is neither cpu nor cuda");
  }
  if (device->is_cuda() && !device->has_index()) {
    return InvalidArgumentError("device: '" + options.device + "' needs an index (cuda:N)");
  }
  CollectiveBackend backend = options.backend;
  if (backend == CollectiveBackend::kAuto) {
    backend = device->is_cuda() ? CollectiveBackend::kNccl : CollectiveBackend::kGloo;
  }
  if (backend == CollectiveBackend::kGloo && !device->is_cpu()) {
    return InvalidArgumentError("backend: Gloo serves CPU tensors, not " + options.device);
  }
  if (backend == CollectiveBackend::kNccl && !device->is_cuda()) {
    return InvalidArgumentError("backend: NCCL serves CUDA tensors, not " + options.device);
  }
  RendezvousStore::Impl& impl = store->impl();
  c10::intrusive_ptr<c10d::Backend> pg;
  if (backend == CollectiveBackend::kGloo) {
    CLUEDROP_ASSIGN_OR_RETURN(pg,
                              CreateGlooBackend(impl.store, impl.rank, impl.world_size, options));
  } else {
    CLUEDROP_ASSIGN_OR_RETURN(
        pg, CreateNcclBackend(impl.store, impl.rank, impl.world_size, *device, options));
  }
  const bool native_avg = backend == CollectiveBackend::kNccl;
  return std::unique_ptr<Collectives>(
      std::make_unique<BackendCollectives>(std::move(store), std::move(pg), *device, native_avg));
}

}  // namespace cluedrop::trainer
