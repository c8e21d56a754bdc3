// File: connectors/file_source.h
//
// Payments from a file: the canonical CSV, JSON Lines (one Payment a line in
// protobuf's JSON mapping) or an AMLworld transaction CSV. Streams in constant
// memory whatever the file size, and checkpoints to a byte offset so a resumed
// run continues after the last record it committed.
//
//   TXFLAG_ASSIGN_OR_RETURN(auto source,
//                           OpenFileSource("data/payments.csv",
//                           FileFormat::kAuto));
//   engine::SourceRecord record;
//   while (true) {
//     TXFLAG_ASSIGN_OR_RETURN(bool got, source->Next(&record));
//     if (!got) break;
//     if (record.kind == engine::SourceRecord::Kind::kReject) ... //
//     rejects.csv
//   }
//
// Canonical CSV: the header line must be exactly kCanonicalCsvHeader (a UTF-8
// BOM before it is tolerated). Fields follow RFC 4180: a quoted field may hold
// commas, "" escapes and line breaks, so one record may span several physical
// lines; its location is the line it starts on. CRLF line ends are accepted
// and blank lines skipped. Each field is checked (timestamp
// YYYY-MM-DDTHH:MM:SSZ, amount a positive decimal with no more decimals than
// the currency has, known currency, channel name, mcc empty or 4 digits,
// countries empty or two upper-case letters, accounts: only CASH may leave
// one empty); a record that fails becomes a Kind::kReject record with
// location "<path>:<line>", a reason naming the field and the raw text.
//
// JSON Lines: each non-blank line is a txflag.v1.Payment in protobuf's JSON
// mapping (unknown fields are rejected), then checked as above.
//
// AMLworld (IBM's synthetic AML data, see shared/data/amlworld/README.md):
// Timestamp "YYYY/MM/DD HH:MM" read as UTC; accounts "<bank id as integer>:
// <account>"; the amount is Amount Paid in Payment Currency rounded half-even
// to the currency's minor unit, currency names mapped to ISO codes; Credit
// Card -> CARD, Cash -> CASH, any other format -> TRANSFER; reference
// "AMLworld <Payment Format>"; id "aml-<line>"; label = Is Laundering.
//
// Not thread-safe: one reader per source.
#ifndef TXFLAG_CONNECTORS_FILE_SOURCE_H_
#define TXFLAG_CONNECTORS_FILE_SOURCE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "connectors/internal/chunked_reader.h"
#include "engine/source.h"

namespace txflag::connectors {

enum class FileFormat { kAuto, kCanonicalCsv, kJsonl, kAmlworld };

// "auto", "csv", "jsonl", "amlworld" -> the format; InvalidArgument otherwise.
absl::StatusOr<FileFormat> ParseFileFormat(std::string_view name);

// The name ParseFileFormat() accepts for `format`.
std::string_view FileFormatName(FileFormat format);

inline constexpr std::string_view kCanonicalCsvHeader =
    "id,timestamp,debtor_account,debtor_name,debtor_country,creditor_account,"
    "creditor_name,creditor_country,amount,currency,channel,mcc,reference";

inline constexpr std::string_view kAmlworldHeader =
    "Timestamp,From Bank,Account,To Bank,Account,Amount Received,Receiving "
    "Currency,Amount Paid,Payment Currency,Payment Format,Is Laundering";

struct FileSourceOptions {
  // Bytes read from the file at a time. Default 1 MiB. Tests set it to a few
  // bytes to put records across chunk boundaries.
  size_t buffer_size = 1 << 20;
  // Longest record accepted, in bytes (default 16 MiB). A longer one (in
  // practice an unterminated quote) is rejected as its first line and reading
  // resumes on the next line. Memory use is about
  // 2 * (buffer_size + max_record_bytes) at worst.
  size_t max_record_bytes = 16 << 20;

  // InvalidArgument for a zero or absurd (> 1 GiB) size.
  absl::Status Validate() const;
};

class FileSource : public engine::PaymentSource {
 public:
  // Opens `path` and reads its header (or, for JSON Lines, looks at its first
  // non-blank line). With FileFormat::kAuto the format is detected from it.
  // Errors: NotFound when the file cannot be opened; InvalidArgument
  // "<path>:<line>: ..." when the header is unrecognised or does not match an
  // explicit `format`, or when `options` are invalid.
  static absl::StatusOr<std::unique_ptr<FileSource>> Open(
      const std::string& path, FileFormat format,
      FileSourceOptions options = {});

  ~FileSource() override;

  // Overwrites every field of record->payment (it is not Clear()ed, so its
  // buffers are reused). Unavailable on an I/O error.
  absl::StatusOr<bool> Next(engine::SourceRecord* record) override;

  // "txflag-file-v1 size=<bytes> head=<hash of the first 64 KiB>
  // format=<name> offset=<byte> line=<line> path=<path>": the position after
  // the last record returned.
  std::string Checkpoint() const override;

  // Seeks to `checkpoint`; an empty checkpoint means the start of the data.
  // FailedPrecondition when it was taken on another file (size or first
  // 64 KiB differ) or in another format; InvalidArgument when unparsable.
  absl::Status Restore(std::string_view checkpoint) override;

  // Bytes consumed / file size.
  double Progress() const override;

  // The format being read (never kAuto).
  FileFormat format() const { return format_; }
  const std::string& path() const { return path_; }
  uint64_t size_bytes() const { return size_; }

 private:
  FileSource(std::string path, FileFormat format, uint64_t size,
             uint64_t head_hash, int fd, FileSourceOptions options);

  absl::StatusOr<bool> NextCsv(engine::SourceRecord* record);
  absl::StatusOr<bool> NextJsonl(engine::SourceRecord* record);
  // Fill record->payment from rec_; false (with reason_ set) to reject.
  bool ParseCanonical(engine::SourceRecord* record);
  bool ParseAmlworld(engine::SourceRecord* record);
  bool CsvSyntaxOk();
  void SetLocation(engine::SourceRecord* record, int64_t line) const;

  std::string path_;
  FileFormat format_;
  uint64_t size_;
  uint64_t head_hash_;
  size_t max_record_bytes_;
  internal::ChunkedReader reader_;
  uint64_t data_offset_ = 0;  // first byte after the header
  int64_t data_line_ = 1;     // line number of data_offset_
  internal::CsvRecord rec_;
  std::string reason_;
};

// FileSource::Open() as the engine's interface.
absl::StatusOr<std::unique_ptr<engine::PaymentSource>> OpenFileSource(
    const std::string& path, FileFormat format, FileSourceOptions opts = {});

}  // namespace txflag::connectors

#endif  // TXFLAG_CONNECTORS_FILE_SOURCE_H_
