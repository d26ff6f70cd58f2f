// Process memory readings for the benchmarks (Linux /proc), header-only.
#ifndef CLUEDROP_BENCH_PROC_MEMORY_H_
#define CLUEDROP_BENCH_PROC_MEMORY_H_

#include <fstream>
#include <string>

namespace cluedrop::bench {

// A /proc/self/status field in bytes (VmRSS: now; VmHWM: peak); 0 if absent.
inline double ProcStatusBytes(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stod(line.substr(field.size() + 1)) * 1024.0;
  }
  return 0;
}

// Resets VmHWM to the current RSS (Linux >= 4.0), so the peak measured
// afterwards is the peak of what follows.
inline void ResetPeakRss() { std::ofstream("/proc/self/clear_refs") << "5"; }

}  // namespace cluedrop::bench

#endif  // CLUEDROP_BENCH_PROC_MEMORY_H_
