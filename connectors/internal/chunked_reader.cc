#include "connectors/internal/chunked_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace txflag::connectors::internal {
namespace {

constexpr size_t kMaxRawBytes = 4096;

// Bytes that end the fast scan of an unquoted field.
constexpr std::array<bool, 256> kSpecial = [] {
  std::array<bool, 256> t{};
  t[static_cast<unsigned char>(',')] = true;
  t[static_cast<unsigned char>('\n')] = true;
  t[static_cast<unsigned char>('\r')] = true;
  t[static_cast<unsigned char>('"')] = true;
  return t;
}();

std::string_view StripCr(const char* begin, const char* end) {
  if (end > begin && end[-1] == '\r') --end;
  return std::string_view(begin, end - begin);
}

}  // namespace

ChunkedReader::ChunkedReader(int fd, std::string path, Options options)
    : fd_(fd), path_(std::move(path)), options_(options) {
  if (options_.buffer_size == 0) options_.buffer_size = 1;
#ifdef POSIX_FADV_SEQUENTIAL
  (void)posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
}

ChunkedReader::~ChunkedReader() {
  if (fd_ >= 0) ::close(fd_);
}

absl::Status ChunkedReader::Seek(uint64_t offset, int64_t line) {
  if (::lseek(fd_, static_cast<off_t>(offset), SEEK_SET) < 0) {
    return absl::UnavailableError(absl::StrCat(
        "seeking to byte ", offset, " of ", path_, ": ", std::strerror(errno)));
  }
  pos_ = end_ = 0;
  eof_ = false;
  offset_ = offset;
  line_ = line;
  return absl::OkStatus();
}

