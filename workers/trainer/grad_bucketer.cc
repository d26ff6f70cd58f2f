#include "workers/trainer/grad_bucketer.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/variable.h>

#include <chrono>
#include <string>
#include <utility>

#include "workers/model/torch_status.h"

namespace cluedrop::trainer {

class GradBucketer::Hook : public torch::autograd::PostAccumulateGradHook {
 public:
  Hook(GradBucketer* owner, size_t index) : owner_(owner), index_(index) {}
  void operator()(const torch::autograd::Variable& /*param*/) override {
    owner_->OnGradAccumulated(index_);
  }

 private:
  GradBucketer* owner_;
  size_t index_;
};

GradBucketer::GradBucketer(std::vector<at::Tensor> params, Collectives* collectives)
    : params_(std::move(params)), collectives_(collectives) {}

StatusOr<std::unique_ptr<GradBucketer>> GradBucketer::Create(std::vector<at::Tensor> params,
                                                             Collectives* collectives,
                                                             const GradBucketerOptions& options) {
  if (collectives == nullptr) return InvalidArgumentError("GradBucketer: null collectives");
  if (params.empty()) return InvalidArgumentError("GradBucketer: no trainable parameters");
  if (options.bucket_cap_bytes <= 0) {
    return InvalidArgumentError("bucket_cap_bytes: must be > 0, got " +
                                std::to_string(options.bucket_cap_bytes));
  }
  const c10::Device device = collectives->device();
  for (size_t i = 0; i < params.size(); ++i) {
    const at::Tensor& p = params[i];
    const std::string which = "GradBucketer: parameter #" + std::to_string(i);
    if (!p.defined()) return InvalidArgumentError(which + " is undefined");
    if (!p.requires_grad()) return InvalidArgumentError(which + " does not require grad");
    if (p.is_sparse()) return InvalidArgumentError(which + " is sparse");
    if (torch::autograd::impl::post_acc_grad_hooks(p) != nullptr) {
      return FailedPreconditionError(which + " already has a post-accumulate-grad hook");
    }
  }

  std::unique_ptr<GradBucketer> b(new GradBucketer(std::move(params), collectives));
  const size_t n = b->params_.size();
  b->bucket_of_.resize(n);
  b->views_.resize(n);
  Status s = model::TorchCall("GradBucketer: allocating buckets", [&] {
    GradBucketLayout current;
    int64_t current_bytes = 0;
    auto close = [&] {
      if (current.params.empty()) return;
      b->buckets_.push_back(std::move(current));
      current = GradBucketLayout();
      current_bytes = 0;
    };
    for (size_t k = n; k-- > 0;) {
      const at::Tensor& p = b->params_[k];
      const int64_t bytes = p.numel() * static_cast<int64_t>(p.element_size());
      if (!current.params.empty() &&
          (p.scalar_type() != current.dtype || current_bytes + bytes > options.bucket_cap_bytes)) {
        close();
      }
      if (current.params.empty()) current.dtype = p.scalar_type();
      b->bucket_of_[k] = b->buckets_.size();
      current.params.push_back(k);
      current.offsets.push_back(current.numel);
      current.numel += p.numel();
      current_bytes += bytes;
    }
    close();
    for (const GradBucketLayout& layout : b->buckets_) {
      at::Tensor flat =
          at::zeros({layout.numel}, at::TensorOptions().dtype(layout.dtype).device(device));
      for (size_t j = 0; j < layout.params.size(); ++j) {
        const at::Tensor& p = b->params_[layout.params[j]];
        b->views_[layout.params[j]] = flat.narrow(0, layout.offsets[j], p.numel()).view(p.sizes());
      }
      b->flat_.push_back(std::move(flat));
    }
    b->used_ = at::zeros({static_cast<int64_t>(n)}, at::TensorOptions().device(device));
    for (size_t i = 0; i < n; ++i) {
      torch::autograd::impl::set_post_acc_grad_hooks(b->params_[i],
                                                     std::make_unique<Hook>(b.get(), i));
    }
    b->hooks_installed_ = true;
  });
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> lock(b->mu_);
  b->ResetLocked();
  return b;
}

GradBucketer::~GradBucketer() {
  if (!hooks_installed_) return;
  for (const at::Tensor& p : params_) {
    torch::autograd::impl::set_post_acc_grad_hooks(p, nullptr);
  }
}

void GradBucketer::ResetLocked() {
  armed_ = false;
  filled_.assign(params_.size(), false);
  missing_.clear();
  for (const GradBucketLayout& layout : buckets_) {
    missing_.push_back(static_cast<int64_t>(layout.params.size()));
  }
  works_.clear();
  works_.resize(buckets_.size());
  next_launch_ = 0;
  used_.zero_();
  error_ = OkStatus();
}

void GradBucketer::BeginBackward(bool sync) {
  std::lock_guard<std::mutex> lock(mu_);
  armed_ = sync;
}

void GradBucketer::OnGradAccumulated(size_t index) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!armed_ || !error_.ok()) return;
  if (filled_[index]) {
    error_ =
        FailedPreconditionError("GradBucketer: gradient of parameter #" + std::to_string(index) +
                                " accumulated twice in one synchronising backward");
    return;
  }
  const at::Tensor& grad = params_[index].grad();
  if (!grad.defined()) return;
  Status s = model::TorchCall("GradBucketer: copying a gradient into its bucket", [&] {
    views_[index].copy_(grad);
    used_[static_cast<int64_t>(index)].fill_(1.0);
  });
  if (!s.ok()) {
    error_ = s;
    return;
  }
  filled_[index] = true;
  const size_t bucket = bucket_of_[index];
  if (--missing_[bucket] == 0) LaunchReadyLocked();
}

