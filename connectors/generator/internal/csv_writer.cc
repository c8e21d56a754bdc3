#include "connectors/generator/internal/csv_writer.h"

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/strings.h"

namespace txflag::generator::internal {

std::string CsvField(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) {
    return std::string(text);
  }
  std::string out;
  out.reserve(text.size() + 4);
  out.push_back('"');
  for (char c : text) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

absl::Status ErrnoStatus(int err, std::string_view what,
                         std::string_view path) {
  std::string message = absl::StrCat("cannot ", Av(what), " '", Av(path),
                                     "': ", std::strerror(err));
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return absl::NotFoundError(message);
    case EACCES:
    case EPERM:
    case EROFS:
      return absl::PermissionDeniedError(
          absl::StrCat(message, " (choose a writable output directory)"));
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
      return absl::ResourceExhaustedError(
          absl::StrCat(message, " (free disk space or generate fewer days)"));
    default:
      return absl::InternalError(message);
  }
}

absl::StatusOr<std::unique_ptr<CsvWriter>> CsvWriter::Open(
    const std::string& path, size_t buffer_bytes) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) return ErrnoStatus(errno, "create", path);
  // The writer buffers itself; stdio's own buffer would only copy twice.
  std::setvbuf(file, nullptr, _IONBF, 0);
  return std::unique_ptr<CsvWriter>(new CsvWriter(file, path, buffer_bytes));
}

CsvWriter::CsvWriter(std::FILE* file, std::string path, size_t buffer_bytes)
    : file_(file),
      path_(std::move(path)),
      capacity_(buffer_bytes),
      buffer_(new char[buffer_bytes]),
      pos_(buffer_.get()),
      end_(buffer_.get() + buffer_bytes) {}

CsvWriter::~CsvWriter() {
  if (file_ != nullptr) IgnoreErrorClose();
}

void CsvWriter::IgnoreErrorClose() {
  std::fclose(file_);
  file_ = nullptr;
}

void CsvWriter::Flush() {
  size_t n = pos_ - buffer_.get();
  if (n > 0 && status_.ok() && std::fwrite(buffer_.get(), 1, n, file_) != n) {
    status_ = ErrnoStatus(errno, "write", path_);
  }
  flushed_ += n;
  pos_ = buffer_.get();
}

void CsvWriter::Grow(size_t n) {
  Flush();
  if (n > capacity_) {
    capacity_ = n;
    buffer_.reset(new char[capacity_]);
    pos_ = buffer_.get();
  }
  end_ = buffer_.get() + capacity_;
}

void CsvWriter::Field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) {
    Raw(text);
  } else {
    Raw(CsvField(text));
  }
}

absl::Status CsvWriter::Close() {
  if (file_ == nullptr) return status_;
  Flush();
  if (std::fclose(file_) != 0 && status_.ok()) {
    status_ = ErrnoStatus(errno, "close", path_);
  }
  file_ = nullptr;
  return status_;
}

}  // namespace txflag::generator::internal
