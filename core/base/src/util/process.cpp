#include "mlq/util/process.hpp"

#include <signal.h>

#include <cerrno>
#include <fstream>
#include <string>

namespace mlq {

bool process_gone(pid_t pid) {
  if (kill(pid, 0) == -1) return errno == ESRCH;
  // /proc/PID/stat: "PID (COMMAND) STATE ...", where COMMAND may hold spaces and parentheses.
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const auto close = line.rfind(')');
  if (close == std::string::npos || close + 2 >= line.size()) return false;
  const char state = line[close + 2];
  return state == 'Z' || state == 'X';
}

}  // namespace mlq
