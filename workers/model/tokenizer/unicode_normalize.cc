#include "workers/model/tokenizer/unicode_normalize.h"

#include <algorithm>

#include "workers/model/tokenizer/utf8.h"

#ifdef CLUEDROP_TOKENIZER_HAVE_ICU
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>
#endif

namespace cluedrop::model::tokenizer {

#ifdef CLUEDROP_TOKENIZER_HAVE_ICU

namespace {

std::vector<char32_t> Utf16ToCodePoints(const UChar* s, int32_t n) {
  std::vector<char32_t> out;
  int32_t i = 0;
  while (i < n) {
    UChar32 c;
    U16_NEXT(s, i, n, c);
    out.push_back(static_cast<char32_t>(c));
  }
  return out;
}

std::vector<char32_t> Utf8ToCodePoints(std::string_view text) {
  std::vector<char32_t> out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    size_t len = 0;
    out.push_back(DecodeUtf8At(text, i, &len));
    i += len;
  }
  return out;
}

std::vector<CharChange> Unchanged(std::string_view text) {
  std::vector<CharChange> out;
  out.reserve(text.size());
  for (char32_t c : Utf8ToCodePoints(text)) out.push_back({c, 0});
  return out;
}

// Whether `text` is certainly already in `form` (a fast path: the result
// would be the text itself with all changes 0). Uses the quick check, which
// is linear (unorm2_isNormalized is quadratic on long runs of marks).
bool IsNormalized(const UNormalizer2* norm, std::string_view text) {
  std::vector<UChar> utf16(text.size() + 1);
  int32_t len = 0;
  UErrorCode err = U_ZERO_ERROR;
  u_strFromUTF8(utf16.data(), static_cast<int32_t>(utf16.size()), &len, text.data(),
                static_cast<int32_t>(text.size()), &err);
  if (U_FAILURE(err)) return false;
  err = U_ZERO_ERROR;
  const UNormalizationCheckResult result = unorm2_quickCheck(norm, utf16.data(), len, &err);
  return U_SUCCESS(err) && result == UNORM_YES;
}

}  // namespace

bool UnicodeDataAvailable() { return true; }

StatusOr<std::vector<CharChange>> NormalizeWithChanges(NormalizationForm form,
                                                       std::string_view text) {
  UErrorCode err = U_ZERO_ERROR;
  const bool compat = form == NormalizationForm::kNfkc || form == NormalizationForm::kNfkd;
  const bool compose = form == NormalizationForm::kNfc || form == NormalizationForm::kNfkc;
  const UNormalizer2* decomposer =
      compat ? unorm2_getNFKDInstance(&err) : unorm2_getNFDInstance(&err);
  const UNormalizer2* nfc = unorm2_getNFCInstance(&err);
  const UNormalizer2* target = nullptr;
  switch (form) {
    case NormalizationForm::kNfc:
      target = nfc;
      break;
    case NormalizationForm::kNfd:
      target = decomposer;
      break;
    case NormalizationForm::kNfkc:
      target = unorm2_getNFKCInstance(&err);
      break;
    case NormalizationForm::kNfkd:
      target = decomposer;
      break;
  }
  if (U_FAILURE(err)) return InternalError(std::string("ICU normalizer: ") + u_errorName(err));
  if (IsNormalized(target, text)) return Unchanged(text);

  // 1. Decompose: first char of each mapping replaces the input char, the
  // others are inserted.
  std::vector<CharChange> chars;
  chars.reserve(text.size() + 8);
  for (char32_t c : Utf8ToCodePoints(text)) {
    if (c < 0x80) {
      chars.push_back({c, 0});
      continue;
    }
    UChar buffer[64];
    UErrorCode derr = U_ZERO_ERROR;
    const int32_t n =
        unorm2_getDecomposition(decomposer, static_cast<UChar32>(c), buffer, 64, &derr);
    if (n < 0 || U_FAILURE(derr)) {
      chars.push_back({c, 0});
      continue;
    }
    const std::vector<char32_t> mapped = Utf16ToCodePoints(buffer, n);
    for (size_t k = 0; k < mapped.size(); ++k) chars.push_back({mapped[k], k == 0 ? 0 : 1});
  }
  // 2. Canonical ordering: stable sort of each run of non-starters.
  for (size_t i = 0; i < chars.size();) {
    if (u_getCombiningClass(static_cast<UChar32>(chars[i].c)) == 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < chars.size() && u_getCombiningClass(static_cast<UChar32>(chars[j].c)) != 0) ++j;
    std::stable_sort(chars.begin() + i, chars.begin() + j,
                     [](const CharChange& a, const CharChange& b) {
                       return u_getCombiningClass(static_cast<UChar32>(a.c)) <
                              u_getCombiningClass(static_cast<UChar32>(b.c));
                     });
    i = j;
  }
  if (!compose) return chars;

  // 3. Canonical composition.
  std::vector<CharChange> out;
  out.reserve(chars.size());
  long starter = -1;    // index in `out` of the last starter
  int last_class = -1;  // ccc of the last char kept since the starter; -1: adjacent
  for (const CharChange& ch : chars) {
    const int ccc = u_getCombiningClass(static_cast<UChar32>(ch.c));
    if (starter >= 0) {
      const bool blocked = last_class != -1 && last_class >= ccc;
      if (!blocked) {
        const UChar32 composite = unorm2_composePair(nfc, static_cast<UChar32>(out[starter].c),
                                                     static_cast<UChar32>(ch.c));
        if (composite >= 0) {
          out[starter].c = static_cast<char32_t>(composite);
          out[starter].change += ch.change - 1;
          continue;
        }
      }
    }
    if (ccc == 0) {
      starter = static_cast<long>(out.size());
      last_class = -1;
    } else {
      last_class = ccc;
    }
    out.push_back(ch);
  }
  return out;
}

StatusOr<std::vector<CharChange>> LowercaseWithChanges(std::string_view text) {
  std::vector<CharChange> out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    size_t len = 0;
    const char32_t c = DecodeUtf8At(text, i, &len);
    i += len;
    if (c < 0x80) {
      out.push_back({(c >= 'A' && c <= 'Z') ? c + 32 : c, 0});
      continue;
    }
    UChar src[2];
    int32_t src_len = 0;
    U16_APPEND_UNSAFE(src, src_len, static_cast<UChar32>(c));
    UChar dest[16];
    UErrorCode err = U_ZERO_ERROR;
    const int32_t n = u_strToLower(dest, 16, src, src_len, "", &err);
    if (U_FAILURE(err) || n <= 0) {
      out.push_back({c, 0});
      continue;
    }
    const std::vector<char32_t> mapped = Utf16ToCodePoints(dest, n);
    for (size_t k = 0; k < mapped.size(); ++k) out.push_back({mapped[k], k == 0 ? 0 : 1});
  }
  return out;
}

#else  // !CLUEDROP_TOKENIZER_HAVE_ICU

bool UnicodeDataAvailable() { return false; }

StatusOr<std::vector<CharChange>> NormalizeWithChanges(NormalizationForm, std::string_view) {
  return UnimplementedError("Unicode normalization needs ICU; this build has none");
}

StatusOr<std::vector<CharChange>> LowercaseWithChanges(std::string_view) {
  return UnimplementedError("Unicode lowercasing needs ICU; this build has none");
}

#endif

}  // namespace cluedrop::model::tokenizer
