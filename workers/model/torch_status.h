// Runs libtorch code and turns its exceptions into Status (libtorch throws
// c10::Error on bad shapes, out-of-memory and device errors; cluedrop never
// lets them escape).
//
// Example:
//   CLUEDROP_RETURN_IF_ERROR(TorchCall("forward", [&] { logits = model.Forward(in).logits; }));
#ifndef CLUEDROP_WORKERS_MODEL_TORCH_STATUS_H_
#define CLUEDROP_WORKERS_MODEL_TORCH_STATUS_H_

#include <c10/util/Exception.h>

#include <exception>
#include <string>

#include "base/status.h"

namespace cluedrop::model {

// Calls fn(); a thrown c10::Error becomes INTERNAL (RESOURCE_EXHAUSTED for
// out-of-memory) with `what` as context, other std::exceptions INTERNAL.
template <typename Fn>
Status TorchCall(const std::string& what, Fn&& fn) {
  try {
    fn();
    return OkStatus();
  } catch (const c10::OutOfMemoryError& e) {
    return ResourceExhaustedError(what + ": out of memory: " + e.what_without_backtrace());
  } catch (const c10::Error& e) {
    return InternalError(what + ": " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    return InternalError(what + ": " + e.what());
  }
}

}  // namespace cluedrop::model

#endif  // CLUEDROP_WORKERS_MODEL_TORCH_STATUS_H_
