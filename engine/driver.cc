#include "engine/driver.h"

#include <chrono>

#include "base/status_macros.h"

namespace txflag::engine {

absl::Status RunToEnd(PaymentSource* source, Processor* processor,
                      const DriverOptions& options) {
  using Clock = std::chrono::steady_clock;
  if (!processor->source_checkpoint().empty()) {
    TXFLAG_RETURN_IF_ERROR(source->Restore(processor->source_checkpoint()));
  }
  const auto start = Clock::now();
  auto last_commit = start;
  auto last_progress = start;
  int64_t records = 0;
  int64_t records_at_commit = 0;
  SourceRecord record;

  auto report = [&](Clock::time_point now, bool final) {
    if (!options.on_progress) return;
    Progress p;
    p.records = records;
    p.fraction = source->Progress();
    p.elapsed_seconds = std::chrono::duration<double>(now - start).count();
    p.records_per_second =
        p.elapsed_seconds > 0 ? records / p.elapsed_seconds : 0;
    if (p.fraction > 0 && p.fraction < 1) {
      p.eta_seconds = p.elapsed_seconds * (1 - p.fraction) / p.fraction;
    }
    p.final = final;
    options.on_progress(p);
  };

  while (true) {
    TXFLAG_ASSIGN_OR_RETURN(bool more, source->Next(&record));
    if (!more) break;
    TXFLAG_RETURN_IF_ERROR(processor->Process(&record));
    ++records;
    if ((records & 4095) != 0) continue;
    const auto now = Clock::now();
    if (records - records_at_commit >= options.commit_every_records ||
        now - last_commit >=
            std::chrono::milliseconds(options.commit_interval_ms)) {
      TXFLAG_RETURN_IF_ERROR(processor->Commit(source->Checkpoint()));
      last_commit = now;
      records_at_commit = records;
    }
    if (now - last_progress >=
        std::chrono::milliseconds(options.progress_interval_ms)) {
      report(now, false);
      last_progress = now;
    }
    if (options.stop != nullptr && options.stop->load()) {
      TXFLAG_RETURN_IF_ERROR(processor->Commit(source->Checkpoint()));
      return absl::CancelledError("stopped before the end of the input");
    }
  }
  TXFLAG_RETURN_IF_ERROR(processor->Drain());
  TXFLAG_RETURN_IF_ERROR(processor->Commit(source->Checkpoint()));
  report(Clock::now(), true);
  return absl::OkStatus();
}

}  // namespace txflag::engine
