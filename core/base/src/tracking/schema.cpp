#include "tracking/schema.hpp"

#include <fmt/format.h>

#include "mlq/util/error.hpp"
#include "tracking/database.hpp"

namespace mlq {

using namespace db;

namespace {

// The indexes, the same in both dialects.
constexpr const char* kIndexSql = R"sql(
CREATE INDEX IF NOT EXISTS runs_task ON runs(task);
CREATE INDEX IF NOT EXISTS runs_status ON runs(status);
CREATE INDEX IF NOT EXISTS runs_listing ON runs(start_time, id, task, status, end_time);
CREATE INDEX IF NOT EXISTS runs_config_hash ON runs(config_hash);
CREATE INDEX IF NOT EXISTS metrics_run_key_step ON metrics(run_id, key, step);
CREATE INDEX IF NOT EXISTS metric_summary_key_last ON metric_summary(key, last_value);
CREATE INDEX IF NOT EXISTS metric_summary_key_min ON metric_summary(key, min_value);
CREATE INDEX IF NOT EXISTS metric_summary_key_max ON metric_summary(key, max_value);
)sql";

// Version 3's sweep tables, in either dialect: {text} is a text column compared bytewise, {real}
// and {integer} the number types.
constexpr const char* kSweepSql = R"sql(
CREATE TABLE IF NOT EXISTS sweeps (
  id {text} PRIMARY KEY,
  task {text} NOT NULL,
  status {text} NOT NULL,
  start_time {real} NOT NULL,
  end_time {real},
  strategy {text} NOT NULL,
  space {text} NOT NULL,
  objective {text} NOT NULL,
  direction {text} NOT NULL,
  trials {integer} NOT NULL,
  settings {text} NOT NULL,
  error {text}
);
CREATE TABLE IF NOT EXISTS sweep_trials (
  sweep_id {text} NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
  number {integer} NOT NULL,
  params {text} NOT NULL,
  status {text} NOT NULL,
  attempts {integer} NOT NULL DEFAULT 0,
  run_id {text},
  worker {text},
  objective {real},
  error {text},
  PRIMARY KEY (sweep_id, number)
);
CREATE INDEX IF NOT EXISTS sweep_trials_run ON sweep_trials(run_id);
CREATE TABLE IF NOT EXISTS sweep_rungs (
  sweep_id {text} NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
  rung {integer} NOT NULL,
  number {integer} NOT NULL,
  value {real},
  PRIMARY KEY (sweep_id, rung, number)
);
)sql";

