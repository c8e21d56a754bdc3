// File: engine/driver.h
//
// Runs a PaymentSource through a Processor to the end of the input, with
// periodic commits and progress reports: the loop shared by `txflag backtest`
// and the in-process test driver.
//
//   DriverOptions options;
//   options.on_progress = [](const Progress& p) { ... };
//   TXFLAG_RETURN_IF_ERROR(RunToEnd(&source, processor.get(), options));
#ifndef TXFLAG_ENGINE_DRIVER_H_
#define TXFLAG_ENGINE_DRIVER_H_

#include <atomic>
#include <cstdint>
#include <functional>

#include "absl/status/status.h"
#include "engine/processor.h"
#include "engine/source.h"

namespace txflag::engine {

struct Progress {
  int64_t records = 0;   // read so far in this run (resumed ones excluded)
  double fraction = -1;  // of the input, 0..1; < 0 when unknown
  double elapsed_seconds = 0;
  double records_per_second = 0;
  double eta_seconds = -1;  // < 0 when unknown
  bool final = false;       // the last report of the run
};

struct DriverOptions {
  // Commit at least this often (wall clock), milliseconds. Default 2000.
  int64_t commit_interval_ms = 2000;
  // ... and at least every this many records. Default 1,000,000.
  int64_t commit_every_records = 1000000;
  // Called about every progress_interval_ms, and once more at the end.
  std::function<void(const Progress&)> on_progress;
  int64_t progress_interval_ms = 1000;
  // When set and it becomes true, the run commits and returns Cancelled.
  const std::atomic<bool>* stop = nullptr;
};

// Restores `source` to the processor's checkpoint, reads it to the end,
// drains the reorder buffer and commits. Returns the first error of the
// source, the processor (e.g. InvalidArgument for a bad record under
// --strict) or the store; Cancelled when stopped through options.stop (after
// a commit, so the run can be resumed).
absl::Status RunToEnd(PaymentSource* source, Processor* processor,
                      const DriverOptions& options);

}  // namespace txflag::engine

#endif  // TXFLAG_ENGINE_DRIVER_H_
