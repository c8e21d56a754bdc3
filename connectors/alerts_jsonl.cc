#include "connectors/alerts_jsonl.h"

#include <errno.h>
#include <unistd.h>

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "google/protobuf/util/json_util.h"

namespace txflag::connectors {
namespace {}  // namespace

absl::Status AppendAlertJson(const txflag::v1::Alert& alert, std::string* out) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = false;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  // MessageToJsonString appends to *out.
  auto status =
      google::protobuf::util::MessageToJsonString(alert, out, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("alert ", alert.alert_id(), " cannot be written as JSON: ",
                     Av(std::string_view(status.message().data(),
                                         status.message().size()))));
  }
  return absl::OkStatus();
}

std::string AlertToJson(const txflag::v1::Alert& alert) {
  std::string out;
  absl::Status status = AppendAlertJson(alert, &out);
  if (status.ok()) return out;
  return absl::StrCat("{\"alert_id\":", JsonQuote(alert.alert_id()),
                      ",\"error\":", JsonQuote(Sv(status.message())), "}");
}

JsonlAlertFile::JsonlAlertFile(std::string path, std::FILE* file,
                               JsonlAlertFileOptions options)
    : path_(std::move(path)), file_(file), options_(options) {}

JsonlAlertFile::~JsonlAlertFile() {
  if (file_ != nullptr) std::fclose(file_);
}

absl::Status JsonlAlertFile::Error(const char* what) const {
  return absl::UnavailableError(
      absl::StrCat(what, " alerts file ", path_, ": ", std::strerror(errno)));
}

absl::StatusOr<std::unique_ptr<JsonlAlertFile>> JsonlAlertFile::Open(
    const std::string& path, JsonlAlertFileOptions options) {
  std::FILE* file = std::fopen(path.c_str(), options.append ? "a" : "w");
  if (file == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot open alerts file ", path,
                                               ": ", std::strerror(errno)));
  }
  return std::unique_ptr<JsonlAlertFile>(
      new JsonlAlertFile(path, file, options));
}

absl::Status JsonlAlertFile::Write(const txflag::v1::Alert& alert) {
  if (file_ == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("alerts file ", path_, " is closed"));
  }
  line_.clear();
  TXFLAG_RETURN_IF_ERROR(AppendAlertJson(alert, &line_));
  line_.push_back('\n');
  if (std::fwrite(line_.data(), 1, line_.size(), file_) != line_.size()) {
    return Error("cannot write");
  }
  ++lines_;
  return absl::OkStatus();
}

absl::Status JsonlAlertFile::Flush() {
  if (file_ == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("alerts file ", path_, " is closed"));
  }
  if (std::fflush(file_) != 0) return Error("cannot flush");
  if (options_.sync && ::fdatasync(fileno(file_)) != 0) {
    return Error("cannot sync");
  }
  return absl::OkStatus();
}

absl::Status JsonlAlertFile::Close() {
  if (file_ == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("alerts file ", path_, " is already closed"));
  }
  absl::Status status = Flush();
  std::FILE* file = file_;
  file_ = nullptr;
  if (std::fclose(file) != 0 && status.ok()) status = Error("cannot close");
  return status;
}

absl::StatusOr<std::unique_ptr<JsonlAlertSink>> JsonlAlertSink::Open(
    const std::string& path, JsonlAlertFileOptions options) {
  TXFLAG_ASSIGN_OR_RETURN(std::unique_ptr<JsonlAlertFile> file,
                          JsonlAlertFile::Open(path, options));
  return std::unique_ptr<JsonlAlertSink>(new JsonlAlertSink(std::move(file)));
}

absl::Status JsonlAlertSink::Emit(const txflag::v1::Alert& alert) {
  return file_->Write(alert);
}

absl::Status JsonlAlertSink::Flush() { return file_->Flush(); }

}  // namespace txflag::connectors
