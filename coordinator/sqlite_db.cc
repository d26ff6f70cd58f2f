#include "coordinator/sqlite_db.h"

#include <sqlite3.h>

#include <utility>

#include "absl/strings/str_cat.h"

namespace cluedrop::coordinator {

absl::Status SqliteError(int code, absl::string_view message, absl::string_view context) {
  const std::string text = absl::StrCat("sqlite: ", context, ": ", message);
  switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(text);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::DataLossError(text);
    case SQLITE_FULL:
      return absl::ResourceExhaustedError(text);
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
      return absl::FailedPreconditionError(text);
    case SQLITE_CONSTRAINT:
      return absl::AlreadyExistsError(text);
    default:
      return absl::InternalError(text);
  }
}

SqliteStatement::SqliteStatement(SqliteStatement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)),
      sql_(std::move(other.sql_)),
      bind_error_(std::move(other.bind_error_)) {}

SqliteStatement::~SqliteStatement() {
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

namespace {
void RecordBind(int rc, sqlite3_stmt* stmt, const std::string& sql, absl::Status* error) {
  if (rc != SQLITE_OK && error->ok()) {
    *error = SqliteError(rc, sqlite3_errmsg(sqlite3_db_handle(stmt)), sql);
  }
}
}  // namespace

SqliteStatement& SqliteStatement::Bind(int index, int64_t value) {
  RecordBind(sqlite3_bind_int64(stmt_, index, value), stmt_, sql_, &bind_error_);
  return *this;
}

SqliteStatement& SqliteStatement::Bind(int index, absl::string_view text) {
  RecordBind(
      sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT),
      stmt_, sql_, &bind_error_);
  return *this;
}

SqliteStatement& SqliteStatement::BindBlob(int index, absl::string_view bytes) {
  RecordBind(sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT), stmt_,
             sql_, &bind_error_);
  return *this;
}

SqliteStatement& SqliteStatement::BindNull(int index) {
  RecordBind(sqlite3_bind_null(stmt_, index), stmt_, sql_, &bind_error_);
  return *this;
}

absl::StatusOr<bool> SqliteStatement::Step() {
  if (!bind_error_.ok()) return bind_error_;
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteError(rc, sqlite3_errmsg(sqlite3_db_handle(stmt_)), sql_);
}

absl::Status SqliteStatement::Run() {
  while (true) {
    absl::StatusOr<bool> row = Step();
    if (!row.ok() || !*row) {
      sqlite3_reset(stmt_);  // release the statement's hold on the database
      return row.ok() ? absl::OkStatus() : row.status();
    }
  }
}

void SqliteStatement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_error_ = absl::OkStatus();
}

int64_t SqliteStatement::ColumnInt(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string SqliteStatement::ColumnText(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return "";
  return std::string(reinterpret_cast<const char*>(text), sqlite3_column_bytes(stmt_, column));
}

std::string SqliteStatement::ColumnBlob(int column) const {
  const void* data = sqlite3_column_blob(stmt_, column);
  if (data == nullptr) return "";
  return std::string(static_cast<const char*>(data), sqlite3_column_bytes(stmt_, column));
}

bool SqliteStatement::ColumnIsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

absl::StatusOr<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::string& path) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    absl::Status status = SqliteError(rc, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), path);
    if (db != nullptr) sqlite3_close(db);
    return status;
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, 5000);
  return std::unique_ptr<SqliteDb>(new SqliteDb(db, path));
}

SqliteDb::~SqliteDb() {
  cache_.clear();  // finalize before closing
  sqlite3_close(db_);
}

absl::StatusOr<SqliteStatement*> SqliteDb::Cached(absl::string_view sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    absl::StatusOr<SqliteStatement> stmt = Prepare(sql);
    if (!stmt.ok()) return stmt.status();
    it =
        cache_.emplace(std::string(sql), std::make_unique<SqliteStatement>(std::move(*stmt))).first;
  }
  it->second->Reset();
  return it->second.get();
}

absl::StatusOr<SqliteStatement> SqliteDb::Prepare(absl::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) return SqliteError(rc, sqlite3_errmsg(db_), sql);
  return SqliteStatement(stmt, std::string(sql));
}

absl::Status SqliteDb::Exec(absl::string_view sql) {
  const std::string text(sql);
  char* error = nullptr;
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
  if (rc == SQLITE_OK) return absl::OkStatus();
  absl::Status status = SqliteError(rc, error ? error : sqlite3_errstr(rc), sql);
  sqlite3_free(error);
  return status;
}

}  // namespace cluedrop::coordinator
