// File: rules/text_match.h
//
// Whole-word matching of counterparty names and payment references, for the
// rules that look at text (ad-site watchlists, rent references).
//
// Text is cut into tokens: maximal runs of letters and digits. ASCII is
// lowercased; UTF-8 Latin-1 capitals (including Danish Æ Ø Å) are lowercased
// to their small letters (æ ø å); other non-ASCII letters are kept byte for
// byte. Everything else (spaces, punctuation, Latin-1 symbols such as the
// non-breaking space, general punctuation such as dashes) separates tokens.
//
//   NameMatcher ads({"eroguide", "eb.dk", "Ekstra Bladet annoncer"});
//   ads.Matches("EROGUIDE.DK");                // true
//   ads.Matches("EKSTRABLADET ANNONCER A/S");  // true
//   ads.Matches("Webdk Shop");                 // false: "webdk" is one word
//
//   KeywordMatcher rent({"husleje", "rent"});
//   rent.Matches("RENT-week 12");  // true
//   rent.Matches("parent gift");   // false
//
// Both are immutable after construction and safe to use from many threads.
// Matches() does not allocate for texts under a few hundred bytes.
#ifndef TXFLAG_RULES_TEXT_MATCH_H_
#define TXFLAG_RULES_TEXT_MATCH_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"

namespace txflag::rules {

// The tokens of `text`, normalised as described above.
std::vector<std::string> Tokenize(std::string_view text);

// A watchlist of names. A term matches a name when the concatenation of the
// term's tokens equals the concatenation of some run of consecutive tokens of
// the name: "eb.dk" matches "EB.DK" and "Eb dk", "Ekstra Bladet annoncer"
// matches "EKSTRABLADET ANNONCER A/S", "eroguide" matches "Eroguide ApS".
class NameMatcher {
 public:
  NameMatcher() = default;
  // Terms without any letter or digit are ignored.
  explicit NameMatcher(const std::vector<std::string>& terms);

  bool empty() const { return terms_.empty(); }
  // Number of distinct usable terms.
  size_t size() const { return terms_.size(); }
  bool Matches(std::string_view name) const;

 private:
  // Each term's tokens, concatenated.
  absl::flat_hash_set<std::string> terms_;
  size_t min_len_ = 0;
  size_t max_len_ = 0;
  // Prefilter: bit (b0 << 8 | b1) is set when some term starts with the
  // bytes b0 b1, so most names are ruled out without hashing a single run.
  std::vector<uint64_t> first_two_ = std::vector<uint64_t>(1024, 0);
  bool has_one_byte_term_ = false;
};

// A set of keywords, each one token. Matches(text) is true when any token of
// `text` equals a keyword: "Husleje marts" has "husleje"; "rental car" does
// not have "rent".
class KeywordMatcher {
 public:
  KeywordMatcher() = default;
  // Each keyword is normalised; a keyword of several tokens ("a b") can never
  // match and is ignored (the rule pack rejects it).
  explicit KeywordMatcher(const std::vector<std::string>& keywords);

  bool empty() const { return keywords_.empty(); }
  size_t size() const { return keywords_.size(); }
  bool Matches(std::string_view text) const;

 private:
  absl::flat_hash_set<std::string> keywords_;
  size_t max_len_ = 0;
};

}  // namespace txflag::rules

#endif  // TXFLAG_RULES_TEXT_MATCH_H_
