// Gradient all-reduce overlapped with backward (the idea of DDP's Reducer).
//
// The trainable parameters are grouped, in reverse model order (roughly the
// order backward produces their gradients), into flat buckets of at most
// `bucket_cap_bytes` (one dtype and device per bucket; a larger parameter
// gets a bucket of its own). A post-accumulate-grad hook on every parameter
// copies its gradient into its bucket as soon as autograd has accumulated it;
// when a bucket is complete it is all-reduced (average) asynchronously while
// backward continues. Buckets are launched strictly in bucket order, so every
// rank issues the same collectives in the same order.
//
// Gradient accumulation: only the backward of the last micro-batch of an
// optimizer step synchronises; earlier backwards just accumulate into
// `.grad` as usual.
//
// Parameters without a gradient: a parameter whose hook did not fire in the
// synchronising backward contributes its accumulated `.grad` from earlier
// micro-batches, or zeros if it has none. One extra small all-reduce sums
// per-parameter "has a gradient" flags, so a parameter no rank produced a
// gradient for keeps an undefined `.grad` (the optimizer skips it, as
// single-process training would); any other gets the average.
//
// Example (one optimizer step of N micro-batches):
//   CLUEDROP_ASSIGN_OR_RETURN(auto bucketer, GradBucketer::Create(params, collectives, {}));
//   for (int i = 0; i < N; ++i) {
//     bucketer->BeginBackward(/*sync=*/i == N - 1);
//     loss_i.backward();
//   }
//   CLUEDROP_ASSIGN_OR_RETURN(double wait_s, bucketer->FinishSync());
//   optimizer.step();
//
// Thread-safety: hooks may run on autograd worker threads (they lock an
// internal mutex); BeginBackward and FinishSync must not overlap a backward.
// Owns its hooks (removed by the destructor); the parameters and the
// Collectives must outlive the bucketer.
#ifndef CLUEDROP_WORKERS_TRAINER_GRAD_BUCKETER_H_
#define CLUEDROP_WORKERS_TRAINER_GRAD_BUCKETER_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "base/status.h"
#include "workers/trainer/process_group.h"

namespace cluedrop::trainer {

struct GradBucketerOptions {
  // Bucket size cap in bytes (DDP's default: 25 MiB).
  int64_t bucket_cap_bytes = int64_t{25} << 20;
};

// One flat bucket: parameters (indices into Create's list) in fill order.
struct GradBucketLayout {
  std::vector<size_t> params;
  std::vector<int64_t> offsets;  // element offset of each parameter
  int64_t numel = 0;
  at::ScalarType dtype = at::kFloat;
};

class GradBucketer {
 public:
  // `params`: the trainable parameters (requires_grad, dense), in model
  // order; the buckets live on collectives->device() and gradients of
  // parameters elsewhere (a layer split over several GPUs) are copied in and
  // back. INVALID_ARGUMENT for an empty list, a frozen or undefined
  // parameter, or a cap <= 0;
  // FAILED_PRECONDITION when a parameter already has a post-accumulate-grad
  // hook (e.g. another bucketer).
  static StatusOr<std::unique_ptr<GradBucketer>> Create(std::vector<at::Tensor> params,
                                                        Collectives* collectives,
                                                        const GradBucketerOptions& options);
  ~GradBucketer();
  GradBucketer(const GradBucketer&) = delete;
  GradBucketer& operator=(const GradBucketer&) = delete;

  // Call before each backward: `sync` for the last micro-batch of an
  // optimizer step (its hooks fill buckets and launch all-reduces).
  void BeginBackward(bool sync);

  // After the synchronising backward: completes and launches the remaining
  // buckets, waits for every all-reduce and writes the averaged gradients
  // into `.grad`. Returns the seconds spent waiting for communication. Errors:
  // a failed collective (UNAVAILABLE / INTERNAL), or FAILED_PRECONDITION when
  // a hook saw a gradient twice in one backward.
  StatusOr<double> FinishSync();

  const std::vector<GradBucketLayout>& buckets() const { return buckets_; }
  // Buckets launched from hooks during the last synchronising backward
  // (before FinishSync): the communication that overlapped compute.
  int64_t launched_during_backward() const { return launched_during_backward_; }

 private:
  class Hook;
  GradBucketer(std::vector<at::Tensor> params, Collectives* collectives);
  void OnGradAccumulated(size_t index);
  // Launches complete buckets in order; mu_ held.
  void LaunchReadyLocked();
  void ResetLocked();

  std::vector<at::Tensor> params_;
  Collectives* collectives_;
  std::vector<GradBucketLayout> buckets_;
  std::vector<at::Tensor> flat_;   // per bucket
  std::vector<size_t> bucket_of_;  // per parameter
  std::vector<at::Tensor> views_;  // per parameter, shaped like it
  bool hooks_installed_ = false;

  std::mutex mu_;
  bool armed_ = false;
  std::vector<bool> filled_;                            // per parameter
  std::vector<int64_t> missing_;                        // per bucket: parameters not filled yet
  std::vector<std::unique_ptr<CollectiveWork>> works_;  // per bucket
  size_t next_launch_ = 0;
  at::Tensor used_;  // per parameter, float {0, 1}
  Status error_;
  int64_t launched_during_backward_ = 0;
};

}  // namespace cluedrop::trainer

#endif  // CLUEDROP_WORKERS_TRAINER_GRAD_BUCKETER_H_
