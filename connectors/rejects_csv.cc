#include "connectors/rejects_csv.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "base/strings.h"

namespace txflag::connectors {

void AppendCsvField(std::string_view field, std::string* out) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
    out->append(field.data(), field.size());
    return;
  }
  out->push_back('"');
  for (char c : field) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

CsvRejectSink::CsvRejectSink(std::string path, std::FILE* file,
                             CsvRejectSinkOptions options)
    : path_(std::move(path)), file_(file), options_(options) {}

CsvRejectSink::~CsvRejectSink() {
  if (file_ != nullptr) std::fclose(file_);
}

absl::Status CsvRejectSink::Error(std::string_view what) const {
  return absl::UnavailableError(absl::StrCat(Av(what), " rejects file ", path_,
                                             ": ", std::strerror(errno)));
}

absl::StatusOr<std::unique_ptr<CsvRejectSink>> CsvRejectSink::Open(
    const std::string& path, CsvRejectSinkOptions options) {
  std::FILE* file = std::fopen(path.c_str(), "a+");
  if (file == nullptr) {
    return absl::UnavailableError(absl::StrCat(
        "cannot open rejects file ", path, ": ", std::strerror(errno)));
  }
  std::unique_ptr<CsvRejectSink> sink(new CsvRejectSink(path, file, options));
  struct stat st;
  if (::fstat(fileno(file), &st) != 0) return sink->Error("cannot stat");
  const std::string header = absl::StrCat(Av(kRejectsCsvHeader), "\n");
  if (st.st_size == 0) {
    TXFLAG_RETURN_IF_ERROR(sink->WriteBytes(header));
    if (std::fflush(file) != 0) return sink->Error("cannot write");
  } else {
    std::string head(header.size(), '\0');
    ssize_t n = ::pread(fileno(file), head.data(), head.size(), 0);
    if (n < 0) return sink->Error("cannot read");
    head.resize(static_cast<size_t>(n));
    if (head != header) {
      return absl::FailedPreconditionError(absl::StrCat(
          path,
          " exists but is not a txflag rejects file (it does not start "
          "with '",
          Av(kRejectsCsvHeader),
          "'): refusing to overwrite it; remove it or choose another path"));
    }
  }
  return sink;
}

absl::Status CsvRejectSink::WriteBytes(std::string_view bytes) {
  if (file_ == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("rejects file ", path_, " is closed"));
  }
  if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) {
    return Error("cannot write");
  }
  return absl::OkStatus();
}

absl::Status CsvRejectSink::Write(std::string_view location,
                                  std::string_view reason,
                                  std::string_view raw) {
  row_.clear();
  AppendCsvField(location, &row_);
  row_.push_back(',');
  AppendCsvField(reason, &row_);
  row_.push_back(',');
  AppendCsvField(raw, &row_);
  row_.push_back('\n');
  TXFLAG_RETURN_IF_ERROR(WriteBytes(row_));
  ++rows_;
  return absl::OkStatus();
}

absl::StatusOr<std::string> CsvRejectSink::Flush() {
  if (file_ == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("rejects file ", path_, " is closed"));
  }
  if (std::fflush(file_) != 0) return Error("cannot flush");
  if (options_.sync && ::fdatasync(fileno(file_)) != 0) {
    return Error("cannot sync");
  }
  struct stat st;
  if (::fstat(fileno(file_), &st) != 0) return Error("cannot stat");
  return absl::StrCat(st.st_size, ":", rows_);
}

absl::Status CsvRejectSink::Restore(std::string_view checkpoint) {
  if (file_ == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("rejects file ", path_, " is closed"));
  }
  uint64_t length = kRejectsCsvHeader.size() + 1;
  uint64_t rows = 0;
  if (!checkpoint.empty()) {
    size_t colon = checkpoint.find(':');
    if (colon == std::string_view::npos ||
        !absl::SimpleAtoi(Av(checkpoint.substr(0, colon)), &length) ||
        !absl::SimpleAtoi(Av(checkpoint.substr(colon + 1)), &rows) ||
        length < kRejectsCsvHeader.size() + 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("unreadable rejects checkpoint '", Av(checkpoint),
                       "' for ", path_, " (expected <bytes>:<rows>)"));
    }
  }
  if (std::fflush(file_) != 0) return Error("cannot flush");
  struct stat st;
  if (::fstat(fileno(file_), &st) != 0) return Error("cannot stat");
  if (static_cast<uint64_t>(st.st_size) < length) {
    return absl::DataLossError(absl::StrCat(
        "rejects file ", path_, " has ", st.st_size,
        " bytes but its checkpoint says ", length,
        ": it lost rows since the last run; restore it or rerun with --fresh"));
  }
  if (::ftruncate(fileno(file_), static_cast<off_t>(length)) != 0) {
    return Error("cannot truncate");
  }
  // "a+" appends at the end whatever the position; seek for good measure.
  if (std::fseek(file_, 0, SEEK_END) != 0) return Error("cannot seek");
  rows_ = rows;
  return absl::OkStatus();
}

absl::Status CsvRejectSink::Close() {
  if (file_ == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("rejects file ", path_, " is already closed"));
  }
  std::FILE* file = file_;
  file_ = nullptr;
  bool ok = std::fflush(file) == 0;
  if (ok && options_.sync) ok = ::fdatasync(fileno(file)) == 0;
  absl::Status status = ok ? absl::OkStatus() : Error("cannot flush");
  if (std::fclose(file) != 0 && status.ok()) status = Error("cannot close");
  return status;
}

}  // namespace txflag::connectors
