// coordinator_bench: simulated scorer workers and the bare-gRPC reference.
#include "bench/coordinator/bench.h"

namespace cluedrop::bench {

ScorerRun RunScorers(const std::vector<std::shared_ptr<grpc::Channel>>& channels, uint32_t workers,
                     uint64_t total_shards, uint32_t lease_wait_ms) {
  ScorerRun run;
  std::mutex mu;
  std::set<std::string> leased;
  std::atomic<uint64_t> completed{0};
  std::atomic<bool> done{false};
  std::atomic<uint64_t> errors{0};
  Clock::time_point start, end;
  std::latch ready(workers + 1);
  std::vector<std::thread> threads;
  for (uint32_t w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      auto stub = v1::WorkService::NewStub(channels[w % channels.size()]);
      ScorerRun mine;
      auto fail = [&](const std::string& what, const grpc::Status& status) {
        ++mine.errors;
        if (mine.first_error.empty()) {
          mine.first_error = absl::StrCat(what, ": ", status.error_message());
        }
        if (errors.fetch_add(1) > 100) done = true;  // give up: something is broken
      };
      std::string worker_id;
      {
        v1::RegisterWorkerRequest request;
        request.set_name(absl::StrCat("bench-scorer-", w));
        request.mutable_capabilities()->add_devices("cpu");
        v1::RegisterWorkerResponse response;
        grpc::ClientContext context;
        SetDeadline(&context);
        grpc::Status status = stub->RegisterWorker(&context, request, &response);
        if (!status.ok()) fail("RegisterWorker", status);
        worker_id = response.worker_id();
      }
      ready.arrive_and_wait();
      while (!done && !worker_id.empty()) {
        v1::LeaseShardRequest request;
        request.set_worker_id(worker_id);
        request.set_wait_ms(lease_wait_ms);
        v1::LeaseShardResponse response;
        grpc::ClientContext context;
        SetDeadline(&context);
        const auto lease_start = Clock::now();
        grpc::Status status = stub->LeaseShard(&context, request, &response);
        if (!status.ok()) {
          fail("LeaseShard", status);
          continue;
        }
        if (!response.has_lease()) {
          ++mine.empty_polls;
          continue;
        }
        mine.lease_ms.Add(1000 * SecondsSince(lease_start));
        const v1::ShardLease& lease = response.lease();
        {
          std::lock_guard<std::mutex> lock(mu);
          if (!leased.insert(lease.shard_id()).second) ++mine.duplicate_leases;
        }
        std::vector<v1::ScoredDocument> scored;
        scored.reserve(lease.documents_size());
        uint64_t tokens = 0;
        for (const v1::Document& doc : lease.documents()) {
          scored.push_back(ScoreSynthetically(doc));
          tokens += scored.back().tokens_size();
          mine.payload_bytes += scored.back().ByteSizeLong();
        }
        grpc::ClientContext complete_context;
        SetDeadline(&complete_context);
        v1::CompleteShardResponse completion;
        const auto complete_start = Clock::now();
        std::unique_ptr<grpc::ClientWriter<v1::CompleteShardRequest>> writer =
            stub->CompleteShard(&complete_context, &completion);
        v1::CompleteShardRequest message;
        v1::CompleteShardHeader* header = message.mutable_header();
        header->set_worker_id(worker_id);
        header->set_lease_id(lease.lease_id());
        header->set_shard_id(lease.shard_id());
        header->set_job_id(lease.job_id());
        header->set_document_count(static_cast<uint32_t>(scored.size()));
        header->set_tokens_scored(tokens);
        bool sent = writer->Write(message);
        for (size_t i = 0; sent && i < scored.size(); ++i) {
          message.Clear();
          *message.mutable_document() = std::move(scored[i]);
          sent = writer->Write(message);
        }
        writer->WritesDone();
        status = writer->Finish();
        if (!status.ok()) {
          fail("CompleteShard", status);
          continue;
        }
        mine.complete_ms.Add(1000 * SecondsSince(complete_start));
        if (!completion.accepted()) {
          ++mine.rejected;
          continue;
        }
        mine.checksums[lease.shard_id()] = completion.checksum();
        if (completed.fetch_add(1) + 1 == total_shards) {
          end = Clock::now();
          done = true;
        }
      }
      std::lock_guard<std::mutex> lock(mu);
      run.lease_ms.Merge(mine.lease_ms);
      run.complete_ms.Merge(mine.complete_ms);
      run.duplicate_leases += mine.duplicate_leases;
      run.rejected += mine.rejected;
      run.empty_polls += mine.empty_polls;
      run.errors += mine.errors;
      if (run.first_error.empty()) run.first_error = mine.first_error;
      run.payload_bytes += mine.payload_bytes;
      run.checksums.insert(mine.checksums.begin(), mine.checksums.end());
    });
  }
  ready.arrive_and_wait();
  start = Clock::now();
  for (std::thread& t : threads) t.join();
  run.completed = completed;
  run.seconds = run.completed == total_shards ? std::chrono::duration<double>(end - start).count()
                                              : SecondsSince(start);
  return run;
}

UnaryRun RunHealthChecks(const std::vector<std::shared_ptr<grpc::Channel>>& channels,
                         uint32_t clients, uint32_t calls) {
  UnaryRun run;
  std::mutex mu;
  std::latch ready(clients + 1);
  std::vector<std::thread> threads;
  for (uint32_t c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      auto stub = grpc::health::v1::Health::NewStub(channels[c % channels.size()]);
      Latencies mine;
      uint64_t errors = 0;
      ready.arrive_and_wait();
      for (uint32_t i = 0; i < calls; ++i) {
        grpc::health::v1::HealthCheckRequest request;
        grpc::health::v1::HealthCheckResponse response;
        grpc::ClientContext context;
        SetDeadline(&context);
        const auto start = Clock::now();
        if (!stub->Check(&context, request, &response).ok()) ++errors;
        mine.Add(1000 * SecondsSince(start));
      }
      std::lock_guard<std::mutex> lock(mu);
      run.ms.Merge(mine);
      run.errors += errors;
    });
  }
  ready.arrive_and_wait();
  const auto start = Clock::now();
  for (std::thread& t : threads) t.join();
  run.seconds = SecondsSince(start);
  run.calls = uint64_t{clients} * calls;
  return run;
}

}  // namespace cluedrop::bench
