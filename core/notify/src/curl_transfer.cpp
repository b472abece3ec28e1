#include "curl_transfer.hpp"

#include <mutex>
#include <new>

#include "mlq/util/text.hpp"

namespace mlq {

CurlTransfer::CurlTransfer(double timeout_seconds, const std::filesystem::path& ca_file,
                           const char* protocols) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  curl_ = curl_easy_init();
  if (!curl_) throw std::runtime_error("libcurl: cannot create a transfer");
  const long milliseconds = static_cast<long>(timeout_seconds * 1000);
  set(CURLOPT_ERRORBUFFER, error_);
  set(CURLOPT_VERBOSE, 0L);
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_NOPROGRESS, 1L);
  set(CURLOPT_TIMEOUT_MS, milliseconds);
  set(CURLOPT_CONNECTTIMEOUT_MS, milliseconds);
  set(CURLOPT_PROTOCOLS_STR, protocols);
  set(CURLOPT_REDIR_PROTOCOLS_STR, protocols);
  set(CURLOPT_SSL_VERIFYPEER, 1L);
  set(CURLOPT_SSL_VERIFYHOST, 2L);
  if (!ca_file.empty()) set(CURLOPT_CAINFO, ca_file.c_str());
}

CurlTransfer::~CurlTransfer() {
  curl_easy_cleanup(curl_);
}

void CurlTransfer::perform() {
  error_[0] = '\0';
  const CURLcode code = curl_easy_perform(curl_);
  if (code == CURLE_OK) return;
  std::string reason = curl_easy_strerror(code);
  const std::string detail = trim(error_);
  if (!detail.empty() && detail != reason) reason += " (" + detail + ")";
  throw std::runtime_error(reason);
}

void CurlList::append(const std::string& item) {
  curl_slist* longer = curl_slist_append(list_, item.c_str());
  if (!longer) throw std::bad_alloc();
  list_ = longer;
}

}  // namespace mlq
