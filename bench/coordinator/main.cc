// Throughput of the coordinator's two hot paths, each measured side by side
// with the reference stacks it is built on, in one run on one machine and
// one disk. Prints two tables (or, with --json, one JSON object):
//
//  1. Lease + complete. --workers simulated scorer workers (one thread each,
//     sharing --channels loopback connections) register, then loop
//     LeaseShard -> CompleteShard (a client stream: header + synthetic
//     ScoredDocuments that pass the coordinator's validation) on a
//     score-only job until every shard is scored. One op = one lease plus
//     one completion. References: (a) one fsynced SQLite transaction (WAL,
//     synchronous=FULL, an UPDATE of one row) from one thread, and one
//     durable shard-file write as ShardStore does it (temp file, fsync,
//     rename, directory fsync): an op pays two such transactions (the lease
//     commit and the completion commit) and one file write; (b) bare gRPC
//     unary calls (grpc.health.v1 Check) from the same clients to the same
//     server.
//  2. Shard streaming. A score-only job of realistic shards (--stream_*)
//     is scored through WorkService, then one trainer client streams every
//     shard with TrainService.StreamShards (rank 0 of world 1), checking the
//     order, each shard's `last` chunk and its checksum (and, on alternate
//     passes, the CRC-32C of the re-serialized records). One coordinator per
//     --stream_chunk_bytes value, reopened on the same data directory.
//     References: (a) ShardStore::ReadChunks of the same files in process
//     into a no-op sink, plus its two parts on the bytes in memory (payload
//     CRC-32C, protobuf parsing); (b) raw read() of the same files.
//
// The coordinator runs in process the way cluedrop-coordinator wires it
// (CoordinatorServer, through the tests' MiniCluster): JobManager with its
// Prometheus metrics, the three services on a DaemonServer (health,
// reflection, the RPC metrics interceptor; /metrics off) on 127.0.0.1:0. Everything lives in a
// fresh directory under --data_dir (default /var/tmp: a real disk, so fsyncs cost what they cost),
// removed afterwards unless --keep_data.
//
//   coordinator_bench [--workers 200] [--lease_shards 2000] [--tables lease,stream] [--json]
//   coordinator_bench --help   (every flag with its default)
//
// Exit code 0 when every check passed (no duplicate, job SUCCEEDED, every
// shard streamed intact), 1 otherwise, 2 for bad flags.
#include "bench/coordinator/bench.h"

namespace cluedrop::bench {

int Main(int argc, char** argv) {
  CoordinatorBenchOptions options;
  FlagSet flags("coordinator_bench",
                "Measures the coordinator's lease/complete and shard-streaming throughput over "
                "loopback gRPC next to bare SQLite, bare gRPC and raw disk reads.");
  flags.Add("data_dir", &options.data_dir,
            "parent of the run's fresh data directory (use a real disk: fsyncs are measured)");
  flags.Add("keep_data", &options.keep_data, "keep the run's data directory");
  flags.Add("tables", &options.tables, "tables to measure: lease, stream or lease,stream");
  flags.Add("json", &options.json, "print one JSON object instead of the tables");
  flags.Add("workers", &options.workers, "table 1: simulated scorer workers (threads)");
  flags.Add("channels", &options.channels, "table 1: TCP connections the workers share");
  flags.Add("lease_shards", &options.lease_shards, "table 1: shards in the job");
  flags.Add("lease_shard_docs", &options.lease_shard_docs, "table 1: documents per shard");
  flags.Add("lease_doc_words", &options.lease_doc_words, "table 1: words (tokens) per document");
  flags.Add("lease_wait_ms", &options.lease_wait_ms, "LeaseShard long-poll wait, milliseconds");
  flags.Add("sqlite_txns", &options.sqlite_txns, "table 1 (a): SQLite transactions");
  flags.Add("file_writes", &options.file_writes, "table 1 (a): durable shard-file writes");
  flags.Add("health_calls", &options.health_calls, "table 1 (b): health checks per client");
  flags.Add("stream_shards", &options.stream_shards, "table 2: shards in the job");
  flags.Add("stream_shard_docs", &options.stream_shard_docs, "table 2: documents per shard");
  flags.Add("stream_doc_tokens", &options.stream_doc_tokens, "table 2: tokens per document");
  flags.Add("stream_chunk_bytes", &options.stream_chunk_bytes,
            "table 2: comma-separated JobManagerOptions.stream_chunk_bytes values to measure");
  flags.Add("ingest_workers", &options.ingest_workers,
            "table 2: workers that score the job before it is streamed");
  flags.Add("repeats", &options.repeats, "table 2: passes per row (the median is shown)");
  flags.Add("cold_cache", &options.cold_cache,
            "table 2: drop the shard files from the page cache before every pass");
  absl::StatusOr<std::vector<std::string>> args = flags.Parse(argc, argv);
  if (!args.ok()) {
    std::cerr << args.status().message() << "\n";
    return 2;
  }
  if (flags.help_requested()) {
    std::cout << flags.Usage();
    return 0;
  }
  bool lease = false, stream = false;
  for (absl::string_view table : absl::StrSplit(options.tables, ',', absl::SkipWhitespace())) {
    if (table == "lease") {
      lease = true;
    } else if (table == "stream") {
      stream = true;
    } else {
      std::cerr << "--tables: unknown table '" << table << "' (lease, stream)\n";
      return 2;
    }
  }
  if (!args->empty() || options.workers == 0 || options.lease_shards == 0 ||
      options.lease_shard_docs == 0 || options.lease_doc_words == 0 || options.stream_shards == 0 ||
      options.stream_shard_docs == 0 || options.stream_doc_tokens == 0 ||
      options.ingest_workers == 0 || options.sqlite_txns == 0 || options.file_writes == 0 ||
      options.health_calls == 0) {
    std::cerr << "coordinator_bench takes no positional arguments and sizes must be > 0\n";
    return 2;
  }

  std::error_code ec;
  fs::create_directories(options.data_dir, ec);
  std::string root = options.data_dir + "/coordinator_bench.XXXXXX";
  if (::mkdtemp(root.data()) == nullptr) {
    std::cerr << root << ": " << std::strerror(errno) << "\n";
    return 1;
  }
  const std::string filesystem = DescribeFilesystem(root);
  const std::string cpu = FirstLineWith("/proc/cpuinfo", "model name");
  const unsigned cores = std::thread::hardware_concurrency();
  json out = {{"machine",
               {{"cores", cores}, {"cpu", cpu}, {"data_dir", root}, {"filesystem", filesystem}}}};
  if (!options.json) {
    std::printf("coordinator_bench: %u cores (%s); data in %s: %s\n", cores, cpu.c_str(),
                root.c_str(), filesystem.c_str());
    std::fflush(stdout);
  }
  std::vector<std::string> failures;
  absl::Status status;
  if (lease) status = LeaseTable(options, root, &out, &failures);
  if (status.ok() && stream) status = StreamTable(options, root, &out, &failures);
  if (!options.keep_data) fs::remove_all(root, ec);
  if (!status.ok()) {
    std::cerr << "coordinator_bench: " << status << "\n";
    return 1;
  }
  out["failures"] = failures;
  if (options.json) std::printf("%s\n", out.dump().c_str());
  for (const std::string& failure : failures) std::cerr << "FAIL: " << failure << "\n";
  if (!failures.empty()) return 1;
  if (!options.json) std::printf("\nall checks passed\n");
  return 0;
}

}  // namespace cluedrop::bench

int main(int argc, char** argv) { return cluedrop::bench::Main(argc, argv); }
