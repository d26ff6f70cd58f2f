#include "workers/model/checkpoint/safetensors_header.h"

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <unordered_set>
#include <utility>

namespace cluedrop::model {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kMetadataKey = "__metadata__";

// Names come from untrusted files: quote them and keep messages bounded.
std::string Quote(std::string_view name) {
  constexpr size_t kMaxShown = 128;
  size_t shown = name.size();
  if (shown > kMaxShown) {
    shown = kMaxShown;  // Cut at a UTF-8 character boundary.
    while (shown > 0 && (static_cast<unsigned char>(name[shown]) & 0xC0) == 0x80) --shown;
  }
  std::string out = "'";
  out.append(name.substr(0, shown));
  if (shown < name.size()) out += "...";
  out += "'";
  return out;
}

std::string ShapeString(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(shape[i]);
  }
  return out + "]";
}

uint64_t ReadLittleEndian64(const char* p) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(p[i]);
  return value;
}

// Validates one tensor entry; `error_prefix` is "<file>: header: tensor 'x'".
Status ParseTensorEntry(const Json& entry, const std::string& error_prefix, uint64_t data_size,
                        TensorInfo* info) {
  auto invalid = [&](const std::string& what) {
    return InvalidArgumentError(error_prefix + ": " + what);
  };
  if (!entry.is_object()) {
    return invalid(std::string("entry must be an object, got ") + entry.type_name());
  }

  // dtype
  auto it = entry.find("dtype");
  if (it == entry.end()) return invalid("missing 'dtype'");
  if (!it->is_string()) {
    return invalid(std::string("'dtype' must be a string, got ") + it->type_name());
  }
  StatusOr<DType> dtype = ParseDType(it->get_ref<const std::string&>());
  if (!dtype.ok()) return invalid("'dtype': " + dtype.status().message());
  info->dtype = *dtype;

  // shape
  it = entry.find("shape");
  if (it == entry.end()) return invalid("missing 'shape'");
  if (!it->is_array()) {
    return invalid(std::string("'shape' must be an array of integers, got ") + it->type_name());
  }
  info->shape.clear();
  info->shape.reserve(it->size());
  for (size_t i = 0; i < it->size(); ++i) {
    const Json& dim = (*it)[i];
    const std::string where = "'shape'[" + std::to_string(i) + "]";
    if (!dim.is_number_integer()) {
      return invalid(where + " must be an integer, got " + dim.type_name());
    }
    if (dim.is_number_unsigned()) {
      uint64_t value = dim.get<uint64_t>();
      if (value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return invalid(where + " = " + std::to_string(value) + " is too large");
      }
      info->shape.push_back(static_cast<int64_t>(value));
    } else {
      int64_t value = dim.get<int64_t>();
      if (value < 0) return invalid(where + " is negative (" + std::to_string(value) + ")");
      info->shape.push_back(value);
    }
  }
  const int64_t numel = info->numel();
  if (numel < 0) {
    return invalid("'shape' " + ShapeString(info->shape) + " overflows the element count");
  }
  uint64_t expected_bytes = 0;
  if (__builtin_mul_overflow(static_cast<uint64_t>(numel), DTypeSize(info->dtype),
                             &expected_bytes)) {
    return invalid("'shape' " + ShapeString(info->shape) + " of " + DTypeName(info->dtype) +
                   " overflows the byte count");
  }

  // data_offsets
  it = entry.find("data_offsets");
  if (it == entry.end()) return invalid("missing 'data_offsets'");
  if (!it->is_array() || it->size() != 2 || !(*it)[0].is_number_unsigned() ||
      !(*it)[1].is_number_unsigned()) {
    auto describe = [](const Json& v) -> std::string {
      if (v.is_number_unsigned()) return "integer";
      if (v.is_number_integer()) return "negative integer";
      return v.type_name();
    };
    std::string got = it->type_name();
    if (it->is_array() && it->size() != 2) {
      got = "an array of " + std::to_string(it->size()) + " elements";
    } else if (it->is_array()) {
      got = "[" + describe((*it)[0]) + ", " + describe((*it)[1]) + "]";
    }
    return invalid("'data_offsets' must be [begin, end] of two non-negative integers, got " + got);
  }
  info->begin = (*it)[0].get<uint64_t>();
  info->end = (*it)[1].get<uint64_t>();
  if (info->begin > info->end) {
    return invalid("'data_offsets' begin " + std::to_string(info->begin) + " > end " +
                   std::to_string(info->end));
  }
  if (info->end > data_size) {
    return DataLossError(error_prefix + ": 'data_offsets' end " + std::to_string(info->end) +
                         " is beyond the data section (" + std::to_string(data_size) +
                         " bytes; file truncated?)");
  }
  if (info->end - info->begin != expected_bytes) {
    return invalid("'data_offsets' [" + std::to_string(info->begin) + ", " +
                   std::to_string(info->end) + ") span " + std::to_string(info->end - info->begin) +
                   " bytes but shape " + ShapeString(info->shape) + " of " +
                   DTypeName(info->dtype) + " needs " + std::to_string(expected_bytes));
  }
  return OkStatus();
}

