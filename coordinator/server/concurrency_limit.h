// A cap on calls of one kind in flight (long polls, watch and shard
// streams): each blocks a server thread, so without a cap a peer could hold
// every thread (issue 18 row 15: 3,000 long polls, 3,017 threads).
//
// Example:
//   ConcurrencyLimit polls("max_long_polls", 256);
//   ConcurrencyLimit::Slot slot = polls.Acquire();
//   if (!slot) return polls.Exhausted("LeaseShard long polls");
#ifndef CLUEDROP_COORDINATOR_SERVER_CONCURRENCY_LIMIT_H_
#define CLUEDROP_COORDINATOR_SERVER_CONCURRENCY_LIMIT_H_

#include <grpcpp/support/status.h>

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"

namespace cluedrop::coordinator {

class ConcurrencyLimit {
 public:
  // `flag` names the limit in errors and metrics; `max` 0 means no limit.
  ConcurrencyLimit(std::string flag, uint32_t max) : flag_(std::move(flag)), max_(max) {}

  // Holds one unit while alive; false when the limit was reached.
  class Slot {
   public:
    explicit Slot(std::atomic<uint32_t>* in_use) : in_use_(in_use) {}
    Slot(Slot&& other) noexcept : in_use_(other.in_use_) { other.in_use_ = nullptr; }
    Slot(const Slot&) = delete;
    ~Slot() {
      if (in_use_ != nullptr) in_use_->fetch_sub(1);
    }
    explicit operator bool() const { return in_use_ != nullptr; }

   private:
    std::atomic<uint32_t>* in_use_;
  };

  Slot Acquire() {
    const uint32_t before = in_use_.fetch_add(1);
    if (max_ != 0 && before >= max_) {
      in_use_.fetch_sub(1);
      return Slot(nullptr);
    }
    return Slot(&in_use_);
  }

  // RESOURCE_EXHAUSTED naming the limit: "too many concurrent <what>
  // (--max_long_polls=256); retry later".
  grpc::Status Exhausted(const std::string& what) const {
    return grpc::Status(
        grpc::StatusCode::RESOURCE_EXHAUSTED,
        absl::StrCat("too many concurrent ", what, " (--", flag_, "=", max_, "); retry later"));
  }

  const std::string& flag() const { return flag_; }
  uint32_t in_use() const { return in_use_.load(); }

 private:
  std::string flag_;
  uint32_t max_;
  std::atomic<uint32_t> in_use_{0};
};

}  // namespace cluedrop::coordinator

#endif  // CLUEDROP_COORDINATOR_SERVER_CONCURRENCY_LIMIT_H_
