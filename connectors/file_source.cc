#include "connectors/file_source.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/currency.h"
#include "base/decimal.h"
#include "base/hash.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "base/time_util.h"
#include "connectors/internal/payment_checks.h"
#include "google/protobuf/util/json_util.h"

namespace txflag::connectors {

using engine::SourceRecord;
using internal::CsvError;
using txflag::v1::Payment;

namespace {

constexpr std::string_view kCheckpointTag = "txflag-file-v1";
constexpr size_t kHeadBytes = 64 * 1024;
constexpr size_t kShownHeaderBytes = 200;

constexpr std::array<std::string_view, 13> kCanonicalFields = {
    "id",
    "timestamp",
    "debtor_account",
    "debtor_name",
    "debtor_country",
    "creditor_account",
    "creditor_name",
    "creditor_country",
    "amount",
    "currency",
    "channel",
    "mcc",
    "reference"};

constexpr std::array<std::string_view, 11> kAmlworldFields = {
    "Timestamp",        "From Bank",       "sender Account",     "To Bank",
    "receiver Account", "Amount Received", "Receiving Currency", "Amount Paid",
    "Payment Currency", "Payment Format",  "Is Laundering"};

struct CurrencyName {
  std::string_view name;
  std::string_view iso;
};
constexpr CurrencyName kAmlworldCurrencies[] = {
    {"US Dollar", "USD"},
    {"Euro", "EUR"},
    {"Yuan", "CNY"},
    {"Bitcoin", "XBT"},
    {"Australian Dollar", "AUD"},
    {"Brazil Real", "BRL"},
    {"Canadian Dollar", "CAD"},
    {"Mexican Peso", "MXN"},
    {"Ruble", "RUB"},
    {"Rupee", "INR"},
    {"Saudi Riyal", "SAR"},
    {"Shekel", "ILS"},
    {"Swiss Franc", "CHF"},
    {"UK Pound", "GBP"},
    {"Yen", "JPY"},
};

std::string Shown(std::string_view s) {
  if (s.size() <= kShownHeaderBytes) return std::string(s);
  return absl::StrCat(Av(s.substr(0, kShownHeaderBytes)), "...");
}

bool IsBlank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\r') return false;
  }
  return true;
}

bool StartsJson(std::string_view s) {
  size_t i = s.find_first_not_of(" \t");
  return i != std::string_view::npos && s[i] == '{';
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// "YYYY/MM/DD HH:MM" as UTC.
bool ParseAmlworldTime(std::string_view t, int64_t* out) {
  if (t.size() != 16 || t[4] != '/' || t[7] != '/' || t[10] != ' ' ||
      t[13] != ':') {
    return false;
  }
  auto num = [&](size_t pos, size_t n, int* v) {
    *v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (t[i] < '0' || t[i] > '9') return false;
      *v = *v * 10 + (t[i] - '0');
    }
    return true;
  };
  int y, mo, d, h, mi;
  if (!num(0, 4, &y) || !num(5, 2, &mo) || !num(8, 2, &d) || !num(11, 2, &h) ||
      !num(14, 2, &mi)) {
    return false;
  }
  absl::StatusOr<int64_t> s = CivilUtcToUnix(y, mo, d, h, mi, 0);
  if (!s.ok()) return false;
  *out = *s;
  return true;
}

void AssignAccount(std::string_view bank, std::string_view account,
                   std::string* out) {
  size_t z = bank.find_first_not_of('0');
  if (z == std::string_view::npos) z = bank.size() - 1;  // "000" -> "0"
  bank.remove_prefix(z);
  out->assign(bank.data(), bank.size());
  out->push_back(':');
  out->append(account.data(), account.size());
}

std::string ExpectedHeaders() {
  return absl::StrCat("expected the canonical CSV header '",
                      Av(kCanonicalCsvHeader), "', the AMLworld header '",
                      Av(kAmlworldHeader),
                      "' or JSON Lines (a first line starting with '{')");
}

}  // namespace

absl::StatusOr<FileFormat> ParseFileFormat(std::string_view name) {
  if (name == "auto") return FileFormat::kAuto;
  if (name == "csv") return FileFormat::kCanonicalCsv;
  if (name == "jsonl") return FileFormat::kJsonl;
  if (name == "amlworld") return FileFormat::kAmlworld;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown input format '", Av(name),
                   "': use auto, csv, jsonl or amlworld"));
}

