// [notify]: config checks, the credentials file (and git), and the messages it sends.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "mlq/config/tree.hpp"
#include "mlq/notify/message.hpp"
#include "mlq/notify/settings.hpp"
#include "mlq/util/duration.hpp"
#include "support/config_helpers.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using mlq::test::config_error;
using mlq::test::run_process;
using mlq::test::TempDir;
using mlq::test::write_file;

namespace {

const char* kCredentials = R"([smtp]
username = "bob"
password = "hunter2-secret"

[webhook]
bearer_token = "token-secret"

[webhook.headers]
X-Hook-Secret = "header-secret"
)";

mlq::Config config_from(const std::string& text) {
  toml::table table = toml::parse(text);
  std::map<std::string, std::string> origins;
  for (const auto& [key, value] : mlq::Config(table, {}).flatten()) origins[key] = "exp.toml";
  return mlq::Config(std::move(table), std::move(origins));
}

// A folder with a private credentials file, and [notify] configs that use it.
struct NotifyDir {
  TempDir dir;
  fs::path credentials = dir / "notify-credentials.toml";

  NotifyDir() { write_credentials(kCredentials); }
  void write_credentials(const std::string& text) const {
    write_file(credentials, text);
    fs::permissions(credentials, fs::perms::owner_read | fs::perms::owner_write);
  }
  // [notify] with a loopback email and webhook; `extra` is TOML appended to the end.
  std::string config(const std::string& extra = "") const {
    return R"([notify]
credentials = ")" +
           credentials.string() +
           R"("
[notify.email]
url = "smtps://mail.example.com:465"
from = "ML runs <runs@example.com>"
to = ["a@example.com", "Bob <b@example.org>"]
[notify.webhook]
url = "https://hooks.example.com/run-end"
)" + extra;
  }
  std::string error(const std::string& text) const {
    return config_error([&] { mlq::notify_settings(config_from(text)); });
  }
};

bool git(const std::vector<std::string>& args, const fs::path& cwd) {
  std::vector<std::string> argv{"git"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, {}, cwd).exit_code == 0;
}

mlq::RunSummary failed_run() {
  mlq::RunSummary run;
  run.id = "abc12345";
  run.task = "regression";
  run.status = "FAILED";
  run.error = "LibTorch: shapes cannot be multiplied";
  run.run_dir = "/runs/regression/abc12345";
  run.host = "lab-1";
  run.start_time = 1700000000.25;
  run.end_time = 1700000065.5;
  run.metrics = {{"test_loss", 0.125}, {"val_r2", 0.75}};
  return run;
}

mlq::EmailSettings email_settings() {
  mlq::EmailSettings email;
  email.url = "smtps://mail.example.com:465";
  email.from = "ML runs <runs@example.com>";
  email.to = {"a@example.com", "Bob <b@example.org>"};
  return email;
}

}  // namespace

TEST_CASE("notify: without notify.email or notify.webhook nothing is sent") {
  const auto none = mlq::notify_settings(config_from("task = \"regression\"\n"));
  CHECK_FALSE(none.email);
  CHECK_FALSE(none.webhook);
  CHECK_FALSE(none.wants("FINISHED"));
  const auto empty = mlq::notify_settings(config_from("[notify]\non = [\"failed\"]\n"));
  CHECK_FALSE(empty.wants("FAILED"));
}

TEST_CASE("notify: a full notify config parses with its defaults and the credentials") {
  NotifyDir dir;
  const auto settings = mlq::notify_settings(config_from(dir.config()));
  REQUIRE(settings.email);
  REQUIRE(settings.webhook);
  CHECK(settings.on == std::vector<std::string>{"FINISHED", "FAILED", "KILLED"});
  CHECK(settings.wants("KILLED"));
  CHECK(settings.email->tls);
  CHECK(settings.email->timeout == 10);
  CHECK(settings.email->to.size() == 2);
  CHECK(settings.email->ca_file.empty());
  CHECK(settings.webhook->tls);
  CHECK(settings.credentials_file == dir.credentials);
  CHECK(settings.credentials.smtp_username == "bob");
  CHECK(settings.credentials.smtp_password == "hunter2-secret");
  CHECK(settings.credentials.webhook_bearer_token == "token-secret");
  REQUIRE(settings.credentials.webhook_headers.size() == 1);
  CHECK(settings.credentials.webhook_headers[0].first == "X-Hook-Secret");
}

