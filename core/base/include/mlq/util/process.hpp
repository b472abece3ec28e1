#pragma once
#include <sys/types.h>

namespace mlq {

// Whether process `pid` on this machine has ended: no such process, or a zombie (ended, not yet
// reaped by its parent; a killed process's children can linger so where nothing reaps them).
bool process_gone(pid_t pid);

}  // namespace mlq
