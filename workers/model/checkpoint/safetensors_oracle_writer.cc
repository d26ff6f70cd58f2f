// The C++ half of the reverse oracle test (ctest oracle.safetensors_cpp_writer):
// writes a safetensors file with SafetensorsWriter and checkpoints with
// WriteCheckpoint, each with a manifest of what they must contain, then runs
//   PYTHON SCRIPT check <file or dir> <manifest>
// (tests/oracle/safetensors_oracle.py) on each. Exits non-zero if writing or
// any check fails.
//
//   safetensors_oracle_writer OUT_DIR PYTHON SCRIPT
//
// Expected values are written out by hand (e.g. bf16 0x7F7F is
// (2 - 2^-7) * 2^127), not decoded by code under test.
#include <sys/wait.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "workers/model/checkpoint/checkpoint_writer.h"
#include "workers/model/checkpoint/safetensors_writer.h"

namespace cluedrop::model {
namespace {

static_assert(std::endian::native == std::endian::little, "safetensors is little-endian");

using Json = nlohmann::json;

std::string Hex(const std::vector<uint8_t>& bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

// Tensors and their manifest entries; owns the bytes.
class TensorSet {
 public:
  template <typename T>
  void Add(std::string name, DType dtype, std::vector<int64_t> shape, const std::vector<T>& raw,
           Json values) {
    std::vector<uint8_t> bytes(raw.size() * sizeof(T));
    if (!bytes.empty()) std::memcpy(bytes.data(), raw.data(), bytes.size());
    specs_.push_back({{"name", name},
                      {"dtype", DTypeName(dtype)},
                      {"shape", shape},
                      {"hex", Hex(bytes)},
                      {"values", std::move(values)}});
    storage_.push_back(std::move(bytes));
    entries_.push_back({std::move(name), dtype, std::move(shape), nullptr, 0});
  }

  // Entries pointing at the stored bytes (valid while this set lives).
  std::vector<WriterEntry> Entries() const {
    std::vector<WriterEntry> out = entries_;
    for (size_t i = 0; i < out.size(); ++i) {
      out[i].data = storage_[i].data();
      out[i].nbytes = storage_[i].size();
    }
    return out;
  }
  const Json& specs() const { return specs_; }

 private:
  std::vector<std::vector<uint8_t>> storage_;
  std::vector<WriterEntry> entries_;
  Json specs_ = Json::array();
};

TensorSet AllDTypes() {
  const double kBf16Max = std::ldexp(2.0 - std::ldexp(1.0, -7), 127);
  TensorSet set;
  set.Add<double>("f64", DType::kF64, {2, 2}, {1.5, -0.0, 1e300, 4.9406564584124654e-324},
                  {1.5, -0.0, 1e300, 4.9406564584124654e-324});
  set.Add<float>("f32", DType::kF32, {2, 3, 1}, {0.5f, -1.25f, 3e38f, 1e-45f, 7.0f, -0.0f},
                 {0.5, -1.25, static_cast<double>(3e38f), static_cast<double>(1e-45f), 7.0, -0.0});
  // F16: 1, -2, 65504 (max), 2^-24 (smallest subnormal), -0.
  set.Add<uint16_t>("f16", DType::kF16, {5}, {0x3C00, 0xC000, 0x7BFF, 0x0001, 0x8000},
                    {1.0, -2.0, 65504.0, std::ldexp(1.0, -24), -0.0});
  // BF16: 1, -2.5, 3.140625, max, 2^-133 (smallest subnormal), -0.
  set.Add<uint16_t>("bf16", DType::kBF16, {2, 3}, {0x3F80, 0xC020, 0x4049, 0x7F7F, 0x0001, 0x8000},
                    {1.0, -2.5, 3.140625, kBf16Max, std::ldexp(1.0, -133), -0.0});
  set.Add<int64_t>("i64", DType::kI64, {3},
                   {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), -1},
                   {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), -1});
  set.Add<int32_t>("i32", DType::kI32, {2}, {-2147483647 - 1, 123456}, {-2147483648LL, 123456});
  set.Add<int16_t>("i16", DType::kI16, {3}, {-32768, 32767, 0}, {-32768, 32767, 0});
  set.Add<int8_t>("i8", DType::kI8, {4}, {-128, 127, -1, 3}, {-128, 127, -1, 3});
  set.Add<uint8_t>("u8", DType::kU8, {3}, {0, 255, 128}, {0, 255, 128});
  set.Add<uint8_t>("bool", DType::kBool, {2, 2}, {1, 0, 0, 1}, {true, false, false, true});
  set.Add<float>("scalar", DType::kF32, {}, {3.25f}, {3.25});
  set.Add<uint16_t>("zero_size", DType::kF16, {0, 5}, {}, Json::array());
  set.Add<uint16_t>("model.layers.0.self_attn.q_proj.weight", DType::kBF16, {1, 2},
                    {0x3F00, 0xBF00}, {0.5, -0.5});
  return set;
}

// Added out of name order; one tensor (160 bytes) exceeds the 100-byte shard
// limit, so it gets a shard of its own.
TensorSet CheckpointTensors() {
  TensorSet set;
  set.Add<float>("model.embed_tokens.weight", DType::kF32, {4, 4}, std::vector<float>(16, 0.25f),
                 Json(std::vector<double>(16, 0.25)));
  set.Add<uint16_t>("model.layers.1.mlp.weight", DType::kBF16, {2, 10},
                    std::vector<uint16_t>(20, 0x4000), Json(std::vector<double>(20, 2.0)));
  set.Add<float>("model.layers.0.mlp.weight", DType::kF32, {40}, std::vector<float>(40, -1.0f),
                 Json(std::vector<double>(40, -1.0)));
  set.Add<uint16_t>("model.layers.0.norm.weight", DType::kF16, {8},
                    std::vector<uint16_t>(8, 0x3C00), Json(std::vector<double>(8, 1.0)));
  set.Add<int64_t>("model.position_ids", DType::kI64, {1, 6}, {0, 1, 2, 3, 4, 5},
                   {0, 1, 2, 3, 4, 5});
  set.Add<float>("lm_head.weight", DType::kF32, {2, 8}, std::vector<float>(16, 0.5f),
                 Json(std::vector<double>(16, 0.5)));
  return set;
}

bool WriteJson(const std::string& path, const Json& json) {
  std::ofstream out(path);
  out << json.dump(1) << "\n";
  return out.good();
}

// Runs argv[0] with argv; true if it exits 0.
bool Run(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) {
    ::execv(argv[0], argv.data());
    std::perror(argv[0]);
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return false;
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int Main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s OUT_DIR PYTHON SCRIPT\n", argv[0]);
    return 2;
  }
  const std::string out = argv[1];
  const std::string python = argv[2];
  const std::string script = argv[3];
  std::filesystem::remove_all(out);
  std::filesystem::create_directories(out);
  int failures = 0;
  auto check = [&](const std::string& path, const Json& manifest, const std::string& name) {
    const std::string manifest_path = out + "/" + name + ".manifest.json";
    if (!WriteJson(manifest_path, manifest) ||
        !Run({python, script, "check", path, manifest_path})) {
      std::fprintf(stderr, "FAILED: python check of %s\n", path.c_str());
      ++failures;
    }
  };