TEST_CASE("notify: the keys on tls timeout and to take their documented forms") {
  const std::string text = R"([notify]
on = ["failed", "KILLED"]
[notify.email]
url = "smtp://127.0.0.1:2525"
tls = "none"
from = "r@example.com"
to = "solo@example.com"
timeout = 2.5
[notify.webhook]
url = "http://127.0.0.1:8080/x"
tls = "none"
)";
  const auto settings = mlq::notify_settings(config_from(text));
  CHECK(settings.on == std::vector<std::string>{"FAILED", "KILLED"});
  CHECK_FALSE(settings.wants("FINISHED"));
  CHECK(settings.wants("FAILED"));
  CHECK_FALSE(settings.email->tls);
  CHECK(settings.email->to == std::vector<std::string>{"solo@example.com"});
  CHECK(settings.email->timeout == 2.5);
  CHECK_FALSE(settings.webhook->tls);
  CHECK(settings.webhook->url == "http://127.0.0.1:8080/x");
}

TEST_CASE("notify: config errors are one line naming the key and what was expected") {
  NotifyDir dir;
  const std::string email = "[notify]\n[notify.email]\nfrom = \"r@x.org\"\nto = [\"a@b.org\"]\n";
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases{
      {"[notify]\nonn = [\"failed\"]\n", {"unknown key 'notify.onn'", "did you mean 'on'?"}},
      {"[notify]\non = [\"done\"]\n",
       {"config key 'notify.on' (exp.toml)", "\"finished\", \"failed\" and \"killed\"",
        "got \"done\""}},
      {"[notify]\non = \"failed\"\n", {"'notify.on'", "an array of strings"}},
      {email + "url = \"smtps://h:465\"\nsmtp_url = \"x\"\n",
       {"unknown key 'notify.email.smtp_url'"}},
      {email + "url = \"http://h:25\"\n", {"'notify.email.url'", "smtps:// or smtp:// URL"}},
      {email + "url = \"mail.example.com\"\n", {"'notify.email.url'", "a URL such as smtps://"}},
      {email + "url = \"smtps://h:465\"\ntls = \"none\"\n",
       {"'notify.email.url'", "tls = \"none\" is for plain smtp:// URLs"}},
      {email + "url = \"smtp://h:587\"\ntls = \"off\"\n",
       {"'notify.email.tls'", "expected \"required\" (the default) or \"none\"", "\"off\""}},
      {email + "url = \"smtp://h:587\"\ntimeout = 0\n",
       {"'notify.email.timeout'", "expected seconds in (0, 600]"}},
      {email + "url = \"smtp://h:587\"\ntimeout = \"10s\"\n",
       {"'notify.email.timeout'", "expected a number"}},
      {email + "url = \"smtp://h:587\"\nca_file = \"/no/such/ca.pem\"\n",
       {"'notify.email.ca_file'", "'/no/such/ca.pem' is not a file"}},
      {"[notify.email]\nurl = \"smtp://h:587\"\nfrom = \"nobody\"\nto = [\"a@b.org\"]\n",
       {"'notify.email.from'", "expected an email address", "\"nobody\""}},
      {"[notify.email]\nurl = \"smtp://h:587\"\nfrom = \"r@x.org\"\nto = []\n",
       {"'notify.email.to'", "at least one email address"}},
      {"[notify.email]\nurl = \"smtp://h:587\"\nfrom = \"r@x.org\"\nto = [\"a@b.org, c@d.org\"]\n",
       {"'notify.email.to'", "expected email addresses"}},
      {"[notify.email]\nfrom = \"r@x.org\"\nto = [\"a@b.org\"]\n",
       {"config key 'notify.email.url' is missing"}},
      {"[notify.webhook]\nurl = \"http://hooks.example.com/x\"\n",
       {"'notify.webhook.url'", "expected an https:// URL", "tls = \"none\""}},
      {"[notify.webhook]\ntimeout = 3\n", {"'notify.webhook.url'", "missing: set it"}},
      {"[notify]\ncredentials = \"/no/such/credentials.toml\"\n",
       {"'notify.credentials'", "credentials file '/no/such/credentials.toml' does not exist"}},
  };
  for (const auto& [text, parts] : cases) {
    INFO("config:\n" << text);
    const std::string message = dir.error(text);
    CHECK(message.find('\n') == std::string::npos);
    for (const auto& part : parts) CHECK_HAS(message, part);
  }
}

TEST_CASE("notify: secrets in the config are refused without being repeated") {
  NotifyDir dir;
  for (const std::string text : {"[notify.email]\npassword = \"hunter2-secret\"\n",
                                 "[notify.webhook]\nbearer_token = \"hunter2-secret\"\n",
                                 "[notify]\ntoken = \"hunter2-secret\"\n"}) {
    const std::string message = dir.error(text);
    CHECK_HAS(message, "secrets belong in the credentials file named by notify.credentials");
    CHECK(message.find("hunter2") == std::string::npos);
  }
  const std::string in_url = dir.error(
      "[notify.email]\nurl = \"smtps://bob:hunter2-secret@h:465\"\nfrom = \"r@x.org\"\n"
      "to = [\"a@b.org\"]\n");
  CHECK_HAS(in_url, "'notify.email.url'");
  CHECK_HAS(in_url, "without a user name or password");
  CHECK(in_url.find("hunter2") == std::string::npos);
}

