// File: tests/subprocess.h
//
// Runs the txflag executable from tests: synchronously with captured output,
// or in the background to be killed.
#ifndef TXFLAG_TESTS_SUBPROCESS_H_
#define TXFLAG_TESTS_SUBPROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

namespace txflag::testing {

// Path of the built txflag binary.
std::string TxflagBinary();

struct CommandResult {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs argv (argv[0] is the program path) and waits for it.
CommandResult RunCommand(const std::vector<std::string>& argv);

// Starts argv with stdout/stderr to /dev/null; returns its pid.
pid_t Start(const std::vector<std::string>& argv);

// Waits for pid; fills exit_code / signal.
CommandResult Wait(pid_t pid);

// Reads a whole file ("" if absent).
std::string ReadFile(const std::string& path);

// A fresh empty directory under the build tree, removed first if present.
std::string FreshDir(const std::string& name);

}  // namespace txflag::testing

#endif  // TXFLAG_TESTS_SUBPROCESS_H_
