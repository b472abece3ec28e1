#include "tracking/database.hpp"

#include <fmt/format.h>

#include <boost/dll/shared_library.hpp>
#include <stdexcept>

#include "mlq/plugin/loader.hpp"
#include "mlq/util/error.hpp"
#include "mlq/util/text.hpp"

namespace mlq::db {

void Database::fail(std::string_view what, std::string_view detail) const {
  throw UserError(one_line(fmt::format("run manifest {}: {}: {}", location_, what, detail)));
}

bool is_server_url(std::string_view location) {
  return location.rfind("postgresql://", 0) == 0 || location.rfind("postgres://", 0) == 0;
}

std::string masked_url(std::string_view url) {
  std::string out(url);
  // postgresql://user:PASSWORD@host/...
  const size_t scheme = out.find("://");
  if (scheme != std::string::npos) {
    const size_t start = scheme + 3;
    const size_t at = out.find('@', start);
    const size_t slash = out.find('/', start);
    if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
      const size_t colon = out.find(':', start);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // ...?password=PASSWORD&...
  for (size_t at = out.find("password="); at != std::string::npos;
       at = out.find("password=", at + 1)) {
    const size_t value = at + 9;
    const size_t end = out.find('&', value);
    out.replace(value, (end == std::string::npos ? out.size() : end) - value, "***");
  }
  return out;
}

std::unique_ptr<Database> open_postgresql(const std::string& url) {
  // libmlq_postgresql.so (libpq) beside the runner's libraries, else where the build put it;
  // loaded on the first PostgreSQL manifest and never unloaded.
  using OpenFn = std::unique_ptr<Database>(const std::string&);
  static OpenFn* open = [&] {
    try {
      return &load_for_good("libmlq_postgresql.so",
                            boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local)
                  .get_alias<OpenFn>("mlq_open_postgresql");
    } catch (const std::exception& e) {
      throw UserError(
          one_line(fmt::format("run manifest {}: the PostgreSQL backend cannot be loaded: {}",
                               masked_url(url), e.what())));
    }
  }();
  return open(url);
}

std::unique_ptr<Database> open_database(const std::string& location) {
  if (is_server_url(location)) return open_postgresql(location);
  return open_sqlite(location);
}

}  // namespace mlq::db
