#include "mlq/notify/settings.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <optional>

#include "mlq/notify/message.hpp"
#include "mlq/tracking/manifest.hpp"
#include "mlq/util/error.hpp"
#include "mlq/util/files.hpp"
#include "mlq/util/log.hpp"
#include "mlq/util/text.hpp"

extern char** environ;

namespace mlq {
namespace fs = std::filesystem;
namespace {

constexpr double kDefaultTimeout = 10;
constexpr double kMaxTimeout = 600;

// Keys that would put a secret into the config, which every run stores in its folder and in the
// manifest.
const std::vector<std::string> kSecretKeys{"username", "user",   "password",     "pass",
                                           "token",    "secret", "bearer_token", "api_key",
                                           "headers",  "auth"};

[[noreturn]] void fail(const Config& config, std::string_view key, std::string_view what) {
  const std::string where = config.origin(key);
  throw ConfigError(
      fmt::format("config key '{}'{}: {}", key, where.empty() ? "" : " (" + where + ")", what));
}

void reject_secrets(const Config& config, const std::string& table) {
  for (const auto& key : config.keys(table))
    if (std::find(kSecretKeys.begin(), kSecretKeys.end(), to_lower(key)) != kSecretKeys.end())
      fail(config, table + "." + key,
           "secrets belong in the credentials file named by notify.credentials, not in the "
           "config (which every run stores)");
}

// "~/x" -> "$HOME/x"; relative paths are relative to the working directory.
fs::path expand_path(const std::string& text) {
  if (text.rfind("~/", 0) == 0)
    if (const char* home = std::getenv("HOME")) return fs::path(home) / text.substr(2);
  return fs::absolute(text);
}

struct Url {
  std::string scheme;     // lower case
  std::string authority;  // [user@]host[:port]
  std::string host;
};

// scheme://authority[/path...]; nullopt when malformed (no scheme, no host, blanks or controls).
std::optional<Url> parse_url(std::string_view text) {
  const size_t separator = text.find("://");
  if (separator == std::string_view::npos || separator == 0) return std::nullopt;
  for (char c : text)
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return std::nullopt;
  Url url;
  url.scheme = to_lower(text.substr(0, separator));
  const std::string_view rest = text.substr(separator + 3);
  url.authority = std::string(rest.substr(0, rest.find_first_of("/?#")));
  std::string_view host = url.authority;
  if (const size_t at = host.rfind('@'); at != std::string_view::npos) host = host.substr(at + 1);
  host = !host.empty() && host[0] == '[' ? host.substr(0, host.find(']') + 1)
                                         : host.substr(0, host.find(':'));
  url.host = std::string(host);
  if (url.host.empty()) return std::nullopt;
  return url;
}

bool is_loopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "[::1]";
}

bool parse_tls(const Config& config, const std::string& key) {
  const std::string value = config.get_string(key, "required");
  if (value == "required") return true;
  if (value == "none") return false;
  fail(config, key,
       fmt::format("expected \"required\" (the default) or \"none\" (plain text, for loopback "
                   "testing), got {}",
                   in_quotes(value)));
}

double parse_timeout(const Config& config, const std::string& key) {
  const double seconds = config.get_double(key, kDefaultTimeout);
  if (!(seconds > 0 && seconds <= kMaxTimeout))
    fail(config, key, fmt::format("expected seconds in (0, {}], got {}", kMaxTimeout, seconds));
  return seconds;
}

fs::path parse_ca_file(const Config& config, const std::string& key) {
  const std::string text = config.get_string(key, "");
  if (text.empty()) return {};
  const fs::path path = expand_path(text);
  std::error_code error;
  if (!fs::is_regular_file(path, error))
    fail(config, key,
         fmt::format("expected a PEM file of certificate authorities; '{}' is not a file",
                     path.string()));
  return path;
}

// Checks a URL's scheme against the TLS setting. `describe` names the URL in messages: the
// config's key with its value, or the credentials file without it (the URL may be the secret).
std::string check_url(const std::string& text, const std::string& secure_scheme,
                      const std::string& plain_scheme, bool tls, const std::string& what,
                      bool show_value) {
  const std::optional<Url> url = parse_url(text);
  const std::string shown = show_value ? " " + in_quotes(text) : "";
  if (!url)
    return fmt::format("expected a URL such as {}://host:port{}", secure_scheme,
                       show_value ? ", got" + shown : "");
  if (url->authority.find('@') != std::string::npos)
    return "expected a URL without a user name or password; they belong in the credentials "
           "file (notify.credentials)";
  if (url->scheme != secure_scheme && url->scheme != plain_scheme)
    return fmt::format("expected a {}:// or {}:// URL, got{}", secure_scheme, plain_scheme,
                       show_value ? shown : " another scheme");
  if (!tls && url->scheme != plain_scheme)
    return fmt::format("tls = \"none\" is for plain {}:// URLs (loopback testing)", plain_scheme);
  if (tls && what == "webhook" && url->scheme == plain_scheme)
    return "expected an https:// URL (plain http:// only with notify.webhook.tls = \"none\", "
           "for loopback testing)";
  if (!tls && !is_loopback(url->host))
    log::warn("notify: {} goes unencrypted to {} (tls = \"none\" is meant for loopback testing)",
              what, url->host);
  return "";
}

std::vector<std::string> parse_addresses(const Config& config, const std::string& key) {
  const toml::node* node = config.table().at_path(key).node();
  std::vector<std::string> addresses = node && node->is_string()
                                           ? std::vector<std::string>{config.get_string(key)}
                                           : config.get_strings(key);
  if (addresses.empty()) fail(config, key, "expected at least one email address");
  for (const auto& address : addresses)
    if (envelope_address(address).empty())
      fail(config, key,
           fmt::format("expected email addresses (\"a@example.com\" or \"Name "
                       "<a@example.com>\"), got {}",
                       in_quotes(address)));
  return addresses;
}

EmailSettings parse_email(const Config& config) {
  config.check_known_keys("notify.email", {"url", "from", "to", "tls", "ca_file", "timeout"});
  EmailSettings email;
  email.url = config.get_string("notify.email.url");
  email.tls = parse_tls(config, "notify.email.tls");
  if (auto problem = check_url(email.url, "smtps", "smtp", email.tls, "email", true);
      !problem.empty())
    fail(config, "notify.email.url", problem);
  email.from = config.get_string("notify.email.from");
  if (envelope_address(email.from).empty())
    fail(config, "notify.email.from",
         fmt::format("expected an email address (\"a@example.com\" or \"Name <a@example.com>\"), "
                     "got {}",
                     in_quotes(email.from)));
  email.to = parse_addresses(config, "notify.email.to");
  email.ca_file = parse_ca_file(config, "notify.email.ca_file");
  email.timeout = parse_timeout(config, "notify.email.timeout");
  return email;
}

WebhookSettings parse_webhook(const Config& config, const NotifySettings& settings) {
  config.check_known_keys("notify.webhook", {"url", "tls", "ca_file", "timeout"});
  WebhookSettings webhook;
  webhook.url = config.get_string("notify.webhook.url", "");
  webhook.tls = parse_tls(config, "notify.webhook.tls");
  const std::string& secret_url = settings.credentials.webhook_url;
  if (!webhook.url.empty() && !secret_url.empty())
    fail(config, "notify.webhook.url",
         "the credentials file sets [webhook] url too; keep one of them");
  if (webhook.url.empty() && secret_url.empty())
    fail(config, "notify.webhook.url",
         "missing: set it, or url under [webhook] in the credentials file (notify.credentials)");
  if (!webhook.url.empty()) {
    if (auto problem = check_url(webhook.url, "https", "http", webhook.tls, "webhook", true);
        !problem.empty())
      fail(config, "notify.webhook.url", problem);
  } else if (auto problem = check_url(secret_url, "https", "http", webhook.tls, "webhook", false);
             !problem.empty()) {
    throw ConfigError(fmt::format("credentials file '{}': [webhook] url: {}",
                                  settings.credentials_file.string(), problem));
  }
  webhook.ca_file = parse_ca_file(config, "notify.webhook.ca_file");
  webhook.timeout = parse_timeout(config, "notify.webhook.timeout");
  return webhook;
}

std::vector<std::string> parse_end_states(const Config& config) {
  if (!config.has("notify.on")) return {kFinished, kFailed, kKilled};
  std::vector<std::string> states;
  for (const auto& state : config.get_strings("notify.on")) {
    const std::string upper = to_upper(state);
    if (upper != kFinished && upper != kFailed && upper != kKilled)
      fail(config, "notify.on",
           fmt::format("expected run end states among \"finished\", \"failed\" and \"killed\", "
                       "got {}",
                       in_quotes(state)));
    states.push_back(upper);
  }
  return states;
}

fs::path parse_credentials_path(const Config& config) {
  const std::string key = "notify.credentials";
  const fs::path path = expand_path(config.get_string(key));
  std::error_code error;
  if (!fs::is_regular_file(path, error))
    fail(config, key, fmt::format("credentials file '{}' does not exist", path.string()));
  if (tracked_by_git(path))
    fail(config, key,
         fmt::format("credentials file '{}' is tracked by git; secrets must stay out of the "
                     "repository (git rm --cached it and list it in .gitignore)",
                     path.string()));
  const fs::perms perms = fs::status(path, error).permissions();
  if ((perms & (fs::perms::group_read | fs::perms::others_read)) != fs::perms::none)
    log::warn("notify: credentials file '{}' is readable by other users (chmod 600 it)",
              path.string());
  return path;
}

// Credentials file helpers: errors name the file and the key, never the value.
struct CredentialsReader {
  std::string where;

  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw ConfigError(fmt::format("{}: '{}' {}", where, key, what));
  }