void GradBucketer::LaunchReadyLocked() {
  while (error_.ok() && next_launch_ < buckets_.size() && missing_[next_launch_] == 0) {
    auto work = collectives_->AllReduce(flat_[next_launch_], ReduceOp::kAvg);
    if (!work.ok()) {
      error_ = work.status().Annotated("GradBucketer: bucket " + std::to_string(next_launch_));
      return;
    }
    works_[next_launch_] = std::move(*work);
    ++next_launch_;
  }
}

StatusOr<double> GradBucketer::FinishSync() {
  std::unique_lock<std::mutex> lock(mu_);
  armed_ = false;
  launched_during_backward_ = static_cast<int64_t>(next_launch_);
  // Parameters whose hook did not fire: their accumulated .grad from earlier
  // micro-batches, else zeros.
  Status s = model::TorchCall("GradBucketer: completing buckets", [&] {
    for (size_t b = next_launch_; b < buckets_.size(); ++b) {
      for (size_t index : buckets_[b].params) {
        if (filled_[index]) continue;
        const at::Tensor& grad = params_[index].grad();
        if (grad.defined()) {
          views_[index].copy_(grad);
          used_[static_cast<int64_t>(index)].fill_(1.0);
        } else {
          views_[index].zero_();
        }
        filled_[index] = true;
      }
      missing_[b] = 0;
    }
  });
  if (!s.ok() && error_.ok()) error_ = s;
  LaunchReadyLocked();
  std::unique_ptr<CollectiveWork> used_work;
  if (error_.ok()) {
    auto work = collectives_->AllReduce(used_, ReduceOp::kSum);
    if (work.ok()) {
      used_work = std::move(*work);
    } else {
      error_ = work.status().Annotated("GradBucketer: gradient flags");
    }
  }

  const auto start = std::chrono::steady_clock::now();
  Status status = error_;
  for (auto& work : works_) {
    if (work == nullptr) continue;
    Status w = work->Wait();
    if (status.ok() && !w.ok()) status = w;
  }
  if (used_work != nullptr) {
    Status w = used_work->Wait();
    if (status.ok() && !w.ok()) status = w;
  }
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (status.ok()) {
    status = model::TorchCall("GradBucketer: writing averaged gradients", [&] {
      at::Tensor used = used_.cpu();
      const float* flags = used.data_ptr<float>();
      for (size_t i = 0; i < params_.size(); ++i) {
        if (flags[i] == 0) continue;  // no rank has a gradient: leave it undefined
        at::Tensor& grad = params_[i].mutable_grad();
        if (grad.defined()) {
          grad.copy_(views_[i]);
        } else {  // on the parameter's device (a layer split spans several)
          grad = views_[i].to(params_[i].device(), /*non_blocking=*/false, /*copy=*/true);
        }
      }
    });
  }
  ResetLocked();
  if (!status.ok()) return status;
  return waited;
}

}  // namespace cluedrop::trainer
