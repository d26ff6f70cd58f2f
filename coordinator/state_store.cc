#include "coordinator/state_store.h"

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/absl_status.h"
#include "base/status.h"
#include "shard/record_codec.h"

namespace cluedrop::coordinator {
namespace {

constexpr char kSchemaV1[] = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE jobs(
  id TEXT PRIMARY KEY,
  ord INTEGER NOT NULL UNIQUE,
  request_id TEXT NOT NULL,
  job BLOB NOT NULL);
CREATE INDEX jobs_request ON jobs(request_id);
CREATE TABLE shards(
  job_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  shard_id TEXT NOT NULL,
  doc_count INTEGER NOT NULL,
  state INTEGER NOT NULL,
  grants INTEGER NOT NULL,
  failures INTEGER NOT NULL,
  not_before_ms INTEGER NOT NULL,
  last_error TEXT NOT NULL,
  lease_id TEXT NOT NULL,
  worker_id TEXT NOT NULL,
  checksum INTEGER NOT NULL,
  tokens INTEGER NOT NULL,
  payload_key TEXT NOT NULL,
  documents BLOB NOT NULL,
  PRIMARY KEY(job_id, idx));
CREATE TABLE workers(id TEXT PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE events(
  job_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  event BLOB NOT NULL,
  PRIMARY KEY(job_id, seq));
CREATE TABLE trainers(
  job_id TEXT NOT NULL,
  rank INTEGER NOT NULL,
  name TEXT NOT NULL,
  store_address TEXT NOT NULL,
  generation INTEGER NOT NULL,
  PRIMARY KEY(job_id, rank));
)sql";

// Version 2: the authenticated identity that registered each worker and
// holds each trainer rank ("" for state written before identities).
constexpr char kSchemaV2[] = R"sql(
ALTER TABLE workers ADD COLUMN owner TEXT NOT NULL DEFAULT '';
ALTER TABLE trainers ADD COLUMN owner TEXT NOT NULL DEFAULT '';
)sql";

absl::Status Parse(google::protobuf::MessageLite* message, absl::string_view bytes,
                   absl::string_view what) {
  if (!message->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError(absl::StrCat("state database: ", what, " does not parse"));
  }
  return absl::OkStatus();
}

}  // namespace

std::string EncodeDocuments(const std::vector<v1::Document>& documents) {
  std::string out;
  for (const v1::Document& document : documents) shard::AppendRecord(document, &out);
  return out;
}

absl::StatusOr<std::vector<v1::Document>> DecodeDocuments(absl::string_view bytes) {
  std::vector<v1::Document> documents;
  size_t pos = 0;
  while (pos < bytes.size()) {
    if (bytes.size() - pos < 4) return absl::DataLossError("documents blob: truncated length");
    uint32_t n = 0;
    for (int i = 0; i < 4; ++i)
      n |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[pos + i])) << (8 * i);
    pos += 4;
    if (bytes.size() - pos < n) return absl::DataLossError("documents blob: truncated document");
    v1::Document document;
    CLUEDROP_RETURN_IF_ABSL_ERROR(Parse(&document, bytes.substr(pos, n), "a shard document"));
    documents.push_back(std::move(document));
    pos += n;
  }
  return documents;
}

absl::StatusOr<std::unique_ptr<StateStore>> StateStore::Open(const std::string& path) {
  CLUEDROP_ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db, SqliteDb::Open(path));
  // WAL + FULL: every commit is fsynced before it returns.
  CLUEDROP_RETURN_IF_ABSL_ERROR(db->Exec("PRAGMA journal_mode=WAL"));
  CLUEDROP_RETURN_IF_ABSL_ERROR(db->Exec("PRAGMA synchronous=FULL"));
  CLUEDROP_RETURN_IF_ABSL_ERROR(db->Exec("PRAGMA foreign_keys=ON"));
  std::unique_ptr<StateStore> store(new StateStore(std::move(db)));
  CLUEDROP_RETURN_IF_ABSL_ERROR(store->Migrate());
  return store;
}

