#pragma once

namespace mlq {

// SIGINT/SIGTERM ask the trainer to stop after the current step (last checkpoint written); a
// second signal ends the process at once.
void install_stop_signal_handlers();
bool stop_signal_received();

}  // namespace mlq
