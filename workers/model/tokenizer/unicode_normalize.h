// Unicode normalization forms and lowercasing with per-character change
// tracking, in the shape NormalizedString::Transform consumes: each output
// char carries `change` = 1 (inserted), 0 (replaces one input char) or -N
// (replaces one input char and absorbs the N following ones). This reproduces
// the alignments that `tokenizers` (crate unicode-normalization-alignments)
// computes: canonical/compatibility decomposition (first char 0, the others
// +1), canonical reordering (changes travel with their chars), then canonical
// composition (a composite carries starter.change + absorbed.change - 1).
//
// Backed by ICU (icu-uc). In builds without ICU, Available() is false and the
// functions return UNIMPLEMENTED; tokenizer.json files that need them are
// rejected at load time.
//
// Thread-safe.
#ifndef CLUEDROP_WORKERS_MODEL_TOKENIZER_UNICODE_NORMALIZE_H_
#define CLUEDROP_WORKERS_MODEL_TOKENIZER_UNICODE_NORMALIZE_H_

#include <string_view>
#include <vector>

#include "base/status.h"

namespace cluedrop::model::tokenizer {

struct CharChange {
  char32_t c = 0;
  int change = 0;
  bool operator==(const CharChange&) const = default;
};

enum class NormalizationForm { kNfc, kNfd, kNfkc, kNfkd };

// True when this build has Unicode data (ICU).
bool UnicodeDataAvailable();

// Normalizes valid UTF-8 `text`.
StatusOr<std::vector<CharChange>> NormalizeWithChanges(NormalizationForm form,
                                                       std::string_view text);

// Rust's char::to_lowercase applied to each char (full, context-free
// mappings: 'İ' -> "i̇", final sigma not special-cased).
StatusOr<std::vector<CharChange>> LowercaseWithChanges(std::string_view text);

}  // namespace cluedrop::model::tokenizer

#endif  // CLUEDROP_WORKERS_MODEL_TOKENIZER_UNICODE_NORMALIZE_H_
