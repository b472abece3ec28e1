#include "tracking/sqlite.hpp"

#include <chrono>
#include <thread>

#include "mlq/util/error.hpp"

namespace mlq::sqlite {

[[noreturn]] void fail(const std::filesystem::path& path, sqlite3* db, std::string_view what) {
  std::string detail = db ? sqlite3_errmsg(db) : "out of memory";
  throw UserError(one_line(fmt::format("run manifest {}: {}: {}", path.string(), what, detail)));
}

void exec(sqlite3* db, const std::filesystem::path& path, const char* sql) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
    fail(path, db, fmt::format("cannot run '{}'", trim(std::string_view(sql).substr(0, 40))));
}

std::string enable_wal(sqlite3* db, const std::filesystem::path& path) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kBusyTimeoutMs);
  for (int attempt = 0;; ++attempt) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &stmt, nullptr) != SQLITE_OK)
      fail(path, db, "cannot prepare 'PRAGMA journal_mode=WAL'");
    int rc = sqlite3_step(stmt);
    std::string mode;
    if (rc == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(stmt, 0);
      mode = text ? reinterpret_cast<const char*>(text) : "";
    }
    sqlite3_finalize(stmt);
    if (rc == SQLITE_ROW) return mode;
    bool busy = (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
    if (!busy || std::chrono::steady_clock::now() > deadline)
      fail(path, db, "'PRAGMA journal_mode=WAL' failed");
    std::this_thread::sleep_for(std::chrono::milliseconds(5 + (attempt % 10) * 5));
  }
}

int user_version(sqlite3* db, const std::filesystem::path& path) {
  Statement st(db, path, "PRAGMA user_version");
  return st.step() ? static_cast<int>(st.integer(0)) : 0;
}

}  // namespace mlq::sqlite