  void check_keys(const toml::table& table, const std::string& prefix,
                  const std::vector<std::string>& known) const {
    for (const auto& [name, node] : table) {
      const std::string key(name.str());
      if (std::find(known.begin(), known.end(), key) != known.end()) continue;
      const std::string best = nearest(key, known);
      std::string expected = "expected one of ";
      for (size_t i = 0; i < known.size(); ++i) expected += (i ? ", " : "") + known[i];
      fail(prefix + key,
           "is not a known key; " + (best.empty() ? expected : "did you mean '" + best + "'?"));
    }
  }

  const toml::table* table(const toml::table& parent, const std::string& key,
                           const std::string& full) const {
    const toml::node* node = parent.get(key);
    if (!node) return nullptr;
    if (!node->is_table()) fail(full, "must be a table");
    return node->as_table();
  }

  std::string string(const toml::table& parent, const std::string& key,
                     const std::string& full) const {
    const toml::node* node = parent.get(key);
    if (!node) return "";
    if (!node->is_string()) fail(full, "must be a string");
    std::string value = node->as_string()->get();
    if (value.empty()) fail(full, "must not be empty");
    if (value.find_first_of(std::string("\r\n\0", 3)) != std::string::npos)
      fail(full, "must be one line");
    return value;
  }
};