std::string_view FileFormatName(FileFormat format) {
  switch (format) {
    case FileFormat::kAuto:
      return "auto";
    case FileFormat::kCanonicalCsv:
      return "csv";
    case FileFormat::kJsonl:
      return "jsonl";
    case FileFormat::kAmlworld:
      return "amlworld";
  }
  return "unknown";
}

absl::Status FileSourceOptions::Validate() const {
  constexpr size_t kGiB = size_t{1} << 30;
  if (buffer_size == 0 || buffer_size > kGiB) {
    return absl::InvalidArgumentError(absl::StrCat(
        "FileSourceOptions.buffer_size must be 1 byte to 1 GiB, got ",
        buffer_size));
  }
  if (max_record_bytes == 0 || max_record_bytes > kGiB) {
    return absl::InvalidArgumentError(absl::StrCat(
        "FileSourceOptions.max_record_bytes must be 1 byte to 1 GiB, got ",
        max_record_bytes));
  }
  return absl::OkStatus();
}

FileSource::FileSource(std::string path, FileFormat format, uint64_t size,
                       uint64_t head_hash, int fd, FileSourceOptions options)
    : path_(std::move(path)),
      format_(format),
      size_(size),
      head_hash_(head_hash),
      max_record_bytes_(options.max_record_bytes),
      reader_(fd, path_,
              {.buffer_size = options.buffer_size,
               .max_record_bytes = options.max_record_bytes}) {}

FileSource::~FileSource() = default;

absl::StatusOr<std::unique_ptr<FileSource>> FileSource::Open(
    const std::string& path, FileFormat format, FileSourceOptions options) {
  TXFLAG_RETURN_IF_ERROR(options.Validate());
  // ParseCanonical() and ParseAmlworld() assign every Payment field instead
  // of clearing the message; a new field must be added there.
  if (Payment::descriptor()->field_count() != 13) {
    return absl::InternalError(absl::StrCat(
        "txflag.v1.Payment has ", Payment::descriptor()->field_count(),
        " fields but connectors/file_source.cc assigns 13: update it"));
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::NotFoundError(absl::StrCat("cannot open payments file ", path,
                                            ": ", std::strerror(errno)));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    int err = errno;
    ::close(fd);
    return absl::NotFoundError(absl::StrCat(
        "cannot read payments file ", path, ": ",
        S_ISDIR(st.st_mode) ? "it is a directory" : std::strerror(err)));
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  std::string head(std::min<uint64_t>(size, kHeadBytes), '\0');
  size_t got = 0;
  while (got < head.size()) {
    ssize_t n = ::pread(fd, head.data() + got, head.size() - got, got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      ::close(fd);
      return absl::UnavailableError(absl::StrCat(
          "reading ", path, ": ", n == 0 ? "file shrank" : std::strerror(err)));
    }
    got += static_cast<size_t>(n);
  }
  std::unique_ptr<FileSource> source(
      new FileSource(path, format, size, Fnv1a64(head), fd, options));
  internal::ChunkedReader& reader = source->reader_;

  // The first non-blank line decides (or checks) the format.
  TXFLAG_RETURN_IF_ERROR(reader.SkipBom());
  internal::TextLine first;
  uint64_t first_offset = reader.offset();
  bool have_line = false;
  for (;;) {
    first_offset = reader.offset();
    TXFLAG_ASSIGN_OR_RETURN(have_line, reader.NextLine(&first));
    if (!have_line || !IsBlank(first.text)) break;
  }
  const int64_t first_line = have_line ? first.line : reader.line();
  std::string_view text = have_line ? first.text : std::string_view();
  FileFormat detected = FileFormat::kAuto;
  if (text == kCanonicalCsvHeader) {
    detected = FileFormat::kCanonicalCsv;
  } else if (text == kAmlworldHeader) {
    detected = FileFormat::kAmlworld;
  } else if (StartsJson(text)) {
    detected = FileFormat::kJsonl;
  }
  const std::string where = absl::StrCat(path, ":", first_line, ": ");
  std::string shown = have_line ? absl::StrCat("header '", Shown(text), "'")
                                : std::string("the file is empty");
  switch (format) {
    case FileFormat::kAuto:
      if (detected == FileFormat::kAuto) {
        if (have_line) shown = absl::StrCat("unrecognised ", shown);
        return absl::InvalidArgumentError(
            absl::StrCat(where, shown, ", ", ExpectedHeaders()));
      }
      break;
    case FileFormat::kCanonicalCsv:
      if (detected != format) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, shown, " is not the canonical CSV header '",
                         Av(kCanonicalCsvHeader), "' (or pass --format auto)"));
      }
      break;
    case FileFormat::kAmlworld:
      if (detected != format) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, shown, " is not the AMLworld header '",
                         Av(kAmlworldHeader), "' (or pass --format auto)"));
      }
      break;
    case FileFormat::kJsonl:
      // Lenient: a bad first line is a reject, but a CSV header means the
      // wrong format was asked for.
      if (detected == FileFormat::kCanonicalCsv ||
          detected == FileFormat::kAmlworld) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, "this is a ", Av(FileFormatName(detected)),
                         " header, not JSON Lines (pass --format ",
                         Av(FileFormatName(detected)), " or auto)"));
      }
      detected = FileFormat::kJsonl;
      break;
  }
  source->format_ = detected;
  if (detected == FileFormat::kJsonl) {
    source->data_offset_ = first_offset;
    source->data_line_ = first_line;
    TXFLAG_RETURN_IF_ERROR(reader.Seek(first_offset, first_line));
  } else {
    source->data_offset_ = reader.offset();
    source->data_line_ = reader.line();
  }
  return source;
}

