#pragma once
// The manifest's tables (docs/manifest.md) and their migrations, in each dialect.
namespace mlq {

namespace db {
class Database;
}

inline constexpr int kSchemaVersion = 3;

// Rebuilds metric_summary rows from the metric history: format with "" for all runs, or with
// "WHERE run_id = ?1" for the run bound to ?1.
extern const char* const kSummarizeSql;

// Creates the tables of a new database or migrates an older one to kSchemaVersion, in one
// transaction (another process may be doing the same); a newer schema is a UserError.
void create_or_migrate_schema(db::Database& db);

}  // namespace mlq
