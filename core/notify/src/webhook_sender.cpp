// mlq_notify_post_webhook: the run's JSON summary POSTed with libcurl (https:// unless
// tls = "none"). Redirects are not followed, so headers with secrets go nowhere else.
#include <fmt/format.h>
#include <boost/dll/alias.hpp>

#include "curl_transfer.hpp"
#include "mlq/notify/dispatch.hpp"
#include "mlq/version.hpp"

namespace mlq {
namespace {

size_t discard(char*, size_t size, size_t count, void*) {
  return size * count;
}

long post_webhook(const WebhookSettings& webhook, const NotifyCredentials& credentials,
                  const std::string& json) {
  const std::string& url = webhook.url.empty() ? credentials.webhook_url : webhook.url;
  CurlTransfer transfer(webhook.timeout, webhook.ca_file, webhook.tls ? "https" : "http");
  transfer.set(CURLOPT_URL, url.c_str());
  CurlList headers;
  headers.append("Content-Type: application/json");
  headers.append("Expect:");  // no 100-continue round trip
  if (!credentials.webhook_bearer_token.empty())
    headers.append("Authorization: Bearer " + credentials.webhook_bearer_token);
  for (const auto& [name, value] : credentials.webhook_headers) headers.append(name + ": " + value);
  transfer.set(CURLOPT_HTTPHEADER, headers.get());
  const std::string agent = fmt::format("mlq-runner/{}", kVersion);
  transfer.set(CURLOPT_USERAGENT, agent.c_str());
  transfer.set(CURLOPT_POSTFIELDS, json.c_str());
  transfer.set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(json.size()));
  transfer.set(CURLOPT_FOLLOWLOCATION, 0L);
  transfer.set(CURLOPT_WRITEFUNCTION, discard);
  transfer.perform();
  long status = 0;
  curl_easy_getinfo(transfer.handle(), CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status >= 300)
    throw std::runtime_error(fmt::format(
        "HTTP {}{}", status,
        status >= 300 && status < 400 ? " (a redirect; redirects are not followed)" : ""));
  return status;
}

}  // namespace
}  // namespace mlq

BOOST_DLL_ALIAS(mlq::post_webhook, mlq_notify_post_webhook)
