#include "support/manifest_location.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <stdexcept>

#include "mlq/tracking/manifest.hpp"
#include "tracking/database.hpp"

namespace mlq::test {
namespace {

// The test server's URL (of its `postgres` database), from the fixture's state file.
std::string server_url() {
  const std::string state = std::string(MLQ_BUILD_DIR) + "/tests/postgres-server.state";
  std::ifstream in(state);
  std::string data, url;
  std::getline(in, data);
  std::getline(in, url);
  if (url.empty())
    throw std::runtime_error("no PostgreSQL test server: " + state +
                             " is missing (run the tests through ctest, whose fixture starts it)");
  return url;
}

}  // namespace

bool testing_postgresql() {
  const char* backend = std::getenv("MLQ_TEST_DB");
  return backend && std::string(backend) == "postgresql";
}

std::string new_postgresql_database() {
  static int counter = 0;
  const std::string url = server_url();
  const std::string name = fmt::format("mlq_test_{}_{}", getpid(), ++counter);
  PGconn* conn = PQconnectdb(url.c_str());
  const bool connected = PQstatus(conn) == CONNECTION_OK;
  PGresult* result = connected ? PQexec(conn, ("CREATE DATABASE " + name).c_str()) : nullptr;
  const bool created = result && PQresultStatus(result) == PGRES_COMMAND_OK;
  const std::string error = PQerrorMessage(conn);
  PQclear(result);
  PQfinish(conn);
  if (!created) throw std::runtime_error("cannot create a test database on " + url + ": " + error);
  return url.substr(0, url.rfind('/') + 1) + name;
}

std::string manifest_location(const std::filesystem::path& file) {
  if (!testing_postgresql()) return file.string();
  static std::map<std::string, std::string> databases;
  auto [it, added] = databases.emplace(file.string(), "");
  if (added) it->second = new_postgresql_database();
  return it->second;
}

void exec_sql(const Manifest& manifest, const std::string& sql) {
  manifest.database().exec(sql);
}

}  // namespace mlq::test
