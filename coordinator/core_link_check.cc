// Proof that the coordinator's core stands without gRPC and torch: this
// program links only cluedrop_job_manager (and so abseil, SQLite and the
// proto messages), then submits a score-only job over a fresh data directory
// and reopens it, the way the daemon does minus the RPC layer. The ctest
// coordinator.core_links_without_grpc_or_torch runs it and checks its
// dynamic dependencies and symbols (cmake/CheckCoreLink.cmake).
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "coordinator/job_manager.h"

namespace {

int Fail(const std::string& what) {
  std::fprintf(stderr, "core_link_check: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main() {
  namespace coordinator = cluedrop::coordinator;
  namespace v1 = cluedrop::v1;
  char pattern[] = "/tmp/core_link_check.XXXXXX";
  if (mkdtemp(pattern) == nullptr) return Fail("mkdtemp failed");
  const std::string dir = pattern;
  const std::string corpus = dir + "/bios.jsonl";
  {
    std::ofstream out(corpus);
    for (int i = 0; i < 3; ++i) {
      out << "{\"id\": \"p" << i << "\", \"text\": \"Person " << i << " was born in 1990.\"}\n";
    }
  }
  coordinator::JobManagerOptions options;
  options.data_dir = dir + "/data";
  v1::SubmitJobRequest request;
  v1::JobSpec* spec = request.mutable_spec();
  spec->set_name("core-link-check");
  spec->mutable_corpus()->add_paths(corpus);
  spec->mutable_corpus()->set_format(v1::CORPUS_FORMAT_JSONL);
  spec->mutable_corpus()->set_shard_size_docs(2);
  spec->mutable_reference_models()->mutable_large()->set_checkpoint_dir("/models/large");
  spec->mutable_reference_models()->mutable_small()->set_checkpoint_dir("/models/small");
  std::string job_id;
  {
    auto manager = coordinator::JobManager::Open(options, nullptr);
    if (!manager.ok()) return Fail(manager.status().ToString());
    auto job = (*manager)->Submit(request);
    if (!job.ok()) return Fail(job.status().ToString());
    job_id = job->id();
  }
  auto reopened = coordinator::JobManager::Open(options, nullptr);
  if (!reopened.ok()) return Fail(reopened.status().ToString());
  auto job = (*reopened)->GetJob(job_id);
  if (!job.ok()) return Fail(job.status().ToString());
  const bool ok = job->progress().shards_total() == 2 && job->state() == v1::JOB_STATE_QUEUED;
  (*reopened)->Shutdown();
  reopened->reset();
  std::filesystem::remove_all(dir);
  if (!ok) return Fail("recovered job has " + job->DebugString());
  std::printf("core_link_check: job %s submitted, recovered with 2 shards, QUEUED\n",
              job_id.c_str());
  return 0;
}
