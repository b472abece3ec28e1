#include "mlq/notify/message.hpp"

#include <nlohmann/json.hpp>
#include "mlq/util/duration.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <ctime>
#include <vector>

#include "mlq/util/error.hpp"
#include "mlq/util/text.hpp"
#include "mlq/version.hpp"

namespace mlq {
namespace {

// SMTP allows 998 bytes per line; longer lines (a long error) are split.
constexpr size_t kMaxLine = 900;

// A value on one line: no line breaks or other control characters (no header injection).
std::string header_value(std::string_view text) {
  std::string out;
  for (char c : text) out += static_cast<unsigned char>(c) < ' ' || c == 0x7f ? ' ' : c;
  return out;
}

// RFC 5322 date in UTC, with English names whatever the locale.
std::string rfc5322_date(double now) {
  static const char* const kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t seconds = static_cast<std::time_t>(now);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  return fmt::format("{}, {:02d} {} {} {:02d}:{:02d}:{:02d} +0000", kDays[utc.tm_wday], utc.tm_mday,
                     kMonths[utc.tm_mon], utc.tm_year + 1900, utc.tm_hour, utc.tm_min, utc.tm_sec);
}

std::string address_domain(std::string_view address) {
  const std::string bare = envelope_address(address);
  return bare.substr(bare.rfind('@') + 1);
}

// Body text with CRLF line ends and no line over kMaxLine bytes.
std::string crlf_lines(const std::string& text) {
  std::string out;
  std::vector<std::string> lines = split(text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();  // the final line's '\n'
  for (const auto& line : lines) {
    size_t start = 0;
    do {
      size_t end = std::min(line.size(), start + kMaxLine);
      // Split between UTF-8 characters, not inside one.
      while (end < line.size() && end > start + 1 && (line[end] & 0xC0) == 0x80) --end;
      out += line.substr(start, end - start) + "\r\n";
      start = end;
    } while (start < line.size());
  }
  return out;
}

std::string metric_value(double value) {
  return fmt::format("{:.6g}", value);
}

}  // namespace

RunSummary summarize_run(const Manifest& manifest, std::string_view run_id) {
  const std::optional<RunRecord> record = manifest.find_run(run_id);
  if (!record) throw UserError(fmt::format("{}: no run '{}'", manifest.location(), run_id));
  RunSummary run;
  run.id = record->id;
  run.task = record->task;
  run.status = record->status;
  run.error = record->error;
  run.run_dir = record->run_dir;
  run.host = record->host;
  run.start_time = record->start_time;
  run.end_time = record->end_time;
  for (const auto& [key, value] : manifest.last_metrics(run_id))
    if (key.rfind("test_", 0) == 0 || key.rfind("val_", 0) == 0) run.metrics[key] = value;
  return run;
}

std::string envelope_address(std::string_view address) {
  std::string_view bare = address;
  if (const size_t open = address.rfind('<'); open != std::string_view::npos) {
    if (address.back() != '>') return "";
    if (address.substr(0, open).find_first_of("<>@") != std::string_view::npos) return "";
    bare = address.substr(open + 1, address.size() - open - 2);
  }
  const size_t at = bare.find('@');
  if (at == 0 || at == std::string_view::npos || at + 1 >= bare.size() ||
      bare.find('@', at + 1) != std::string_view::npos)
    return "";
  for (char c : bare)
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f || c == '<' || c == '>' || c == ',')
      return "";
  for (char c : address)
    if (static_cast<unsigned char>(c) < ' ' || c == 0x7f) return "";
  return std::string(bare);
}

std::string notification_title(const RunSummary& run) {
  return header_value(
      fmt::format("[mlq] {} run {} {} after {}", run.task, run.id, run.status,
                  format_duration(run.end_time - run.start_time, DurationStyle::Words)));
}

std::string email_message(const EmailSettings& email, const RunSummary& run, double now) {
  std::string to;
  for (const auto& address : email.to) to += (to.empty() ? "" : ", ") + header_value(address);
  std::string message;
  message += "From: " + header_value(email.from) + "\r\n";
  message += "To: " + to + "\r\n";
  message += "Subject: " + notification_title(run) + "\r\n";
  message += "Date: " + rfc5322_date(now) + "\r\n";
  message += fmt::format("Message-ID: <mlq.{}.{}@{}>\r\n", header_value(run.id),
                         static_cast<int64_t>(now * 1000), address_domain(email.from));
  message += "MIME-Version: 1.0\r\n";
  message += "Content-Type: text/plain; charset=utf-8\r\n";
  message += "Content-Transfer-Encoding: 8bit\r\n";
  message += fmt::format("X-Mailer: mlq runner {}\r\n", kVersion);
  message += "\r\n";

  // Every value on one line: a stray line break could end the message early.
  const std::string id = header_value(run.id), task = header_value(run.task),
                    status = header_value(run.status);
  const std::string duration = format_duration(run.end_time - run.start_time, DurationStyle::Words);
  std::string body =
      fmt::format("Run {} of task {} ended {} after {}.\n\n", id, task, status, duration);
  body += fmt::format("run id:    {}\n", id);
  body += fmt::format("task:      {}\n", task);
  body += fmt::format("status:    {}\n", status);
  body += fmt::format("duration:  {}\n", duration);
  body += fmt::format("host:      {}\n", header_value(run.host));
  body += fmt::format("run dir:   {}\n", header_value(run.run_dir));
  if (!run.error.empty()) body += fmt::format("error:     {}\n", header_value(run.error));
  if (run.metrics.empty()) {
    body += "\nNo test or validation metrics were recorded.\n";
  } else {
    size_t width = 0;
    for (const auto& [key, value] : run.metrics) width = std::max(width, key.size());
    body += "\nFinal metrics:\n";
    for (const auto& [key, value] : run.metrics)
      body += fmt::format("  {:<{}}  {}\n", header_value(key), width, metric_value(value));
  }
  body += fmt::format("\nShow it with: runner runs show {}\n", id);
  return message + crlf_lines(body);
}

std::string webhook_payload(const RunSummary& run) {
  nlohmann::ordered_json metrics = nlohmann::ordered_json::object();
  for (const auto& [key, value] : run.metrics) metrics[key] = value;
  const nlohmann::ordered_json payload{
      {"event", "run_end"},
      {"id", run.id},
      {"task", run.task},
      {"status", run.status},
      {"text", notification_title(run)},
      {"duration_s", run.end_time - run.start_time},
      {"start_time", run.start_time},
      {"end_time", run.end_time},
      {"host", run.host},
      {"run_dir", run.run_dir},
      {"error", run.error.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(run.error)},
      {"metrics", metrics}};
  return payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace mlq
