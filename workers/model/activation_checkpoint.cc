#include "workers/model/activation_checkpoint.h"

#include <utility>

namespace cluedrop::model {
namespace {

// The function to recompute, carried through the autograd context.
struct Closure : torch::CustomClassHolder {
  explicit Closure(TensorFn f) : fn(std::move(f)) {}
  TensorFn fn;
};

class CheckpointFunction : public torch::autograd::Function<CheckpointFunction> {
 public:
  // `anchor` is a zero-size tensor that requires grad, so that the output
  // requires grad (and backward runs) even when `x` does not.
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& anchor, c10::intrusive_ptr<Closure> closure) {
    (void)anchor;
    ctx->save_for_backward({x});
    ctx->saved_data["fn"] = c10::IValue::make_capsule(closure);
    torch::NoGradGuard no_grad;
    return closure->fn(x);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const torch::Tensor saved = ctx->get_saved_variables()[0];
    auto closure = c10::static_intrusive_pointer_cast<Closure>(ctx->saved_data["fn"].toCapsule());
    torch::Tensor x = saved.detach().requires_grad_(saved.requires_grad());
    torch::Tensor y;
    {
      torch::AutoGradMode enable(true);
      y = closure->fn(x);
    }
    if (y.requires_grad()) torch::autograd::backward({y}, {grads[0]});
    return {saved.requires_grad() ? x.grad() : torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor Checkpointed(const torch::Tensor& x, TensorFn fn) {
  if (!torch::GradMode::is_enabled()) return fn(x);
  static thread_local torch::Tensor anchor = torch::empty({0}).requires_grad_(true);
  return CheckpointFunction::apply(x, anchor, c10::make_intrusive<Closure>(std::move(fn)));
}

}  // namespace cluedrop::model
