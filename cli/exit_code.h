// File: cli/exit_code.h
//
// The txflag executable's exit codes, and how a command's error status
// carries the one it should produce:
//
//   if (!pack.ok()) return WithExit(pack.status(), kExitUsage);
//   ...
//   return ExitCodeFor(status);  // in main()
#ifndef TXFLAG_CLI_EXIT_CODE_H_
#define TXFLAG_CLI_EXIT_CODE_H_

#include "absl/status/status.h"

namespace txflag::cli {

// Documented in the README.
enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,        // I/O error, corrupt state, broker failure
  kExitUsage = 2,          // bad arguments, unreadable or invalid rule pack
  kExitBadInput = 3,       // a bad input record under --strict, bad header
  kExitState = 4,          // the state dir cannot be used as it is
  kExitInterrupted = 130,  // SIGINT/SIGTERM: committed, run again to resume
};

// Returns `status` tagged with exit code `code` (an OK status stays OK).
absl::Status WithExit(absl::Status status, int code);

// The exit code for `status`: its tag, else one derived from its code
// (Cancelled -> 130, FailedPrecondition -> 4, other errors -> 1).
int ExitCodeFor(const absl::Status& status);

}  // namespace txflag::cli

#endif  // TXFLAG_CLI_EXIT_CODE_H_
