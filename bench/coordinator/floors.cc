// coordinator_bench: the disk floors (bare SQLite transactions, durable file
// writes) an op pays at least.
#include "bench/coordinator/bench.h"

namespace cluedrop::bench {

absl::Status SqliteCheck(int rc, sqlite3* db, const char* what) {
  if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("sqlite ", what, ": ", sqlite3_errmsg(db)));
}

absl::StatusOr<FloorRun> RunBareSqlite(const std::string& path, uint32_t txns) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    sqlite3_close(db);
    return absl::InternalError(absl::StrCat(path, ": cannot open"));
  }
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> closer(db, sqlite3_close_v2);
  CLUEDROP_RETURN_IF_ABSL_ERROR(
      SqliteCheck(sqlite3_exec(db,
                               "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                               "CREATE TABLE t(k INTEGER PRIMARY KEY, v INTEGER NOT NULL);"
                               "INSERT INTO t VALUES(1, 0);",
                               nullptr, nullptr, nullptr),
                  db, "setup"));
  sqlite3_stmt *begin = nullptr, *update = nullptr, *commit = nullptr;
  CLUEDROP_RETURN_IF_ABSL_ERROR(
      SqliteCheck(sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, nullptr), db, "prepare"));
  CLUEDROP_RETURN_IF_ABSL_ERROR(
      SqliteCheck(sqlite3_prepare_v2(db, "UPDATE t SET v = ? WHERE k = 1", -1, &update, nullptr),
                  db, "prepare"));
  CLUEDROP_RETURN_IF_ABSL_ERROR(
      SqliteCheck(sqlite3_prepare_v2(db, "COMMIT", -1, &commit, nullptr), db, "prepare"));
  FloorRun run;
  absl::Status status;
  const uint32_t warmup = 10;
  Clock::time_point start = Clock::now();
  for (uint32_t i = 0; i < warmup + txns && status.ok(); ++i) {
    if (i == warmup) start = Clock::now();
    const auto t0 = Clock::now();
    status = SqliteCheck(sqlite3_step(begin), db, "BEGIN");
    sqlite3_bind_int64(update, 1, i);
    if (status.ok()) status = SqliteCheck(sqlite3_step(update), db, "UPDATE");
    if (status.ok()) status = SqliteCheck(sqlite3_step(commit), db, "COMMIT");
    sqlite3_reset(begin);
    sqlite3_reset(update);
    sqlite3_reset(commit);
    if (i >= warmup) run.ms.Add(1000 * SecondsSince(t0));
  }
  run.seconds = SecondsSince(start);
  run.ops = txns;
  sqlite3_finalize(begin);
  sqlite3_finalize(update);
  sqlite3_finalize(commit);
  if (!status.ok()) return status;
  return run;
}

absl::Status FsyncPath(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return absl::InternalError(absl::StrCat(path, ": open: ", std::strerror(errno)));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return absl::InternalError(absl::StrCat(path, ": fsync: ", std::strerror(errno)));
  return absl::OkStatus();
}

absl::StatusOr<FloorRun> RunBareFileWrites(const std::string& dir, uint32_t writes, size_t bytes) {
  fs::create_directories(dir);
  const std::string payload(bytes, 'x');
  FloorRun run;
  const auto start = Clock::now();
  for (uint32_t i = 0; i < writes; ++i) {
    const auto t0 = Clock::now();
    const std::string temp = absl::StrCat(dir, "/.f", i, ".tmp");
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return absl::InternalError(absl::StrCat(temp, ": ", std::strerror(errno)));
    const bool ok = ::write(fd, payload.data(), payload.size()) == static_cast<ssize_t>(bytes) &&
                    ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) return absl::InternalError(absl::StrCat(temp, ": write/fsync failed"));
    if (::rename(temp.c_str(), absl::StrCat(dir, "/f", i).c_str()) != 0) {
      return absl::InternalError(absl::StrCat(temp, ": rename: ", std::strerror(errno)));
    }
    CLUEDROP_RETURN_IF_ABSL_ERROR(FsyncPath(dir, O_RDONLY | O_DIRECTORY));
    run.ms.Add(1000 * SecondsSince(t0));
  }
  run.seconds = SecondsSince(start);
  run.ops = writes;
  return run;
}

}  // namespace cluedrop::bench
