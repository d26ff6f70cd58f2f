#include "cli/job_format.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/enum_names.h"

namespace cluedrop::cli {
namespace {

absl::Time ToTime(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

bool IsSet(const google::protobuf::Timestamp& t) { return t.seconds() != 0 || t.nanos() != 0; }

// "name" cut to `width` bytes with "..." (byte-wise; names are short).
std::string Truncate(const std::string& text, size_t width) {
  if (text.size() <= width) return text;
  return text.substr(0, width - 3) + "...";
}

// Left-aligned columns separated by two spaces; the last column is not
// padded.
std::string RenderTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      absl::StrAppend(&line, row[i]);
      if (i + 1 < row.size()) line.append(widths[i] - row[i].size() + 2, ' ');
    }
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

const v1::FieldScore* OverallScore(const v1::EvaluationResult& evaluation) {
  for (const v1::FieldScore& field : evaluation.fields()) {
    if (field.field() == "overall") return &field;
  }
  return nullptr;
}

std::string EvaluationTitle(const v1::EvaluationResult& evaluation) {
  return absl::StrCat("epoch ", evaluation.epoch(), ", step ", evaluation.step());
}

std::string ScoringLine(const v1::JobProgress& p) {
  return absl::StrCat(p.shards_scored(), "/", p.shards_total(), " shards (",
                      Percent(p.shards_scored(), p.shards_total()), "), ", p.documents_total(),
                      " documents, ", HumanCount(p.tokens_scored()), " tokens");
}

std::string TrainingLine(const v1::JobProgress& p) {
  std::string line = absl::StrCat("step ", p.training_step());
  if (p.training_steps_total() > 0) {
    absl::StrAppend(&line, "/", p.training_steps_total(), " (",
                    Percent(p.training_step(), p.training_steps_total()), ")");
  }
  absl::StrAppend(&line, ", epoch ", p.epoch(), absl::StrFormat(", loss %.4f", p.loss()), ", ",
                  HumanCount(p.tokens_per_second()), " tokens/s");
  return line;
}

}  // namespace

std::string StateName(v1::JobState state) {
  return absl::AsciiStrToUpper(ShortEnumName(v1::JobState_descriptor(), state));
}

bool IsTerminal(v1::JobState state) {
  return state == v1::JOB_STATE_SUCCEEDED || state == v1::JOB_STATE_FAILED ||
         state == v1::JOB_STATE_CANCELLED;
}

std::string HumanCount(double value) {
  const double magnitude = std::fabs(value);
  if (magnitude < 1000) return absl::StrFormat("%.0f", value);
  if (magnitude < 1e6) return absl::StrFormat("%.1fk", value / 1e3);
  if (magnitude < 1e9) return absl::StrFormat("%.1fM", value / 1e6);
  return absl::StrFormat("%.1fG", value / 1e9);
}

std::string HumanDuration(absl::Duration duration) {
  const int64_t seconds = std::max<int64_t>(0, absl::ToInt64Seconds(duration));
  if (seconds < 60) return absl::StrCat(seconds, "s");
  if (seconds < 3600) return absl::StrFormat("%dm%02ds", seconds / 60, seconds % 60);
  return absl::StrFormat("%dh%02dm", seconds / 3600, (seconds % 3600) / 60);
}

std::string Percent(double done, double total) {
  if (total <= 0) return "-";
  return absl::StrFormat("%.1f%%", 100.0 * done / total);
}

std::string FormatTimestamp(const google::protobuf::Timestamp& time, absl::TimeZone zone) {
  if (!IsSet(time)) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", ToTime(time), zone);
}

std::string ProgressSummary(const v1::Job& job) {
  const v1::JobProgress& p = job.progress();
  if (p.training_step() > 0 || p.training_steps_total() > 0) {
    std::string text = absl::StrCat("step ", p.training_step());
    if (p.training_steps_total() > 0) {
      absl::StrAppend(&text, "/", p.training_steps_total(), " (",
                      Percent(p.training_step(), p.training_steps_total()), ")");
    }
    return text;
  }
  if (p.shards_total() > 0) {
    return absl::StrCat(p.shards_scored(), "/", p.shards_total(), " shards (",
                        Percent(p.shards_scored(), p.shards_total()), ")");
  }
  return "-";
}

std::string SubmitSummary(const v1::Job& job) {
  return absl::StrCat(job.id(), " \"", job.spec().name(), "\": ", job.progress().shards_total(),
                      " shards, ", job.progress().documents_total(), " documents, ",
                      StateName(job.state()));
}

std::string FormatJobStatus(const v1::Job& job, absl::TimeZone zone) {
  std::vector<std::vector<std::string>> head;
  head.push_back({"job:", absl::StrCat(job.id(), " \"", job.spec().name(), "\"")});
  head.push_back({"state:", StateName(job.state())});
  if (!job.reason().empty()) head.push_back({"reason:", job.reason()});
  head.push_back({"created:", absl::StrCat(FormatTimestamp(job.create_time(), zone), "   updated: ",
                                           FormatTimestamp(job.update_time(), zone))});
  const v1::JobProgress& p = job.progress();
  head.push_back({"scoring:", ScoringLine(p)});
  if (job.spec().has_target_model() || p.training_step() > 0 || p.training_steps_total() > 0) {
    head.push_back({"training:", TrainingLine(p)});
  }
  if (!job.model_dir().empty()) head.push_back({"model_dir:", job.model_dir()});
  std::string out = RenderTable(head);
  if (job.evaluations().empty()) return out;

  const v1::EvaluationResult& latest = *job.evaluations().rbegin();
  absl::StrAppend(&out, "evaluation (", EvaluationTitle(latest), "):\n");
  absl::StrAppend(&out,
                  absl::StrFormat("  %-16s %9s %6s %6s\n", "FIELD", "QUESTIONS", "EM%", "F1%"));
  for (const v1::FieldScore& field : latest.fields()) {
    absl::StrAppend(&out,
                    absl::StrFormat("  %-16s %9d %6.1f %6.1f\n", field.field(), field.questions(),
                                    100 * field.exact_match(), 100 * field.f1()));
  }
  if (job.evaluations_size() > 1) {
    absl::StrAppend(&out, "earlier evaluations (overall EM% / F1%):\n");
    for (int i = 0; i + 1 < job.evaluations_size(); ++i) {
      const v1::EvaluationResult& earlier = job.evaluations(i);
      const v1::FieldScore* overall = OverallScore(earlier);
      absl::StrAppend(
          &out, "  ", EvaluationTitle(earlier), ": ",
          overall == nullptr
              ? std::string("-")
              : absl::StrFormat("%.1f / %.1f", 100 * overall->exact_match(), 100 * overall->f1()),
          "\n");
    }
  }
  return out;
}

std::string FormatJobTable(const std::vector<v1::Job>& jobs, absl::TimeZone zone) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"ID", "NAME", "STATE", "PROGRESS", "CREATED"});
  for (const v1::Job& job : jobs) {
    rows.push_back({job.id(), Truncate(job.spec().name(), 32), StateName(job.state()),
                    ProgressSummary(job), FormatTimestamp(job.create_time(), zone)});
  }
  return RenderTable(rows);
}

std::string FormatEventLine(const v1::JobEvent& event, absl::TimeZone zone, absl::Time fallback) {
  const absl::Time time = IsSet(event.time()) ? ToTime(event.time()) : fallback;
  const std::string stamp = absl::StrCat("[", absl::FormatTime("%H:%M:%S", time, zone), "] ");
  switch (event.kind_case()) {
    case v1::JobEvent::kStateChanged: {
      std::string line = absl::StrCat(stamp, "state ", StateName(event.state_changed()));
      if (!event.reason().empty()) absl::StrAppend(&line, ": ", event.reason());
      return line;
    }
    case v1::JobEvent::kMessage:
      return absl::StrCat(stamp, event.message());
    case v1::JobEvent::kEvaluation: {
      const v1::FieldScore* overall = OverallScore(event.evaluation());
      std::string line =
          absl::StrCat(stamp, "evaluation (", EvaluationTitle(event.evaluation()), ")");
      if (overall != nullptr) {
        absl::StrAppend(&line, absl::StrFormat(": overall EM %.1f%%, F1 %.1f%%",
                                               100 * overall->exact_match(), 100 * overall->f1()));
      }
      return line;
    }
    default:
      return "";
  }
}

}  // namespace cluedrop::cli
