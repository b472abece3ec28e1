#pragma once
// Run-end notifications: the runner calls notify_run_end once a run has its final status.
#include <string>
#include <string_view>

#include "mlq/notify/settings.hpp"
#include "mlq/tracking/manifest.hpp"

namespace mlq {

// Sends what `settings` asks for about the run (read from the manifest). Never throws and never
// changes the run: a notifier that fails is a WARN line in the run log naming it and the reason.
void notify_run_end(const NotifySettings& settings, const Manifest& manifest,
                    std::string_view run_id);

// libmlq_notify.so, loaded on the first notification so that libcurl costs the runner's other
// commands nothing, exports these (Boost.DLL aliases mlq_notify_send_email and
// mlq_notify_post_webhook). Each throws std::runtime_error with the reason when sending fails;
// the reason never contains a secret.
using SendEmailFn = void(const EmailSettings& email, const NotifyCredentials& credentials,
                         const std::string& message);
// Returns the HTTP status (2xx; anything else throws).
using PostWebhookFn = long(const WebhookSettings& webhook, const NotifyCredentials& credentials,
                           const std::string& json);

}  // namespace mlq
