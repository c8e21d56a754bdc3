// File: cli/backtest.h
//
// `txflag backtest`: the engine over a payments file, with RocksDB state, the
// rejects file, the final alerts and a summary (with precision and recall when
// labels are known). Resumable: run the same command again after a crash or
// Ctrl-C and it continues from the last commit.
#ifndef TXFLAG_CLI_BACKTEST_H_
#define TXFLAG_CLI_BACKTEST_H_

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cli/exit_code.h"
#include "engine/metrics.h"
#include "engine/processor.h"

namespace txflag::cli {

struct BacktestOptions {
  std::string input;            // payments file (required)
  std::string format = "auto";  // auto, csv, jsonl, amlworld
  std::string rules;            // rule pack file; "" = built-in default
  std::string labels;           // account,typology CSV; "" = none
  std::string out_dir;          // required
  std::string state_dir;        // "" = <out_dir>/state
  bool fresh = false;           // delete the state dir first
  bool strict = false;          // first bad record is an error
  int64_t allowed_lateness_seconds = 3600;
  int64_t commit_interval_ms = 2000;
  int64_t commit_every_records = 1000000;
  bool sync = false;          // fsync every commit
  bool progress = true;       // progress lines on stderr
  bool print_summary = true;  // summary on stdout
  const std::atomic<bool>* stop = nullptr;
};

struct BacktestResult {
  engine::Processor::Stats stats;
  engine::BacktestReport report;
  double elapsed_seconds = 0;
  int64_t records_this_run = 0;  // records read by this process
  std::string summary_text;      // what was printed
};

// Runs the back-test. On error the returned status says what and where; use
// ExitCodeFor() (cli/exit_code.h) to turn it into the process's exit code.
absl::StatusOr<BacktestResult> RunBacktest(const BacktestOptions& options);

}  // namespace txflag::cli

#endif  // TXFLAG_CLI_BACKTEST_H_