Status ParseMetadata(const Json& value, const std::string& error_prefix,
                     std::map<std::string, std::string>* metadata) {
  if (value.is_null()) return OkStatus();
  if (!value.is_object()) {
    return InvalidArgumentError(
        error_prefix + ": '__metadata__' must be an object of strings, got " + value.type_name());
  }
  for (const auto& [key, item] : value.items()) {
    if (!item.is_string()) {
      return InvalidArgumentError(error_prefix + ": '__metadata__' value for " + Quote(key) +
                                  " must be a string, got " + item.type_name());
    }
    metadata->emplace(key, item.get<std::string>());
  }
  return OkStatus();
}

Status CheckNoOverlap(const std::vector<TensorInfo>& tensors, const std::string& error_prefix) {
  std::vector<const TensorInfo*> sorted;
  sorted.reserve(tensors.size());
  for (const TensorInfo& info : tensors) {
    if (info.end > info.begin) sorted.push_back(&info);  // Empty tensors occupy nothing.
  }
  std::sort(sorted.begin(), sorted.end(), [](const TensorInfo* a, const TensorInfo* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  for (size_t i = 1; i < sorted.size(); ++i) {
    const TensorInfo& prev = *sorted[i - 1];
    const TensorInfo& cur = *sorted[i];
    if (cur.begin < prev.end) {
      return InvalidArgumentError(error_prefix + ": tensors " + Quote(prev.name) + " [" +
                                  std::to_string(prev.begin) + ", " + std::to_string(prev.end) +
                                  ") and " + Quote(cur.name) + " [" + std::to_string(cur.begin) +
                                  ", " + std::to_string(cur.end) + ") overlap");
    }
  }
  return OkStatus();
}

}  // namespace

StatusOr<SafetensorsHeader> ParseSafetensorsHeader(std::string_view file,
                                                   const std::string& display_name) {
  if (file.size() < 8) {
    return DataLossError(display_name + ": file is " + std::to_string(file.size()) +
                         " bytes, shorter than the 8-byte header length");
  }
  const uint64_t header_len = ReadLittleEndian64(file.data());
  if (header_len > kMaxSafetensorsHeaderBytes) {
    return InvalidArgumentError(display_name + ": header length " + std::to_string(header_len) +
                                " exceeds the limit of " +
                                std::to_string(kMaxSafetensorsHeaderBytes) + " bytes");
  }
  if (header_len > file.size() - 8) {
    return DataLossError(display_name + ": header length " + std::to_string(header_len) +
                         " runs past the end of the file (" + std::to_string(file.size() - 8) +
                         " bytes after the length; file truncated?)");
  }
  const std::string_view header_text = file.substr(8, header_len);
  const std::string prefix = display_name + ": header";

  // Parse with a callback that records the top-level keys in file order
  // (nlohmann::json sorts object keys) and so also sees duplicates.
  std::vector<std::string> keys;
  Json root;
  try {
    root = Json::parse(header_text.begin(), header_text.end(),
                       [&keys](int depth, Json::parse_event_t event, Json& parsed) {
                         if (depth == 1 && event == Json::parse_event_t::key) {
                           keys.push_back(parsed.get<std::string>());
                         }
                         return true;
                       });
  } catch (const Json::exception& e) {
    return InvalidArgumentError(prefix + " is not valid JSON: " + e.what());
  }
  if (!root.is_object()) {
    return InvalidArgumentError(prefix + " must be a JSON object, got " + root.type_name());
  }

  SafetensorsHeader header;
  header.data_offset = 8 + header_len;
  header.data_size = file.size() - header.data_offset;

  std::unordered_set<std::string_view> seen;
  seen.reserve(keys.size());
  for (const std::string& key : keys) {
    if (!seen.insert(key).second) {
      return InvalidArgumentError(prefix + ": duplicate key " + Quote(key));
    }
  }
  header.tensors.reserve(keys.size());
  for (const std::string& key : keys) {
    auto found = root.find(key);
    if (found == root.end()) return InternalError(prefix + ": lost key " + Quote(key));
    const Json& value = *found;
    if (key == kMetadataKey) {
      CLUEDROP_RETURN_IF_ERROR(ParseMetadata(value, prefix, &header.metadata));
      continue;
    }
    TensorInfo info;
    info.name = key;
    CLUEDROP_RETURN_IF_ERROR(
        ParseTensorEntry(value, prefix + ": tensor " + Quote(key), header.data_size, &info));
    header.tensors.push_back(std::move(info));
  }
  CLUEDROP_RETURN_IF_ERROR(CheckNoOverlap(header.tensors, prefix));
  return header;
}

}  // namespace cluedrop::model
