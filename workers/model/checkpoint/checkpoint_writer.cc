#include "workers/model/checkpoint/checkpoint_writer.h"

#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <system_error>

#include "workers/model/checkpoint/atomic_file.h"
#include "workers/model/checkpoint/checkpoint_files.h"
#include "workers/model/checkpoint/safetensors_writer.h"

namespace cluedrop::model {
namespace {

namespace fs = std::filesystem;

std::string ShardName(size_t index, size_t count) {
  char name[64];
  std::snprintf(name, sizeof(name), "model-%05zu-of-%05zu.safetensors", index + 1, count);
  return name;
}

// Removes weight files in `dir` that are not in `keep`.
Status RemoveStaleWeights(const std::string& dir, const std::set<std::string>& keep) {
  static const std::regex kShardPattern(R"(model-\d{5}-of-\d{5}\.safetensors)");
  std::error_code ec;
  std::vector<fs::path> stale;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (keep.count(name) != 0) continue;
    if (name == kSingleName || name == kIndexName || std::regex_match(name, kShardPattern)) {
      stale.push_back(it->path());
    }
  }
  if (ec) return InternalError(dir + ": cannot list: " + ec.message());
  for (const fs::path& path : stale) {
    if (!fs::remove(path, ec) && ec) {
      return InternalError(path.string() + ": cannot remove stale weight file: " + ec.message());
    }
  }
  return OkStatus();
}

}  // namespace

std::vector<std::string> PlanCheckpointShards(const std::vector<WriterEntry>& entries,
                                              uint64_t max_shard_bytes) {
  if (max_shard_bytes == 0) return std::vector<std::string>(entries.size(), kSingleName);
  // Same steps as huggingface_hub's split_state_dict_into_shards_factory.
  std::vector<std::vector<size_t>> shards;
  std::vector<size_t> current;
  uint64_t current_size = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    const uint64_t size = entries[i].nbytes;
    if (size > max_shard_bytes) {
      shards.push_back({i});
      continue;
    }
    if (current_size + size > max_shard_bytes) {  // Never true while `current` is empty.
      shards.push_back(std::move(current));
      current.clear();
      current_size = 0;
    }
    current.push_back(i);
    current_size += size;
  }
  if (!current.empty()) shards.push_back(std::move(current));

  std::vector<std::string> names(entries.size(), kSingleName);
  if (shards.size() <= 1) return names;
  for (size_t s = 0; s < shards.size(); ++s) {
    for (size_t i : shards[s]) names[i] = ShardName(s, shards.size());
  }
  return names;
}

Status WriteCheckpoint(const std::string& dir, const std::vector<WriterEntry>& entries,
                       uint64_t max_shard_bytes) {
  const std::vector<std::string> files = PlanCheckpointShards(entries, max_shard_bytes);

  // Validate everything before touching the directory.
  std::map<std::string, SafetensorsWriter> writers;  // File name -> its tensors.
  std::set<std::string> names;
  uint64_t total_size = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    const WriterEntry& e = entries[i];
    if (!names.insert(e.name).second) {
      return InvalidArgumentError(dir + ": duplicate tensor name '" + e.name + "'");
    }
    CLUEDROP_RETURN_IF_ERROR(
        writers[files[i]].Add(e.name, e.dtype, e.shape, e.data, e.nbytes).Annotated(dir));
    total_size += e.nbytes;
  }
  if (entries.empty()) writers[kSingleName];  // An empty but valid model.safetensors.

  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return InternalError(dir + ": cannot create directory: " + ec.message());

  std::set<std::string> keep;
  for (const auto& [file, writer] : writers) {
    CLUEDROP_RETURN_IF_ERROR(writer.Write((fs::path(dir) / file).string()));
    keep.insert(file);
  }
  if (writers.size() > 1) {
    nlohmann::json index;
    index["metadata"]["total_size"] = total_size;
    index["weight_map"] = nlohmann::json::object();
    for (size_t i = 0; i < entries.size(); ++i) index["weight_map"][entries[i].name] = files[i];
    // std::map keys dump sorted, like Python's sort_keys=True; ensure_ascii
    // matches json.dumps' default.
    const std::string text = index.dump(2, ' ', /*ensure_ascii=*/true) + "\n";
    const std::string index_path = (fs::path(dir) / kIndexName).string();
    CLUEDROP_ASSIGN_OR_RETURN(std::unique_ptr<AtomicFileWriter> out,
                              AtomicFileWriter::Create(index_path));
    CLUEDROP_RETURN_IF_ERROR(out->Append(text));
    CLUEDROP_RETURN_IF_ERROR(out->Commit());
    keep.insert(kIndexName);
  }
  return RemoveStaleWeights(dir, keep);
}

}  // namespace cluedrop::model
