// The coordinator's durable state in SQLite: jobs, shards (with their input
// documents), workers, events and trainer ranks. WAL journal, synchronous
// FULL: a call that returns OK has reached the disk. Schema versioned in the
// `meta` table (docs/coordinator.md lists the tables); a database written by
// a newer schema is refused.
//
// Lease expiry times and worker heartbeat times are NOT stored (a heartbeat
// would cost an fsync): on recovery every open lease gets a fresh TTL and
// every known worker counts as just seen.
//
// Example:
//   CLUEDROP_ASSIGN_OR_RETURN(auto store, StateStore::Open(dir + "/state.db"));
//   CLUEDROP_RETURN_IF_ABSL_ERROR(store->Write([&](StateStore::Writer& w) {
//     CLUEDROP_RETURN_IF_ABSL_ERROR(w.PutJob(job));
//     return w.AppendEvent(event);
//   }));
//   CLUEDROP_ASSIGN_OR_RETURN(StateSnapshot snapshot, store->Load());
//
// Not thread-safe: the JobManager serialises access.
#ifndef CLUEDROP_COORDINATOR_STATE_STORE_H_
#define CLUEDROP_COORDINATOR_STATE_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cluedrop/v1/job.pb.h"
#include "cluedrop/v1/scored.pb.h"
#include "coordinator/lease_scheduler.h"
#include "coordinator/sqlite_db.h"

namespace cluedrop::coordinator {

// 2: workers and trainer ranks record their owner identity.
inline constexpr int kStateSchemaVersion = 2;

struct TrainerRank {
  uint32_t rank = 0;
  std::string name;
  std::string store_address;
  // The authenticated identity that joined as this rank ("" when the
  // coordinator runs without identities).
  std::string owner;
};

// One job as stored.
struct StoredJob {
  v1::Job job;
  int64_t order = 0;
  std::string request_id;
  std::vector<ShardInfo> shards;
  std::vector<v1::JobEvent> events;
  std::vector<TrainerRank> trainers;
  uint32_t generation = 0;
};

struct StateSnapshot {
  std::vector<StoredJob> jobs;  // in submission order
  std::vector<WorkerInfo> workers;
};

class StateStore {
 public:
  // Writes inside one transaction.
  class Writer {
   public:
    explicit Writer(SqliteDb* db) : db_(db) {}
    // A new job with its shards and their documents (parallel to `shards`).
    absl::Status InsertJob(const v1::Job& job, int64_t order, const std::string& request_id,
                           const std::vector<ShardInfo>& shards,
                           const std::vector<std::vector<v1::Document>>& documents);
    // Updates the job row (state, progress, evaluations, ...).
    absl::Status PutJob(const v1::Job& job);
    // Updates a shard's scheduling columns (not its documents).
    absl::Status PutShard(const std::string& job_id, const ShardInfo& shard);
    absl::Status AppendEvent(const v1::JobEvent& event);
    absl::Status PutWorker(const WorkerInfo& worker);
    absl::Status DeleteWorker(const std::string& worker_id);
    absl::Status PutTrainer(const std::string& job_id, const TrainerRank& trainer,
                            uint32_t generation);

   private:
    SqliteDb* db_;
  };

  // Opens or creates the database and migrates the schema. DATA_LOSS when the
  // file is not a database; FAILED_PRECONDITION when its schema is newer.
  static absl::StatusOr<std::unique_ptr<StateStore>> Open(const std::string& path);

  enum class Durability {
    kSync,  // fsynced before Write returns (synchronous=FULL)
    // Committed but not fsynced (synchronous=NORMAL): survives a process
    // crash, may be lost with the machine until the next kSync commit. For
    // state that is safe to lose (a lease grant: the shard is leased again).
    kLazy,
  };

  // Runs `body` in one transaction; nothing is written unless it returns OK
  // and the commit succeeds.
  absl::Status Write(const std::function<absl::Status(Writer&)>& body,
                     Durability durability = Durability::kSync);

  // Everything, for recovery.
  absl::StatusOr<StateSnapshot> Load();
  // The input documents of one shard. NOT_FOUND when absent; DATA_LOSS when
  // the stored blob does not parse.
  absl::StatusOr<std::vector<v1::Document>> ShardDocuments(const std::string& job_id,
                                                           uint32_t index);

 private:
  explicit StateStore(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}
  absl::Status Migrate();

  std::unique_ptr<SqliteDb> db_;
};

// Length-prefixed (u32 little-endian) serialized documents.
std::string EncodeDocuments(const std::vector<v1::Document>& documents);
absl::StatusOr<std::vector<v1::Document>> DecodeDocuments(absl::string_view bytes);

}  // namespace cluedrop::coordinator

#endif  // CLUEDROP_COORDINATOR_STATE_STORE_H_
