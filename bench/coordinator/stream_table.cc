// coordinator_bench, table 2: StreamShards against in-process and raw reads.
#include "bench/coordinator/bench.h"

namespace cluedrop::bench {

void DropCaches(const std::vector<std::string>& paths) {
  for (const std::string& path : paths) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
  }
}

StreamPass StreamOnce(v1::TrainService::Stub* stub, const std::string& job_id, bool verify,
                      const std::map<std::string, uint32_t>& expected) {
  StreamPass pass;
  auto check = [&](bool ok, const std::string& what) {
    if (!ok && pass.error.empty()) pass.error = what;
  };
  v1::StreamShardsRequest request;
  request.set_job_id(job_id);
  request.set_rank(0);
  request.set_cursor(0);
  grpc::ClientContext context;
  SetDeadline(&context);
  const auto start = Clock::now();
  std::unique_ptr<grpc::ClientReader<v1::ScoredShardChunk>> reader =
      stub->StreamShards(&context, request);
  v1::ScoredShardChunk chunk;
  std::string shard_id, record;
  uint32_t crc = 0;
  while (reader->Read(&chunk)) {
    ++pass.chunks;
    check(chunk.index() == pass.shards,
          absl::StrCat("chunk index ", chunk.index(), ", expected ", pass.shards));
    if (shard_id.empty()) shard_id = chunk.shard_id();
    check(chunk.shard_id() == shard_id, absl::StrCat("shard ", shard_id, " changed mid-shard"));
    pass.docs += chunk.documents_size();
    if (verify) {
      for (const v1::ScoredDocument& doc : chunk.documents()) {
        record.clear();
        doc.SerializeToString(&record);
        const uint32_t n = static_cast<uint32_t>(record.size());
        const char length[4] = {static_cast<char>(n), static_cast<char>(n >> 8),
                                static_cast<char>(n >> 16), static_cast<char>(n >> 24)};
        crc = shard::Crc32c(absl::string_view(length, 4), crc);
        crc = shard::Crc32c(record, crc);
        pass.doc_bytes += n;
      }
    }
    if (chunk.last()) {
      auto it = expected.find(shard_id);
      check(it != expected.end() && it->second == chunk.checksum(),
            absl::StrCat("shard ", shard_id, ": checksum ", chunk.checksum(),
                         " differs from CompleteShard's"));
      if (verify) {
        check(crc == chunk.checksum(),
              absl::StrCat("shard ", shard_id, ": CRC-32C ", crc, " of the records, chunk says ",
                           chunk.checksum()));
      }
      ++pass.shards;
      shard_id.clear();
      crc = 0;
    }
  }
  grpc::Status status = reader->Finish();
  pass.seconds = SecondsSince(start);
  check(status.ok(), absl::StrCat("StreamShards: ", status.error_message()));
  check(shard_id.empty(), "the stream ended inside a shard (no `last` chunk)");
  return pass;
}

absl::StatusOr<std::vector<size_t>> ParseSizes(const std::string& text) {
  std::vector<size_t> sizes;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    uint64_t v = 0;
    if (!absl::SimpleAtoi(part, &v) || v == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--stream_chunk_bytes: expected positive integers, got '", part, "'"));
    }
    sizes.push_back(static_cast<size_t>(v));
  }
  if (sizes.empty()) return absl::InvalidArgumentError("--stream_chunk_bytes: empty");
  return sizes;
}

std::string SizeLabel(size_t bytes) {
  if (bytes % (1 << 20) == 0) return absl::StrCat(bytes >> 20, " MiB");
  if (bytes % (1 << 10) == 0) return absl::StrCat(bytes >> 10, " KiB");
  return absl::StrCat(bytes, " B");
}

