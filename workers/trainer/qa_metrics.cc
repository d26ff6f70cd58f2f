#include "workers/trainer/qa_metrics.h"

#include <algorithm>
#include <unordered_map>

namespace cluedrop::trainer {
namespace {

// Bytes that are not valid UTF-8 travel as kRawByte + byte (above Unicode).
constexpr uint32_t kRawByte = 0x110000;

// Decodes UTF-8 strictly (no overlongs, surrogates or values past U+10FFFF);
// each byte of an invalid sequence becomes one raw-byte entry.
std::vector<uint32_t> Decode(std::string_view s) {
  std::vector<uint32_t> out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    size_t n = b0 < 0x80           ? 1
               : (b0 >> 5) == 0x6  ? 2
               : (b0 >> 4) == 0xE  ? 3
               : (b0 >> 3) == 0x1E ? 4
                                   : 0;
    uint32_t cp = n == 1 ? b0 : n == 2 ? (b0 & 0x1F) : n == 3 ? (b0 & 0x0F) : (b0 & 0x07);
    bool valid = n != 0 && i + n <= s.size();
    for (size_t k = 1; valid && k < n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      valid = (b & 0xC0) == 0x80;
      cp = (cp << 6) | (b & 0x3F);
    }
    constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    valid = valid && cp >= kMin[n] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    if (!valid) {
      out.push_back(kRawByte + b0);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += n;
  }
  return out;
}

void Encode(uint32_t cp, std::string* out) {
  if (cp >= kRawByte) {
    out->push_back(static_cast<char>(cp - kRawByte));
  } else if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Python's str.lower() for U+0000..U+017F; other code points unchanged.
// Appends one code point, or two for U+0130 (-> "i" U+0307, as Python).
void AppendLower(uint32_t cp, std::vector<uint32_t>* out) {
  if ((cp >= 'A' && cp <= 'Z') || (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7)) {
    cp += 0x20;
  } else if (cp == 0x130) {
    out->push_back('i');
    cp = 0x307;
  } else if (cp == 0x178) {
    cp = 0xFF;
  } else if ((cp >= 0x100 && cp <= 0x137 && cp != 0x131) || (cp >= 0x14A && cp <= 0x177)) {
    cp |= 1;  // pairs: even upper, odd lower
  } else if ((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E)) {
    cp += cp & 1;  // pairs: odd upper, even lower
  }
  out->push_back(cp);
}

// Python's str.isspace() (the separators of str.split()).
bool IsSpace(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 ||
         cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
         cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

// Python's \w (str.isalnum() or "_") for U+0000..U+036F and U+2000..U+206F;
// other non-ASCII code points are word characters, raw bytes are not.
bool IsWordChar(uint32_t cp) {
  if (cp < 0x80) {
    return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
           cp == '_';
  }
  if (cp >= kRawByte || cp == 0xFFFD) return false;
  if (cp <= 0xBF) {
    return cp == 0xAA || cp == 0xB2 || cp == 0xB3 || cp == 0xB5 || cp == 0xB9 || cp == 0xBA ||
           (cp >= 0xBC && cp <= 0xBE);
  }
  if (cp == 0xD7 || cp == 0xF7) return false;
  if ((cp >= 0x2C2 && cp <= 0x2C5) || (cp >= 0x2D2 && cp <= 0x2DF) ||
      (cp >= 0x2E5 && cp <= 0x2EB) || cp == 0x2ED || (cp >= 0x2EF && cp <= 0x36F)) {
    return false;
  }
  return !(cp >= 0x2000 && cp <= 0x206F) && !IsSpace(cp);
}

// string.punctuation: !"#$%&'()*+,-./:;<=>?@[\]^_`{|}~
bool IsPunctuation(uint32_t cp) {
  return (cp >= 0x21 && cp <= 0x2F) || (cp >= 0x3A && cp <= 0x40) || (cp >= 0x5B && cp <= 0x60) ||
         (cp >= 0x7B && cp <= 0x7E);
}

bool IsArticle(const std::vector<uint32_t>& text, size_t begin, size_t end) {
  auto is = [&](std::u32string_view word) {
    return end - begin == word.size() && std::equal(word.begin(), word.end(), text.begin() + begin);
  };
  return is(U"a") || is(U"an") || is(U"the");
}

}  // namespace

std::string NormalizeAnswer(std::string_view text) {
  // lower(), then remove_punc().
  std::vector<uint32_t> chars;
  for (uint32_t cp : Decode(text)) {
    if (!IsPunctuation(cp)) AppendLower(cp, &chars);
  }
  // remove_articles(): every match of \b(a|an|the)\b is a whole run of word
  // characters, so replace each run that is an article by one space.
  std::vector<uint32_t> words;
  words.reserve(chars.size());
  for (size_t i = 0; i < chars.size();) {
    if (!IsWordChar(chars[i])) {
      words.push_back(chars[i++]);
      continue;
    }
    size_t end = i;
    while (end < chars.size() && IsWordChar(chars[end])) ++end;
    if (IsArticle(chars, i, end)) {
      words.push_back(' ');
    } else {
      words.insert(words.end(), chars.begin() + i, chars.begin() + end);
    }
    i = end;
  }
  // white_space_fix(): ' '.join(text.split()).
  std::string out;
  bool pending_space = false;
  for (uint32_t cp : words) {
    if (IsSpace(cp)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    Encode(cp, &out);
  }
  return out;
}

std::vector<std::string> AnswerTokens(std::string_view text) {
  const std::string normalized = NormalizeAnswer(text);
  std::vector<std::string> tokens;
  for (size_t start = 0; start < normalized.size();) {
    size_t end = normalized.find(' ', start);
    if (end == std::string::npos) end = normalized.size();
    tokens.push_back(normalized.substr(start, end - start));
    start = end + 1;
  }
  return tokens;
}

double ExactMatch(std::string_view prediction, std::string_view gold) {
  return NormalizeAnswer(prediction) == NormalizeAnswer(gold) ? 1.0 : 0.0;
}

double TokenF1(std::string_view prediction, std::string_view gold) {
  const std::vector<std::string> predicted = AnswerTokens(prediction);
  const std::vector<std::string> expected = AnswerTokens(gold);
  std::unordered_map<std::string, int> gold_counts;
  for (const std::string& token : expected) ++gold_counts[token];
  int common = 0;
  for (const std::string& token : predicted) {
    auto it = gold_counts.find(token);
    if (it != gold_counts.end() && it->second > 0) {
      --it->second;
      ++common;
    }
  }
  if (common == 0) return 0.0;
  const double precision = static_cast<double>(common) / predicted.size();
  const double recall = static_cast<double>(common) / expected.size();
  return 2 * precision * recall / (precision + recall);
}

QaScore ScoreAnswer(std::string_view prediction, const std::vector<std::string>& golds) {
  QaScore best;
  for (const std::string& gold : golds) {
    best.exact_match = std::max(best.exact_match, ExactMatch(prediction, gold));
    best.f1 = std::max(best.f1, TokenF1(prediction, gold));
  }
  return best;
}

void QaScoreBoard::Add(const std::string& field, const QaScore& score) {
  auto [it, inserted] = sums_.try_emplace(field);
  if (inserted) order_.push_back(field);
  for (Sum* sum : {&it->second, &overall_}) {
    ++sum->questions;
    sum->exact_match += score.exact_match;
    sum->f1 += score.f1;
  }
}

std::vector<QaFieldScore> QaScoreBoard::Scores() const {
  auto mean = [](const std::string& field, const Sum& sum) {
    QaFieldScore score{field, sum.questions, 0, 0};
    if (sum.questions > 0) {
      score.exact_match = sum.exact_match / sum.questions;
      score.f1 = sum.f1 / sum.questions;
    }
    return score;
  };
  std::vector<QaFieldScore> scores;
  for (const std::string& field : order_) scores.push_back(mean(field, sums_.at(field)));
  scores.push_back(mean(std::string(kOverallField), overall_));
  return scores;
}

}  // namespace cluedrop::trainer