absl::StatusOr<std::unique_ptr<engine::PaymentSource>> OpenFileSource(
    const std::string& path, FileFormat format, FileSourceOptions opts) {
  TXFLAG_ASSIGN_OR_RETURN(std::unique_ptr<FileSource> source,
                          FileSource::Open(path, format, opts));
  return std::unique_ptr<engine::PaymentSource>(std::move(source));
}

void FileSource::SetLocation(SourceRecord* record, int64_t line) const {
  record->location.assign(path_);
  record->location.push_back(':');
  absl::StrAppend(&record->location, line);
}

absl::StatusOr<bool> FileSource::Next(SourceRecord* record) {
  if (format_ == FileFormat::kJsonl) return NextJsonl(record);
  return NextCsv(record);
}

bool FileSource::CsvSyntaxOk() {
  const bool canonical = format_ == FileFormat::kCanonicalCsv;
  const std::string_view* names =
      canonical ? kCanonicalFields.data() : kAmlworldFields.data();
  const int want = canonical ? static_cast<int>(kCanonicalFields.size())
                             : static_cast<int>(kAmlworldFields.size());
  auto field_name = [&](int i) -> std::string_view {
    return i < want ? names[i] : std::string_view("an extra field");
  };
  switch (rec_.error) {
    case CsvError::kNone:
      break;
    case CsvError::kQuoteInUnquotedField:
      reason_ = absl::StrCat("bad quoting in field ", rec_.error_field + 1,
                             " (", Av(field_name(rec_.error_field)),
                             "): a quote inside an unquoted field; quote the "
                             "whole field and double inner quotes (\"\")");
      return false;
    case CsvError::kTextAfterClosingQuote:
      reason_ = absl::StrCat("bad quoting in field ", rec_.error_field + 1,
                             " (", Av(field_name(rec_.error_field)),
                             "): text after the closing quote");
      return false;
    case CsvError::kUnterminatedQuote:
      reason_ = absl::StrCat(
          "bad quoting in field ", rec_.error_field + 1, " (",
          Av(field_name(rec_.error_field)),
          "): unterminated quote (it runs to the end of the file); this line "
          "is rejected and reading resumes on the next line");
      return false;
    case CsvError::kTooLong:
      reason_ = absl::StrCat("record is longer than ", max_record_bytes_,
                             " bytes (max_record_bytes; likely an unterminated "
                             "quote); this line is "
                             "rejected and reading resumes on the next line");
      return false;
  }
  if (rec_.field_count != want) {
    reason_ =
        absl::StrCat("wrong field count: expected ", want, " fields (",
                     Av(canonical ? kCanonicalCsvHeader : kAmlworldHeader),
                     "), found ", rec_.field_count);
    return false;
  }
  if (rec_.non_ascii) {
    for (int i = 0; i < want; ++i) {
      if (!internal::IsValidUtf8(rec_.fields[i])) {
        reason_ = absl::StrCat("invalid UTF-8 in field ", i + 1, " (",
                               Av(names[i]), ")");
        return false;
      }
    }
  }
  return true;
}

