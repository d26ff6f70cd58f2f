// Normalizers of tokenizer.json: Sequence, Prepend, Replace, NFC, NFD, NFKC,
// NFKD, Lowercase, Strip. They edit a NormalizedString in place, keeping the
// alignments to the original text.
//
// Thread-safety: immutable after construction; Normalize may run concurrently.
#ifndef CLUEDROP_WORKERS_MODEL_TOKENIZER_NORMALIZERS_H_
#define CLUEDROP_WORKERS_MODEL_TOKENIZER_NORMALIZERS_H_

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "workers/model/tokenizer/json_util.h"
#include "workers/model/tokenizer/normalized_string.h"
#include "workers/model/tokenizer/regex.h"

namespace cluedrop::model::tokenizer {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  // Fails only on internal errors (a regex giving up, no Unicode data).
  virtual Status Normalize(NormalizedString* s) const = 0;
};

class SequenceNormalizer : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> normalizers)
      : normalizers_(std::move(normalizers)) {}
  Status Normalize(NormalizedString* s) const override;

 private:
  std::vector<std::unique_ptr<Normalizer>> normalizers_;
};

// Prepends `prepend` to non-empty strings.
class PrependNormalizer : public Normalizer {
 public:
  explicit PrependNormalizer(std::string prepend) : prepend_(std::move(prepend)) {}
  Status Normalize(NormalizedString* s) const override;

 private:
  std::string prepend_;
};

// Replaces every match of `pattern` by `content`.
class ReplaceNormalizer : public Normalizer {
 public:
  ReplaceNormalizer(std::unique_ptr<Regex> pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  Status Normalize(NormalizedString* s) const override;

 private:
  std::unique_ptr<Regex> pattern_;
  std::string content_;
};

class UnicodeNormalizer : public Normalizer {
 public:
  explicit UnicodeNormalizer(NormalizationForm form) : form_(form) {}
  Status Normalize(NormalizedString* s) const override { return s->Normalize(form_); }

 private:
  NormalizationForm form_;
};

class LowercaseNormalizer : public Normalizer {
 public:
  Status Normalize(NormalizedString* s) const override { return s->Lowercase(); }
};

class StripNormalizer : public Normalizer {
 public:
  StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
  Status Normalize(NormalizedString* s) const override {
    s->Strip(left_, right_);
    return OkStatus();
  }

 private:
  bool left_;
  bool right_;
};

// Builds the normalizer described by `value` (at `path`); JSON null gives
// nullptr. INVALID_ARGUMENT naming the path for unknown types and bad fields,
// e.g. "tokenizer.json: normalizer.normalizers[0].type: unsupported 'Precompiled'".
StatusOr<std::unique_ptr<Normalizer>> NormalizerFromJson(const Json& value, const JsonPath& path);

}  // namespace cluedrop::model::tokenizer

#endif  // CLUEDROP_WORKERS_MODEL_TOKENIZER_NORMALIZERS_H_
