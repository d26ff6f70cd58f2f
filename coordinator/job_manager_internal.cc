#include "coordinator/job_manager_internal.h"

#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"

namespace cluedrop::coordinator::internal {

bool IsTerminal(v1::JobState state) {
  return state == v1::JOB_STATE_SUCCEEDED || state == v1::JOB_STATE_FAILED ||
         state == v1::JOB_STATE_CANCELLED;
}

bool IsScoreOnly(const v1::JobSpec& spec) { return !spec.has_target_model(); }

void SetTime(google::protobuf::Timestamp* ts, int64_t ms) {
  ts->set_seconds(ms / 1000);
  ts->set_nanos(static_cast<int32_t>((ms % 1000) * 1000000));
}

std::string NewJobId(int64_t now_ms) {
  static std::mt19937_64 rng{std::random_device{}()};
  const absl::Time t = absl::FromUnixMillis(now_ms);
  return absl::StrCat("job-", absl::FormatTime("%Y%m%d", t, absl::UTCTimeZone()), "-",
                      absl::StrFormat("%06x", rng() & 0xffffff));
}

}  // namespace cluedrop::coordinator::internal
