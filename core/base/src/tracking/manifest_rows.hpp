#pragma once
// What the manifest's source files share: the runs table's columns and how a row is read.
#include <fmt/format.h>

#include <optional>
#include <string_view>

#include <limits>
#include "mlq/tracking/manifest.hpp"

#include "mlq/util/error.hpp"
#include "tracking/database.hpp"

namespace mlq {

inline constexpr const char* kRunColumns =
    "id, task, status, start_time, end_time, heartbeat, host, pid, git_commit, git_dirty, "
    "plugin_versions, run_dir, best_checkpoint, config_hash, config, error";

// LIMIT of a query without one (SQLite's -1 is an error on PostgreSQL).
inline constexpr int64_t kNoLimit = std::numeric_limits<int64_t>::max();

inline RunRecord read_run(const db::Statement& st) {
  RunRecord r;
  r.id = st.text(0);
  r.task = st.text(1);
  r.status = st.text(2);
  r.start_time = st.real(3);
  r.end_time = st.real(4);
  r.heartbeat = st.real(5);
  r.host = st.text(6);
  r.pid = st.integer(7);
  r.git_commit = st.text(8);
  r.git_dirty = st.integer(9) != 0;
  r.plugin_versions = st.text(10);
  r.run_dir = st.text(11);
  r.best_checkpoint = st.text(12);
  r.config_hash = st.text(13);
  r.config_toml = st.text(14);
  r.error = st.text(15);
  return r;
}

// The row of `table` whose id is `id_or_prefix`, else the only one whose id starts with it;
// nullopt if none; UserError when the prefix is ambiguous (`what`: "run", "sweep").
// substr() instead of LIKE: no wildcards to escape, and case-sensitive.
template <typename Record, typename Read>
std::optional<Record> find_by_id_or_prefix(db::Database& db, const char* what, const char* table,
                                           const char* columns, std::string_view id_or_prefix,
                                           Read read) {
  if (id_or_prefix.empty()) return std::nullopt;
  {
    db::Statement st(db, fmt::format("SELECT {} FROM {} WHERE id = ?1", columns, table));
    st.bind(1, id_or_prefix);
    if (st.step()) return read(st);
  }
  db::Statement st(db, fmt::format("SELECT {} FROM {} WHERE substr(id, 1, length(?1)) = ?1 "
                                   "ORDER BY start_time DESC, id LIMIT 11",
                                   columns, table));
  st.bind(1, id_or_prefix);
  std::vector<Record> found;
  while (st.step()) found.push_back(read(st));
  if (found.empty()) return std::nullopt;
  if (found.size() == 1) return found[0];
  std::string ids;
  for (size_t i = 0; i < found.size() && i < 10; ++i) ids += (i ? ", " : "") + found[i].id;
  if (found.size() > 10) ids += ", ...";
  throw UserError(fmt::format("{} id prefix '{}' is ambiguous in {}: matches {}", what,
                              id_or_prefix, db.location(), ids));
}

}  // namespace mlq
