// `cluedrop results JOB_ID --output FILE.jsonl`: downloads a job's scored
// shards (TrainService.StreamShards over every rank's partition), checks
// each shard's CRC-32C against the coordinator's, and writes one JSON object
// per document in corpus order, in the format of `cluedrop score` plus the
// document's QA items:
//   {"id", "text", "tokens", "offsets", "received_large", "received_small",
//    "contrast", "qa_items": [{"subject", "field", "answer"}]}   (NaN -> null)
// Shards still being scored are waited for. The file appears atomically.
#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/absl_status.h"
#include "cli/cli.h"
#include "cli/job_client.h"
#include "cluedrop/v1/train_service.grpc.pb.h"
#include "runtime/channel.h"
#include "runtime/flags.h"
#include "shard/crc32c.h"
#include "shard/record_codec.h"
#include "workers/model/checkpoint/atomic_file.h"

namespace cluedrop::cli {
namespace {

// Times one rank's stream is resumed after UNAVAILABLE or RESOURCE_EXHAUSTED.
constexpr int kMaxStreamResumes = 20;

nlohmann::ordered_json Scores(const google::protobuf::RepeatedField<float>& values) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (float x : values) {
    out.push_back(std::isnan(x) ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(x));
  }
  return out;
}

std::string JsonLine(const v1::ScoredDocument& d) {
  nlohmann::ordered_json j;
  j["id"] = d.id();
  j["text"] = d.text();
  j["tokens"] = std::vector<int32_t>(d.tokens().begin(), d.tokens().end());
  nlohmann::ordered_json offsets = nlohmann::ordered_json::array();
  for (int k = 0; k + 1 < d.offsets_size(); k += 2) {
    offsets.push_back({d.offsets(k), d.offsets(k + 1)});
  }
  j["offsets"] = std::move(offsets);
  j["received_large"] = Scores(d.received_large());
  j["received_small"] = Scores(d.received_small());
  j["contrast"] = Scores(d.contrast());
  nlohmann::ordered_json qa = nlohmann::ordered_json::array();
  for (const v1::QaItem& item : d.qa_items()) {
    qa.push_back({{"subject", item.subject()}, {"field", item.field()}, {"answer", item.answer()}});
  }
  j["qa_items"] = std::move(qa);
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

// CRC-32C of a shard's stored payload (docs/shard-format.md): each document
// as a u32 little-endian length and its serialized bytes.
uint32_t PayloadCrc(const std::vector<v1::ScoredDocument>& docs) {
  std::string payload;
  for (const v1::ScoredDocument& d : docs) shard::AppendRecord(d, &payload);
  return shard::Crc32c(payload);
}

}  // namespace

int RunResults(const std::vector<std::string>& args) {
  const JobCommandEnv env = DefaultJobCommandEnv();
  JobClientOptions client;
  std::string output;
  FlagSet flags("cluedrop results",
                "downloads a job's scored shards (waiting for shards still being scored), "
                "verifies their checksums and writes JSONL like `cluedrop score`, with qa_items.");
  flags.AddUsageNote("Usage: cluedrop results JOB_ID --output FILE.jsonl [flags]");
  AddJobClientFlags(&flags, &client);
  flags.Add("output", &output, "JSONL file to write (atomically)").Required();
  std::vector<std::string> positional;
  if (auto exit = ParseJobCommandFlags(flags, args, 1, "JOB_ID", env, &positional, &client))
    return *exit;
  const std::string& job_id = positional[0];

  absl::StatusOr<std::unique_ptr<JobStub>> jobs = env.connect(client);
  if (!jobs.ok()) return ReportError(env, "results", client, jobs.status());
  v1::GetJobRequest get;
  get.set_job_id(job_id);
  v1::Job job;
  {
    std::unique_ptr<grpc::ClientContext> context = NewCallContext(client);
    grpc::Status status = (*jobs)->GetJob(context.get(), get, &job);
    if (!status.ok()) return ReportRpcError(env, "results", client, status);
  }
  const uint32_t world =
      job.spec().has_target_model() ? std::max(1u, job.spec().training().world_size()) : 1u;
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = ConnectCoordinator(client);
  if (!channel.ok()) return ReportError(env, "results", client, channel.status());
  auto train = v1::TrainService::NewStub(*channel);

  // Shard index -> its documents; rank r's k-th shard is index r + k * world.
  std::map<uint64_t, std::vector<v1::ScoredDocument>> shards;
  uint64_t documents = 0;
  for (uint32_t rank = 0; rank < world; ++rank) {
    // A stream the coordinator ends early (a restart, --max_stream_seconds)
    // is resumed from the rank's next shard.
    uint64_t cursor = 0;
    for (int attempt = 0;; ++attempt) {
      v1::StreamShardsRequest request;
      request.set_job_id(job_id);
      request.set_rank(rank);
      request.set_cursor(cursor);
      grpc::ClientContext context;  // no deadline: shards may still be scoring
      if (!client.token.empty()) context.AddMetadata("authorization", "Bearer " + client.token);
      auto reader = train->StreamShards(&context, request);
      v1::ScoredShardChunk chunk;
      std::vector<v1::ScoredDocument> pending;
      while (reader->Read(&chunk)) {
        for (v1::ScoredDocument& d : *chunk.mutable_documents()) pending.push_back(std::move(d));
        if (!chunk.last()) continue;
        const uint32_t crc = PayloadCrc(pending);
        if (crc != chunk.checksum()) {
          return ReportError(
              env, "results", client,
              absl::DataLossError(absl::StrCat(
                  "shard ", chunk.shard_id(), ": checksum ", crc,
                  " of the received documents differs from the stored ", chunk.checksum())));
        }
        documents += pending.size();
        shards[rank + chunk.index() * world] = std::move(pending);
        pending.clear();
        cursor = chunk.index() + 1;
        *env.err << "\rresults: " << shards.size() << "/" << job.progress().shards_total()
                 << " shards, " << documents << " documents" << std::flush;
      }
      grpc::Status status = reader->Finish();
      if (status.ok()) break;
      const bool resumable = status.error_code() == grpc::StatusCode::UNAVAILABLE ||
                             status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED;
      if (!resumable || attempt >= kMaxStreamResumes) {
        *env.err << "\n";
        return ReportRpcError(env, "results", client, status);
      }
      *env.err << "\nresults: stream of rank " << rank << " ended (" << status.error_message()
               << "); resuming at shard " << cursor << std::endl;
      absl::SleepFor(absl::Seconds(std::min(1 << std::min(attempt, 4), 10)));
    }
  }
  *env.err << "\n";
  std::string text;
  for (const auto& [index, docs] : shards) {
    for (const v1::ScoredDocument& d : docs) text += JsonLine(d);
  }
  StatusOr<std::unique_ptr<model::AtomicFileWriter>> file = model::AtomicFileWriter::Create(output);
  Status written = file.ok() ? (*file)->Append(text) : file.status();
  if (written.ok()) written = (*file)->Commit();
  if (!written.ok()) {
    return ReportError(env, "results", client,
                       Annotate(ToAbslStatus(written), absl::StrCat("--output ", output)));
  }
  *env.out << output << ": " << documents << " documents from " << shards.size() << " shards\n";
  return 0;
}

}  // namespace cluedrop::cli
