#pragma once
// [notify]: which run ends send a message, and where to (docs/configuration.md, "[notify]").
// The secrets (SMTP password, webhook token) live in a credentials file that git must not track;
// the config holds only its path.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mlq/config/tree.hpp"

namespace mlq {

// [notify.email]: one plain-text message per run end, over SMTP.
struct EmailSettings {
  std::string url;                // smtps://host:465 (TLS) or smtp://host:587 (STARTTLS)
  bool tls = true;                // false only for tls = "none": plain SMTP, for loopback tests
  std::string from;               // "a@b" or "Name <a@b>"
  std::vector<std::string> to;    // the same forms
  std::filesystem::path ca_file;  // empty: the system's certificate authorities
  double timeout = 10;            // seconds for the whole exchange
};

// [notify.webhook]: a JSON POST per run end.
struct WebhookSettings {
  std::string url;  // https://... (http:// only with tls = "none"); empty: the credentials' url
  bool tls = true;
  std::filesystem::path ca_file;
  double timeout = 10;
};

// The credentials file's content. Never logged, stored, or put in an error message.
struct NotifyCredentials {
  std::string smtp_username;
  std::string smtp_password;
  std::string webhook_url;  // for webhooks whose URL is itself the secret
  std::string webhook_bearer_token;
  std::vector<std::pair<std::string, std::string>> webhook_headers;  // name, value
};

struct NotifySettings {
  std::vector<std::string> on;  // the end states that notify: FINISHED, FAILED, KILLED
  std::filesystem::path credentials_file;
  std::optional<EmailSettings> email;
  std::optional<WebhookSettings> webhook;
  NotifyCredentials credentials;

  // Whether a run that ended with `status` (kFinished, kFailed, kKilled) sends anything.
  bool wants(std::string_view status) const;
};

// Checks [notify] and reads the credentials file, at startup, before anything runs. Throws a
// one-line ConfigError naming the key and what it expected; a credentials file that git tracks
// is refused. No [notify.email] and no [notify.webhook]: nothing is ever sent.
NotifySettings notify_settings(const Config& config);

// Reads a credentials file ([smtp] username, password; [webhook] url, bearer_token, [headers]).
// Errors name the file and the key, never a value.
NotifyCredentials read_notify_credentials(const std::filesystem::path& file);

// Whether git tracks `file` (`git ls-files --error-unmatch` in its folder, symlinks resolved).
// False outside a repository or without git.
bool tracked_by_git(const std::filesystem::path& file);

// "scheme://host[:port]" of a URL: what log lines show of it (a path may carry a secret).
std::string url_origin(std::string_view url);

}  // namespace mlq
