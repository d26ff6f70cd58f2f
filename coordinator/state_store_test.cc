#include "coordinator/state_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "base/absl_status.h"

namespace cluedrop::coordinator {
namespace {

class StateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/state_store_test.XXXXXX";
    dir_ = mkdtemp(pattern);
    path_ = dir_ + "/state.db";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static v1::Job MakeJob(const std::string& id) {
    v1::Job job;
    job.set_id(id);
    job.set_state(v1::JOB_STATE_QUEUED);
    job.mutable_spec()->set_name("bio");
    job.mutable_progress()->set_shards_total(2);
    return job;
  }
  static std::vector<ShardInfo> MakeShards() {
    std::vector<ShardInfo> shards(2);
    for (uint32_t i = 0; i < 2; ++i) {
      shards[i].index = i;
      shards[i].shard_id = "shard-" + std::to_string(i);
      shards[i].doc_count = 1;
    }
    return shards;
  }
  static std::vector<std::vector<v1::Document>> MakeDocs() {
    std::vector<std::vector<v1::Document>> docs(2);
    for (int i = 0; i < 2; ++i) {
      v1::Document d;
      d.set_id("doc-" + std::to_string(i));
      d.set_text("Liam was born in Melbourne.");
      v1::QaItem* qa = d.add_qa_items();
      qa->set_subject("Liam");
      qa->set_field("city");
      qa->set_answer("Melbourne");
      docs[i].push_back(d);
    }
    return docs;
  }

