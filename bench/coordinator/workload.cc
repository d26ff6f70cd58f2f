// coordinator_bench: the coordinator (the tests' MiniCluster), loopback channels,
// the synthetic corpus and scores, job submission.
#include "bench/coordinator/bench.h"

namespace cluedrop::bench {

absl::StatusOr<std::unique_ptr<test::MiniCluster>> StartCoordinator(const std::string& parent,
                                                                    size_t stream_chunk_bytes) {
  test::MiniClusterOptions options;
  options.parent_dir = parent;
  options.keep_dir = true;
  options.manager.stream_chunk_bytes = stream_chunk_bytes;
  auto cluster = std::make_unique<test::MiniCluster>(options);
  CLUEDROP_RETURN_IF_ABSL_ERROR(cluster->Start());
  return cluster;
}

absl::StatusOr<std::vector<std::shared_ptr<grpc::Channel>>> MakeChannels(int port, uint32_t count) {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (uint32_t i = 0; i < std::max(1u, count); ++i) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(kMaxMessageBytes);
    args.SetMaxSendMessageSize(kMaxMessageBytes);
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("cluedrop.bench_channel", static_cast<int>(i));
    auto channel = grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port),
                                             grpc::InsecureChannelCredentials(), args);
    if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
      return absl::UnavailableError(absl::StrCat("cannot connect to 127.0.0.1:", port));
    }
    channels.push_back(std::move(channel));
  }
  return channels;
}

void SetDeadline(grpc::ClientContext* context) {
  context->set_deadline(std::chrono::system_clock::now() + kRpcTimeout);
}

absl::Status WriteCorpus(const std::string& path, uint32_t docs, uint32_t words) {
  std::ofstream out(path, std::ios::trunc);
  WordSource source(docs * 31 + words);
  for (uint32_t i = 0; i < docs; ++i) {
    out << absl::StrFormat("{\"id\": \"d%07u\", \"text\": \"%s\"}\n", i, source.Words(words));
  }
  out.close();
  if (!out) return absl::InternalError(absl::StrCat(path, ": cannot write the corpus"));
  return absl::OkStatus();
}

absl::StatusOr<std::string> SubmitScoreOnlyJob(const std::shared_ptr<grpc::Channel>& channel,
                                               const std::string& name,
                                               const std::string& corpus_path,
                                               uint32_t shard_size_docs) {
  v1::SubmitJobRequest request;
  v1::JobSpec* spec = request.mutable_spec();
  spec->set_name(name);
  spec->mutable_corpus()->add_paths(corpus_path);
  spec->mutable_corpus()->set_format(v1::CORPUS_FORMAT_JSONL);
  spec->mutable_corpus()->set_shard_size_docs(shard_size_docs);
  // Never opened: the simulated workers do not load models.
  spec->mutable_reference_models()->mutable_large()->set_checkpoint_dir("/bench/large");
  spec->mutable_reference_models()->mutable_small()->set_checkpoint_dir("/bench/small");
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::Job job;
  grpc::Status status = v1::JobService::NewStub(channel)->SubmitJob(&context, request, &job);
  if (!status.ok()) {
    return absl::InternalError(absl::StrCat("SubmitJob: ", status.error_message()));
  }
  return job.id();
}

absl::StatusOr<v1::Job> GetJob(const std::shared_ptr<grpc::Channel>& channel,
                               const std::string& job_id) {
  v1::GetJobRequest request;
  request.set_job_id(job_id);
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::Job job;
  grpc::Status status = v1::JobService::NewStub(channel)->GetJob(&context, request, &job);
  if (!status.ok()) return absl::InternalError(absl::StrCat("GetJob: ", status.error_message()));
  return job;
}

v1::ScoredDocument ScoreSynthetically(const v1::Document& doc) {
  v1::ScoredDocument out;
  out.set_id(doc.id());
  const std::string& text = doc.text();
  uint32_t k = 0;
  for (size_t begin = 0; begin < text.size();) {
    size_t end = text.find(' ', begin);
    if (end == std::string::npos) end = text.size();
    if (end > begin) {
      uint32_t hash = 2166136261u;  // FNV-1a of the word: a plausible token id
      for (size_t i = begin; i < end; ++i) {
        hash = (hash ^ static_cast<uint8_t>(text[i])) * 16777619u;
      }
      out.add_tokens(static_cast<int32_t>(hash % 32000));
      out.add_offsets(static_cast<uint32_t>(begin));
      out.add_offsets(static_cast<uint32_t>(end));
      const float large = 1.0f / static_cast<float>(2 + (hash % 61));
      const float small = 1.0f / static_cast<float>(2 + (k % 37));
      out.add_received_large(large);
      out.add_received_small(small);
      out.add_contrast(large - small);
      ++k;
    }
    begin = end + 1;
  }
  return out;
}

}  // namespace cluedrop::bench