absl::Status StateStore::Migrate() {
  return db_->Transaction([&]() -> absl::Status {
    CLUEDROP_RETURN_IF_ABSL_ERROR(
        db_->Exec("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)"));
    CLUEDROP_ASSIGN_OR_RETURN(SqliteStatement get,
                              db_->Prepare("SELECT value FROM meta WHERE key = 'schema_version'"));
    CLUEDROP_ASSIGN_OR_RETURN(bool has_version, get.Step());
    int64_t version = 0;
    if (has_version) version = std::atoll(get.ColumnText(0).c_str());
    if (version > kStateSchemaVersion) {
      return absl::FailedPreconditionError(
          absl::StrCat(db_->path(), ": schema version ", version, " is newer than this build's ",
                       kStateSchemaVersion, "; run a newer coordinator"));
    }
    if (version == kStateSchemaVersion) return absl::OkStatus();
    // One step per version, in one transaction.
    if (version < 1) CLUEDROP_RETURN_IF_ABSL_ERROR(db_->Exec(kSchemaV1));
    if (version < 2) CLUEDROP_RETURN_IF_ABSL_ERROR(db_->Exec(kSchemaV2));
    CLUEDROP_ASSIGN_OR_RETURN(
        SqliteStatement put,
        db_->Prepare("INSERT OR REPLACE INTO meta(key, value) VALUES('schema_version', ?)"));
    put.Bind(1, absl::StrCat(kStateSchemaVersion));
    return put.Run();
  });
}

absl::Status StateStore::Write(const std::function<absl::Status(Writer&)>& body,
                               Durability durability) {
  Writer writer(db_.get());
  if (durability == Durability::kSync) {
    return db_->Transaction([&]() { return body(writer); });
  }
  // WAL with synchronous=NORMAL: committed, not fsynced; the next kSync
  // commit's WAL fsync makes it durable too.
  CLUEDROP_RETURN_IF_ABSL_ERROR(db_->Exec("PRAGMA synchronous=NORMAL"));
  absl::Status status = db_->Transaction([&]() { return body(writer); });
  absl::Status restored = db_->Exec("PRAGMA synchronous=FULL");
  return status.ok() ? restored : status;
}

absl::Status StateStore::Writer::InsertJob(
    const v1::Job& job, int64_t order, const std::string& request_id,
    const std::vector<ShardInfo>& shards, const std::vector<std::vector<v1::Document>>& documents) {
  if (documents.size() != shards.size()) {
    return absl::InternalError("InsertJob: documents and shards differ in count");
  }
  CLUEDROP_ASSIGN_OR_RETURN(
      SqliteStatement * insert,
      db_->Cached("INSERT INTO jobs(id, ord, request_id, job) VALUES(?, ?, ?, ?)"));
  insert->Bind(1, job.id()).Bind(2, order).Bind(3, request_id).BindBlob(4, job.SerializeAsString());
  CLUEDROP_RETURN_IF_ABSL_ERROR(insert->Run());
  for (size_t i = 0; i < shards.size(); ++i) {
    CLUEDROP_ASSIGN_OR_RETURN(
        SqliteStatement * shard,
        db_->Cached("INSERT INTO shards(job_id, idx, shard_id, doc_count, state, grants, "
                    "failures, not_before_ms, last_error, lease_id, worker_id, checksum, tokens, "
                    "payload_key, documents) VALUES(?, ?, ?, ?, 0, 0, 0, 0, '', '', '', 0, 0, "
                    "'', ?)"));
    shard->Bind(1, job.id())
        .Bind(2, shards[i].index)
        .Bind(3, shards[i].shard_id)
        .Bind(4, shards[i].doc_count)
        .BindBlob(5, EncodeDocuments(documents[i]));
    CLUEDROP_RETURN_IF_ABSL_ERROR(shard->Run());
  }
  return absl::OkStatus();
}

absl::Status StateStore::Writer::PutJob(const v1::Job& job) {
  CLUEDROP_ASSIGN_OR_RETURN(SqliteStatement * s,
                            db_->Cached("UPDATE jobs SET job = ? WHERE id = ?"));
  s->BindBlob(1, job.SerializeAsString()).Bind(2, job.id());
  return s->Run();
}

