// The blank form on the paper's synthetic biographies with real tokenizers
// (the small tokenizers that tests/oracle/make_tokenizer_fixtures.py trains
// with `tokenizers` and copies each model family's pipeline into; ctest
// fixture `tokenizer_oracle`). Each augmented text must be what the authors'
// data_augmentation.py makes of the same dropped tokens: over Python
// character offsets, text = text[:s] + ' ' * (e - s) + text[e:], token by
// token; here the same loop runs over code points. And its tokens must be
// the tokenizer's encoding of that text. A missing fixture directory is a
// failure, not a skip.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "corpus/document_reader.h"
#include "workers/trainer/augmenter.h"
#include "workers/trainer/tokenizer_text_encoder.h"

namespace cluedrop {
namespace {

bool IsLead(char c) { return (static_cast<unsigned char>(c) & 0xc0) != 0x80; }

// Decodes valid UTF-8 (the tokenizer accepted it) into code points.
std::u32string Decode(const std::string& s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
    char32_t cp = n == 1 ? c : c & (0xff >> (n + 1));
    for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
    out.push_back(cp);
    i += n;
  }
  return out;
}

// Character index of the character containing byte `b` / just past byte e-1.
size_t CharBegin(const std::string& s, size_t b) {
  size_t starts = 0;
  for (size_t i = 0; i <= b && i < s.size(); ++i) starts += IsLead(s[i]);
  return b < s.size() ? starts - 1 : starts;
}
size_t CharEnd(const std::string& s, size_t e) {
  size_t starts = 0;
  for (size_t i = 0; i < e; ++i) starts += IsLead(s[i]);
  return starts;
}

class BlankOracleTest : public ::testing::TestWithParam<const char*> {};

TEST_P(BlankOracleTest, MatchesThePaperScriptOnTheBiographies) {
  const char* oracle = std::getenv("CLUEDROP_ORACLE_DIR");
  ASSERT_NE(oracle, nullptr) << "CLUEDROP_ORACLE_DIR is not set (run through ctest, which runs "
                                "oracle.tokenizer_fixtures first)";
  auto encoder =
      TokenizerTextEncoder::FromDirectory(std::string(oracle) + "/tokenizers/" + GetParam());
  ASSERT_TRUE(encoder.ok()) << encoder.status();
  auto docs = corpus::ReadDocuments(std::string(CLUEDROP_SOURCE_DIR) +
                                    "/examples/paper-data/biography_synthetic.csv");
  ASSERT_TRUE(docs.ok()) << docs.status();
  ASSERT_EQ(docs->size(), 100u);

  AugmentationOptions options;  // contrast, alpha 0.7, beta 0.05, blank, "," "."
  options.copies = 2;
  options.keep_original = false;
  options.seed = 42;
  const Augmenter augmenter(options, encoder->get());
  size_t samples = 0, dropped = 0, multibyte_blanked = 0;
  for (const corpus::Document& d : *docs) {
    ASSERT_EQ(d.text.find('<'), std::string::npos) << "field tags not stripped: " << d.id;
    StatusOr<EncodedText> enc = (*encoder)->Encode(d.text);
    ASSERT_TRUE(enc.ok()) << enc.status();
    ScoredDocument doc;
    doc.id = d.id;
    doc.text = d.text;
    doc.tokens = enc->ids;
    doc.offsets = enc->offsets;
    for (size_t i = 0; i < doc.tokens.size(); ++i) {
      doc.contrast.push_back(std::sin(0.37f * static_cast<float>(i * i + d.text.size())));
    }
    const std::u32string chars = Decode(d.text);
    for (int32_t copy = 0; copy < 2; ++copy) {
      StatusOr<AugmentedSample> s = augmenter.Augment(doc, 0, copy);
      ASSERT_TRUE(s.ok()) << s.status();
      ++samples;
      dropped += s->dropped.size();
      // The script's loop, over characters.
      std::u32string want = chars;
      size_t shrink = 0;  // bytes lost: (UTF-8 length - 1) per blanked character
      std::vector<bool> blanked(chars.size(), false);
      for (int32_t pos : s->dropped) {
        ASSERT_EQ(enc->special[pos], 0) << d.id << " dropped a special token";
        const auto [b, e] = doc.offsets[pos];
        const std::string piece = d.text.substr(b, e - b);
        ASSERT_NE(piece, ",");
        ASSERT_NE(piece, ".");
        const size_t cb = CharBegin(d.text, b), ce = CharEnd(d.text, e);
        want = want.substr(0, cb) + std::u32string(ce - cb, U' ') + want.substr(ce);
        for (size_t c = cb; c < ce; ++c) blanked[c] = true;
      }
      for (size_t c = 0; c < chars.size(); ++c) {
        if (!blanked[c]) continue;
        const char32_t cp = chars[c];
        const size_t len = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        shrink += len - 1;
        multibyte_blanked += len > 1;
      }
      const std::u32string got = Decode(s->text);
      ASSERT_EQ(got, want) << d.id << " copy " << copy << "\n  got:  " << s->text;
      // Same number of characters; the same bytes unless a multi-byte
      // character became one space.
      EXPECT_EQ(s->text.size() + shrink, d.text.size());
      StatusOr<EncodedText> reencoded = (*encoder)->Encode(s->text);
      ASSERT_TRUE(reencoded.ok());
      EXPECT_EQ(s->tokens, reencoded->ids) << d.id << " copy " << copy;
    }
  }
  // The corpus exercises what it should: about p ~ 0.7 of a long tail drops,
  // and names such as "São Paulo" put multi-byte characters under the knife.
  EXPECT_GT(dropped, samples * 10);
  EXPECT_GT(multibyte_blanked, 0u);
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, BlankOracleTest,
                         ::testing::Values("gpt2", "llama3", "qwen2", "llama2", "mistral", "gemma"),
                         [](const auto& info) { return std::string(info.param); });

}  // namespace
}  // namespace cluedrop
