#include "rules/text_match.h"

#include <algorithm>
#include <cstdint>

#include "absl/container/inlined_vector.h"
#include "absl/strings/string_view.h"

namespace txflag::rules {
namespace {

// Walks `text` and reports normalised token bytes and token ends to `sink`:
// sink.Byte(char) for each byte of a token, sink.End() after each token (also
// at separators when no token is open; the sink ignores empty tokens).
template <typename Sink>
void ScanTokens(std::string_view text, Sink& sink) {
  const auto* p = reinterpret_cast<const uint8_t*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    uint8_t c = p[i];
    if (c < 0x80) {
      if (c >= 'A' && c <= 'Z') {
        sink.Byte(static_cast<char>(c + ('a' - 'A')));
      } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
        sink.Byte(static_cast<char>(c));
      } else {
        sink.End();
      }
      ++i;
      continue;
    }
    // A UTF-8 sequence: decode it to classify it. Invalid bytes are kept.
    size_t len = 0;
    uint32_t cp = 0;
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      cp = c & 0x07;
    }
    bool valid = len > 0 && i + len <= n;
    for (size_t k = 1; valid && k < len; ++k) {
      if ((p[i + k] & 0xc0) != 0x80) {
        valid = false;
      } else {
        cp = (cp << 6) | (p[i + k] & 0x3f);
      }
    }
    if (!valid) {
      sink.Byte(static_cast<char>(c));
      ++i;
      continue;
    }
    bool separator = (cp >= 0x80 && cp <= 0xbf) ||  // Latin-1 symbols, NBSP
                     cp == 0xd7 || cp == 0xf7 ||    // multiplication, division
                     (cp >= 0x2000 && cp <= 0x206f) ||  // general punctuation
                     (cp >= 0x20a0 && cp <= 0x20cf) ||  // currency symbols
                     (cp >= 0x3000 && cp <= 0x303f) ||  // CJK punctuation
                     cp == 0xfeff;                      // BOM
    if (separator) {
      sink.End();
    } else if (cp >= 0xc0 && cp <= 0xde) {
      // Latin-1 capital (À-Þ, including Æ Ø Å): its small letter is +0x20,
      // still two bytes C3 xx.
      uint32_t lower = cp + 0x20;
      sink.Byte(static_cast<char>(0xc0 | (lower >> 6)));
      sink.Byte(static_cast<char>(0x80 | (lower & 0x3f)));
    } else {
      for (size_t k = 0; k < len; ++k) sink.Byte(static_cast<char>(p[i + k]));
    }
    i += len;
  }
  sink.End();
}

// Collects the concatenated tokens and where each token ends. Inline storage
// covers names up to a few hundred bytes without touching the heap.
struct JoinedTokens {
  absl::InlinedVector<char, 256> bytes;
  absl::InlinedVector<uint32_t, 32> ends;

  void Byte(char c) { bytes.push_back(c); }
  void End() {
    uint32_t end = static_cast<uint32_t>(bytes.size());
    if (end > (ends.empty() ? 0 : ends.back())) ends.push_back(end);
  }
};

struct TokenList {
  std::vector<std::string> tokens;
  std::string current;

  void Byte(char c) { current.push_back(c); }
  void End() {
    if (!current.empty()) tokens.push_back(std::move(current));
    current.clear();
  }
};

}  // namespace

std::vector<std::string> Tokenize(std::string_view text) {
  TokenList list;
  ScanTokens(text, list);
  return std::move(list.tokens);
}

NameMatcher::NameMatcher(const std::vector<std::string>& terms) {
  for (const std::string& term : terms) {
    std::string joined;
    for (const std::string& token : Tokenize(term)) joined += token;
    if (joined.empty()) continue;
    min_len_ =
        terms_.empty() ? joined.size() : std::min(min_len_, joined.size());
    max_len_ = std::max(max_len_, joined.size());
    if (joined.size() == 1) {
      has_one_byte_term_ = true;
    } else {
      const unsigned key = static_cast<unsigned char>(joined[0]) << 8 |
                           static_cast<unsigned char>(joined[1]);
      first_two_[key >> 6] |= uint64_t{1} << (key & 63);
    }
    terms_.insert(std::move(joined));
  }
}

bool NameMatcher::Matches(std::string_view name) const {
  if (terms_.empty()) return false;
  JoinedTokens t;
  ScanTokens(name, t);
  const char* data = t.bytes.data();
  const size_t total = t.ends.empty() ? 0 : t.ends.back();
  for (size_t i = 0; i < t.ends.size(); ++i) {
    const uint32_t start = i == 0 ? 0 : t.ends[i - 1];
    if (!has_one_byte_term_) {
      if (total - start < 2) break;
      const unsigned key = static_cast<unsigned char>(data[start]) << 8 |
                           static_cast<unsigned char>(data[start + 1]);
      if ((first_two_[key >> 6] & (uint64_t{1} << (key & 63))) == 0) continue;
    }
    for (size_t j = i; j < t.ends.size(); ++j) {
      const size_t len = t.ends[j] - start;
      if (len > max_len_) break;
      if (len >= min_len_ &&
          terms_.contains(absl::string_view(data + start, len))) {
        return true;
      }
    }
  }
  return false;
}

KeywordMatcher::KeywordMatcher(const std::vector<std::string>& keywords) {
  for (const std::string& keyword : keywords) {
    std::vector<std::string> tokens = Tokenize(keyword);
    if (tokens.size() != 1) continue;
    max_len_ = std::max(max_len_, tokens[0].size());
    keywords_.insert(std::move(tokens[0]));
  }
}

namespace {

// Checks each token against the keyword set as soon as it ends; tokens longer
// than the longest keyword are skipped without being stored.
struct KeywordSink {
  KeywordSink(const absl::flat_hash_set<std::string>* keywords, size_t max_len)
      : keywords(keywords), max_len(max_len) {}

  const absl::flat_hash_set<std::string>* keywords;
  size_t max_len;
  char buf[64];
  size_t len = 0;
  bool too_long = false;
  bool found = false;

  void Byte(char c) {
    if (len < max_len && len < sizeof(buf)) {
      buf[len++] = c;
    } else {
      too_long = true;
    }
  }
  void End() {
    if (len > 0 && !too_long &&
        keywords->contains(absl::string_view(buf, len))) {
      found = true;
    }
    len = 0;
    too_long = false;
  }
};

}  // namespace

bool KeywordMatcher::Matches(std::string_view text) const {
  if (keywords_.empty()) return false;
  KeywordSink sink(&keywords_, max_len_);
  ScanTokens(text, sink);
  return sink.found;
}

}  // namespace txflag::rules