absl::Status ChunkedReader::Fill() {
  if (pos_ > 0) {
    std::memmove(buf_.get(), buf_.get() + pos_, end_ - pos_);
    end_ -= pos_;
    pos_ = 0;
  }
  if (cap_ - end_ < options_.buffer_size) {
    size_t new_cap = std::max(cap_ * 2, end_ + options_.buffer_size);
    auto buf = std::make_unique<char[]>(new_cap);
    if (end_ > 0) std::memcpy(buf.get(), buf_.get(), end_);
    buf_ = std::move(buf);
    scratch_ = std::make_unique<char[]>(new_cap);
    cap_ = new_cap;
  }
  ssize_t n;
  do {
    n = ::read(fd_, buf_.get() + end_, options_.buffer_size);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    return absl::UnavailableError(absl::StrCat("reading ", path_, " at byte ",
                                               offset_ + (end_ - pos_), ": ",
                                               std::strerror(errno)));
  }
  if (n == 0) {
    eof_ = true;
  } else {
    end_ += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::Status ChunkedReader::SkipBom() {
  while (end_ - pos_ < 3 && !eof_) TXFLAG_RETURN_IF_ERROR(Fill());
  if (end_ - pos_ >= 3 &&
      std::memcmp(buf_.get() + pos_, "\xEF\xBB\xBF", 3) == 0) {
    Consume(3, 0);
  }
  return absl::OkStatus();
}

void ChunkedReader::Consume(size_t bytes, int64_t newlines) {
  pos_ += bytes;
  offset_ += bytes;
  line_ += newlines;
}

absl::Status ChunkedReader::ConsumeFirstLine(std::string_view* raw,
                                             bool* truncated) {
  const char* b = buf_.get() + pos_;
  const char* e = buf_.get() + end_;
  const char* nl = static_cast<const char*>(std::memchr(b, '\n', e - b));
  if (nl != nullptr || eof_) {
    const char* line_end = nl != nullptr ? nl : e;
    *raw = StripCr(b, line_end);
    *truncated = raw->size() > kMaxRawBytes;
    if (*truncated) *raw = raw->substr(0, kMaxRawBytes);
    Consume(line_end - b + (nl != nullptr ? 1 : 0), nl != nullptr ? 1 : 0);
    return absl::OkStatus();
  }
  // The line goes on past the buffer: keep its start, skip to its end.
  long_raw_.assign(b, std::min<size_t>(e - b, kMaxRawBytes));
  *truncated = true;
  for (;;) {
    Consume(end_ - pos_, 0);
    TXFLAG_RETURN_IF_ERROR(Fill());
    b = buf_.get() + pos_;
    e = buf_.get() + end_;
    nl = static_cast<const char*>(std::memchr(b, '\n', e - b));
    if (nl != nullptr) {
      Consume(nl - b + 1, 1);
      break;
    }
    if (eof_) {
      Consume(e - b, 0);
      break;
    }
  }
  *raw = long_raw_;
  return absl::OkStatus();
}

ChunkedReader::Parse ChunkedReader::ParseCsv(const char* begin, const char* end,
                                             CsvRecord* rec, size_t* consumed,
                                             int64_t* newlines) const {
  const char* p = begin;
  char* out = scratch_.get();
  int nf = 0;
  int64_t nl = 0;
  unsigned char hi = 0;
  const char* raw_end = nullptr;
  rec->error = CsvError::kNone;
  rec->error_field = 0;
  auto add = [&](const char* b, size_t n) {
    if (nf < CsvRecord::kMaxFields) rec->fields[nf] = std::string_view(b, n);
    ++nf;
  };
  auto error_to_line_end = [&](CsvError error, int field) -> bool {
    // Bad quoting: the record ends with the physical line the error is on.
    rec->error = error;
    rec->error_field = field;
    while (p < end && *p != '\n') {
      hi |= static_cast<unsigned char>(*p);
      ++p;
    }
    if (p == end) {
      if (!eof_) return false;
      raw_end = end;
    } else {
      raw_end = p;
      ++p;
      ++nl;
    }
    if (raw_end > begin && raw_end[-1] == '\r') --raw_end;
    return true;
  };

  for (;;) {  // one field per iteration
    if (p < end && *p == '"') {
      const char* q = p + 1;
      const char* seg = q;  // start of the not yet copied content
      char* ob = nullptr;   // start of the field in scratch_, once escaped
      for (;;) {
        while (q < end && *q != '"') {
          unsigned char c = static_cast<unsigned char>(*q);
          hi |= c;
          nl += (c == '\n');
          ++q;
        }
        if (q == end) {
          if (!eof_) return Parse::kIncomplete;
          rec->error = CsvError::kUnterminatedQuote;
          rec->error_field = nf;
          return Parse::kUnterminated;
        }
        if (q + 1 == end && !eof_) return Parse::kIncomplete;
        if (q + 1 < end && q[1] == '"') {  // "" escape
          if (ob == nullptr) ob = out;
          size_t n = q + 1 - seg;
          std::memcpy(out, seg, n);
          out += n;
          q += 2;
          seg = q;
          continue;
        }
        break;  // closing quote at q
      }
      if (ob != nullptr) {
        std::memcpy(out, seg, q - seg);
        out += q - seg;
        add(ob, out - ob);
      } else {
        add(seg, q - seg);
      }
      p = q + 1;
      if (p == end) {  // eof_ here
        raw_end = end;
        break;
      }
      char c = *p;
      if (c == ',') {
        ++p;
        continue;
      }
      if (c == '\n') {
        raw_end = p++;
        ++nl;
        break;
      }
      if (c == '\r') {
        if (p + 1 == end) {
          if (!eof_) return Parse::kIncomplete;
          raw_end = p;
          p = end;
          break;
        }
        if (p[1] == '\n') {
          raw_end = p;
          p += 2;
          ++nl;
          break;
        }
      }
      if (!error_to_line_end(CsvError::kTextAfterClosingQuote, nf - 1)) {
        return Parse::kIncomplete;
      }
      break;
    }

    // Unquoted field.
    const char* fb = p;
    bool next_field = false;
    for (;;) {
      while (p < end && !kSpecial[static_cast<unsigned char>(*p)]) {
        hi |= static_cast<unsigned char>(*p);
        ++p;
      }
      if (p == end) {
        if (!eof_) return Parse::kIncomplete;
        add(fb, p - fb);
        raw_end = end;
        break;
      }
      char c = *p;
      if (c == ',') {
        add(fb, p - fb);
        ++p;
        next_field = true;
        break;
      }
      if (c == '\n') {
        add(fb, p - fb);
        raw_end = p++;
        ++nl;
        break;
      }
      if (c == '\r') {
        if (p + 1 == end) {
          if (!eof_) return Parse::kIncomplete;
          add(fb, p - fb);
          raw_end = p;
          p = end;
          break;
        }
        if (p[1] == '\n') {
          add(fb, p - fb);
          raw_end = p;
          p += 2;
          ++nl;
          break;
        }
        ++p;  // a lone CR is data
        continue;
      }
      // A quote inside an unquoted field.
      if (!error_to_line_end(CsvError::kQuoteInUnquotedField, nf)) {
        return Parse::kIncomplete;
      }
      ++nf;  // count the bad field
      break;
    }
    if (!next_field) break;
  }
  rec->raw = std::string_view(begin, raw_end - begin);
  rec->field_count = nf;
  rec->non_ascii = (hi & 0x80) != 0;
  *consumed = p - begin;
  *newlines = nl;
  return Parse::kOk;
}

absl::StatusOr<bool> ChunkedReader::NextCsv(CsvRecord* rec) {
  for (;;) {
    if (pos_ == end_) {
      if (eof_) return false;
      TXFLAG_RETURN_IF_ERROR(Fill());
      continue;
    }
    size_t consumed = 0;
    int64_t newlines = 0;
    Parse r = ParseCsv(buf_.get() + pos_, buf_.get() + end_, rec, &consumed,
                       &newlines);
    if (r == Parse::kIncomplete && end_ - pos_ <= options_.max_record_bytes) {
      TXFLAG_RETURN_IF_ERROR(Fill());
      continue;
    }
    rec->line = line_;
    if (r != Parse::kOk) {
      // Unterminated quote at the end of the file, or a record too long to be
      // real: reject its first line and read on from the next one.
      if (r == Parse::kIncomplete) {
        rec->error = CsvError::kTooLong;
        rec->error_field = 0;
      }
      rec->field_count = 0;
      rec->non_ascii = false;
      bool truncated = false;
      TXFLAG_RETURN_IF_ERROR(ConsumeFirstLine(&rec->raw, &truncated));
      return true;
    }
    Consume(consumed, newlines);
    if (rec->raw.empty() && rec->field_count == 1 &&
        rec->error == CsvError::kNone) {
      continue;  // blank line
    }
    return true;
  }
}

absl::StatusOr<bool> ChunkedReader::NextLine(TextLine* line) {
  for (;;) {
    const char* b = buf_.get() + pos_;
    const char* e = buf_.get() + end_;
    const char* nl =
        b == e ? nullptr
               : static_cast<const char*>(std::memchr(b, '\n', e - b));
    if (nl != nullptr || (eof_ && b != e)) {
      const char* line_end = nl != nullptr ? nl : e;
      line->line = line_;
      line->text = StripCr(b, line_end);
      line->too_long = false;
      Consume(line_end - b + (nl != nullptr ? 1 : 0), nl != nullptr ? 1 : 0);
      return true;
    }
    if (eof_) return false;
    if (static_cast<size_t>(e - b) > options_.max_record_bytes) {
      line->line = line_;
      line->too_long = true;
      bool truncated = false;
      TXFLAG_RETURN_IF_ERROR(ConsumeFirstLine(&line->text, &truncated));
      return true;
    }
    TXFLAG_RETURN_IF_ERROR(Fill());
  }
}

}  // namespace txflag::connectors::internal