bool is_header_name(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

}  // namespace

bool NotifySettings::wants(std::string_view status) const {
  return (email || webhook) && std::find(on.begin(), on.end(), status) != on.end();
}

NotifyCredentials read_notify_credentials(const fs::path& file) {
  const CredentialsReader reader{"credentials file '" + file.string() + "'"};
  const std::string text = read_file_bytes(file);
  toml::table root;
  try {
    root = toml::parse(text, file.string());
  } catch (const toml::parse_error& error) {
    // toml++'s description may quote the text around the error, which may be a secret.
    throw ConfigError(fmt::format("{}: not valid TOML (line {}, column {})", reader.where,
                                  error.source().begin.line, error.source().begin.column));
  }
  reader.check_keys(root, "", {"smtp", "webhook"});
  NotifyCredentials credentials;
  if (const toml::table* smtp = reader.table(root, "smtp", "smtp")) {
    reader.check_keys(*smtp, "smtp.", {"username", "password"});
    credentials.smtp_username = reader.string(*smtp, "username", "smtp.username");
    credentials.smtp_password = reader.string(*smtp, "password", "smtp.password");
    if (credentials.smtp_username.empty() != credentials.smtp_password.empty())
      reader.fail(credentials.smtp_username.empty() ? "smtp.password" : "smtp.username",
                  "needs both smtp.username and smtp.password");
  }
  if (const toml::table* webhook = reader.table(root, "webhook", "webhook")) {
    reader.check_keys(*webhook, "webhook.", {"url", "bearer_token", "headers"});
    credentials.webhook_url = reader.string(*webhook, "url", "webhook.url");
    credentials.webhook_bearer_token =
        reader.string(*webhook, "bearer_token", "webhook.bearer_token");
    if (const toml::table* headers = reader.table(*webhook, "headers", "webhook.headers")) {
      for (const auto& [name, node] : *headers) {
        const std::string header(name.str());
        const std::string key = "webhook.headers." + header;
        if (!is_header_name(header)) reader.fail(key, "is not an HTTP header name");
        credentials.webhook_headers.emplace_back(header, reader.string(*headers, header, key));
      }
    }
  }
  return credentials;
}

bool tracked_by_git(const fs::path& file) {
  std::error_code error;
  fs::path real = fs::canonical(file, error);
  if (error) real = fs::absolute(file);
  const std::string dir = real.parent_path().string();
  const std::string name = real.filename().string();
  std::vector<const char*> argv{
      "git", "-C",         dir.c_str(), "--literal-pathspecs", "ls-files", "--error-unmatch",
      "--",  name.c_str(), nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  for (int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO})
    posix_spawn_file_actions_addopen(&actions, fd, "/dev/null",
                                     fd == STDIN_FILENO ? O_RDONLY : O_WRONLY, 0);
  pid_t pid = 0;
  const int spawned =
      posix_spawnp(&pid, "git", &actions, nullptr, const_cast<char* const*>(argv.data()), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return false;  // no git: nothing can be tracked
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return false;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::string url_origin(std::string_view url) {
  const std::optional<Url> parsed = parse_url(url);
  if (!parsed) return "(malformed URL)";
  std::string authority = parsed->authority;
  if (const size_t at = authority.rfind('@'); at != std::string::npos)
    authority = authority.substr(at + 1);
  return parsed->scheme + "://" + authority;
}

NotifySettings notify_settings(const Config& config) {
  NotifySettings settings;
  if (!config.has("notify")) return settings;
  for (const std::string table : {"notify", "notify.email", "notify.webhook"})
    if (config.has(table)) reject_secrets(config, table);
  config.check_known_keys("notify", {"on", "credentials", "email", "webhook"});
  settings.on = parse_end_states(config);
  if (config.has("notify.credentials")) {
    settings.credentials_file = parse_credentials_path(config);
    settings.credentials = read_notify_credentials(settings.credentials_file);
  }
  if (config.has("notify.email")) settings.email = parse_email(config);
  if (config.has("notify.webhook")) settings.webhook = parse_webhook(config, settings);
  return settings;
}

}  // namespace mlq