TEST_CASE("notify: credentials file errors name the file and key but never a value") {
  NotifyDir dir;
  const std::string file = "credentials file '" + dir.credentials.string() + "'";
  const std::vector<std::pair<std::string, std::string>> cases{
      {"[smtp]\nusername = \"bob\"\npassword = hunter2-secret\n",
       file + ": not valid TOML (line 3, column"},
      {"[smtp]\nusername = \"bob\"\npassword = 71717171\n",
       file + ": 'smtp.password' must be a string"},
      {"[smtp]\nusername = \"bob\"\npasswrd = \"hunter2-secret\"\n",
       file + ": 'smtp.passwrd' is not a known key; did you mean 'password'?"},
      {"[smtp]\npassword = \"hunter2-secret\"\n",
       file + ": 'smtp.password' needs both smtp.username and smtp.password"},
      {"[webhook.headers]\n\"X Bad\" = \"hunter2-secret\"\n",
       file + ": 'webhook.headers.X Bad' is not an HTTP header name"},
      {"[webhook]\nbearer_token = \"hunter2\\nsecret\"\n",
       file + ": 'webhook.bearer_token' must be one line"},
      {"[mail]\nuser = \"x\"\n", file + ": 'mail' is not a known key"},
  };
  for (const auto& [text, expected] : cases) {
    INFO("credentials:\n" << text);
    dir.write_credentials(text);
    const std::string message = dir.error(dir.config());
    CHECK_HAS(message, expected);
    CHECK(message.find("hunter2") == std::string::npos);
    CHECK(message.find("71717171") == std::string::npos);
  }
}

TEST_CASE("notify: a webhook URL that is a secret may live in the credentials file") {
  NotifyDir dir;
  dir.write_credentials("[webhook]\nurl = \"https://hooks.example.com/services/T0/B0/hunter2\"\n");
  std::string text = dir.config();
  text.erase(text.find("url = \"https://hooks"));
  const auto settings = mlq::notify_settings(config_from(text));
  REQUIRE(settings.webhook);
  CHECK(settings.webhook->url.empty());
  CHECK(settings.credentials.webhook_url == "https://hooks.example.com/services/T0/B0/hunter2");
  CHECK_HAS(dir.error(dir.config()), "the credentials file sets [webhook] url too");

  dir.write_credentials("[webhook]\nurl = \"http://hooks.example.com/services/hunter2\"\n");
  const std::string message = dir.error(text);
  CHECK_HAS(message, "[webhook] url: expected an https:// URL");
  CHECK(message.find("hunter2") == std::string::npos);
  CHECK(mlq::url_origin("https://hooks.example.com/services/T0/B0/hunter2") ==
        "https://hooks.example.com");
  CHECK(mlq::url_origin("smtps://bob:hunter2@mail.example.com:465/x") ==
        "smtps://mail.example.com:465");
}

TEST_CASE("notify: a credentials file that git tracks is refused") {
  NotifyDir dir;
  REQUIRE(git({"init", "-q"}, dir.dir.path()));
  CHECK_FALSE(mlq::tracked_by_git(dir.credentials));
  CHECK_NOTHROW(mlq::notify_settings(config_from(dir.config())));

  REQUIRE(git({"add", dir.credentials.filename().string()}, dir.dir.path()));
  CHECK(mlq::tracked_by_git(dir.credentials));
  const std::string message = dir.error(dir.config());
  CHECK_HAS(message, "config key 'notify.credentials' (exp.toml): credentials file '" +
                         dir.credentials.string() + "' is tracked by git");
  CHECK_HAS(message, "git rm --cached");
  CHECK(message.find("hunter2") == std::string::npos);

  // Through a symlink from outside the repository: still the tracked file.
  TempDir other;
  fs::create_symlink(dir.credentials, other / "link.toml");
  CHECK(mlq::tracked_by_git(other / "link.toml"));

  REQUIRE(git({"rm", "-q", "--cached", dir.credentials.filename().string()}, dir.dir.path()));
  CHECK_FALSE(mlq::tracked_by_git(dir.credentials));
}