absl::StatusOr<bool> FileSource::NextCsv(SourceRecord* record) {
  TXFLAG_ASSIGN_OR_RETURN(bool got, reader_.NextCsv(&rec_));
  if (!got) return false;
  SetLocation(record, rec_.line);
  record->label.reset();  // ParseAmlworld() sets it
  bool ok = CsvSyntaxOk() &&
            (format_ == FileFormat::kCanonicalCsv ? ParseCanonical(record)
                                                  : ParseAmlworld(record));
  if (ok) {
    record->kind = SourceRecord::Kind::kPayment;
    record->reason.clear();
    record->raw.clear();
  } else {
    record->kind = SourceRecord::Kind::kReject;
    record->reason.swap(reason_);
    record->raw.assign(rec_.raw.data(), rec_.raw.size());
  }
  return true;
}

bool FileSource::ParseCanonical(SourceRecord* record) {
  const std::string_view* f = rec_.fields;
  // id,timestamp,debtor_account,debtor_name,debtor_country,creditor_account,
  // creditor_name,creditor_country,amount,currency,channel,mcc,reference
  absl::StatusOr<int64_t> ts = ParseUtcTimestamp(f[1]);
  if (!ts.ok()) {
    reason_ = std::string(ts.status().message());
    return false;
  }
  std::optional<int> exponent = CurrencyExponent(f[9]);
  if (!exponent.has_value()) {
    reason_ =
        absl::StrCat("currency '", Av(f[9]), "' is not a known ISO 4217 code");
    return false;
  }
  absl::StatusOr<int64_t> amount =
      ParseDecimalMinor(f[8], *exponent, ExtraDigits::kReject);
  if (!amount.ok()) {
    reason_ = std::string(amount.status().message());
    return false;
  }
  std::optional<Payment::Channel> channel = internal::ParseChannelName(f[10]);
  if (!channel.has_value()) {
    reason_ = absl::StrCat("channel '", Av(f[10]), "' is not one of ",
                           Av(internal::kChannelNames));
    return false;
  }
  uint32_t mcc = 0;
  if (!f[11].empty()) {
    if (f[11].size() != 4 || !AllDigits(f[11])) {
      reason_ = absl::StrCat("mcc '", Av(f[11]),
                             "' is not empty or exactly 4 digits");
      return false;
    }
    mcc =
        static_cast<uint32_t>((f[11][0] - '0') * 1000 + (f[11][1] - '0') * 100 +
                              (f[11][2] - '0') * 10 + (f[11][3] - '0'));
  }
  // Every field is assigned, so the message need not be cleared (clearing
  // would free the timestamp sub-message and allocate it again).
  Payment& p = record->payment;
  p.mutable_id()->assign(f[0]);
  google::protobuf::Timestamp* t = p.mutable_timestamp();
  t->set_seconds(*ts);
  t->set_nanos(0);
  p.mutable_debtor_account()->assign(f[2]);
  p.mutable_debtor_name()->assign(f[3]);
  p.mutable_debtor_country()->assign(f[4]);
  p.mutable_creditor_account()->assign(f[5]);
  p.mutable_creditor_name()->assign(f[6]);
  p.mutable_creditor_country()->assign(f[7]);
  p.set_amount_minor(*amount);
  p.mutable_currency()->assign(f[9]);
  p.set_channel(*channel);
  p.set_mcc(mcc);
  p.mutable_reference()->assign(f[12]);
  reason_ = internal::CheckPayment(p);
  return reason_.empty();
}

