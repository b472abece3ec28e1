// mlq_notify_send_email: one message over SMTP with libcurl (smtps://, or smtp:// with STARTTLS
// required unless tls = "none").
#include <algorithm>
#include <boost/dll/alias.hpp>
#include <cstring>

#include "curl_transfer.hpp"
#include "mlq/notify/dispatch.hpp"
#include "mlq/notify/message.hpp"

namespace mlq {
namespace {

struct Upload {
  const std::string* data;
  size_t offset = 0;
};

size_t read_upload(char* buffer, size_t size, size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  const size_t n = std::min(size * count, upload->data->size() - upload->offset);
  std::memcpy(buffer, upload->data->data() + upload->offset, n);
  upload->offset += n;
  return n;
}

void send_email(const EmailSettings& email, const NotifyCredentials& credentials,
                const std::string& message) {
  CurlTransfer transfer(email.timeout, email.ca_file, email.tls ? "smtp,smtps" : "smtp");
  transfer.set(CURLOPT_URL, email.url.c_str());
  transfer.set(CURLOPT_USE_SSL, static_cast<long>(email.tls ? CURLUSESSL_ALL : CURLUSESSL_NONE));
  if (!credentials.smtp_username.empty()) {
    transfer.set(CURLOPT_USERNAME, credentials.smtp_username.c_str());
    transfer.set(CURLOPT_PASSWORD, credentials.smtp_password.c_str());
  }
  const std::string from = "<" + envelope_address(email.from) + ">";
  transfer.set(CURLOPT_MAIL_FROM, from.c_str());
  CurlList recipients;
  for (const auto& address : email.to) recipients.append("<" + envelope_address(address) + ">");
  transfer.set(CURLOPT_MAIL_RCPT, recipients.get());
  Upload upload{&message};
  transfer.set(CURLOPT_READFUNCTION, read_upload);
  transfer.set(CURLOPT_READDATA, &upload);
  transfer.set(CURLOPT_UPLOAD, 1L);
  transfer.set(CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));
  transfer.perform();
}

}  // namespace
}  // namespace mlq

BOOST_DLL_ALIAS(mlq::send_email, mlq_notify_send_email)
