// File: connectors/internal/chunked_reader.h
//
// Reads a file in large chunks and cuts it into RFC 4180 CSV records or plain
// lines, in memory bounded by the chunk size plus the longest record allowed,
// whatever the file size. Records may straddle chunks; a quoted field may hold
// commas, "" escapes and line breaks (so one record may span several physical
// lines); CRLF line ends are accepted.
//
//   ChunkedReader reader(fd, path, {.buffer_size = 1 << 20});
//   CsvRecord record;
//   while (true) {
//     TXFLAG_ASSIGN_OR_RETURN(bool got, reader.NextCsv(&record));
//     if (!got) break;
//     ... record.fields[i] are valid until the next call ...
//   }
//
// A malformed record is not an error status: it comes back with `error` set
// and `raw` holding its text, and reading resumes after it. Not thread-safe.
#ifndef TXFLAG_CONNECTORS_INTERNAL_CHUNKED_READER_H_
#define TXFLAG_CONNECTORS_INTERNAL_CHUNKED_READER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace txflag::connectors::internal {

enum class CsvError {
  kNone,
  kQuoteInUnquotedField,   // a"b
  kTextAfterClosingQuote,  // "a"b
  kUnterminatedQuote,      // "a... to the end of the file
  kTooLong,                // record longer than max_record_bytes
};

// One CSV record. The views point into the reader's buffers and stay valid
// until the next call on the reader.
struct CsvRecord {
  static constexpr int kMaxFields = 32;
  // Line (1-based) on which the record starts.
  int64_t line = 0;
  // The record's text without its line break (embedded line breaks of quoted
  // fields included). For kUnterminatedQuote and kTooLong: the first physical
  // line of the record only (at most 4 KiB of it), since reading resumes on
  // the next line.
  std::string_view raw;
  // Unquoted, unescaped field values. Only the first kMaxFields are stored.
  std::string_view fields[kMaxFields];
  // Number of fields in the record (may exceed kMaxFields).
  int field_count = 0;
  // Some byte is >= 0x80: the caller should check UTF-8.
  bool non_ascii = false;
  CsvError error = CsvError::kNone;
  // 0-based index of the field `error` is about.
  int error_field = 0;
};

// One physical line without its "\n" or "\r\n".
struct TextLine {
  int64_t line = 0;
  std::string_view text;
  // Longer than max_record_bytes: `text` holds its first 4 KiB only.
  bool too_long = false;
};

class ChunkedReader {
 public:
  struct Options {
    // Bytes asked of each read(2). Any value >= 1 works.
    size_t buffer_size = 1 << 20;
    // Longest record (or line) accepted, in bytes.
    size_t max_record_bytes = 16 << 20;
  };

  // Takes ownership of the open file descriptor `fd`; `path` is for messages.
  ChunkedReader(int fd, std::string path, Options options);
  ~ChunkedReader();
  ChunkedReader(const ChunkedReader&) = delete;
  ChunkedReader& operator=(const ChunkedReader&) = delete;

  // Repositions at byte `offset`, which must be the start of line `line`.
  // Unavailable on an I/O error.
  absl::Status Seek(uint64_t offset, int64_t line);

  // Skips a UTF-8 byte-order mark at the current position, if there is one.
  absl::Status SkipBom();

  // Reads the next CSV record, skipping blank lines. Returns false at the end
  // of the file, Unavailable on an I/O error.
  absl::StatusOr<bool> NextCsv(CsvRecord* record);

  // Reads the next physical line (blank ones included). Returns false at the
  // end of the file, Unavailable on an I/O error.
  absl::StatusOr<bool> NextLine(TextLine* line);

  // Byte offset just after the last record or line returned.
  uint64_t offset() const { return offset_; }
  // Line number at which the next record or line starts.
  int64_t line() const { return line_; }

 private:
  enum class Parse { kOk, kIncomplete, kUnterminated };
  Parse ParseCsv(const char* begin, const char* end, CsvRecord* rec,
                 size_t* consumed, int64_t* newlines) const;
  // Moves the unread bytes to the front and reads one chunk. Sets eof_ when
  // read(2) returns 0.
  absl::Status Fill();
  void Consume(size_t bytes, int64_t newlines);
  // Consumes the current physical line (kept, at most 4 KiB, in long_raw_ or
  // pointed to by *raw), reading on until its end when it is not all in the
  // buffer.
  absl::Status ConsumeFirstLine(std::string_view* raw, bool* truncated);

  int fd_;
  std::string path_;
  Options options_;
  std::unique_ptr<char[]> buf_;      // capacity cap_
  std::unique_ptr<char[]> scratch_;  // unescaped quoted fields, capacity cap_
  size_t cap_ = 0;
  size_t pos_ = 0;  // next unread byte in buf_
  size_t end_ = 0;  // end of valid bytes in buf_
  bool eof_ = false;
  uint64_t offset_ = 0;  // file offset of buf_[pos_]
  int64_t line_ = 1;     // line number of buf_[pos_]
  std::string long_raw_;
};

}  // namespace txflag::connectors::internal

#endif  // TXFLAG_CONNECTORS_INTERNAL_CHUNKED_READER_H_
