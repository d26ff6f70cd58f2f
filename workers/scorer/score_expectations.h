// Test helper: gtest expectations for a score vector against an oracle's
// JSON array, where null stands for NaN (no score). Header-only; used by the
// scorer's oracle tests.
//
// Example:
//   double worst = ExpectScoresNear(scores.contrast, fixture["contrast"], 1e-5, "doc 3");
#ifndef CLUEDROP_WORKERS_SCORER_SCORE_EXPECTATIONS_H_
#define CLUEDROP_WORKERS_SCORER_SCORE_EXPECTATIONS_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace cluedrop::scorer {

// The oracle fixture directory `sub` under $CLUEDROP_ORACLE_DIR, or under
// CLUEDROP_ORACLE_DIR_DEFAULT (set by CMake for the oracle tests).
inline std::string OracleFixtureDir(const std::string& sub) {
  const char* env = std::getenv("CLUEDROP_ORACLE_DIR");
  const std::string root = env != nullptr && *env != 0 ? env : CLUEDROP_ORACLE_DIR_DEFAULT;
  return root + "/" + sub;
}

// Expects equal lengths, NaN exactly where `want` is null, and |got - want|
// <= tolerance elsewhere; `what` prefixes failure messages. Returns the
// largest |got - want| seen.
inline double ExpectScoresNear(const std::vector<float>& got, const nlohmann::json& want,
                               double tolerance, const std::string& what) {
  EXPECT_EQ(got.size(), want.size()) << what;
  double max_err = 0;
  for (size_t i = 0; i < std::min(got.size(), want.size()); ++i) {
    if (want[i].is_null()) {
      EXPECT_TRUE(std::isnan(got[i])) << what << " [" << i << "]: want NaN, got " << got[i];
      continue;
    }
    const double w = want[i].get<double>();
    EXPECT_FALSE(std::isnan(got[i])) << what << " [" << i << "]: got NaN, want " << w;
    const double err = std::abs(got[i] - w);
    EXPECT_LE(err, tolerance) << what << " [" << i << "]: got " << got[i] << ", want " << w;
    if (!std::isnan(err)) max_err = std::max(max_err, err);
  }
  return max_err;
}

}  // namespace cluedrop::scorer

#endif  // CLUEDROP_WORKERS_SCORER_SCORE_EXPECTATIONS_H_