bool FileSource::ParseAmlworld(SourceRecord* record) {
  const std::string_view* f = rec_.fields;
  // Timestamp,From Bank,Account,To Bank,Account,Amount Received,Receiving
  // Currency,Amount Paid,Payment Currency,Payment Format,Is Laundering
  int64_t ts = 0;
  if (!ParseAmlworldTime(f[0], &ts)) {
    reason_ = absl::StrCat("Timestamp '", Av(f[0]),
                           "' is not a valid YYYY/MM/DD HH:MM");
    return false;
  }
  for (int i : {1, 3}) {
    if (!AllDigits(f[i])) {
      reason_ = absl::StrCat(Av(kAmlworldFields[i]), " '", Av(f[i]),
                             "' is not a bank id (digits)");
      return false;
    }
  }
  for (int i : {2, 4}) {
    if (f[i].empty()) {
      reason_ = absl::StrCat(Av(kAmlworldFields[i]), " is empty");
      return false;
    }
  }
  std::string_view iso;
  for (const CurrencyName& c : kAmlworldCurrencies) {
    if (c.name == f[8]) {
      iso = c.iso;
      break;
    }
  }
  if (iso.empty()) {
    reason_ = absl::StrCat("Payment Currency '", Av(f[8]),
                           "' is not an AMLworld currency name");
    return false;
  }
  const int exponent = *CurrencyExponent(iso);
  absl::StatusOr<int64_t> amount =
      ParseDecimalMinor(f[7], exponent, ExtraDigits::kRoundHalfEven);
  if (!amount.ok()) {
    reason_ = absl::StrCat("Amount Paid: ", amount.status().message());
    return false;
  }
  if (*amount == 0) {
    reason_ =
        absl::StrCat("Amount Paid '", Av(f[7]), "' rounds to zero ", Av(iso));
    return false;
  }
  std::string_view format = f[9];
  Payment::Channel channel;
  if (format == "Credit Card") {
    channel = Payment::CARD;
  } else if (format == "Cash") {
    channel = Payment::CASH;
  } else if (!format.empty()) {
    channel = Payment::TRANSFER;  // Wire, ACH, Cheque, Reinvestment, Bitcoin
  } else {
    reason_ = "Payment Format is empty";
    return false;
  }
  bool label;
  if (f[10] == "1") {
    label = true;
  } else if (f[10] == "0") {
    label = false;
  } else {
    reason_ = absl::StrCat("Is Laundering '", Av(f[10]), "' is not 0 or 1");
    return false;
  }
  Payment& p = record->payment;
  std::string* id = p.mutable_id();
  id->assign("aml-");
  absl::StrAppend(id, rec_.line);
  google::protobuf::Timestamp* t = p.mutable_timestamp();
  t->set_seconds(ts);
  t->set_nanos(0);
  AssignAccount(f[1], f[2], p.mutable_debtor_account());
  p.mutable_debtor_name()->clear();
  p.mutable_debtor_country()->clear();
  AssignAccount(f[3], f[4], p.mutable_creditor_account());
  p.mutable_creditor_name()->clear();
  p.mutable_creditor_country()->clear();
  p.set_amount_minor(*amount);
  p.mutable_currency()->assign(iso);
  p.set_channel(channel);
  p.set_mcc(0);
  std::string* ref = p.mutable_reference();
  ref->assign("AMLworld ");
  ref->append(format);
  reason_ = internal::CheckPayment(p);
  if (!reason_.empty()) return false;
  record->label = label;
  return true;
}

absl::StatusOr<bool> FileSource::NextJsonl(SourceRecord* record) {
  internal::TextLine line;
  for (;;) {
    TXFLAG_ASSIGN_OR_RETURN(bool got, reader_.NextLine(&line));
    if (!got) return false;
    if (IsBlank(line.text)) continue;
    SetLocation(record, line.line);
    record->label.reset();
    reason_.clear();
    if (line.too_long) {
      reason_ = absl::StrCat("line is longer than ", max_record_bytes_,
                             " bytes (max_record_bytes)");
    } else if (!internal::IsValidUtf8(line.text)) {
      reason_ = "invalid UTF-8";
    } else {
      google::protobuf::util::JsonParseOptions options;
      options.ignore_unknown_fields = false;
      auto status = google::protobuf::util::JsonStringToMessage(
          google::protobuf::StringPiece(line.text.data(), line.text.size()),
          &record->payment, options);
      if (!status.ok()) {
        reason_ = absl::StrCat("not a txflag.v1.Payment in protobuf JSON: ",
                               Av(std::string_view(status.message().data(),
                                                   status.message().size())));
      } else {
        reason_ = internal::CheckPayment(record->payment);
      }
    }
    if (reason_.empty()) {
      record->kind = SourceRecord::Kind::kPayment;
      record->reason.clear();
      record->raw.clear();
    } else {
      record->kind = SourceRecord::Kind::kReject;
      record->reason.swap(reason_);
      record->raw.assign(line.text.data(), line.text.size());
    }
    return true;
  }
}

