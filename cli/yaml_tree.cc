#include "cli/yaml_tree.h"

#include <yaml.h>

#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace cluedrop::cli {
namespace {

// A plain (unquoted) scalar that YAML reads as null.
bool IsNullWord(absl::string_view text) {
  return text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL";
}

struct ParserDeleter {
  void operator()(yaml_parser_t* parser) const {
    yaml_parser_delete(parser);
    delete parser;
  }
};

struct Event {
  yaml_event_t value;
  ~Event() { yaml_event_delete(&value); }
};

}  // namespace

// Builds the tree from the event stream with an explicit stack of open
// collections (no recursion).
class YamlTreeBuilder {
 public:
  YamlTreeBuilder(absl::string_view name, const YamlLimits& limits)
      : name_(name), limits_(limits) {}

  absl::StatusOr<std::vector<YamlNode>> Run(absl::string_view text) {
    std::unique_ptr<yaml_parser_t, ParserDeleter> parser(new yaml_parser_t);
    if (yaml_parser_initialize(parser.get()) == 0) {
      return absl::ResourceExhaustedError(absl::StrCat(name_, ": cannot start the YAML parser"));
    }
    yaml_parser_set_input_string(parser.get(), reinterpret_cast<const unsigned char*>(text.data()),
                                 text.size());
    yaml_parser_set_encoding(parser.get(), YAML_UTF8_ENCODING);
    while (true) {
      Event event;
      if (yaml_parser_parse(parser.get(), &event.value) == 0) {
        const yaml_parser_t& p = *parser;
        const yaml_mark_t& mark = p.problem_mark;
        std::string what = p.problem != nullptr ? p.problem : "malformed YAML";
        if (p.context != nullptr) what = absl::StrCat(what, " ", p.context);
        return absl::InvalidArgumentError(absl::StrCat(name_, ":", mark.line + 1, ":",
                                                       mark.column + 1, ": invalid YAML: ", what));
      }
      const yaml_event_t& e = event.value;
      const int line = static_cast<int>(e.start_mark.line) + 1;
      switch (e.type) {
        case YAML_STREAM_END_EVENT:
          return std::move(documents_);
        case YAML_ALIAS_EVENT:
          return Unsupported(line);
        case YAML_SCALAR_EVENT: {
          if (e.data.scalar.anchor != nullptr || e.data.scalar.tag != nullptr) {
            return Unsupported(line);
          }
          const absl::string_view text(reinterpret_cast<const char*>(e.data.scalar.value),
                                       e.data.scalar.length);
          const bool plain = e.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
          YamlNode node(plain && IsNullWord(text) ? YamlNode::Type::kNull : YamlNode::Type::kScalar,
                        line);
          if (node.IsScalar()) node.scalar_ = std::string(text);
          if (absl::Status s = Add(std::move(node)); !s.ok()) return s;
          break;
        }
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT: {
          const bool sequence = e.type == YAML_SEQUENCE_START_EVENT;
          const auto* anchor =
              sequence ? e.data.sequence_start.anchor : e.data.mapping_start.anchor;
          const auto* tag = sequence ? e.data.sequence_start.tag : e.data.mapping_start.tag;
          if (anchor != nullptr || tag != nullptr) return Unsupported(line);
          if (open_.size() >= limits_.max_depth) {
            return absl::InvalidArgumentError(absl::StrCat(
                name_, ":", line, ": invalid YAML: lists and mappings nested deeper than ",
                limits_.max_depth, " levels"));
          }
          if (absl::Status s = Count(line); !s.ok()) return s;
          open_.push_back(
              Open{YamlNode(sequence ? YamlNode::Type::kSequence : YamlNode::Type::kMap, line),
                   {},
                   false});
          break;
        }
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT: {
          YamlNode done = std::move(open_.back().node);
          open_.pop_back();
          if (absl::Status s = Place(std::move(done)); !s.ok()) return s;
          break;
        }
        default:  // stream and document start/end
          break;
      }
    }
  }

 private:
  struct Open {
    YamlNode node;
    YamlNode key;  // a mapping's pending key
    bool has_key;
  };

  absl::Status Unsupported(int line) const {
    return absl::InvalidArgumentError(absl::StrCat(
        name_, ":", line, ": YAML tags, anchors and aliases are not supported in job specs"));
  }

  absl::Status Count(int line) {
    if (++nodes_ > limits_.max_nodes) {
      return absl::InvalidArgumentError(absl::StrCat(name_, ":", line, ": invalid YAML: more than ",
                                                     limits_.max_nodes, " values"));
    }
    return absl::OkStatus();
  }

  absl::Status Add(YamlNode node) {
    if (absl::Status s = Count(node.line()); !s.ok()) return s;
    return Place(std::move(node));
  }

  // Puts a finished node into its parent (or the document list).
  absl::Status Place(YamlNode node) {
    if (open_.empty()) {
      documents_.push_back(std::move(node));
      return absl::OkStatus();
    }
    Open& parent = open_.back();
    if (parent.node.IsSequence()) {
      parent.node.items_.push_back(std::move(node));
    } else if (!parent.has_key) {
      parent.key = std::move(node);
      parent.has_key = true;
    } else {
      parent.node.entries_.emplace_back(std::move(parent.key), std::move(node));
      parent.has_key = false;
    }
    return absl::OkStatus();
  }

  std::string name_;
  YamlLimits limits_;
  std::vector<Open> open_;
  std::vector<YamlNode> documents_;
  size_t nodes_ = 0;
};

absl::StatusOr<std::vector<YamlNode>> ParseYaml(absl::string_view text, absl::string_view name,
                                                const YamlLimits& limits) {
  return YamlTreeBuilder(name, limits).Run(text);
}

}  // namespace cluedrop::cli
