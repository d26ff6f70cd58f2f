// A thin RAII layer over the SQLite C API: a database handle, prepared
// statements with typed binds and reads, and transactions. Every failure is
// an absl::Status whose message carries SQLite's own message and the SQL.
//
// Example:
//   CLUEDROP_ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db, SqliteDb::Open(path));
//   CLUEDROP_ASSIGN_OR_RETURN(SqliteStatement s, db->Prepare("SELECT v FROM t WHERE k = ?"));
//   s.Bind(1, "key");
//   while (true) {
//     CLUEDROP_ASSIGN_OR_RETURN(bool row, s.Step());
//     if (!row) break;
//     std::string v = s.ColumnText(0);
//   }
//
// A SqliteDb is used from one thread at a time (the coordinator serialises
// access under its mutex).
#ifndef CLUEDROP_COORDINATOR_SQLITE_DB_H_
#define CLUEDROP_COORDINATOR_SQLITE_DB_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

struct sqlite3;
struct sqlite3_stmt;

namespace cluedrop::coordinator {

class SqliteStatement {
 public:
  SqliteStatement(sqlite3_stmt* stmt, std::string sql) : stmt_(stmt), sql_(std::move(sql)) {}
  SqliteStatement(SqliteStatement&& other) noexcept;
  SqliteStatement& operator=(SqliteStatement&&) = delete;
  ~SqliteStatement();

  // 1-based parameter index.
  SqliteStatement& Bind(int index, int64_t value);
  SqliteStatement& Bind(int index, absl::string_view text);
  SqliteStatement& BindBlob(int index, absl::string_view bytes);
  SqliteStatement& BindNull(int index);

  // True when a row is available; false when done.
  absl::StatusOr<bool> Step();
  // Steps to completion (for statements that return no rows).
  absl::Status Run();

  // Clears bindings and rewinds, for reuse (Cached() does this).
  void Reset();

  int64_t ColumnInt(int column) const;
  std::string ColumnText(int column) const;
  std::string ColumnBlob(int column) const;
  bool ColumnIsNull(int column) const;

 private:
  sqlite3_stmt* stmt_;
  std::string sql_;
  absl::Status bind_error_;
};

class SqliteDb {
 public:
  // Opens (creating) the database file. INTERNAL / UNAVAILABLE on failure,
  // DATA_LOSS when the file is not a database.
  static absl::StatusOr<std::unique_ptr<SqliteDb>> Open(const std::string& path);
  ~SqliteDb();

  absl::StatusOr<SqliteStatement> Prepare(absl::string_view sql);
  // A statement prepared once per distinct `sql` and kept; returned reset,
  // owned by this db, valid until the next Cached() of the same SQL. For the
  // hot write paths (no re-parsing under the coordinator's lock).
  absl::StatusOr<SqliteStatement*> Cached(absl::string_view sql);
  // Runs one or more statements without parameters.
  absl::Status Exec(absl::string_view sql);

  // BEGIN IMMEDIATE; COMMIT or ROLLBACK (when `body` fails, its error is
  // returned and nothing it wrote remains).
  template <typename Body>
  absl::Status Transaction(Body&& body) {
    if (absl::Status s = Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
    absl::Status status = body();
    if (status.ok()) status = Exec("COMMIT");
    if (!status.ok()) (void)Exec("ROLLBACK");
    return status;
  }

  const std::string& path() const { return path_; }

 private:
  SqliteDb(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
  std::map<std::string, std::unique_ptr<SqliteStatement>, std::less<>> cache_;
};

// Maps a SQLite result code to a canonical status with `context`.
absl::Status SqliteError(int code, absl::string_view message, absl::string_view context);

}  // namespace cluedrop::coordinator

#endif  // CLUEDROP_COORDINATOR_SQLITE_DB_H_
