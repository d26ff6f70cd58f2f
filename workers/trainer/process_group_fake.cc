#include "workers/trainer/process_group_fake.h"

#include <ATen/ATen.h>

#include <utility>

namespace cluedrop::trainer {

class FakeCollectives::Work : public CollectiveWork {
 public:
  Work(FakeCollectives* owner, size_t index, at::Tensor tensor, ReduceOp op)
      : owner_(owner), index_(index), tensor_(std::move(tensor)), op_(op) {}

  Status Wait() override {
    if (waited_) return FailedPreconditionError("FakeCollectives: Wait called twice");
    waited_ = true;
    if (op_ == ReduceOp::kAvg && owner_->world_size_ > 1) tensor_.div_(owner_->world_size_);
    owner_->MarkWaited(index_);
    return OkStatus();
  }

 private:
  FakeCollectives* owner_;
  size_t index_;
  at::Tensor tensor_;
  ReduceOp op_;
  bool waited_ = false;
};

FakeCollectives::FakeCollectives(int rank, int world_size, c10::Device device)
    : rank_(rank), world_size_(world_size), device_(device) {}

StatusOr<std::unique_ptr<CollectiveWork>> FakeCollectives::AllReduce(const at::Tensor& tensor,
                                                                     ReduceOp op) {
  if (!tensor.defined() || tensor.device() != device_ || !tensor.is_contiguous()) {
    return InvalidArgumentError("FakeCollectives::AllReduce: need a contiguous tensor on " +
                                device_.str());
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (!fail_next_.ok()) return std::exchange(fail_next_, OkStatus());
  calls_.push_back({Kind::kAllReduce, op, tensor.numel(), tensor.scalar_type(), false});
  return std::unique_ptr<CollectiveWork>(
      std::make_unique<Work>(this, calls_.size() - 1, tensor, op));
}

Status FakeCollectives::Broadcast(const at::Tensor& tensor, int root) {
  if (root < 0 || root >= world_size_) return InvalidArgumentError("Broadcast: bad root");
  {
    std::lock_guard<std::mutex> lock(mu_);
    calls_.push_back({Kind::kBroadcast, ReduceOp::kSum, tensor.numel(), tensor.scalar_type()});
  }
  if (root != rank_) tensor.zero_();
  return OkStatus();
}

Status FakeCollectives::Barrier() {
  std::lock_guard<std::mutex> lock(mu_);
  calls_.push_back({Kind::kBarrier});
  return OkStatus();
}

std::vector<FakeCollectives::Call> FakeCollectives::calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_;
}

int64_t FakeCollectives::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t n = 0;
  for (const Call& c : calls_) n += c.kind == Kind::kAllReduce && !c.waited;
  return n;
}

void FakeCollectives::FailNextAllReduce(Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_next_ = std::move(status);
}

void FakeCollectives::MarkWaited(size_t index) {
  std::lock_guard<std::mutex> lock(mu_);
  calls_[index].waited = true;
}

}  // namespace cluedrop::trainer