absl::Status StateStore::Writer::PutShard(const std::string& job_id, const ShardInfo& shard) {
  CLUEDROP_ASSIGN_OR_RETURN(
      SqliteStatement * s,
      db_->Cached("UPDATE shards SET state = ?, grants = ?, failures = ?, not_before_ms = ?, "
                  "last_error = ?, lease_id = ?, worker_id = ?, checksum = ?, tokens = ?, "
                  "payload_key = ? WHERE job_id = ? AND idx = ?"));
  s->Bind(1, static_cast<int64_t>(shard.state))
      .Bind(2, shard.grants)
      .Bind(3, shard.failures)
      .Bind(4, shard.not_before_ms)
      .Bind(5, shard.last_error)
      .Bind(6, shard.lease_id)
      .Bind(7, shard.worker_id)
      .Bind(8, static_cast<int64_t>(shard.checksum))
      .Bind(9, static_cast<int64_t>(shard.tokens))
      .Bind(10, shard.payload_key)
      .Bind(11, job_id)
      .Bind(12, shard.index);
  return s->Run();
}

absl::Status StateStore::Writer::AppendEvent(const v1::JobEvent& event) {
  CLUEDROP_ASSIGN_OR_RETURN(SqliteStatement * s,
                            db_->Cached("INSERT INTO events(job_id, seq, event) VALUES(?, ?, ?)"));
  s->Bind(1, event.job_id())
      .Bind(2, static_cast<int64_t>(event.sequence()))
      .BindBlob(3, event.SerializeAsString());
  return s->Run();
}

absl::Status StateStore::Writer::PutWorker(const WorkerInfo& worker) {
  CLUEDROP_ASSIGN_OR_RETURN(
      SqliteStatement * s,
      db_->Cached("INSERT OR REPLACE INTO workers(id, name, owner) VALUES(?, ?, ?)"));
  s->Bind(1, worker.worker_id).Bind(2, worker.name).Bind(3, worker.owner);
  return s->Run();
}

absl::Status StateStore::Writer::DeleteWorker(const std::string& worker_id) {
  CLUEDROP_ASSIGN_OR_RETURN(SqliteStatement * s, db_->Cached("DELETE FROM workers WHERE id = ?"));
  s->Bind(1, worker_id);
  return s->Run();
}

absl::Status StateStore::Writer::PutTrainer(const std::string& job_id, const TrainerRank& trainer,
                                            uint32_t generation) {
  CLUEDROP_ASSIGN_OR_RETURN(
      SqliteStatement * s,
      db_->Cached("INSERT OR REPLACE INTO trainers(job_id, rank, name, store_address, "
                  "generation, owner) VALUES(?, ?, ?, ?, ?, ?)"));
  s->Bind(1, job_id)
      .Bind(2, trainer.rank)
      .Bind(3, trainer.name)
      .Bind(4, trainer.store_address)
      .Bind(5, generation)
      .Bind(6, trainer.owner);
  return s->Run();
}

