// File: connectors/rejects_csv.h
//
// rejects.csv: the records a source could not read as payments, one RFC 4180
// row each, with where and why, for an analyst to fix and replay.
//
//   location,reason,raw
//   data/payments.csv:17,"amount '0.00' ...","p17,2024-03-01T..."
//
//   TXFLAG_ASSIGN_OR_RETURN(auto sink, CsvRejectSink::Open("out/rejects.csv"));
//   TXFLAG_RETURN_IF_ERROR(sink->Restore(checkpoint_or_empty));
//   TXFLAG_RETURN_IF_ERROR(sink->Write(record.location, record.reason,
//                                      record.raw));
//   TXFLAG_ASSIGN_OR_RETURN(std::string cp, sink->Flush());  // commit with
//   state
//
// Open() keeps an existing file (a resumed run); Restore() then cuts it back
// to the committed checkpoint, and Restore("") to the header alone (a fresh
// run). Not thread-safe.
#ifndef TXFLAG_CONNECTORS_REJECTS_CSV_H_
#define TXFLAG_CONNECTORS_REJECTS_CSV_H_

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/source.h"

namespace txflag::connectors {

inline constexpr std::string_view kRejectsCsvHeader = "location,reason,raw";

struct CsvRejectSinkOptions {
  // fdatasync(2) on every Flush(), so a checkpoint survives a power loss, not
  // only a process crash. Default false.
  bool sync = false;
};

class CsvRejectSink : public engine::RejectSink {
 public:
  // Opens (creating it with its header if absent or empty) `path`. Existing
  // rows are kept until Restore(). Errors: Unavailable when the file cannot be
  // opened or written; FailedPrecondition when it exists and does not start
  // with the rejects header (not a rejects file: refusing to truncate it).
  static absl::StatusOr<std::unique_ptr<CsvRejectSink>> Open(
      const std::string& path, CsvRejectSinkOptions options = {});

  ~CsvRejectSink() override;

  // Appends one row, quoting fields as RFC 4180 requires. Unavailable on a
  // write error.
  absl::Status Write(std::string_view location, std::string_view reason,
                     std::string_view raw) override;

  // Flushes (and, with Options::sync, fdatasyncs) the file and returns
  // "<length in bytes>:<rows>" as the checkpoint. Unavailable on failure.
  absl::StatusOr<std::string> Flush() override;

  // Truncates the file to `checkpoint` (from Flush()), or to the header alone
  // when it is empty. InvalidArgument for an unparsable checkpoint; DataLoss
  // when the file is shorter than the checkpoint (it lost committed rows).
  absl::Status Restore(std::string_view checkpoint) override;

  // Flushes and closes the file; later calls fail with FailedPrecondition.
  absl::Status Close();

  // Rows in the file (data rows, not the header) as far as this sink knows:
  // those of the restored checkpoint plus those written since.
  uint64_t rows() const { return rows_; }
  const std::string& path() const { return path_; }

 private:
  CsvRejectSink(std::string path, std::FILE* file,
                CsvRejectSinkOptions options);
  absl::Status WriteBytes(std::string_view bytes);
  absl::Status Error(std::string_view what) const;

  std::string path_;
  std::FILE* file_;
  CsvRejectSinkOptions options_;
  uint64_t rows_ = 0;
  std::string row_;  // reused row buffer
};

// Appends `field` to *out, quoted when it holds a comma, quote, CR or LF (and
// its quotes doubled), as RFC 4180 says.
void AppendCsvField(std::string_view field, std::string* out);

}  // namespace txflag::connectors

#endif  // TXFLAG_CONNECTORS_REJECTS_CSV_H_
