// File: connectors/generator/internal/csv_writer.h
//
// A buffered, append-only CSV file: the caller appends fields and separators,
// the writer quotes free text per RFC 4180 and flushes a large buffer with
// fwrite. Errors are remembered and returned by Close().
//
//   TXFLAG_ASSIGN_OR_RETURN(auto file, CsvWriter::Open(path));
//   file->Raw("account,typology\n");
//   file->Field("Hansen, Ole");  // written as "Hansen, Ole" in quotes
//   file->Raw('\n');
//   TXFLAG_RETURN_IF_ERROR(file->Close());
#ifndef TXFLAG_CONNECTORS_GENERATOR_INTERNAL_CSV_WRITER_H_
#define TXFLAG_CONNECTORS_GENERATOR_INTERNAL_CSV_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace txflag::generator::internal {

// `text` as one CSV field: unchanged, or in double quotes with inner quotes
// doubled when it holds a comma, quote, CR or LF.
std::string CsvField(std::string_view text);

// Maps errno `err` from an operation on `path` to a Status with a specific
// code (NotFound, PermissionDenied, ResourceExhausted, else Internal).
absl::Status ErrnoStatus(int err, std::string_view what, std::string_view path);

class CsvWriter {
 public:
  // Creates or truncates `path`. Errors as ErrnoStatus.
  static absl::StatusOr<std::unique_ptr<CsvWriter>> Open(
      const std::string& path, size_t buffer_bytes = 4 << 20);
  ~CsvWriter();
  CsvWriter(const CsvWriter&) = delete;
  CsvWriter& operator=(const CsvWriter&) = delete;

  void Raw(std::string_view s) {
    if (end_ - pos_ < static_cast<ptrdiff_t>(s.size())) Grow(s.size());
    std::memcpy(pos_, s.data(), s.size());
    pos_ += s.size();
  }
  void Raw(char c) {
    if (pos_ == end_) Grow(1);
    *pos_++ = c;
  }
  // Appends `text` quoted as needed (see CsvField).
  void Field(std::string_view text);
  // Makes room for `n` bytes and returns where to write them; the caller
  // then calls Commit(n) with the number actually written.
  char* Reserve(size_t n) {
    if (end_ - pos_ < static_cast<ptrdiff_t>(n)) Grow(n);
    return pos_;
  }
  void Commit(size_t n) { pos_ += n; }

  // Bytes appended so far.
  uint64_t bytes() const { return flushed_ + (pos_ - buffer_.get()); }

  // Flushes and closes; returns the first write or close error.
  absl::Status Close();

 private:
  CsvWriter(std::FILE* file, std::string path, size_t buffer_bytes);
  void Flush();
  void Grow(size_t n);
  void IgnoreErrorClose();

  std::FILE* file_;
  std::string path_;
  size_t capacity_;
  std::unique_ptr<char[]> buffer_;
  char* pos_;
  char* end_;
  uint64_t flushed_ = 0;
  absl::Status status_;
};

}  // namespace txflag::generator::internal

#endif  // TXFLAG_CONNECTORS_GENERATOR_INTERNAL_CSV_WRITER_H_
