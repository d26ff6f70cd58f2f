// A YAML text parsed into a small tree of nulls, scalars, lists and
// mappings, with each node's line, using libyaml's event parser (a bounded C
// parser: memory linear in the input, no recursion, fuzzed by OSS-Fuzz).
// Job specs need nothing more; tags, anchors and aliases are refused, and the
// tree's depth and size are capped so that no input can make the parse
// expensive.
//
// Example:
//   absl::StatusOr<std::vector<YamlNode>> docs = ParseYaml("a: [1, 2]\n", "job.yaml");
//   docs->at(0).entries()[0].second.items()[1].scalar();  // "2", line() 1
#ifndef CLUEDROP_CLI_YAML_TREE_H_
#define CLUEDROP_CLI_YAML_TREE_H_

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cluedrop::cli {

class YamlNode {
 public:
  enum class Type { kNull, kScalar, kSequence, kMap };

  YamlNode() = default;
  YamlNode(Type type, int line) : type_(type), line_(line) {}

  Type type() const { return type_; }
  bool IsNull() const { return type_ == Type::kNull; }
  bool IsScalar() const { return type_ == Type::kScalar; }
  bool IsSequence() const { return type_ == Type::kSequence; }
  bool IsMap() const { return type_ == Type::kMap; }
  // 1-based line where the node starts (0: unknown).
  int line() const { return line_; }
  // The text of a scalar ("" otherwise). Quoted scalars are never null.
  const std::string& scalar() const { return scalar_; }
  // A list's elements.
  const std::vector<YamlNode>& items() const { return items_; }
  // A mapping's key/value pairs in file order (duplicates kept).
  const std::vector<std::pair<YamlNode, YamlNode>>& entries() const { return entries_; }

 private:
  friend class YamlTreeBuilder;
  Type type_ = Type::kNull;
  int line_ = 0;
  std::string scalar_;
  std::vector<YamlNode> items_;
  std::vector<std::pair<YamlNode, YamlNode>> entries_;
};

struct YamlLimits {
  // Lists and mappings inside each other.
  size_t max_depth = 32;
  // Nodes in all documents together.
  size_t max_nodes = 200000;
};

// The documents of `text` (none for an empty or comment-only text).
// INVALID_ARGUMENT "NAME:LINE:COLUMN: invalid YAML: ..." for a syntax error,
// "NAME:LINE: YAML tags, anchors and aliases are not supported in job specs",
// or a limit exceeded.
absl::StatusOr<std::vector<YamlNode>> ParseYaml(absl::string_view text, absl::string_view name,
                                                const YamlLimits& limits = YamlLimits());

}  // namespace cluedrop::cli

#endif  // CLUEDROP_CLI_YAML_TREE_H_
