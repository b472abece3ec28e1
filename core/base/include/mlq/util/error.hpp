#pragma once
#include <stdexcept>
#include <string>

namespace mlq {

// A user-facing failure: the message is one line naming the file, key or value and what was
// expected. The runner prints it and exits with status 2.
class UserError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ConfigError : public UserError {
 public:
  using UserError::UserError;
};

class PluginError : public UserError {
 public:
  using UserError::UserError;
};

}  // namespace mlq

namespace mlq {

// A sweep's trial stopped early by successive halving: its run ends as PRUNED.
class Pruned : public UserError {
 public:
  using UserError::UserError;
};

// The run was stopped by SIGINT/SIGTERM after writing its last checkpoint.
class Interrupted : public UserError {
 public:
  using UserError::UserError;
};

}  // namespace mlq
