#pragma once
// A libcurl easy handle with what every notifier shares: timeouts, certificate checks, allowed
// protocols, no signals, and never verbose (a transcript would show the credentials).
#include <curl/curl.h>

#include <filesystem>
#include <stdexcept>
#include <string>

namespace mlq {

class CurlTransfer {
 public:
  // `protocols`: libcurl's list, e.g. "https" or "smtp,smtps".
  CurlTransfer(double timeout_seconds, const std::filesystem::path& ca_file, const char* protocols);
  ~CurlTransfer();
  CurlTransfer(const CurlTransfer&) = delete;
  CurlTransfer& operator=(const CurlTransfer&) = delete;

  template <class T>
  void set(CURLoption option, T value) {
    const CURLcode code = curl_easy_setopt(curl_, option, value);
    if (code != CURLE_OK)
      throw std::runtime_error(std::string("libcurl: ") + curl_easy_strerror(code));
  }
  CURL* handle() const { return curl_; }
  // Runs the transfer; throws std::runtime_error with libcurl's reason on failure.
  void perform();

 private:
  CURL* curl_ = nullptr;
  char error_[CURL_ERROR_SIZE] = {};
};

// A curl_slist freed with its owner.
class CurlList {
 public:
  CurlList() = default;
  ~CurlList() { curl_slist_free_all(list_); }
  CurlList(const CurlList&) = delete;
  CurlList& operator=(const CurlList&) = delete;
  void append(const std::string& item);
  curl_slist* get() const { return list_; }

 private:
  curl_slist* list_ = nullptr;
};

}  // namespace mlq
