#pragma once
// What a run-end notification says: a plain-text email (RFC 5322) and a JSON object.
#include <map>
#include <string>
#include <string_view>

#include "mlq/notify/settings.hpp"
#include "mlq/tracking/manifest.hpp"

namespace mlq {

struct RunSummary {
  std::string id;
  std::string task;
  std::string status;  // FINISHED, FAILED, KILLED
  std::string error;   // of a failed or killed run
  std::string run_dir;
  std::string host;
  double start_time = 0;  // seconds since the Unix epoch
  double end_time = 0;
  std::map<std::string, double> metrics;  // the last value of every test_* and val_* metric
};

// The run as the manifest records it (after Run::finish).
RunSummary summarize_run(const Manifest& manifest, std::string_view run_id);

// "[mlq] regression run 1a2b3c4d FINISHED after 2 s": the subject, and the webhook's "text".
std::string notification_title(const RunSummary& run);
// The whole message: From, To, Subject, Date (`now`, seconds since the epoch), Message-ID and
// MIME headers, then the body; CRLF line ends.
std::string email_message(const EmailSettings& email, const RunSummary& run, double now);
// {"event": "run_end", "id", "task", "status", "text", "duration_s", ..., "metrics": {...}}.
std::string webhook_payload(const RunSummary& run);

// "950 ms", "42 s", "3 min 05 s", "2 h 03 min".
// The bare address of "a@b" or "Name <a@b>"; "" when it is not an email address.
std::string envelope_address(std::string_view address);

}  // namespace mlq
