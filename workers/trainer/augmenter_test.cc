#include "workers/trainer/augmenter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>

#include "workers/trainer/fake_text_encoder.h"
#include "workers/trainer/span_edit.h"

namespace cluedrop {
namespace {

using ::testing::ElementsAre;

// A paper-style biography: 62 tokens with the fake encoder (BOS, 53 words
// and punctuation, EOS), commas and periods among them.
constexpr char kBio[] =
    "Liam Thompson was born on January 5, 1990. He spent his early years in Melbourne, "
    "Australia. He received mentorship and guidance from faculty members at Sorbonne "
    "University. He completed his education with a focus on Biomedical Engineering. He had a "
    "professional role at the British Museum, in S\xC3\xA3o Paulo.";

// The document as `cluedrop score` would hand it over, with three distinct
// score vectors (a few NaN in contrast, ties in received_small).
ScoredDocument MakeDocument(const TextEncoder& encoder, std::string id = "bio-1") {
  EncodedText enc = *encoder.Encode(kBio);
  ScoredDocument doc;
  doc.id = std::move(id);
  doc.text = kBio;
  doc.tokens = enc.ids;
  doc.offsets = enc.offsets;
  for (size_t i = 0; i < doc.tokens.size(); ++i) {
    const float x = static_cast<float>(i);
    doc.received_large.push_back(std::sin(1.3f * x) + 0.01f * x);
    doc.received_small.push_back(std::round(3 * std::cos(0.7f * x)));  // many ties
    doc.contrast.push_back(doc.received_large[i] - 0.5f * doc.received_small[i]);
  }
  doc.contrast[7] = doc.contrast[30] = std::nanf("");
  return doc;
}

// Expected rank of each droppable position, computed by counting (not
// sorting): the positions that come first are those with a larger score, or
// an equal score and an earlier position; NaN comes after every number.
std::vector<int32_t> CountedRanks(const std::vector<float>& scores,
                                  const std::vector<bool>& droppable) {
  auto before = [&](size_t j, size_t i) {
    const bool jn = std::isnan(scores[j]), in = std::isnan(scores[i]);
    if (jn != in) return in;  // a number comes before NaN
    if (jn && in) return j < i;
    return scores[j] > scores[i] || (scores[j] == scores[i] && j < i);
  };
  std::vector<int32_t> rank(scores.size(), -1);
  for (size_t i = 0; i < scores.size(); ++i) {
    if (!droppable[i]) continue;
    rank[i] = 0;
    for (size_t j = 0; j < scores.size(); ++j) rank[i] += droppable[j] && j != i && before(j, i);
  }
  return rank;
}

class FrequencyTest : public ::testing::TestWithParam<AugmentMode> {};

// Over N = 20000 copies (fixed seed, so deterministic) the fraction of copies
// that drop each position must be within 5 binomial standard errors,
// 5 * sqrt(p (1 - p) / N), of p(rank) = alpha (1 - exp(-beta rank)) (alpha
// for random; exactly 0 where p = 0: rank 0 and protected tokens). With about
// 60 positions a false failure has probability below 1e-4 per mode.
TEST_P(FrequencyTest, EmpiricalDropFrequencyMatchesPOfRank) {
  const AugmentMode mode = GetParam();
  FakeTextEncoder encoder;
  const ScoredDocument doc = MakeDocument(encoder);
  ASSERT_GE(doc.tokens.size(), 55u);
  ASSERT_LE(doc.tokens.size(), 70u);
  AugmentationOptions options;
  options.mode = mode;
  options.alpha = 0.7;
  options.beta = 0.1;
  options.form = DropForm::kDelete;  // no re-encoding: fast
  options.seed = 20250227;
  const Augmenter augmenter(options, &encoder);
  const std::vector<bool> droppable = *augmenter.Droppable(doc);

  std::vector<int32_t> rank(doc.tokens.size(), -1);
  if (mode == AugmentMode::kLarge) rank = CountedRanks(doc.received_large, droppable);
  if (mode == AugmentMode::kSmall) rank = CountedRanks(doc.received_small, droppable);
  if (mode == AugmentMode::kContrast) rank = CountedRanks(doc.contrast, droppable);
  if (mode == AugmentMode::kPosition) {
    for (int32_t i = 0, r = 0; i < static_cast<int32_t>(rank.size()); ++i) {
      if (droppable[i]) rank[i] = r++;
    }
  }

  constexpr int kDraws = 20000;
  std::vector<int> drops(doc.tokens.size(), 0);
  for (int copy = 0; copy < kDraws; ++copy) {
    StatusOr<AugmentedSample> s = augmenter.Augment(doc, /*epoch=*/0, copy);
    ASSERT_TRUE(s.ok()) << s.status();
    for (int32_t pos : s->dropped) ++drops[pos];
  }
  for (size_t i = 0; i < doc.tokens.size(); ++i) {
    double p = 0.0;
    if (droppable[i]) {
      p = mode == AugmentMode::kRandom
              ? options.alpha
              : options.alpha * (1 - std::exp(-options.beta * static_cast<double>(rank[i])));
    }
    const double observed = static_cast<double>(drops[i]) / kDraws;
    const double bound = 5 * std::sqrt(p * (1 - p) / kDraws);
    EXPECT_NEAR(observed, p, bound) << "position " << i << " rank " << rank[i];
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, FrequencyTest,
                         ::testing::Values(AugmentMode::kRandom, AugmentMode::kLarge,
                                           AugmentMode::kSmall, AugmentMode::kContrast,
                                           AugmentMode::kPosition),
                         [](const auto& info) { return std::string(AugmentModeName(info.param)); });

TEST(AugmenterTest, SpecialProtectedAndEmptySpanTokensNeverDrop) {
  FakeTextEncoder encoder;
  const ScoredDocument doc = MakeDocument(encoder);
  // Positions that must never drop: BOS/EOS, every "," and ".".
  std::set<int32_t> kept;
  for (size_t i = 0; i < doc.tokens.size(); ++i) {
    const auto [b, e] = doc.offsets[i];
    const std::string text = doc.text.substr(b, e - b);
    if (encoder.IsSpecial(doc.tokens[i]) || text == "," || text == ".") kept.insert(i);
  }
  ASSERT_GE(kept.size(), 10u);
  for (AugmentMode mode : {AugmentMode::kRandom, AugmentMode::kLarge, AugmentMode::kSmall,
                           AugmentMode::kContrast, AugmentMode::kPosition}) {
    for (DropForm form : {DropForm::kDelete, DropForm::kBlank}) {
      AugmentationOptions options;
      options.mode = mode;
      options.form = form;
      options.alpha = 1.0;  // everything droppable (past rank 0) drops
      options.beta = 50.0;
      const Augmenter augmenter(options, &encoder);
      for (int copy = 0; copy < 200; ++copy) {
        AugmentedSample s = *augmenter.Augment(doc, 1, copy);
        for (int32_t pos : s.dropped) {
          EXPECT_EQ(kept.count(pos), 0u) << AugmentModeName(mode) << " dropped " << pos;
        }
        EXPECT_EQ(s.dropped.size() + kept.size() + (mode == AugmentMode::kRandom ? 0 : 1),
                  doc.tokens.size())
            << AugmentModeName(mode);
        if (form == DropForm::kBlank) {
          // Commas and periods survive in place (bytes after a blanked "ã",
          // which became one space, move one to the left).
          const size_t sao = doc.text.find("\xC3\xA3");
          const size_t shift = doc.text.size() - s.text.size();
          ASSERT_LE(shift, 1u);
          for (int32_t pos : kept) {
            const auto [b, e] = doc.offsets[pos];
            const size_t at = b > sao ? b - shift : b;
            EXPECT_EQ(s.text.substr(at, e - b), doc.text.substr(b, e - b));
          }
        }
      }
    }
  }
}

TEST(AugmenterTest, ProtectedTextsAreMatchedWhitespaceStripped) {
  FakeTextEncoder encoder;
  ScoredDocument doc;
  doc.id = "x";
  doc.text = "He , and the  cat\n.";
  EncodedText enc = *encoder.Encode(doc.text);
  doc.tokens = enc.ids;
  doc.offsets = enc.offsets;
  AugmentationOptions options;
  options.mode = AugmentMode::kRandom;
  options.protected_tokens = {" the ", ","};
  // Tokens: BOS "He" " ," " and" " the" " " " cat" "\n" "." EOS.
  EXPECT_THAT(*Augmenter(options, &encoder).Droppable(doc),
              ElementsAre(false, true, false, true, false, true, true, true, true, false));
  options.protected_tokens = {""};  // whitespace-only tokens
  EXPECT_THAT(*Augmenter(options, &encoder).Droppable(doc),
              ElementsAre(false, true, true, true, true, false, true, false, true, false));
  // Tokens with an empty span are kept even when not flagged special (BOS
  // and EOS have empty spans too).
  doc.special.assign(doc.tokens.size(), 0);
  doc.offsets[2] = {2, 2};
  options.form = DropForm::kDelete;  // no encoder needed
  EXPECT_THAT(*Augmenter(options, nullptr).Droppable(doc),
              ElementsAre(false, true, false, true, true, false, true, false, true, false));
}

TEST(AugmenterTest, NoneDropsNothing) {
  FakeTextEncoder encoder;
  const ScoredDocument doc = MakeDocument(encoder);
  AugmentationOptions options;
  options.mode = AugmentMode::kNone;
  options.alpha = 1.0;
  options.keep_original = false;
  const Augmenter augmenter(options, &encoder);
  for (int copy = 0; copy < 50; ++copy) {
    AugmentedSample s = *augmenter.Augment(doc, 0, copy);
    EXPECT_TRUE(s.dropped.empty());
    EXPECT_EQ(s.tokens, doc.tokens);
    EXPECT_EQ(s.text, doc.text);
  }
  // Only the original, whatever copies and keep_original say.
  std::vector<AugmentedSample> samples = *augmenter.SamplesForEpoch(doc, 4);
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].copy, AugmentedSample::kOriginal);
  EXPECT_EQ(samples[0].dropout_rate(), 0.0);
}

TEST(AugmenterTest, MasksArePureFunctionsOfSeedIdEpochCopy) {
  FakeTextEncoder encoder;
  const ScoredDocument doc = MakeDocument(encoder);
  AugmentationOptions options;
  options.alpha = 0.5;
  options.beta = 0.5;
  options.seed = 7;
  auto dropped = [&](const AugmentationOptions& o, const ScoredDocument& d, uint32_t epoch,
                     int32_t copy) {
    return Augmenter(o, &encoder).Augment(d, epoch, copy)->dropped;
  };
  const std::vector<int32_t> base = dropped(options, doc, 2, 3);
  ASSERT_FALSE(base.empty());
  EXPECT_EQ(dropped(options, doc, 2, 3), base);  // a fresh augmenter, same key
  EXPECT_NE(dropped(options, doc, 2, 4), base);  // copy
  EXPECT_NE(dropped(options, doc, 3, 3), base);  // epoch
  EXPECT_NE(dropped(options, MakeDocument(encoder, "bio-2"), 2, 3), base);  // id
  AugmentationOptions other_seed = options;
  other_seed.seed = 8;
  EXPECT_NE(dropped(other_seed, doc, 2, 3), base);

  // Fixed resampling: epoch 3 reuses epoch 0's masks, copy by copy.
  AugmentationOptions fixed = options;
  fixed.resample = Resample::kFixed;
  const Augmenter augmenter(fixed, &encoder);
  std::vector<AugmentedSample> epoch0 = *augmenter.SamplesForEpoch(doc, 0);
  std::vector<AugmentedSample> epoch3 = *augmenter.SamplesForEpoch(doc, 3);
  ASSERT_EQ(epoch0.size(), 11u);
  ASSERT_EQ(epoch3.size(), 11u);
  for (size_t k = 0; k < epoch0.size(); ++k) {
    EXPECT_EQ(epoch0[k].dropped, epoch3[k].dropped) << k;
    EXPECT_EQ(epoch0[k].tokens, epoch3[k].tokens) << k;
  }
  EXPECT_EQ(epoch0[1].dropped, dropped(options, doc, 0, 0));  // = epoch-resampled epoch 0
  EXPECT_NE(epoch0[1].dropped, epoch0[2].dropped);            // copies still differ
  EXPECT_NE(dropped(options, doc, 3, 0), epoch0[1].dropped);  // epoch mode redraws
}

TEST(AugmenterTest, SamplesForEpochListsOriginalThenCopies) {
  FakeTextEncoder encoder;
  const ScoredDocument doc = MakeDocument(encoder);
  AugmentationOptions options;
  options.copies = 3;
  std::vector<AugmentedSample> samples = *Augmenter(options, &encoder).SamplesForEpoch(doc, 1);
  ASSERT_EQ(samples.size(), 4u);
  EXPECT_EQ(samples[0].copy, AugmentedSample::kOriginal);
  EXPECT_EQ(samples[0].tokens, doc.tokens);
  EXPECT_EQ(samples[0].text, doc.text);
  EXPECT_TRUE(samples[0].dropped.empty());
  for (int32_t c = 0; c < 3; ++c) {
    EXPECT_EQ(samples[c + 1].copy, c);
    EXPECT_EQ(samples[c + 1].dropped, Augmenter(options, &encoder).Augment(doc, 1, c)->dropped);
  }
  options.keep_original = false;
  samples = *Augmenter(options, &encoder).SamplesForEpoch(doc, 1);
  ASSERT_EQ(samples.size(), 3u);
  EXPECT_EQ(samples[0].copy, 0);
}

TEST(AugmenterTest, BlankFormSpacesTheDroppedCharactersAndReencodes) {
  FakeTextEncoder encoder;
  const ScoredDocument doc = MakeDocument(encoder);
  AugmentationOptions options;
  options.alpha = 0.9;
  options.beta = 0.2;
  const Augmenter augmenter(options, &encoder);
  bool saw_multibyte = false;
  for (int copy = 0; copy < 100; ++copy) {
    AugmentedSample s = *augmenter.Augment(doc, 0, copy);
    ASSERT_FALSE(s.dropped.empty());
    std::vector<std::pair<size_t, size_t>> spans;
    for (int32_t pos : s.dropped) spans.push_back(doc.offsets[pos]);
    // Byte by byte: blanked ASCII bytes are spaces, the rest unchanged; the
    // two-byte "ã" (bytes kSao, kSao + 1) becomes one space.
    const size_t sao = doc.text.find("\xC3\xA3");
    bool sao_dropped = false;
    for (const auto& [b, e] : spans) sao_dropped |= b <= sao && sao < e;
    saw_multibyte |= sao_dropped;
    EXPECT_EQ(s.text.size(), doc.text.size() - (sao_dropped ? 1 : 0));
    for (size_t i = 0, j = 0; i < doc.text.size(); ++i, ++j) {
      bool in_span = false;
      for (const auto& [b, e] : spans) in_span |= b <= i && i < e;
      if (sao_dropped && i == sao) {
        EXPECT_EQ(s.text[j], ' ');
        ++i;  // the character's second byte has no counterpart
      } else {
        EXPECT_EQ(s.text[j], in_span ? ' ' : doc.text[i]) << "byte " << i << " copy " << copy;
      }
    }
    EXPECT_EQ(s.tokens, encoder.Encode(s.text)->ids);
    EXPECT_EQ(s.dropout_rate(), static_cast<double>(s.dropped.size()) / s.droppable);
  }
  EXPECT_TRUE(saw_multibyte);
}

TEST(AugmenterTest, DeleteFormRemovesTheDroppedIds) {
  FakeTextEncoder encoder;
  const ScoredDocument doc = MakeDocument(encoder);
  AugmentationOptions options;
  options.form = DropForm::kDelete;
  options.mode = AugmentMode::kRandom;
  const Augmenter augmenter(options, &encoder);
  AugmentedSample s = *augmenter.Augment(doc, 0, 5);
  ASSERT_FALSE(s.dropped.empty());
  std::vector<int32_t> expected;
  for (size_t i = 0; i < doc.tokens.size(); ++i) {
    if (!std::binary_search(s.dropped.begin(), s.dropped.end(), static_cast<int32_t>(i))) {
      expected.push_back(doc.tokens[i]);
    }
  }
  EXPECT_EQ(s.tokens, expected);
  EXPECT_EQ(s.tokens.size() + s.dropped.size(), doc.tokens.size());
  std::vector<std::pair<size_t, size_t>> spans;
  for (int32_t pos : s.dropped) spans.push_back(doc.offsets[pos]);
  EXPECT_EQ(s.text, DeleteSpans(doc.text, spans));
  // The delete form needs no encoder when the document carries special flags.
  ScoredDocument flagged = doc;
  flagged.special = encoder.Encode(doc.text)->special;
  EXPECT_EQ(Augmenter(options, nullptr).Augment(flagged, 0, 5)->dropped, s.dropped);
}

TEST(AugmenterTest, NanScoresRankLast) {
  FakeTextEncoder encoder;
  ScoredDocument doc = MakeDocument(encoder);
  std::fill(doc.contrast.begin(), doc.contrast.end(), std::nanf(""));
  doc.contrast[40] = -5.0f;  // the only score: rank 0, never dropped
  AugmentationOptions options;
  options.alpha = 1.0;
  options.beta = 50.0;  // p(r >= 1) = 1 - e^-50
  options.form = DropForm::kDelete;
  const Augmenter augmenter(options, &encoder);
  ASSERT_TRUE((*augmenter.Droppable(doc))[40]);
  for (int copy = 0; copy < 100; ++copy) {
    AugmentedSample s = *augmenter.Augment(doc, 0, copy);
    EXPECT_FALSE(std::binary_search(s.dropped.begin(), s.dropped.end(), 40));
    EXPECT_EQ(s.dropped.size(), s.droppable - 1);
  }
}

TEST(AugmenterTest, InconsistentDocumentsAreInvalidArgument) {
  FakeTextEncoder encoder;
  const ScoredDocument good = MakeDocument(encoder);
  const Augmenter augmenter(AugmentationOptions(), &encoder);
  ScoredDocument doc = good;
  doc.offsets.pop_back();
  EXPECT_EQ(augmenter.Augment(doc, 0, 0).status().code(), StatusCode::kInvalidArgument);
  doc = good;
  doc.offsets[3] = {10, 100000};
  Status s = augmenter.Augment(doc, 0, 0).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("bio-1"), std::string::npos) << s;
  doc = good;
  doc.contrast.clear();  // contrast mode needs it; random does not
  EXPECT_EQ(augmenter.Augment(doc, 0, 0).status().code(), StatusCode::kInvalidArgument);
  AugmentationOptions random;
  random.mode = AugmentMode::kRandom;
  EXPECT_TRUE(Augmenter(random, &encoder).Augment(doc, 0, 0).ok());
  doc = good;
  doc.special = {1, 0};
  EXPECT_EQ(augmenter.Augment(doc, 0, 0).status().code(), StatusCode::kInvalidArgument);
  // Blank form without an encoder.
  EXPECT_EQ(Augmenter(AugmentationOptions(), nullptr).Augment(good, 0, 0).status().code(),
            StatusCode::kFailedPrecondition);
  AugmentationOptions bad;
  bad.alpha = 2;
  EXPECT_EQ(Augmenter(bad, &encoder).Augment(good, 0, 0).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(augmenter.Augment(good, 0, -2).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cluedrop
