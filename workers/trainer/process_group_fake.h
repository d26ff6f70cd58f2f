// A single-process stand-in for the process group (the idea of c10d's
// FakeProcessGroup), for unit tests: this process is `rank` of `world_size`,
// and every other rank behaves as if it contributed zeros. So an all-reduce
// SUM leaves a tensor unchanged and AVG divides it by world_size (an
// averaging applied twice shows up as a division by world_size^2); a
// broadcast from another root zeroes the tensor. Every call is recorded.
//
// The reduction is applied when Wait() is called, not at launch, so code
// that reads a tensor before waiting sees the unreduced values.
//
// Example:
//   FakeCollectives fake(/*rank=*/0, /*world_size=*/2);
//   auto work = fake.AllReduce(t, ReduceOp::kAvg);  // t unchanged
//   (*work)->Wait();                                  // t /= 2
//   EXPECT_EQ(fake.calls().size(), 1);
//
// Thread-safe.
#ifndef CLUEDROP_WORKERS_TRAINER_PROCESS_GROUP_FAKE_H_
#define CLUEDROP_WORKERS_TRAINER_PROCESS_GROUP_FAKE_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "workers/trainer/process_group.h"

namespace cluedrop::trainer {

class FakeCollectives : public Collectives {
 public:
  enum class Kind { kAllReduce, kBroadcast, kBarrier };
  struct Call {
    Kind kind;
    ReduceOp op = ReduceOp::kSum;  // all-reduce only
    int64_t numel = 0;
    at::ScalarType dtype = at::kFloat;
    bool waited = false;  // all-reduce: Wait() was called
  };

  explicit FakeCollectives(int rank = 0, int world_size = 1,
                           c10::Device device = c10::Device(c10::kCPU));

  int rank() const override { return rank_; }
  int world_size() const override { return world_size_; }
  c10::Device device() const override { return device_; }
  StatusOr<std::unique_ptr<CollectiveWork>> AllReduce(const at::Tensor& tensor,
                                                      ReduceOp op) override;
  Status Broadcast(const at::Tensor& tensor, int root) override;
  Status Barrier() override;

  // Every call so far, in call order.
  std::vector<Call> calls() const;
  // All-reduce calls that were launched but not waited for.
  int64_t pending() const;
  // Makes the next AllReduce launch fail with `status` (once).
  void FailNextAllReduce(Status status);

 private:
  class Work;
  void MarkWaited(size_t index);

  const int rank_;
  const int world_size_;
  const c10::Device device_;
  mutable std::mutex mu_;
  std::vector<Call> calls_;
  Status fail_next_;
};

}  // namespace cluedrop::trainer

#endif  // CLUEDROP_WORKERS_TRAINER_PROCESS_GROUP_FAKE_H_
