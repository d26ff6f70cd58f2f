#include "workers/model/checkpoint/safetensors_writer.h"

#include <memory>
#include <nlohmann/json.hpp>
#include <utility>

#include "workers/model/checkpoint/atomic_file.h"
#include "workers/model/checkpoint/safetensors_header.h"
#include "workers/model/checkpoint/tensor_info.h"

namespace cluedrop::model {
namespace {

using Json = nlohmann::json;

// JSON string literal for `text`, or INVALID_ARGUMENT if it is not UTF-8.
StatusOr<std::string> JsonString(const std::string& text, const std::string& what) {
  try {
    return Json(text).dump();
  } catch (const Json::exception&) {
    return InvalidArgumentError(what + " is not valid UTF-8");
  }
}

std::string JsonIntArray(const std::vector<int64_t>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ",";
    out += std::to_string(values[i]);
  }
  return out + "]";
}

}  // namespace

void SafetensorsWriter::SetMetadata(std::string key, std::string value) {
  metadata_[std::move(key)] = std::move(value);
}

Status SafetensorsWriter::Add(std::string name, DType dtype, std::vector<int64_t> shape,
                              const void* data, size_t nbytes) {
  const std::string what = "SafetensorsWriter::Add '" + name + "'";
  if (name.empty()) return InvalidArgumentError("SafetensorsWriter::Add: empty tensor name");
  if (name == "__metadata__") {
    return InvalidArgumentError(what + ": the name is reserved for the header's metadata");
  }
  CLUEDROP_RETURN_IF_ERROR(JsonString(name, what + ": name").status());
  if (entries_.count(name) != 0) return InvalidArgumentError(what + ": duplicate tensor name");
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] < 0) {
      return InvalidArgumentError(what + ": shape[" + std::to_string(i) + "] is negative (" +
                                  std::to_string(shape[i]) + ")");
    }
  }
  TensorInfo info;
  info.dtype = dtype;
  info.shape = shape;
  const int64_t numel = info.numel();
  uint64_t expected = 0;
  if (numel < 0 ||
      __builtin_mul_overflow(static_cast<uint64_t>(numel), DTypeSize(dtype), &expected)) {
    return InvalidArgumentError(what + ": shape " + JsonIntArray(shape) + " overflows");
  }
  if (nbytes != expected) {
    return InvalidArgumentError(what + ": nbytes " + std::to_string(nbytes) +
                                " != " + std::to_string(numel) + " elements * " +
                                std::to_string(DTypeSize(dtype)) + " bytes of " + DTypeName(dtype));
  }
  if (data == nullptr && nbytes > 0) return InvalidArgumentError(what + ": null data");
  data_bytes_ += nbytes;
  entries_.emplace(std::move(name), Entry{dtype, std::move(shape), data, nbytes});
  return OkStatus();
}

StatusOr<std::string> SafetensorsWriter::SerializeHeader() const {
  std::string json = "{\"__metadata__\":{";
  bool first = true;
  for (const auto& [key, value] : metadata_) {
    CLUEDROP_ASSIGN_OR_RETURN(std::string k, JsonString(key, "metadata key '" + key + "'"));
    CLUEDROP_ASSIGN_OR_RETURN(std::string v, JsonString(value, "metadata value of '" + key + "'"));
    if (!first) json += ",";
    first = false;
    json += k + ":" + v;
  }
  json += "}";
  uint64_t offset = 0;
  for (const auto& [name, entry] : entries_) {
    CLUEDROP_ASSIGN_OR_RETURN(std::string quoted, JsonString(name, "tensor name"));
    json += "," + quoted + ":{\"dtype\":\"" + DTypeName(entry.dtype) +
            "\",\"shape\":" + JsonIntArray(entry.shape) + ",\"data_offsets\":[" +
            std::to_string(offset) + "," + std::to_string(offset + entry.nbytes) + "]}";
    offset += entry.nbytes;
  }
  json += "}";
  // Pad so the data section starts 8-byte aligned, as the reference does.
  json.append((8 - json.size() % 8) % 8, ' ');
  if (json.size() > kMaxSafetensorsHeaderBytes) {
    return InvalidArgumentError("safetensors header of " + std::to_string(json.size()) +
                                " bytes exceeds the limit of " +
                                std::to_string(kMaxSafetensorsHeaderBytes));
  }
  std::string out(8, '\0');
  uint64_t len = json.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((len >> (8 * i)) & 0xFF);
  return out + json;
}

Status SafetensorsWriter::Write(const std::string& path) const {
  StatusOr<std::string> header = SerializeHeader();
  if (!header.ok()) return header.status().Annotated(path);
  CLUEDROP_ASSIGN_OR_RETURN(std::unique_ptr<AtomicFileWriter> out, AtomicFileWriter::Create(path));
  CLUEDROP_RETURN_IF_ERROR(out->Append(*header));
  for (const auto& [name, entry] : entries_) {
    CLUEDROP_RETURN_IF_ERROR(out->Append(entry.data, entry.nbytes));
  }
  return out->Commit();
}

}  // namespace cluedrop::model
