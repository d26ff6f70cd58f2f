// coordinator_bench, table 1: lease + complete against its floors.
#include "bench/coordinator/bench.h"

namespace cluedrop::bench {

absl::Status LeaseTable(const CoordinatorBenchOptions& options, const std::string& root, json* out,
                        std::vector<std::string>* failures) {
  const std::string dir = root + "/lease";
  fs::create_directories(dir);
  const std::string corpus = dir + "/corpus.jsonl";
  const uint32_t docs = options.lease_shards * options.lease_shard_docs;
  CLUEDROP_RETURN_IF_ABSL_ERROR(WriteCorpus(corpus, docs, options.lease_doc_words));

  // The disk floors run half before and half after the coordinator, so that
  // a change in the disk's load during the run affects both sides alike.
  // Their files are as large as the coordinator's shard files.
  size_t file_size = 32;  // docs/shard-format.md: header, then length-prefixed records
  {
    WordSource source(1);
    for (uint32_t i = 0; i < options.lease_shard_docs; ++i) {
      v1::Document doc;
      doc.set_id(absl::StrFormat("d%07u", i));
      doc.set_text(source.Words(options.lease_doc_words));
      v1::ScoredDocument scored = ScoreSynthetically(doc);
      scored.set_text(doc.text());  // the coordinator stores its own copy of the text
      file_size += 4 + scored.ByteSizeLong();
    }
  }
  std::fprintf(stderr, "table 1: SQLite and file-write references (first half)...\n");
  CLUEDROP_ASSIGN_OR_RETURN(FloorRun sqlite,
                            RunBareSqlite(dir + "/floor-1.db", (options.sqlite_txns + 1) / 2));
  CLUEDROP_ASSIGN_OR_RETURN(
      FloorRun files,
      RunBareFileWrites(dir + "/floor-files-1", (options.file_writes + 1) / 2, file_size));

  ScorerRun scorers;
  UnaryRun health;
  std::string job_id, state;
  uint32_t shards_scored = 0;
  double submit_s = 0;
  {
    CLUEDROP_ASSIGN_OR_RETURN(std::unique_ptr<test::MiniCluster> cluster,
                              StartCoordinator(dir, 1 << 20));
    CLUEDROP_ASSIGN_OR_RETURN(auto channels,
                              MakeChannels(cluster->coordinator().port(), options.channels));
    const auto submit_start = Clock::now();
    CLUEDROP_ASSIGN_OR_RETURN(job_id, SubmitScoreOnlyJob(channels[0], "coordinator-bench-lease",
                                                         corpus, options.lease_shard_docs));
    submit_s = SecondsSince(submit_start);
    std::fprintf(stderr, "table 1: job %s submitted (%u docs, %.2f s); %u workers leasing...\n",
                 job_id.c_str(), docs, submit_s, options.workers);
    scorers = RunScorers(channels, options.workers, options.lease_shards, options.lease_wait_ms);
    CLUEDROP_ASSIGN_OR_RETURN(v1::Job job, GetJob(channels[0], job_id));
    state = v1::JobState_Name(job.state());
    shards_scored = job.progress().shards_scored();
    std::fprintf(stderr, "table 1: %s after %.2f s; health-check reference...\n", state.c_str(),
                 scorers.seconds);
    health = RunHealthChecks(channels, options.workers, options.health_calls);
  }
  std::fprintf(stderr, "table 1: SQLite and file-write references (second half)...\n");
  CLUEDROP_ASSIGN_OR_RETURN(FloorRun sqlite_after,
                            RunBareSqlite(dir + "/floor-2.db", options.sqlite_txns / 2));
  sqlite.Merge(sqlite_after);
  CLUEDROP_ASSIGN_OR_RETURN(
      FloorRun files_after,
      RunBareFileWrites(dir + "/floor-files-2", options.file_writes / 2, file_size));
  files.Merge(files_after);

  const double ops_s = scorers.completed / scorers.seconds;
  const double sqlite_s = sqlite.ops / sqlite.seconds;
  const double file_s = files.ops / files.seconds;
  const double health_s = health.calls / health.seconds;
  const double txn_ms = 1000 / sqlite_s, file_ms = 1000 / file_s;
  const double serial_floor = 1000 / (2 * txn_ms + file_ms);
  const double locked_ceiling = 1000 / (2 * txn_ms);
  const uint64_t duplicates = scorers.duplicate_leases + scorers.rejected;

  if (duplicates != 0) {
    failures->push_back(absl::StrCat("table 1: ", duplicates, " duplicates"));
  }
  if (state != "JOB_STATE_SUCCEEDED") failures->push_back("table 1: job state " + state);
  if (scorers.errors != 0) {
    failures->push_back(
        absl::StrCat("table 1: ", scorers.errors, " RPC errors, first: ", scorers.first_error));
  }
  if (health.errors != 0) {
    failures->push_back(absl::StrCat("table 1: ", health.errors, " health-check errors"));
  }

  const double coordinator_rpc_s = 2 * ops_s;
  json rows = json::array();
  auto row_json = [&](const std::string& name, double per_s, Latencies* ms, double vs) {
    json row = {{"row", name}, {"per_s", per_s}, {"coordinator_over_row", vs}};
    if (ms != nullptr) {
      row["p50_ms"] = ms->Quantile(0.5);
      row["p99_ms"] = ms->Quantile(0.99);
    }
    rows.push_back(row);
  };
  row_json("coordinator op (LeaseShard + CompleteShard)", ops_s, nullptr, 1);
  row_json("coordinator LeaseShard", NAN, &scorers.lease_ms, NAN);
  row_json("coordinator CompleteShard", NAN, &scorers.complete_ms, NAN);
  row_json("(a) SQLite fsynced txn", sqlite_s, &sqlite.ms, ops_s / sqlite_s);
  row_json("(a) shard file write", file_s, &files.ms, ops_s / file_s);
  row_json("(a) floor 1/(2 txn + 1 file)", serial_floor, nullptr, ops_s / serial_floor);
  row_json("(a) ceiling 1/(2 txn)", locked_ceiling, nullptr, ops_s / locked_ceiling);
  row_json("(b) gRPC health Check", health_s, &health.ms, ops_s / health_s);
  (*out)["lease"] = {
      {"workers", options.workers},
      {"channels", options.channels},
      {"shards", options.lease_shards},
      {"shard_docs", options.lease_shard_docs},
      {"doc_words", options.lease_doc_words},
      {"job_state", state},
      {"shards_scored", shards_scored},
      {"seconds", scorers.seconds},
      {"submit_seconds", submit_s},
      {"duplicate_leases", scorers.duplicate_leases},
      {"rejected_completions", scorers.rejected},
      {"empty_polls", scorers.empty_polls},
      {"rpc_errors", scorers.errors},
      {"shard_file_bytes", file_size},
      {"rows", rows},
  };
  if (options.json) return absl::OkStatus();

  std::printf(
      "\nTable 1: lease + complete, %u workers (threads) over %u loopback TCP channels, "
      "%u shards x %u docs x %u words, score-only job\n",
      options.workers, options.channels, options.lease_shards, options.lease_shard_docs,
      options.lease_doc_words);
  Table table({"row", "ops/s", "p50 ms", "p99 ms", "coordinator/row"});
  auto quantiles = [](Latencies& ms) {
    return std::make_pair(Fmt(ms.Quantile(0.5), 2), Fmt(ms.Quantile(0.99), 2));
  };
  table.Add({"coordinator: 1 op = LeaseShard + CompleteShard", Fmt(ops_s), "", "", "1.000"});
  auto [lease50, lease99] = quantiles(scorers.lease_ms);
  table.Add({"  LeaseShard (calls that got a shard)", "", lease50, lease99, ""});
  auto [complete50, complete99] = quantiles(scorers.complete_ms);
  table.Add({absl::StrCat("  CompleteShard (header + ", options.lease_shard_docs, " docs)"), "",
             complete50, complete99, ""});
  auto [sqlite50, sqlite99] = quantiles(sqlite.ms);
  table.Add({"(a) SQLite txn: 1 UPDATE, WAL, sync=FULL, 1 thread", Fmt(sqlite_s), sqlite50,
             sqlite99, Ratio(ops_s, sqlite_s)});
  auto [file50, file99] = quantiles(files.ms);
  table.Add({absl::StrCat("(a) shard file write ", file_size, " B: fsync+rename+dir fsync"),
             Fmt(file_s), file50, file99, Ratio(ops_s, file_s)});
  table.Add({"(a) durability floor, serial: 1/(2 txn + 1 file)", Fmt(serial_floor), "", "",
             Ratio(ops_s, serial_floor)});
  table.Add({"(a) ceiling with commits under one lock: 1/(2 txn)", Fmt(locked_ceiling), "", "",
             Ratio(ops_s, locked_ceiling)});
  auto [health50, health99] = quantiles(health.ms);
  table.Add({absl::StrCat("(b) gRPC unary health Check, ", options.workers, " clients"),
             Fmt(health_s), health50, health99, Ratio(ops_s, health_s)});
  table.Print();
  std::printf(
      "duplicates: %llu (shards leased twice %llu, completions not accepted %llu)\n"
      "job: %s, %u/%u shards scored; %.2f s from first lease to last completion "
      "(%llu completions); submit %.2f s\n"
      "empty lease polls %llu, RPC errors %llu; coordinator RPCs/s (2 per op) %.1f = %.3f x (b)\n",
      static_cast<unsigned long long>(duplicates),
      static_cast<unsigned long long>(scorers.duplicate_leases),
      static_cast<unsigned long long>(scorers.rejected), state.c_str(), shards_scored,
      options.lease_shards, scorers.seconds, static_cast<unsigned long long>(scorers.completed),
      submit_s, static_cast<unsigned long long>(scorers.empty_polls),
      static_cast<unsigned long long>(scorers.errors), coordinator_rpc_s,
      coordinator_rpc_s / health_s);
  std::fflush(stdout);
  return absl::OkStatus();
}

}  // namespace cluedrop::bench