// The current schema (version 3; version 2 without the sweep tables); documented in
// docs/manifest.md.
constexpr const char* kSqliteSchemaSql = R"sql(
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY,
  task TEXT NOT NULL,
  status TEXT NOT NULL,
  start_time REAL NOT NULL,
  end_time REAL,
  heartbeat REAL,
  host TEXT,
  pid INTEGER,
  git_commit TEXT,
  git_dirty INTEGER NOT NULL DEFAULT 0,
  plugin_versions TEXT,
  run_dir TEXT,
  best_checkpoint TEXT,
  config_hash TEXT,
  config TEXT,
  error TEXT
);
CREATE TABLE IF NOT EXISTS params (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  value_num REAL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS metrics (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  step INTEGER NOT NULL,
  value REAL,
  time REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS metric_summary (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  last_step INTEGER NOT NULL,
  last_value REAL,
  min_value REAL,
  max_value REAL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tags (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS artifacts (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  path TEXT NOT NULL,
  kind TEXT,
  checksum TEXT,
  PRIMARY KEY (run_id, path)
);
)sql";

// The same tables on PostgreSQL. Text compares bytewise (COLLATE "C"), as SQLite's BINARY;
// the history tables have a `rowid` column, so that one SQL orders points on both.
constexpr const char* kPostgresSchemaSql = R"sql(
CREATE TABLE IF NOT EXISTS runs (
  id TEXT COLLATE "C" PRIMARY KEY,
  task TEXT COLLATE "C" NOT NULL,
  status TEXT COLLATE "C" NOT NULL,
  start_time DOUBLE PRECISION NOT NULL,
  end_time DOUBLE PRECISION,
  heartbeat DOUBLE PRECISION,
  host TEXT COLLATE "C",
  pid BIGINT,
  git_commit TEXT COLLATE "C",
  git_dirty BIGINT NOT NULL DEFAULT 0,
  plugin_versions TEXT,
  run_dir TEXT COLLATE "C",
  best_checkpoint TEXT,
  config_hash TEXT COLLATE "C",
  config TEXT,
  error TEXT
);
CREATE TABLE IF NOT EXISTS params (
  run_id TEXT COLLATE "C" NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key TEXT COLLATE "C" NOT NULL,
  value TEXT COLLATE "C" NOT NULL,
  value_num DOUBLE PRECISION,
  PRIMARY KEY (run_id, key)
);
CREATE TABLE IF NOT EXISTS metrics (
  rowid BIGINT GENERATED ALWAYS AS IDENTITY,
  run_id TEXT COLLATE "C" NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key TEXT COLLATE "C" NOT NULL,
  step BIGINT NOT NULL,
  value DOUBLE PRECISION,
  time DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS metric_summary (
  run_id TEXT COLLATE "C" NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key TEXT COLLATE "C" NOT NULL,
  last_step BIGINT NOT NULL,
  last_value DOUBLE PRECISION,
  min_value DOUBLE PRECISION,
  max_value DOUBLE PRECISION,
  PRIMARY KEY (run_id, key)
);
CREATE TABLE IF NOT EXISTS tags (
  run_id TEXT COLLATE "C" NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key TEXT COLLATE "C" NOT NULL,
  value TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (run_id, key)
);
CREATE TABLE IF NOT EXISTS artifacts (
  rowid BIGINT GENERATED ALWAYS AS IDENTITY,
  run_id TEXT COLLATE "C" NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  path TEXT COLLATE "C" NOT NULL,
  kind TEXT,
  checksum TEXT,
  PRIMARY KEY (run_id, path)
);
)sql";

// Version 1 -> 2 (after kSchemaSql has created what is new): per-run metric summaries, so
// queries over many runs need one lookup per run and metric instead of a walk through its
// history; params and tags clustered by run (one lookup instead of index then row); a covering
// index for listing runs.
constexpr const char* kMigrateToV2Sql = R"sql(
DROP INDEX IF EXISTS metrics_key_value;
DROP INDEX IF EXISTS runs_start_time;
CREATE TABLE params_v2 (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  value_num REAL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
INSERT INTO params_v2 SELECT run_id, key, value, value_num FROM params;
DROP TABLE params;
ALTER TABLE params_v2 RENAME TO params;
CREATE TABLE tags_v2 (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
INSERT INTO tags_v2 SELECT run_id, key, value FROM tags;
DROP TABLE tags;
ALTER TABLE tags_v2 RENAME TO tags;
)sql";

}  // namespace

// Rebuilds metric_summary rows from the metric history (all runs, or the run bound to ?1).
const char* const kSummarizeSql = R"sql(
INSERT INTO metric_summary (run_id, key, last_step, last_value, min_value, max_value)
SELECT g.run_id, g.key, g.last_step,
       (SELECT m.value FROM metrics m WHERE m.run_id = g.run_id AND m.key = g.key
        ORDER BY m.step DESC, m.rowid DESC LIMIT 1),
       g.min_value, g.max_value
FROM (SELECT run_id, key, max(step) AS last_step, min(value) AS min_value,
             max(value) AS max_value
      FROM metrics {} GROUP BY run_id, key) g
)sql";

void create_or_migrate_schema(Database& db) {
  int version = db.schema_version();
  if (version < kSchemaVersion) {
    Transaction tx(db);
    db.lock_schema();
    version = db.schema_version();  // another process may have done it meanwhile
    if (version < kSchemaVersion) {
      const bool sqlite = db.dialect() == SqlDialect::SQLite;
      db.exec(sqlite ? kSqliteSchemaSql : kPostgresSchemaSql);
      db.exec(kIndexSql);
      db.exec(sqlite ? fmt::format(kSweepSql, fmt::arg("text", "TEXT"), fmt::arg("real", "REAL"),
                                   fmt::arg("integer", "INTEGER"))
                     : fmt::format(kSweepSql, fmt::arg("text", "TEXT COLLATE \"C\""),
                                   fmt::arg("real", "DOUBLE PRECISION"),
                                   fmt::arg("integer", "BIGINT")));
      if (version == 1) {  // only SQLite manifests are that old
        db.exec(kMigrateToV2Sql);
        db.exec(fmt::format(kSummarizeSql, ""));
      }
      db.set_schema_version(kSchemaVersion);
      version = kSchemaVersion;
    }
    tx.commit();
  }
  if (version != kSchemaVersion)
    throw UserError(fmt::format(
        "run manifest {}: schema version {} is not supported (this runner knows version {}); "
        "use a newer runner or another database",
        db.location(), version, kSchemaVersion));
}

}  // namespace mlq