absl::StatusOr<StateSnapshot> StateStore::Load() {
  StateSnapshot snapshot;
  std::map<std::string, size_t> by_id;
  CLUEDROP_ASSIGN_OR_RETURN(SqliteStatement jobs,
                            db_->Prepare("SELECT id, ord, request_id, job FROM jobs ORDER BY ord"));
  while (true) {
    CLUEDROP_ASSIGN_OR_RETURN(bool row, jobs.Step());
    if (!row) break;
    StoredJob stored;
    CLUEDROP_RETURN_IF_ABSL_ERROR(
        Parse(&stored.job, jobs.ColumnBlob(3), absl::StrCat("job ", jobs.ColumnText(0))));
    stored.order = jobs.ColumnInt(1);
    stored.request_id = jobs.ColumnText(2);
    by_id[jobs.ColumnText(0)] = snapshot.jobs.size();
    snapshot.jobs.push_back(std::move(stored));
  }
  CLUEDROP_ASSIGN_OR_RETURN(
      SqliteStatement shards,
      db_->Prepare("SELECT job_id, idx, shard_id, doc_count, state, grants, failures, "
                   "not_before_ms, last_error, lease_id, worker_id, checksum, tokens, payload_key "
                   "FROM shards ORDER BY job_id, idx"));
  while (true) {
    CLUEDROP_ASSIGN_OR_RETURN(bool row, shards.Step());
    if (!row) break;
    auto job = by_id.find(shards.ColumnText(0));
    if (job == by_id.end()) continue;
    ShardInfo shard;
    shard.index = static_cast<uint32_t>(shards.ColumnInt(1));
    shard.shard_id = shards.ColumnText(2);
    shard.doc_count = static_cast<uint32_t>(shards.ColumnInt(3));
    const int64_t state = shards.ColumnInt(4);
    if (state < 0 || state > 2) {
      return absl::DataLossError(
          absl::StrCat("state database: shard ", shard.shard_id, " has unknown state ", state));
    }
    shard.state = static_cast<ShardState>(state);
    shard.grants = static_cast<uint32_t>(shards.ColumnInt(5));
    shard.failures = static_cast<uint32_t>(shards.ColumnInt(6));
    shard.not_before_ms = shards.ColumnInt(7);
    shard.last_error = shards.ColumnText(8);
    shard.lease_id = shards.ColumnText(9);
    shard.worker_id = shards.ColumnText(10);
    shard.checksum = static_cast<uint32_t>(shards.ColumnInt(11));
    shard.tokens = static_cast<uint64_t>(shards.ColumnInt(12));
    shard.payload_key = shards.ColumnText(13);
    std::vector<ShardInfo>& list = snapshot.jobs[job->second].shards;
    if (shard.index != list.size()) {
      return absl::DataLossError(
          absl::StrCat("state database: job ", job->first, " is missing shard ", list.size()));
    }
    list.push_back(std::move(shard));
  }
  CLUEDROP_ASSIGN_OR_RETURN(SqliteStatement events,
                            db_->Prepare("SELECT job_id, event FROM events ORDER BY job_id, seq"));
  while (true) {
    CLUEDROP_ASSIGN_OR_RETURN(bool row, events.Step());
    if (!row) break;
    auto job = by_id.find(events.ColumnText(0));
    if (job == by_id.end()) continue;
    v1::JobEvent event;
    CLUEDROP_RETURN_IF_ABSL_ERROR(Parse(&event, events.ColumnBlob(1), "an event"));
    snapshot.jobs[job->second].events.push_back(std::move(event));
  }
  CLUEDROP_ASSIGN_OR_RETURN(
      SqliteStatement trainers,
      db_->Prepare("SELECT job_id, rank, name, store_address, generation, owner FROM trainers "
                   "ORDER BY job_id, rank"));
  while (true) {
    CLUEDROP_ASSIGN_OR_RETURN(bool row, trainers.Step());
    if (!row) break;
    auto job = by_id.find(trainers.ColumnText(0));
    if (job == by_id.end()) continue;
    StoredJob& stored = snapshot.jobs[job->second];
    stored.trainers.push_back({static_cast<uint32_t>(trainers.ColumnInt(1)), trainers.ColumnText(2),
                               trainers.ColumnText(3), trainers.ColumnText(5)});
    stored.generation = std::max(stored.generation, static_cast<uint32_t>(trainers.ColumnInt(4)));
  }
  CLUEDROP_ASSIGN_OR_RETURN(SqliteStatement workers,
                            db_->Prepare("SELECT id, name, owner FROM workers ORDER BY id"));
  while (true) {
    CLUEDROP_ASSIGN_OR_RETURN(bool row, workers.Step());
    if (!row) break;
    snapshot.workers.push_back(
        {workers.ColumnText(0), workers.ColumnText(1), 0, workers.ColumnText(2)});
  }
  return snapshot;
}

absl::StatusOr<std::vector<v1::Document>> StateStore::ShardDocuments(const std::string& job_id,
                                                                     uint32_t index) {
  CLUEDROP_ASSIGN_OR_RETURN(
      SqliteStatement * s,
      db_->Cached("SELECT documents FROM shards WHERE job_id = ? AND idx = ?"));
  s->Bind(1, job_id).Bind(2, index);
  CLUEDROP_ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) return absl::NotFoundError(absl::StrCat("job ", job_id, " has no shard ", index));
  const std::string blob = s->ColumnBlob(0);
  s->Reset();  // end the read
  return DecodeDocuments(blob);
}

}  // namespace cluedrop::coordinator