absl::Status StreamTable(const CoordinatorBenchOptions& options, const std::string& root, json* out,
                         std::vector<std::string>* failures) {
  CLUEDROP_ASSIGN_OR_RETURN(std::vector<size_t> chunk_sizes,
                            ParseSizes(options.stream_chunk_bytes));
  const std::string dir = root + "/stream";
  fs::create_directories(dir);
  const std::string corpus = dir + "/corpus.jsonl";
  const uint32_t total_docs = options.stream_shards * options.stream_shard_docs;
  CLUEDROP_RETURN_IF_ABSL_ERROR(WriteCorpus(corpus, total_docs, options.stream_doc_tokens));

  // Score the job through WorkService.
  ScorerRun ingest;
  std::string job_id, state;
  CLUEDROP_ASSIGN_OR_RETURN(std::unique_ptr<test::MiniCluster> cluster,
                            StartCoordinator(dir, chunk_sizes[0]));
  const std::string data = cluster->dir() + "/data";
  {
    CLUEDROP_ASSIGN_OR_RETURN(auto channels,
                              MakeChannels(cluster->coordinator().port(), options.ingest_workers));
    CLUEDROP_ASSIGN_OR_RETURN(job_id, SubmitScoreOnlyJob(channels[0], "coordinator-bench-stream",
                                                         corpus, options.stream_shard_docs));
    std::fprintf(stderr, "table 2: job %s submitted; scoring %u shards with %u workers...\n",
                 job_id.c_str(), options.stream_shards, options.ingest_workers);
    ingest =
        RunScorers(channels, options.ingest_workers, options.stream_shards, options.lease_wait_ms);
    CLUEDROP_ASSIGN_OR_RETURN(v1::Job job, GetJob(channels[0], job_id));
    state = v1::JobState_Name(job.state());
  }
  if (state != "JOB_STATE_SUCCEEDED") failures->push_back("table 2: job state " + state);
  if (ingest.errors != 0 || ingest.duplicate_leases + ingest.rejected != 0) {
    failures->push_back(absl::StrCat("table 2: scoring had ", ingest.errors,
                                     " errors (first: ", ingest.first_error, "), ",
                                     ingest.duplicate_leases + ingest.rejected, " duplicates"));
  }

  // The stored shard files and their payload.
  CLUEDROP_ASSIGN_OR_RETURN(std::unique_ptr<shard::ShardStore> store,
                            shard::ShardStore::Open(data + "/shards"));
  std::vector<std::string> keys, paths;
  for (const auto& entry : fs::directory_iterator(data + "/shards/" + job_id)) {
    if (entry.path().extension() != ".shard") continue;
    keys.push_back(entry.path().stem().string());
    paths.push_back(entry.path().string());
  }
  std::sort(keys.begin(), keys.end());
  std::sort(paths.begin(), paths.end());
  uint64_t doc_bytes = 0, file_bytes = 0, stored_docs = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    CLUEDROP_ASSIGN_OR_RETURN(shard::ShardFileInfo info, store->Info(job_id, keys[i]));
    doc_bytes += info.payload_bytes - 4 * uint64_t{info.document_count};
    stored_docs += info.document_count;
    file_bytes += fs::file_size(paths[i]);
  }
  if (keys.size() != options.stream_shards || stored_docs != total_docs) {
    failures->push_back(absl::StrCat("table 2: ", keys.size(), " shard files with ", stored_docs,
                                     " docs, expected ", options.stream_shards, " with ",
                                     total_docs));
  }
  const double mb = doc_bytes / 1e6;
  const uint32_t repeats = std::max(1u, options.repeats);

  struct Row {
    std::string name;
    double seconds, min_s, max_s;  // median, fastest, slowest pass
    double mb_s, docs_s;
    double vs_a = NAN, vs_b = NAN;
    size_t chunk = 0;
  };
  std::vector<Row> rows;
  auto add_row = [&](std::string name, const std::vector<double>& seconds, size_t chunk) {
    const double s = Median(seconds);
    rows.push_back({std::move(name), s, *std::min_element(seconds.begin(), seconds.end()),
                    *std::max_element(seconds.begin(), seconds.end()), mb / s, total_docs / s, NAN,
                    NAN, chunk});
  };

  // The coordinator, reopened per chunk size (recovering the job from disk);
  // plain and verifying passes alternate, so load changes hit both alike.
  std::vector<double> open_seconds;
  for (size_t chunk : chunk_sizes) {
    CLUEDROP_RETURN_IF_ABSL_ERROR(cluster->RestartCoordinator(
        [chunk](coordinator::JobManagerOptions& o) { o.stream_chunk_bytes = chunk; }));
    open_seconds.push_back(cluster->coordinator().open_seconds());
    CLUEDROP_ASSIGN_OR_RETURN(auto channels, MakeChannels(cluster->coordinator().port(), 1));
    auto stub = v1::TrainService::NewStub(channels[0]);
    std::fprintf(stderr, "table 2: StreamShards, chunk %s...\n", SizeLabel(chunk).c_str());
    std::vector<double> seconds[2];
    for (uint32_t r = 0; r < repeats; ++r) {
      for (bool verify : {false, true}) {
        if (options.cold_cache) DropCaches(paths);
        StreamPass pass = StreamOnce(stub.get(), job_id, verify, ingest.checksums);
        if (pass.error.empty() && (pass.shards != keys.size() || pass.docs != total_docs)) {
          pass.error = absl::StrCat(pass.shards, " shards / ", pass.docs, " docs streamed");
        }
        if (verify && pass.error.empty() && pass.doc_bytes != doc_bytes) {
          pass.error =
              absl::StrCat(pass.doc_bytes, " document bytes streamed, ", doc_bytes, " stored");
        }
        if (!pass.error.empty()) failures->push_back("table 2: " + pass.error);
        seconds[verify].push_back(pass.seconds);
      }
    }
    add_row(absl::StrCat("coordinator StreamShards, chunk ", SizeLabel(chunk)), seconds[0], chunk);
    add_row(absl::StrCat("coordinator StreamShards, chunk ", SizeLabel(chunk),
                         " + client CRC-32C check"),
            seconds[1], chunk);
  }

  // The references, their passes interleaved: (a) ShardStore::ReadChunks in
  // process into a no-op sink, what (a) is made of (the payload's CRC-32C
  // and the records' protobuf parsing, on the bytes already in memory), and
  // (b) raw read() of the files.
  std::fprintf(stderr, "table 2: references...\n");
  std::vector<std::string> contents;
  for (const std::string& path : paths) {
    std::ifstream in(path, std::ios::binary);
    contents.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  constexpr size_t kHeaderBytes = 32;  // docs/shard-format.md
  std::vector<std::vector<double>> read_chunks_s(chunk_sizes.size());
  std::vector<double> crc_s, parse_s, raw_s;
  std::vector<char> buffer(1 << 20);
  volatile uint32_t crc_sink = 0;
  for (uint32_t r = 0; r < repeats; ++r) {
    for (size_t c = 0; c < chunk_sizes.size(); ++c) {
      if (options.cold_cache) DropCaches(paths);
      uint64_t docs = 0;
      const auto start = Clock::now();
      for (const std::string& key : keys) {
        CLUEDROP_RETURN_IF_ABSL_ERROR(
            store->ReadChunks(job_id, key, chunk_sizes[c],
                              [&docs](std::vector<v1::ScoredDocument>&& d, bool, uint32_t) {
                                docs += d.size();
                                return true;
                              }));
      }
      read_chunks_s[c].push_back(SecondsSince(start));
      if (docs != total_docs) failures->push_back("table 2: ReadChunks lost documents");
    }
    auto start = Clock::now();
    for (const std::string& file : contents) {
      crc_sink = crc_sink ^ shard::Crc32c(absl::string_view(file).substr(kHeaderBytes));
    }
    crc_s.push_back(SecondsSince(start));
    uint64_t docs = 0;
    start = Clock::now();
    for (const std::string& file : contents) {
      std::vector<v1::ScoredDocument> parsed;
      for (size_t at = kHeaderBytes; at + 4 <= file.size();) {
        uint32_t n = 0;
        for (int i = 0; i < 4; ++i) n |= uint32_t{static_cast<uint8_t>(file[at + i])} << (8 * i);
        at += 4;
        if (!parsed.emplace_back().ParseFromArray(file.data() + at, static_cast<int>(n))) {
          return absl::DataLossError("a shard record does not parse");
        }
        at += n;
        ++docs;
      }
    }
    parse_s.push_back(SecondsSince(start));
    if (docs != total_docs) failures->push_back("table 2: in-memory parse lost documents");
    if (options.cold_cache) DropCaches(paths);
    uint64_t bytes = 0;
    start = Clock::now();
    for (const std::string& path : paths) {
      const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) return absl::InternalError(absl::StrCat(path, ": ", std::strerror(errno)));
      ssize_t n;
      while ((n = ::read(fd, buffer.data(), buffer.size())) > 0) bytes += n;
      ::close(fd);
    }
    raw_s.push_back(SecondsSince(start));
    if (bytes != file_bytes) failures->push_back("table 2: raw read came up short");
  }
  std::map<size_t, double> read_chunks_mb_s;
  for (size_t c = 0; c < chunk_sizes.size(); ++c) {
    add_row(absl::StrCat("(a) ShardStore::ReadChunks, chunk ", SizeLabel(chunk_sizes[c]),
                         ", no-op sink"),
            read_chunks_s[c], chunk_sizes[c]);
    read_chunks_mb_s[chunk_sizes[c]] = rows.back().mb_s;
  }
  add_row("(a) part: CRC-32C of the payload in memory (crc32c.cc)", crc_s, 0);
  add_row("(a) part: protobuf parse of the records in memory", parse_s, 0);
  add_row("(b) raw read() of the shard files, 1 MiB buffer", raw_s, 0);
  const double raw_mb_s = rows.back().mb_s;
  for (Row& row : rows) {
    if (row.name.rfind("coordinator", 0) != 0) continue;
    row.vs_a = row.mb_s / read_chunks_mb_s[row.chunk];
    row.vs_b = row.mb_s / raw_mb_s;
  }

  const double ingest_mb_s = ingest.payload_bytes / 1e6 / ingest.seconds;
  json json_rows = json::array();
  for (const Row& row : rows) {
    json_rows.push_back({{"row", row.name},
                         {"seconds", row.seconds},
                         {"min_seconds", row.min_s},
                         {"max_seconds", row.max_s},
                         {"mb_per_s", row.mb_s},
                         {"docs_per_s", row.docs_s},
                         {"vs_a", row.vs_a},
                         {"vs_b", row.vs_b}});
  }
  (*out)["stream"] = {
      {"shards", options.stream_shards},
      {"shard_docs", options.stream_shard_docs},
      {"doc_tokens", options.stream_doc_tokens},
      {"document_bytes", doc_bytes},
      {"file_bytes", file_bytes},
      {"repeats", repeats},
      {"cold_cache", options.cold_cache},
      {"job_state", state},
      {"ingest_mb_per_s", ingest_mb_s},
      {"ingest_shards_per_s", ingest.completed / ingest.seconds},
      {"open_seconds", open_seconds},
      {"rows", json_rows},
  };
  if (options.json) return absl::OkStatus();

  std::printf(
      "\nTable 2: StreamShards to one trainer client, %u shards x %u docs x %u tokens = %.1f MB "
      "of ScoredDocument in %u docs (%s page cache), median of %u\n",
      options.stream_shards, options.stream_shard_docs, options.stream_doc_tokens, mb, total_docs,
      options.cold_cache ? "dropped" : "warm", repeats);
  Table table({"row", "MB/s", "docs/s", "s", "s min-max", "vs (a)", "vs (b)"});
  for (const Row& row : rows) {
    table.Add({row.name, Fmt(row.mb_s), Fmt(row.docs_s, 0), Fmt(row.seconds, 3),
               absl::StrCat(Fmt(row.min_s, 3), "-", Fmt(row.max_s, 3)), Fmt(row.vs_a, 3),
               Fmt(row.vs_b, 3)});
  }
  table.Print();
  std::printf(
      "MB = 10^6 bytes of serialized ScoredDocument (the files hold %.1f MB with record "
      "prefixes and headers); vs (a): the same chunk size\n"
      "scoring the job: CompleteShard ingest %.1f MB/s, %.1f shards/s with %u workers; job %s\n"
      "JobManager::Open (recovering %u shards) before each stream: %s s\n",
      file_bytes / 1e6, ingest_mb_s, ingest.completed / ingest.seconds, options.ingest_workers,
      state.c_str(), options.stream_shards,
      absl::StrJoin(open_seconds, ", ", [](std::string* o, double s) {
        absl::StrAppend(o, absl::StrFormat("%.3f", s));
      }).c_str());
  std::fflush(stdout);
  return absl::OkStatus();
}

}  // namespace cluedrop::bench
