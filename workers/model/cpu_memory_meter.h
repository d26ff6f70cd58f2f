// Exact CPU tensor memory, from the CPU allocator itself: while a meter is
// alive on a thread, c10's DefaultCPUAllocator reports every allocation and
// free made there (and on the autograd threads it spawns) with the process's
// total of allocated tensor bytes; the meter keeps the current total and its
// peak. This is what torch.profiler's profile_memory uses on the CPU. It
// counts tensor storage only (no allocator slack, no non-tensor heap).
//
// Example:
//   CpuMemoryMeter meter;
//   RunOneStep();
//   std::cout << meter.peak_bytes() - meter.start_bytes();
#ifndef CLUEDROP_WORKERS_MODEL_CPU_MEMORY_METER_H_
#define CLUEDROP_WORKERS_MODEL_CPU_MEMORY_METER_H_

#include <cstdint>
#include <memory>

namespace cluedrop::model {

class CpuMemoryMeter {
 public:
  CpuMemoryMeter();
  ~CpuMemoryMeter();
  CpuMemoryMeter(const CpuMemoryMeter&) = delete;
  CpuMemoryMeter& operator=(const CpuMemoryMeter&) = delete;

  // Bytes allocated when the meter started counting (the first allocation
  // it saw, minus that allocation); 0 until then.
  int64_t start_bytes() const;
  // The total now, and the highest total seen since the start or ResetPeak.
  int64_t current_bytes() const;
  int64_t peak_bytes() const;
  void ResetPeak();

  struct State;

 private:
  std::shared_ptr<State> state_;
  struct Guard;
  std::unique_ptr<Guard> guard_;
};

}  // namespace cluedrop::model

#endif  // CLUEDROP_WORKERS_MODEL_CPU_MEMORY_METER_H_
