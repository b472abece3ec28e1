#include "mlq/notify/dispatch.hpp"

#include <boost/dll/shared_library.hpp>
#include <stdexcept>

#include "mlq/notify/message.hpp"
#include "mlq/plugin/loader.hpp"
#include "mlq/util/log.hpp"

namespace mlq {
namespace fs = std::filesystem;
namespace {

// libmlq_notify.so (libcurl) beside the runner's libraries, else where the build put it. Loaded
// once and never unloaded: libcurl and OpenSSL keep process-wide state.
boost::dll::shared_library& notify_library() {
  static boost::dll::shared_library* library = &load_for_good(
      "libmlq_notify.so", boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  return *library;
}

// Runs one notifier; a failure is a WARN line naming it and the reason.
template <class Send>
void attempt(const std::string& notifier, Send&& send) {
  try {
    send();
  } catch (const std::exception& e) {
    log::warn("notify: {} failed: {}", notifier, e.what());
  } catch (...) {
    log::warn("notify: {} failed", notifier);
  }
}

}  // namespace

void notify_run_end(const NotifySettings& settings, const Manifest& manifest,
                    std::string_view run_id) {
  if (!settings.email && !settings.webhook) return;
  RunSummary run;
  attempt("reading run " + std::string(run_id), [&] { run = summarize_run(manifest, run_id); });
  if (run.id.empty() || !settings.wants(run.status)) return;

  if (const auto& email = settings.email) {
    attempt("email via " + url_origin(email->url), [&] {
      auto& send = notify_library().get_alias<SendEmailFn>("mlq_notify_send_email");
      send(*email, settings.credentials, email_message(*email, run, now_seconds()));
      log::info("notify: emailed {} recipient{} via {}", email->to.size(),
                email->to.size() == 1 ? "" : "s", url_origin(email->url));
    });
  }
  if (const auto& webhook = settings.webhook) {
    const std::string& url = webhook->url.empty() ? settings.credentials.webhook_url : webhook->url;
    attempt("webhook " + url_origin(url), [&] {
      auto& post = notify_library().get_alias<PostWebhookFn>("mlq_notify_post_webhook");
      const long status = post(*webhook, settings.credentials, webhook_payload(run));
      log::info("notify: webhook {} answered HTTP {}", url_origin(url), status);
    });
  }
}

}  // namespace mlq
