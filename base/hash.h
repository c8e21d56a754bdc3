// File: base/hash.h
//
// Stable hashes: the same bytes give the same value on every machine and in
// every run (unlike absl::Hash, which is salted per process). Used for alert
// ids, counterparty keys and rule-pack content hashes.
#ifndef TXFLAG_BASE_HASH_H_
#define TXFLAG_BASE_HASH_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace txflag {

// 64-bit FNV-1a of `data`, continuing from `seed` (pass a previous result to
// hash several pieces; the default is the FNV offset basis).
uint64_t Fnv1a64(std::string_view data, uint64_t seed = 0xcbf29ce484222325ULL);

// SHA-256 of `data` as 64 lowercase hex digits.
std::string Sha256Hex(std::string_view data);

// `value` as 16 lowercase hex digits.
std::string Hex64(uint64_t value);

}  // namespace txflag

#endif  // TXFLAG_BASE_HASH_H_