std::string FileSource::Checkpoint() const {
  return absl::StrCat(
      Av(kCheckpointTag), " size=", size_, " head=", Hex64(head_hash_),
      " format=", Av(FileFormatName(format_)), " offset=", reader_.offset(),
      " line=", reader_.line(), " path=", path_);
}

absl::Status FileSource::Restore(std::string_view checkpoint) {
  if (checkpoint.empty()) return reader_.Seek(data_offset_, data_line_);
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("unreadable checkpoint for ",
                                                   path_, " (", Av(why), "): '",
                                                   Shown(checkpoint), "'"));
  };
  // Fields are "key=value" separated by single spaces; path= comes last and
  // may itself hold spaces.
  std::string_view rest = checkpoint;
  auto take = [&](std::string_view key, std::string_view* value) {
    if (rest.substr(0, key.size()) != key) return false;
    rest.remove_prefix(key.size());
    if (key == "path=") {
      *value = rest;
      rest = {};
      return true;
    }
    size_t sp = rest.find(' ');
    if (sp == std::string_view::npos) return false;
    *value = rest.substr(0, sp);
    rest.remove_prefix(sp + 1);
    return true;
  };
  std::string_view tag, size_s, head_s, format_s, offset_s, line_s, cp_path;
  size_t sp = rest.find(' ');
  if (sp == std::string_view::npos) return bad("no fields");
  tag = rest.substr(0, sp);
  rest.remove_prefix(sp + 1);
  if (tag != kCheckpointTag) {
    return bad(absl::StrCat("version tag '", Av(tag), "' is not ",
                            Av(kCheckpointTag)));
  }
  if (!take("size=", &size_s) || !take("head=", &head_s) ||
      !take("format=", &format_s) || !take("offset=", &offset_s) ||
      !take("line=", &line_s) || !take("path=", &cp_path)) {
    return bad("missing field");
  }
  uint64_t size = 0, offset = 0;
  int64_t line = 0;
  if (!absl::SimpleAtoi(Av(size_s), &size) ||
      !absl::SimpleAtoi(Av(offset_s), &offset) ||
      !absl::SimpleAtoi(Av(line_s), &line) || line < 1) {
    return bad("bad number");
  }
  absl::StatusOr<FileFormat> format = ParseFileFormat(format_s);
  if (!format.ok() || *format == FileFormat::kAuto) return bad("bad format");
  if (size != size_ || head_s != Hex64(head_hash_)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "checkpoint is for ", Av(cp_path), " (size ", size,
        " bytes), not this file ", path_, " (size ", size_,
        " bytes, or its first 64 KiB differ): use another --state-dir or "
        "--fresh"));
  }
  if (*format != format_) {
    return absl::FailedPreconditionError(
        absl::StrCat("checkpoint for ", path_, " was taken reading it as ",
                     Av(format_s), ", but it is now read as ",
                     Av(FileFormatName(format_)), ": pass --format ",
                     Av(format_s), ", or use another --state-dir or --fresh"));
  }
  if (offset < data_offset_ || offset > size_ || line < data_line_) {
    return bad(absl::StrCat("offset ", offset, " is outside the data of ",
                            path_, " (bytes ", data_offset_, " to ", size_,
                            ")"));
  }
  return reader_.Seek(offset, line);
}

double FileSource::Progress() const {
  if (size_ == 0) return 1.0;
  return static_cast<double>(reader_.offset()) / static_cast<double>(size_);
}

}  // namespace txflag::connectors