TEST_CASE("notify: the email has its headers and the run's facts in CRLF lines") {
  const std::string message = mlq::email_message(email_settings(), failed_run(), 1700000000.5);
  CHECK(message.rfind("From: ML runs <runs@example.com>\r\n", 0) == 0);
  CHECK_HAS(message, "\r\nTo: a@example.com, Bob <b@example.org>\r\n");
  CHECK_HAS(message, "\r\nSubject: [mlq] regression run abc12345 FAILED after 1 min 05 s\r\n");
  CHECK_HAS(message, "\r\nDate: Tue, 14 Nov 2023 22:13:20 +0000\r\n");
  CHECK_HAS(message, "\r\nMessage-ID: <mlq.abc12345.1700000000500@example.com>\r\n");
  CHECK_HAS(message, "\r\nContent-Type: text/plain; charset=utf-8\r\n");
  const size_t body = message.find("\r\n\r\n");
  REQUIRE(body != std::string::npos);
  CHECK(message.find("X-Mailer:") < body);
  CHECK_HAS(message, "status:    FAILED\r\n");
  CHECK_HAS(message, "duration:  1 min 05 s\r\n");
  CHECK_HAS(message, "run dir:   /runs/regression/abc12345\r\n");
  CHECK_HAS(message, "error:     LibTorch: shapes cannot be multiplied\r\n");
  CHECK_HAS(message, "Final metrics:\r\n  test_loss  0.125\r\n  val_r2     0.75\r\n");
  CHECK(message.substr(message.size() - 2) == "\r\n");
  CHECK(message.substr(message.size() - 4) != "\r\n\r\n");
  size_t bare_newlines = 0;
  for (size_t i = 0; i < message.size(); ++i)
    bare_newlines += message[i] == '\n' && (i == 0 || message[i - 1] != '\r');
  CHECK(bare_newlines == 0);
}

TEST_CASE("notify: no header injection and long lines split for SMTP") {
  mlq::RunSummary run = failed_run();
  run.task = "regression\r\nBcc: victim@example.com";
  run.error = std::string(2500, 'x');
  const std::string message = mlq::email_message(email_settings(), run, 1700000000);
  CHECK(message.find("\r\nBcc:") == std::string::npos);
  size_t longest = 0, start = 0;
  for (size_t end; (end = message.find("\r\n", start)) != std::string::npos; start = end + 2)
    longest = std::max(longest, end - start);
  CHECK(longest <= 998);
  CHECK(message.find(std::string(900, 'x')) != std::string::npos);
}

TEST_CASE("notify: the webhook payload is a JSON object with the run's fields") {
  mlq::RunSummary run = failed_run();
  run.metrics["val_nan"] = std::nan("");
  const auto json = nlohmann::json::parse(mlq::webhook_payload(run));
  CHECK(json["event"] == "run_end");
  CHECK(json["id"] == "abc12345");
  CHECK(json["task"] == "regression");
  CHECK(json["status"] == "FAILED");
  CHECK(json["error"] == "LibTorch: shapes cannot be multiplied");
  CHECK(json["text"] == "[mlq] regression run abc12345 FAILED after 1 min 05 s");
  CHECK(json["duration_s"].get<double>() == doctest::Approx(65.25));
  CHECK(json["start_time"].get<double>() == doctest::Approx(1700000000.25));
  CHECK(json["host"] == "lab-1");
  CHECK(json["run_dir"] == "/runs/regression/abc12345");
  CHECK(json["metrics"]["test_loss"] == 0.125);
  CHECK(json["metrics"]["val_nan"].is_null());
  run.error.clear();
  CHECK(nlohmann::json::parse(mlq::webhook_payload(run))["error"].is_null());
}

TEST_CASE("notify: durations and addresses") {
  using mlq::DurationStyle;
  CHECK(mlq::format_duration(0.25, DurationStyle::Words) == "250 ms");
  CHECK(mlq::format_duration(42.4, DurationStyle::Words) == "42 s");
  CHECK(mlq::format_duration(185, DurationStyle::Words) == "3 min 05 s");
  CHECK(mlq::format_duration(7385, DurationStyle::Words) == "2 h 03 min");
  CHECK(mlq::format_duration(65, DurationStyle::Clock) == "1:05");
  CHECK(mlq::format_duration(7384.6, DurationStyle::Clock) == "2:03:05");
  CHECK(mlq::format_duration(187, DurationStyle::Compact) == "3m07s");
  CHECK(mlq::format_duration(97200, DurationStyle::Compact) == "1d03h");
  CHECK(mlq::format_duration(-1, DurationStyle::Compact) == "-");
  CHECK(mlq::envelope_address("a@example.com") == "a@example.com");
  CHECK(mlq::envelope_address("Bob Smith <b@example.org>") == "b@example.org");
  for (const char* bad : {"", "nobody", "@x.org", "a@", "a@b@c", "a b@c.org", "Bob <a@b.org",
                          "a@b.org\r\nBcc: c@d.org", "<a@b.org>, <c@d.org>"})
    CHECK_MESSAGE(mlq::envelope_address(bad).empty(), bad);
}
