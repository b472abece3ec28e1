#pragma once
// What the manifest's source files share: the runs table's columns and how a row is read.
#include <optional>
#include <string_view>

#include <limits>
#include "mlq/tracking/manifest.hpp"

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

}  // namespace mlq
