#pragma once
// The manifest a test writes to. ctest runs the manifest and integration tests twice: on SQLite
// files, and with MLQ_TEST_DB=postgresql on the PostgreSQL server its "postgresql: start server"
// fixture started (tests/support/postgres_server.sh; its URL in
// <build>/tests/postgres-server.state).
#include <filesystem>
#include <string>

namespace mlq {
class Manifest;
}

namespace mlq::test {

// Whether this run of the tests is the PostgreSQL one.
bool testing_postgresql();
// The SQLite file `file`, or on PostgreSQL a new, empty database (the same one for the same
// `file` within a process).
std::string manifest_location(const std::filesystem::path& file);
// A new, empty database on the test server (its URL), whichever run this is.
std::string new_postgresql_database();
// Runs SQL on the manifest's database: set-up the Manifest API does not offer.
void exec_sql(const Manifest& manifest, const std::string& sql);

}  // namespace mlq::test
