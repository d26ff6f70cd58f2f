#include "workers/model/cpu_memory_meter.h"

#include <c10/core/Allocator.h>
#include <c10/util/ThreadLocalDebugInfo.h>

#include <algorithm>
#include <atomic>

namespace cluedrop::model {

struct CpuMemoryMeter::State : c10::MemoryReportingInfoBase {
  void reportMemoryUsage(void* /*ptr*/, int64_t alloc_size, size_t total_allocated,
                         size_t /*total_reserved*/, c10::Device device) override {
    if (!device.is_cpu()) return;
    const auto total = static_cast<int64_t>(total_allocated);
    int64_t expected = -1;
    start.compare_exchange_strong(expected, total - alloc_size);
    current.store(total);
    int64_t seen = peak.load();
    while (total > seen && !peak.compare_exchange_weak(seen, total)) {
    }
  }
  bool memoryProfilingEnabled() const override { return true; }

  std::atomic<int64_t> start{-1};
  std::atomic<int64_t> current{0};
  std::atomic<int64_t> peak{0};
};

struct CpuMemoryMeter::Guard {
  explicit Guard(std::shared_ptr<State> state)
      : guard(c10::DebugInfoKind::PROFILER_STATE, std::move(state)) {}
  c10::DebugInfoGuard guard;
};

CpuMemoryMeter::CpuMemoryMeter()
    : state_(std::make_shared<State>()), guard_(std::make_unique<Guard>(state_)) {}

CpuMemoryMeter::~CpuMemoryMeter() = default;

int64_t CpuMemoryMeter::start_bytes() const { return std::max<int64_t>(0, state_->start.load()); }
int64_t CpuMemoryMeter::current_bytes() const { return state_->current.load(); }
int64_t CpuMemoryMeter::peak_bytes() const { return state_->peak.load(); }
void CpuMemoryMeter::ResetPeak() { state_->peak.store(state_->current.load()); }

}  // namespace cluedrop::model
