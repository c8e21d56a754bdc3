// File: connectors/alerts_jsonl.h
//
// Alerts as JSON Lines: one txflag.v1.Alert a line in protobuf's JSON mapping
// with the .proto field names (alert_id, window_start), every scalar printed
// even when zero (revision, score) and timestamps in RFC 3339
// ("2024-03-01T21:15:00Z").
//
//   TXFLAG_ASSIGN_OR_RETURN(auto file,
//   JsonlAlertFile::Open("out/alerts.jsonl")); for (const auto& alert : alerts)
//   TXFLAG_RETURN_IF_ERROR(file->Write(alert));
//   TXFLAG_RETURN_IF_ERROR(file->Close());
//
// JsonlAlertFile is for a back-test's final alerts; JsonlAlertSink is the
// engine::AlertSink that appends every revision as it is raised.
// Neither is thread-safe.
#ifndef TXFLAG_CONNECTORS_ALERTS_JSONL_H_
#define TXFLAG_CONNECTORS_ALERTS_JSONL_H_

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/alert_sink.h"
#include "proto/alert.pb.h"

namespace txflag::connectors {

// Appends `alert` as one JSON line (without the "\n") to *out.
// InvalidArgument when protobuf cannot print it (a timestamp outside
// 0001-9999).
absl::Status AppendAlertJson(const txflag::v1::Alert& alert, std::string* out);

// `alert` as one JSON line (no "\n"). If it cannot be printed, returns
// {"alert_id":"...","error":"..."} so that the failure stays visible.
std::string AlertToJson(const txflag::v1::Alert& alert);

struct JsonlAlertFileOptions {
  // Append to an existing file instead of truncating it. Default false.
  bool append = false;
  // fdatasync(2) on Flush() and Close(). Default false.
  bool sync = false;
};

class JsonlAlertFile {
 public:
  // Creates (or truncates, or with `append` opens for appending) `path`.
  // Unavailable when it cannot be opened.
  static absl::StatusOr<std::unique_ptr<JsonlAlertFile>> Open(
      const std::string& path, JsonlAlertFileOptions options = {});

  // Closes the file if Close() was not called (ignoring errors).
  ~JsonlAlertFile();

  // Writes one line. InvalidArgument for an unprintable alert, Unavailable
  // on a write error, FailedPrecondition after Close().
  absl::Status Write(const txflag::v1::Alert& alert);
  // fflush (+ fdatasync with Options::sync). Unavailable on failure.
  absl::Status Flush();
  // Flushes and closes. Unavailable on failure; FailedPrecondition if closed.
  absl::Status Close();

  uint64_t lines() const { return lines_; }
  const std::string& path() const { return path_; }

 private:
  JsonlAlertFile(std::string path, std::FILE* file,
                 JsonlAlertFileOptions options);
  absl::Status Error(const char* what) const;

  std::string path_;
  std::FILE* file_;
  JsonlAlertFileOptions options_;
  uint64_t lines_ = 0;
  std::string line_;  // reused
};

// engine::AlertSink appending every revision to a JSON Lines file.
class JsonlAlertSink : public engine::AlertSink {
 public:
  // Opens `path` for appending by default (a resumed run adds to it).
  static absl::StatusOr<std::unique_ptr<JsonlAlertSink>> Open(
      const std::string& path,
      JsonlAlertFileOptions options = {.append = true, .sync = false});

  absl::Status Emit(const txflag::v1::Alert& alert) override;
  absl::Status Flush() override;
  absl::Status Close() { return file_->Close(); }
  uint64_t lines() const { return file_->lines(); }

 private:
  explicit JsonlAlertSink(std::unique_ptr<JsonlAlertFile> file)
      : file_(std::move(file)) {}
  std::unique_ptr<JsonlAlertFile> file_;
};

}  // namespace txflag::connectors

#endif  // TXFLAG_CONNECTORS_ALERTS_JSONL_H_
