// Run-end notifications of real runs, received by a loopback SMTP sink and HTTP listener
// (tests/tools/*.py): contents, TLS, secrets kept out of every file, failures that only warn.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "integration/run_args.hpp"
#include "mlq/tracking/manifest.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace mlq::test;

namespace {

const char* kPassword = "pw-7f3a9c-secret";
const char* kToken = "tok-51d2e8-secret";
const char* kHeaderSecret = "hdr-0b6c44-secret";

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A loopback server from tests/tools, stopped with the test.
class Server {
 public:
  Server(const std::string& script, const std::vector<std::string>& args) {
    fs::create_directories(out());
    std::vector<std::string> argv{"/usr/bin/python3",
                                  std::string(MLQ_SOURCE_DIR) + "/tests/tools/" + script, "--out",
                                  out().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    pid_ = start_process(argv, dir_ / "log.txt");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (port_ == 0 && std::chrono::steady_clock::now() < deadline) {
      const std::string log = read_file(dir_ / "log.txt");
      if (log.find('\n') != std::string::npos)
        port_ = std::stoi(log);
      else
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (port_ == 0) {
      stop();
      throw std::runtime_error(script + " did not start: " + read_file(dir_ / "log.txt"));
    }
  }
  ~Server() { stop(); }
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int port() const { return port_; }
  std::string url(const std::string& scheme, const std::string& path = "") const {
    return scheme + "://127.0.0.1:" + std::to_string(port_) + path;
  }
  // The files <prefix>-1.json, <prefix>-2.json, ... the server wrote, parsed.
  std::vector<json> received(const std::string& prefix) const {
    std::vector<json> items;
    for (int i = 1;; ++i) {
      const fs::path file = out() / (prefix + "-" + std::to_string(i) + ".json");
      if (!fs::exists(file)) return items;
      items.push_back(json::parse(read_file(file)));
    }
  }
  // The commands of the SMTP sessions that have ended, waiting up to 5 s for `count` of them.
  std::vector<json> sessions(size_t count) const {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (received("session").size() < count && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return received("session");
  }
  std::string log() const { return read_file(dir_ / "log.txt"); }

 private:
  fs::path out() const { return dir_ / "received"; }
  void stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    wait_process(pid_);
    pid_ = 0;
  }
  TempDir dir_;
  pid_t pid_ = 0;
  int port_ = 0;
};

// A TCP port on 127.0.0.1 that listens but never answers (accept_backlog only), or nothing
// listening at all (a dead server).
class SilentPort {
 public:
  explicit SilentPort(bool listening) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    socklen_t size = sizeof address;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size);
    port_ = ntohs(address.sin_port);
    if (listening) {
      REQUIRE(listen(fd_, 8) == 0);
    } else {
      close(fd_);
      fd_ = -1;
    }
  }
  ~SilentPort() {
    if (fd_ >= 0) close(fd_);
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// A self-signed certificate for 127.0.0.1, made with openssl; it is its own CA file.
struct Certificate {
  TempDir dir;
  fs::path cert = dir / "cert.pem";
  fs::path key = dir / "key.pem";
  Certificate() {
    const auto made = run_process(
        {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", key.string(), "-out", cert.string(), "-days", "2", "-subj",
         "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"});
    INFO(made.out);
    REQUIRE(made.exit_code == 0);
  }
};

// The credentials file, private and outside any repository.
struct Credentials {
  TempDir dir;
  fs::path file = dir / "notify-credentials.toml";
  Credentials() {
    write_file(file, std::string("[smtp]\nusername = \"bob\"\npassword = \"") + kPassword +
                         "\"\n\n[webhook]\nbearer_token = \"" + kToken +
                         "\"\n[webhook.headers]\nX-Hook-Secret = \"" + kHeaderSecret + "\"\n");
    fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
  }
};

std::string set(const std::string& key, const std::string& value) {
  return "+" + key + "=\"" + value + "\"";
}

// [notify] overrides: email to `email_url`, webhook to `webhook_url` ("" leaves one out).
std::vector<std::string> notify_args(const Credentials& credentials, const std::string& email_url,
                                     const std::string& webhook_url) {
  std::vector<std::string> args{set("notify.credentials", credentials.file.string())};
  if (!email_url.empty()) {
    args.push_back(set("notify.email.url", email_url));
    args.push_back(set("notify.email.from", "ML runs <runs@example.com>"));
    args.push_back("+notify.email.to=[\"a@example.com\", \"Bob <b@example.org>\"]");
  }
  if (!webhook_url.empty()) args.push_back(set("notify.webhook.url", webhook_url));
  return args;
}

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A scratch folder to run in: its outputs and manifest stay inside it.
struct Workspace {
  TempDir dir;
  fs::path db() const { return dir / "runs.sqlite"; }
  std::map<std::string, std::string> env() const {
    return {{"MLQ_DB", db().string()}, {"MLQ_PLUGIN_PATH", ""}};
  }
  ProcessResult run(const std::vector<std::string>& notify) const {
    return run_runner(
        short_run_args(concat({"trainer.max_steps=10", "trainer.val_every_n_steps=5"}, notify)),
        dir.path(), env());
  }
  mlq::RunRecord only_run() const {
    const auto runs = mlq::Manifest(db()).list_runs();
    REQUIRE(runs.size() == 1);
    return runs[0];
  }
  mlq::RunRecord latest_run() const {
    const auto runs = mlq::Manifest(db()).list_runs();
    REQUIRE(!runs.empty());
    return runs[0];
  }
};

// Every file under `root` (run folders, manifest, WAL) that contains `secret`.
std::vector<std::string> files_containing(const fs::path& root, const std::string& secret) {
  std::vector<std::string> found;
  for (const auto& entry : fs::recursive_directory_iterator(root))
    if (entry.is_regular_file() && contains(read_file(entry.path()), secret))
      found.push_back(entry.path().string());
  return found;
}

}  // namespace

TEST_CASE("notify: a finished run emails and posts its summary with secrets stored nowhere") {
  Credentials credentials;
  Server smtp("smtp_sink.py", {"--password", kPassword});
  Server http("http_listener.py", {});
  Workspace workspace;
  const auto result = workspace.run(
      concat(notify_args(credentials, smtp.url("smtp"), http.url("http", "/hooks/run-end")),
             {"+notify.email.tls=none", "+notify.webhook.tls=none"}));
  INFO("runner output:\n" << result.out);
  REQUIRE(result.exit_code == 0);
  const mlq::RunRecord run = workspace.only_run();
  CHECK(run.status == "FINISHED");
  const auto metrics = mlq::Manifest(workspace.db()).last_metrics(run.id);
  REQUIRE(metrics.count("test_loss"));
  REQUIRE(metrics.count("val_loss"));

  const auto mails = smtp.received("mail");
  REQUIRE(mails.size() == 1);
  const json& mail = mails[0];
  CHECK(mail["mail_from"] == "<runs@example.com>");
  CHECK(mail["rcpt_to"] == json::array({"<a@example.com>", "<b@example.org>"}));
  CHECK(mail["auth"]["username"] == "bob");
  CHECK(mail["auth"]["password"] == kPassword);
  const std::string data = mail["data"];
  CHECK(contains(data, "From: ML runs <runs@example.com>\r\n"));
  CHECK(contains(data, "\r\nTo: a@example.com, Bob <b@example.org>\r\n"));
  CHECK(contains(data, "\r\nSubject: [mlq] regression run " + run.id + " FINISHED after "));
  CHECK(contains(data, "\r\nDate: "));
  CHECK(contains(data, "\r\nMessage-ID: <mlq." + run.id + "."));
  CHECK(contains(data, "status:    FINISHED\r\n"));
  CHECK(contains(data, "run dir:   " + run.run_dir + "\r\n"));
  CHECK(contains(data, fmt::format("  test_loss  {:.6g}\r\n", metrics.at("test_loss"))));
  CHECK(contains(data, fmt::format("  val_loss   {:.6g}\r\n", metrics.at("val_loss"))));
  CHECK_FALSE(contains(data, "error:"));

  const auto requests = http.received("request");
  REQUIRE(requests.size() == 1);
  const json& request = requests[0];
  CHECK(request["method"] == "POST");
  CHECK(request["path"] == "/hooks/run-end");
  CHECK(request["headers"]["Content-Type"] == "application/json");
  CHECK(request["headers"]["Authorization"] == std::string("Bearer ") + kToken);
  CHECK(request["headers"]["X-Hook-Secret"] == kHeaderSecret);
  const json body = json::parse(request["body"].get<std::string>());
  CHECK(body["event"] == "run_end");
  CHECK(body["id"] == run.id);
  CHECK(body["task"] == "regression");
  CHECK(body["status"] == "FINISHED");
  CHECK(body["run_dir"] == run.run_dir);
  CHECK(body["error"].is_null());
  CHECK(body["duration_s"].get<double>() == doctest::Approx(run.end_time - run.start_time));
  CHECK(body["metrics"]["test_loss"].get<double>() == doctest::Approx(metrics.at("test_loss")));
  CHECK(body["metrics"]["val_loss"].get<double>() == doctest::Approx(metrics.at("val_loss")));
  CHECK_FALSE(body["metrics"].contains("train_loss"));

  // The run log says what was sent; no secret is in any output, run file or the manifest,
  // which keeps only the credentials file's path.
  const std::string log = read_file(fs::path(run.run_dir) / "run.log");
  CHECK(contains(log, "INFO notify: emailed 2 recipients via " + smtp.url("smtp")));
  CHECK(contains(log, "INFO notify: webhook " + http.url("http") + " answered HTTP 200"));
  for (const char* secret : {kPassword, kToken, kHeaderSecret}) {
    INFO("secret " << secret);
    CHECK_FALSE(contains(result.out, secret));
    CHECK(files_containing(workspace.dir.path(), secret).empty());
  }
  const auto params = mlq::Manifest(workspace.db()).params(run.id);
  CHECK(params.at("notify.credentials") == "\"" + credentials.file.string() + "\"");
}

TEST_CASE("notify: over TLS with STARTTLS or smtps and https with a self-signed CA file") {
  Certificate certificate;
  Credentials credentials;
  const std::vector<std::string> tls{"--cert", certificate.cert.string(), "--key",
                                     certificate.key.string()};
  Server starttls("smtp_sink.py", concat({"--tls", "starttls", "--password", kPassword}, tls));
  Server implicit("smtp_sink.py", concat({"--tls", "implicit", "--password", kPassword}, tls));
  Server https("http_listener.py", tls);
  const std::vector<std::string> ca{set("notify.email.ca_file", certificate.cert.string()),
                                    set("notify.webhook.ca_file", certificate.cert.string())};
  Workspace workspace;

  SUBCASE("STARTTLS before AUTH, and https") {
    const auto result = workspace.run(
        concat(notify_args(credentials, starttls.url("smtp"), https.url("https", "/hook")), ca));
    INFO("runner output:\n" << result.out);
    CHECK(result.exit_code == 0);
    const auto mails = starttls.received("mail");
    REQUIRE(mails.size() == 1);
    CHECK(mails[0]["tls"] == true);
    CHECK(mails[0]["auth"]["tls"] == true);
    CHECK(mails[0]["auth"]["password"] == kPassword);
    const auto requests = https.received("request");
    REQUIRE(requests.size() == 1);
    CHECK(requests[0]["headers"]["Authorization"] == std::string("Bearer ") + kToken);
    CHECK(json::parse(requests[0]["body"].get<std::string>())["status"] == "FINISHED");
  }
  SUBCASE("implicit TLS (smtps://)") {
    const auto result =
        workspace.run(concat(notify_args(credentials, implicit.url("smtps"), ""), {ca[0]}));
    INFO("runner output:\n" << result.out);
    CHECK(result.exit_code == 0);
    const auto mails = implicit.received("mail");
    REQUIRE(mails.size() == 1);
    CHECK(mails[0]["tls"] == true);
    CHECK(contains(mails[0]["data"], "FINISHED"));
  }
  SUBCASE("no STARTTLS offered, or an unknown CA: nothing is sent, the run still finishes") {
    Server plain("smtp_sink.py", {"--password", kPassword});
    const auto result =
        workspace.run(notify_args(credentials, plain.url("smtp"), https.url("https", "/hook")));
    INFO("runner output:\n" << result.out);
    CHECK(result.exit_code == 0);
    CHECK(workspace.only_run().status == "FINISHED");
    const std::string log = read_file(fs::path(workspace.only_run().run_dir) / "run.log");
    CHECK(contains(log, "WARN notify: email via " + plain.url("smtp") + " failed: "));
    CHECK(contains(log, "STARTTLS"));
    CHECK(contains(log, "WARN notify: webhook " + https.url("https") + " failed: "));
    CHECK(contains(log, "certificate"));
    CHECK(plain.received("mail").empty());
    CHECK(https.received("request").empty());
    // The password never went out in clear: the session ended after EHLO.
    const auto sessions = plain.sessions(1);
    REQUIRE(sessions.size() == 1);
    for (const auto& command : sessions[0]["commands"]) {
      CHECK(command != "AUTH");
      CHECK_FALSE(contains(command.get<std::string>(), "MAIL"));
    }
  }
}

TEST_CASE("notify: a notification that cannot be sent is a WARN line and the run exits 0") {
  Credentials credentials;
  Workspace workspace;
  SUBCASE("connection refused, and HTTP 500") {
    SilentPort dead(false);
    Server failing("http_listener.py", {"--status", "500"});
    const auto result = workspace.run(
        concat(notify_args(credentials, "smtp://127.0.0.1:" + std::to_string(dead.port()),
                           failing.url("http", "/hook")),
               {"+notify.email.tls=none", "+notify.webhook.tls=none"}));
    INFO("runner output:\n" << result.out);
    CHECK(result.exit_code == 0);
    const mlq::RunRecord run = workspace.only_run();
    CHECK(run.status == "FINISHED");
    CHECK(contains(read_file(fs::path(run.run_dir) / "manifest.json"), "\"status\": \"FINISHED\""));
    const std::string log = read_file(fs::path(run.run_dir) / "run.log");
    CHECK(contains(log, "WARN notify: email via smtp://127.0.0.1:" + std::to_string(dead.port()) +
                            " failed: Couldn't connect to server"));
    CHECK(contains(log, "WARN notify: webhook " + failing.url("http") + " failed: HTTP 500"));
    CHECK(contains(result.out, "warning: notify: email via"));
  }
  SUBCASE("servers that never answer: the timeout bounds the wait") {
    SilentPort silent_smtp(true), silent_http(true);
    const auto start = std::chrono::steady_clock::now();
    const auto result = workspace.run(
        concat(notify_args(credentials, "smtp://127.0.0.1:" + std::to_string(silent_smtp.port()),
                           "http://127.0.0.1:" + std::to_string(silent_http.port())),
               {"+notify.email.tls=none", "+notify.webhook.tls=none", "+notify.email.timeout=1",
                "+notify.webhook.timeout=0.5"}));
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    INFO("runner output:\n" << result.out);
    CHECK(result.exit_code == 0);
    CHECK(seconds < 30);
    const mlq::RunRecord run = workspace.only_run();
    CHECK(run.status == "FINISHED");
    const std::string log = read_file(fs::path(run.run_dir) / "run.log");
    CHECK(contains(log, "WARN notify: email via smtp://127.0.0.1:" +
                            std::to_string(silent_smtp.port()) + " failed: Timeout was reached"));
    CHECK(contains(log, "WARN notify: webhook http://127.0.0.1:" +
                            std::to_string(silent_http.port()) + " failed: Timeout was reached"));
  }
}

TEST_CASE("notify: a failed run notifies with status FAILED and its error and still exits 1") {
  Credentials credentials;
  Server smtp("smtp_sink.py", {});
  Server http("http_listener.py", {});
  Workspace workspace;
  // The model takes 4 inputs, the data has 8: the run fails inside LibTorch.
  const auto result =
      workspace.run(concat(notify_args(credentials, smtp.url("smtp"), http.url("http")),
                           {"model.input_dim=4", "+notify.on=[\"failed\"]",
                            "+notify.email.tls=none", "+notify.webhook.tls=none"}));
  INFO("runner output:\n" << result.out);
  CHECK(result.exit_code == 1);
  const mlq::RunRecord run = workspace.only_run();
  CHECK(run.status == "FAILED");
  const auto requests = http.received("request");
  REQUIRE(requests.size() == 1);
  const json body = json::parse(requests[0]["body"].get<std::string>());
  CHECK(body["status"] == "FAILED");
  CHECK(body["error"] == run.error);
  CHECK(contains(body["error"], "LibTorch: "));
  const auto mails = smtp.received("mail");
  REQUIRE(mails.size() == 1);
  CHECK(contains(mails[0]["data"], "Subject: [mlq] regression run " + run.id + " FAILED after"));
  CHECK(contains(mails[0]["data"], "\r\nerror:     LibTorch: "));
}

TEST_CASE("notify: a run stopped by SIGINT notifies with status KILLED") {
  Credentials credentials;
  Server http("http_listener.py", {});
  Workspace workspace;
  auto args = short_run_args(concat({"trainer.max_steps=200", "trainer.checkpoint.every_n_steps=4",
                                     "++data.load_delay_ms=2", "+notify.webhook.tls=none"},
                                    notify_args(credentials, "", http.url("http"))));
  args.insert(args.begin(), MLQ_RUNNER);
  const pid_t pid =
      start_process(args, workspace.dir / "runner.log", workspace.env(), workspace.dir.path());
  // Stop it once it has written a checkpoint (well into training).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  bool checkpointed = false;
  while (!checkpointed && std::chrono::steady_clock::now() < deadline) {
    std::error_code ignored;
    for (const auto& entry : fs::recursive_directory_iterator(workspace.dir.path(), ignored))
      checkpointed = checkpointed || entry.path().filename() == "last.pt";
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  REQUIRE(checkpointed);
  kill(pid, SIGINT);
  CHECK(wait_process(pid) == 130);
  INFO("runner output:\n" << read_file(workspace.dir / "runner.log"));
  CHECK(workspace.only_run().status == "KILLED");
  const auto requests = http.received("request");
  REQUIRE(requests.size() == 1);
  const json body = json::parse(requests[0]["body"].get<std::string>());
  CHECK(body["status"] == "KILLED");
  CHECK(contains(body["error"], "interrupted"));
}

TEST_CASE("notify: config problems stop the runner at startup before any run") {
  Credentials credentials;
  Workspace workspace;
  SUBCASE("a credentials file that git tracks") {
    TempDir repo;
    REQUIRE(run_process({"git", "init", "-q"}, {}, repo.path()).exit_code == 0);
    const fs::path tracked = repo / "notify-credentials.toml";
    fs::copy_file(credentials.file, tracked);
    REQUIRE(run_process({"git", "add", "notify-credentials.toml"}, {}, repo.path()).exit_code == 0);
    const auto result = workspace.run(
        {set("notify.credentials", tracked.string()), set("notify.webhook.url", "https://h/x")});
    INFO("runner output:\n" << result.out);
    CHECK(result.exit_code == 2);
    CHECK(result.out == "error: config key 'notify.credentials' (override '" +
                            set("notify.credentials", tracked.string()) + "'): credentials file '" +
                            tracked.string() +
                            "' is tracked by git; secrets must stay out of the repository (git "
                            "rm --cached it and list it in .gitignore)\n");
  }
  SUBCASE("an unknown key") {
    const auto result = workspace.run(concat(
        notify_args(credentials, "smtps://mail.example.com", ""), {"+notify.email.smtp_port=465"}));
    INFO("runner output:\n" << result.out);
    CHECK(result.exit_code == 2);
    CHECK(result.out.rfind("error: unknown key 'notify.email.smtp_port'", 0) == 0);
    CHECK(std::count(result.out.begin(), result.out.end(), '\n') == 1);
  }
  CHECK_FALSE(fs::exists(workspace.dir / "outputs"));
  CHECK_FALSE(fs::exists(workspace.db()));
}

TEST_CASE("notify: light commands never load libcurl and runs without notify skip the senders") {
  Workspace workspace;
  const std::map<std::string, std::string> debug{{"LD_DEBUG", "libs"}};
  const std::string config = "--config=" MLQ_SOURCE_DIR "/configs/regression.toml";
  for (const auto& args : std::vector<std::vector<std::string>>{{"--help"}, {"--cfg", config}}) {
    INFO("runner " << args[0]);
    const auto result = run_runner(args, workspace.dir.path(), debug);
    CHECK(result.exit_code == 0);
    CHECK_FALSE(contains(result.out, "libcurl"));
  }
  // (Training loads libcurl anyway, through Debian's LibTorch and its dependencies.)
  const auto run = run_runner(short_run_args({"trainer.max_steps=2"}), workspace.dir.path(),
                              {{"LD_DEBUG", "libs"}, {"MLQ_DB", workspace.db().string()}});
  CHECK(run.exit_code == 0);
  CHECK_FALSE(contains(run.out, "libmlq_notify"));
}