  // One file with every dtype and extra metadata.
  {
    const TensorSet set = AllDTypes();
    SafetensorsWriter writer;
    writer.SetMetadata("producer", "cluedrop");
    writer.SetMetadata("note", "caf\xc3\xa9 \"quoted\"");
    for (const WriterEntry& e : set.Entries()) {
      Status status = writer.Add(e.name, e.dtype, e.shape, e.data, e.nbytes);
      if (!status.ok()) {
        std::fprintf(stderr, "Add: %s\n", status.ToString().c_str());
        return 1;
      }
    }
    const std::string path = out + "/cpp_all.safetensors";
    Status status = writer.Write(path);
    if (!status.ok()) {
      std::fprintf(stderr, "Write: %s\n", status.ToString().c_str());
      return 1;
    }
    check(path,
          {{"kind", "file"},
           {"metadata",
            {{"format", "pt"}, {"producer", "cluedrop"}, {"note", "caf\xc3\xa9 \"quoted\""}}},
           {"tensors", set.specs()}},
          "cpp_all");
  }

  // Checkpoints: sharded at 100 bytes, and unlimited (one model.safetensors).
  const TensorSet set = CheckpointTensors();
  for (const auto& [name, max_shard_bytes] :
       std::vector<std::pair<std::string, uint64_t>>{{"cpp_sharded", 100}, {"cpp_single", 0}}) {
    const std::string dir = out + "/" + name;
    Status status = WriteCheckpoint(dir, set.Entries(), max_shard_bytes);
    if (!status.ok()) {
      std::fprintf(stderr, "WriteCheckpoint: %s\n", status.ToString().c_str());
      return 1;
    }
    // 0 means unlimited here; huggingface_hub needs a number.
    const uint64_t limit = max_shard_bytes == 0 ? 1'000'000'000'000'000'000ull : max_shard_bytes;
    check(dir, {{"kind", "checkpoint"}, {"max_shard_bytes", limit}, {"tensors", set.specs()}},
          name);
  }
  if (failures == 0) std::printf("safetensors_oracle_writer: all python checks passed\n");
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace cluedrop::model

int main(int argc, char** argv) { return cluedrop::model::Main(argc, argv); }
