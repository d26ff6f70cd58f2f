#include "workers/model/checkpoint/safetensors_file.h"

#include <utility>

#include "workers/model/checkpoint/mapped_file.h"
#include "workers/model/checkpoint/safetensors_header.h"

namespace cluedrop::model {

SafetensorsFile::~SafetensorsFile() = default;

StatusOr<std::unique_ptr<SafetensorsFile>> SafetensorsFile::Open(const std::string& path) {
  CLUEDROP_ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> mapping, MappedFile::Open(path));
  const std::string_view bytes = mapping->bytes();
  return Build(bytes, path, std::move(mapping));
}

StatusOr<std::unique_ptr<SafetensorsFile>> SafetensorsFile::FromBuffer(std::string_view bytes,
                                                                       std::string display_name) {
  return Build(bytes, std::move(display_name), nullptr);
}

StatusOr<std::unique_ptr<SafetensorsFile>> SafetensorsFile::Build(
    std::string_view bytes, std::string display_name, std::unique_ptr<MappedFile> mapping) {
  CLUEDROP_ASSIGN_OR_RETURN(SafetensorsHeader header, ParseSafetensorsHeader(bytes, display_name));
  std::unique_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->path_ = std::move(display_name);
  file->mapping_ = std::move(mapping);
  file->data_section_ = reinterpret_cast<const uint8_t*>(bytes.data()) + header.data_offset;
  file->tensors_ = std::move(header.tensors);
  file->metadata_ = std::move(header.metadata);
  for (size_t i = 0; i < file->tensors_.size(); ++i) {
    file->by_name_.emplace(file->tensors_[i].name, i);
  }
  return file;
}

const TensorInfo* SafetensorsFile::Find(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &tensors_[it->second];
}

StatusOr<TensorView> SafetensorsFile::Get(std::string_view name) const {
  const TensorInfo* info = Find(name);
  if (info == nullptr) return NotFoundError(path_ + ": no tensor '" + std::string(name) + "'");
  return View(*info);
}

TensorView SafetensorsFile::View(const TensorInfo& info) const {
  return TensorView{&info, data_section_ + info.begin, static_cast<size_t>(info.end - info.begin)};
}

}  // namespace cluedrop::model
