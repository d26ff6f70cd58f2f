#include "workers/model/checkpoint/checkpoint_reader.h"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <system_error>
#include <utility>

#include "workers/model/checkpoint/checkpoint_files.h"
#include "workers/model/checkpoint/mapped_file.h"

namespace cluedrop::model {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// Shard names come from the index: keep them inside the checkpoint directory.
bool IsSafeRelativePath(const std::string& name) {
  if (name.empty() || name.front() == '/') return false;
  for (const fs::path& part : fs::path(name)) {
    if (part == "..") return false;
  }
  return true;
}

}  // namespace

CheckpointReader::~CheckpointReader() = default;

StatusOr<std::unique_ptr<CheckpointReader>> CheckpointReader::Open(const std::string& path) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (status.type() == fs::file_type::not_found) {
    return NotFoundError(path + ": no such checkpoint file or directory");
  }
  if (ec) return InternalError(path + ": cannot stat: " + ec.message());
  if (status.type() == fs::file_type::directory) {
    const fs::path single = fs::path(path) / kSingleName;
    const fs::path index = fs::path(path) / kIndexName;
    if (fs::exists(single, ec)) {
      CLUEDROP_ASSIGN_OR_RETURN(std::unique_ptr<CheckpointReader> reader,
                                OpenFile(single.string()));
      reader->path_ = path;
      return reader;
    }
    if (fs::exists(index, ec)) return OpenIndex(index.string(), path);
    return NotFoundError(path + ": checkpoint directory has neither " + kSingleName + " nor " +
                         kIndexName);
  }
  if (EndsWith(path, ".index.json")) return OpenIndex(path, path);
  return OpenFile(path);
}

StatusOr<std::unique_ptr<CheckpointReader>> CheckpointReader::OpenFile(const std::string& path) {
  CLUEDROP_ASSIGN_OR_RETURN(std::unique_ptr<SafetensorsFile> file, SafetensorsFile::Open(path));
  std::unique_ptr<CheckpointReader> reader(new CheckpointReader(path));
  for (const TensorInfo& info : file->tensors()) {
    reader->tensors_.emplace(info.name, Location{file.get(), &info});
  }
  reader->files_.push_back(std::move(file));
  return reader;
}

StatusOr<std::unique_ptr<CheckpointReader>> CheckpointReader::OpenIndex(
    const std::string& index_path, const std::string& display_path) {
  CLUEDROP_ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> text, MappedFile::Open(index_path));
  Json index;
  try {
    index = Json::parse(text->bytes().begin(), text->bytes().end());
  } catch (const Json::exception& e) {
    return InvalidArgumentError(index_path + ": not valid JSON: " + e.what());
  }
  if (!index.is_object()) {
    return InvalidArgumentError(index_path + ": must be a JSON object, got " + index.type_name());
  }
  auto map_it = index.find("weight_map");
  if (map_it == index.end()) return InvalidArgumentError(index_path + ": missing 'weight_map'");
  if (!map_it->is_object()) {
    return InvalidArgumentError(index_path + ": 'weight_map' must be an object, got " +
                                map_it->type_name());
  }

  // Tensor name -> shard file name, checked; then each shard opened once.
  std::map<std::string, std::string> shard_of;
  std::map<std::string, const SafetensorsFile*> opened;
  for (const auto& [name, file] : map_it->items()) {
    if (!file.is_string()) {
      return InvalidArgumentError(index_path + ": 'weight_map' entry '" + name +
                                  "' must be a file name string, got " + file.type_name());
    }
    const std::string& file_name = file.get_ref<const std::string&>();
    if (!IsSafeRelativePath(file_name)) {
      return InvalidArgumentError(index_path + ": 'weight_map' entry '" + name + "' names '" +
                                  file_name +
                                  "', which is not a relative path inside the checkpoint");
    }
    shard_of.emplace(name, file_name);
    opened.emplace(file_name, nullptr);
  }

  std::unique_ptr<CheckpointReader> reader(new CheckpointReader(display_path));
  const fs::path dir = fs::path(index_path).parent_path();
  for (auto& [file_name, file_ptr] : opened) {
    const std::string shard_path = (dir / file_name).string();
    StatusOr<std::unique_ptr<SafetensorsFile>> shard = SafetensorsFile::Open(shard_path);
    if (!shard.ok()) {
      return shard.status().Annotated(index_path + ": shard '" + file_name +
                                      "' listed in weight_map");
    }
    file_ptr = shard->get();
    reader->files_.push_back(std::move(*shard));
  }
  for (const auto& [name, file_name] : shard_of) {
    const SafetensorsFile* file = opened.at(file_name);
    const TensorInfo* info = file->Find(name);
    if (info == nullptr) {
      return DataLossError(index_path + ": weight_map puts tensor '" + name + "' in '" + file_name +
                           "', but " + file->path() + " has no such tensor");
    }
    reader->tensors_.emplace(name, Location{file, info});
  }
  return reader;
}

std::vector<std::string> CheckpointReader::TensorNames() const {
  std::vector<std::string> names;
  names.reserve(tensors_.size());
  for (const auto& [name, location] : tensors_) names.push_back(name);
  return names;
}

const TensorInfo* CheckpointReader::Find(std::string_view name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : it->second.info;
}

StatusOr<TensorView> CheckpointReader::Get(std::string_view name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) {
    return NotFoundError(path_ + ": no tensor '" + std::string(name) + "'");
  }
  return it->second.file->View(*it->second.info);
}

std::string CheckpointReader::FileOf(std::string_view name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? std::string() : it->second.file->path();
}

}  // namespace cluedrop::model
