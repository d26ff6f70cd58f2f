// Fuzzes safetensors parsing: any bytes must give an error or a file whose
// every tensor view lies inside the input (ASan checks each byte read).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "workers/model/checkpoint/safetensors_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using cluedrop::model::SafetensorsFile;
  auto file = SafetensorsFile::FromBuffer(
      std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.safetensors");
  if (!file.ok()) return 0;
  uint64_t sum = 0;
  for (const auto& info : (*file)->tensors()) {
    auto view = (*file)->Get(info.name);
    if (!view.ok() || view->info != &info) __builtin_trap();
    if (view->nbytes != info.numel() * cluedrop::model::DTypeSize(info.dtype)) __builtin_trap();
    for (size_t i = 0; i < view->nbytes; ++i) sum += view->data[i];
  }
  for (const auto& [key, value] : (*file)->metadata()) sum += key.size() + value.size();
  // Keep the reads from being optimized away.
  volatile uint64_t sink = sum;
  (void)sink;
  return 0;
}