  std::string dir_;
  std::string path_;
};

TEST_F(StateStoreTest, EverythingWrittenIsLoadedAfterReopen) {
  {
    auto store = StateStore::Open(path_);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)
                    ->Write([&](StateStore::Writer& w) {
                      return w.InsertJob(MakeJob("job-1"), 7, "req-1", MakeShards(), MakeDocs());
                    })
                    .ok());
    ShardInfo scored = MakeShards()[1];
    scored.state = ShardState::kScored;
    scored.grants = 2;
    scored.failures = 1;
    scored.last_error = "lease expired";
    scored.checksum = 0xdeadbeef;
    scored.tokens = 1234;
    scored.payload_key = "shard-1.lease-x";
    v1::Job running = MakeJob("job-1");
    running.set_state(v1::JOB_STATE_SCORING);
    v1::JobEvent event;
    event.set_job_id("job-1");
    event.set_sequence(1);
    event.set_state_changed(v1::JOB_STATE_SCORING);
    absl::Status s = (*store)->Write([&](StateStore::Writer& w) -> absl::Status {
      CLUEDROP_RETURN_IF_ABSL_ERROR(w.PutShard("job-1", scored));
      CLUEDROP_RETURN_IF_ABSL_ERROR(w.PutJob(running));
      CLUEDROP_RETURN_IF_ABSL_ERROR(w.AppendEvent(event));
      CLUEDROP_RETURN_IF_ABSL_ERROR(w.PutWorker({"worker-1", "pod-0", 0, ""}));
      CLUEDROP_RETURN_IF_ABSL_ERROR(w.PutWorker({"worker-2", "pod-1", 0, ""}));
      CLUEDROP_RETURN_IF_ABSL_ERROR(w.DeleteWorker("worker-2"));
      return w.PutTrainer("job-1", {1, "trainer-1", "10.0.0.2:29500", ""}, 3);
    });
    ASSERT_TRUE(s.ok()) << s;
  }
  auto store = StateStore::Open(path_);
  ASSERT_TRUE(store.ok());
  auto snapshot = (*store)->Load();
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  ASSERT_EQ(snapshot->jobs.size(), 1u);
  const StoredJob& job = snapshot->jobs[0];
  EXPECT_EQ(job.job.id(), "job-1");
  EXPECT_EQ(job.job.state(), v1::JOB_STATE_SCORING);
  EXPECT_EQ(job.order, 7);
  EXPECT_EQ(job.request_id, "req-1");
  ASSERT_EQ(job.shards.size(), 2u);
  EXPECT_EQ(job.shards[0].state, ShardState::kPending);
  EXPECT_EQ(job.shards[1].state, ShardState::kScored);
  EXPECT_EQ(job.shards[1].checksum, 0xdeadbeefu);
  EXPECT_EQ(job.shards[1].tokens, 1234u);
  EXPECT_EQ(job.shards[1].failures, 1u);
  EXPECT_EQ(job.shards[1].grants, 2u);
  EXPECT_EQ(job.shards[1].last_error, "lease expired");
  EXPECT_EQ(job.shards[1].payload_key, "shard-1.lease-x");
  ASSERT_EQ(job.events.size(), 1u);
  EXPECT_EQ(job.events[0].state_changed(), v1::JOB_STATE_SCORING);
  ASSERT_EQ(job.trainers.size(), 1u);
  EXPECT_EQ(job.trainers[0].store_address, "10.0.0.2:29500");
  EXPECT_EQ(job.generation, 3u);
  ASSERT_EQ(snapshot->workers.size(), 1u);
  EXPECT_EQ(snapshot->workers[0].name, "pod-0");
  auto docs = (*store)->ShardDocuments("job-1", 1);
  ASSERT_TRUE(docs.ok());
  ASSERT_EQ(docs->size(), 1u);
  EXPECT_EQ((*docs)[0].id(), "doc-1");
  EXPECT_EQ((*docs)[0].qa_items(0).answer(), "Melbourne");
  EXPECT_EQ((*store)->ShardDocuments("job-1", 5).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(StateStoreTest, FailedTransactionLeavesNothing) {
  auto store = StateStore::Open(path_);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)
                  ->Write([&](StateStore::Writer& w) {
                    return w.InsertJob(MakeJob("job-1"), 1, "", MakeShards(), MakeDocs());
                  })
                  .ok());
  // Second job: its shards go in, then the job row collides on `ord`.
  absl::Status s = (*store)->Write([&](StateStore::Writer& w) -> absl::Status {
    v1::JobEvent event;
    event.set_job_id("job-2");
    event.set_sequence(1);
    CLUEDROP_RETURN_IF_ABSL_ERROR(w.AppendEvent(event));
    return w.InsertJob(MakeJob("job-2"), 1, "", MakeShards(), MakeDocs());
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists) << s;
  auto snapshot = (*store)->Load();
  ASSERT_TRUE(snapshot.ok());
  ASSERT_EQ(snapshot->jobs.size(), 1u);
  EXPECT_TRUE(snapshot->jobs[0].events.empty());
  EXPECT_EQ((*store)->ShardDocuments("job-2", 0).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(StateStoreTest, UsesWalAndFullSync) {
  ASSERT_TRUE(StateStore::Open(path_).ok());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key='schema_version'", -1, &stmt,
                               nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(std::atoi(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))),
            kStateSchemaVersion);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST_F(StateStoreTest, NewerSchemaIsRefused) {
  ASSERT_TRUE(StateStore::Open(path_).ok());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE meta SET value='99' WHERE key='schema_version'", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto store = StateStore::Open(path_);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(store.status().message()).find("schema version 99"), std::string::npos);
}

TEST_F(StateStoreTest, NotADatabaseIsDataLoss) {
  std::ofstream(path_) << std::string(4096, 'x');
  auto store = StateStore::Open(path_);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss) << store.status();
}

TEST(DocumentsCodecTest, RoundTripsAndDetectsTruncation) {
  std::vector<v1::Document> docs(3);
  for (int i = 0; i < 3; ++i) {
    docs[i].set_id("d" + std::to_string(i));
    docs[i].set_text(std::string(i * 100, 'a'));
  }
  const std::string bytes = EncodeDocuments(docs);
  auto back = DecodeDocuments(bytes);
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->size(), 3u);
  EXPECT_EQ((*back)[2].text().size(), 200u);
  EXPECT_TRUE(DecodeDocuments("").ok());
  for (size_t cut : {size_t{1}, size_t{5}, bytes.size() - 1}) {
    EXPECT_EQ(DecodeDocuments(absl::string_view(bytes).substr(0, cut)).status().code(),
              absl::StatusCode::kDataLoss)
        << cut;
  }
}

}  // namespace
}  // namespace cluedrop::coordinator
