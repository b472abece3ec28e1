#pragma once
#include <doctest/doctest.h>

#include <exception>
#include <string>

namespace mlq::test {

// The message of the E that `body` throws; fails the test if it throws nothing or something else.
template <class E, class Body>
std::string error_message(Body&& body) {
  try {
    body();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    FAIL("expected another kind of error, got: " << e.what());
    return "";
  }
  FAIL("expected an error");
  return "";
}

}  // namespace mlq::test
