// File: proto/wire.h
//
// The few pieces of the protobuf wire format that the hand-written readers
// and writers of proto/payment_view.h and proto/leg_view.h share. Internal to
// those files: everything else goes through protobuf.
#ifndef TXFLAG_PROTO_WIRE_H_
#define TXFLAG_PROTO_WIRE_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace txflag::v1::wire {

inline constexpr int kVarint = 0;
inline constexpr int kLengthDelimited = 2;

// Reads a varint of at most `max_bytes` bytes at *p (< end). False for a
// longer or truncated one, and for a 10-byte one whose last byte carries
// more than bit 63: protobuf would accept some of those, but no serializer
// writes them, and declining keeps the value question out of this code.
inline bool ReadVarint(const char** p, const char* end, int max_bytes,
                       uint64_t* out) {
  uint64_t value = 0;
  for (int i = 0; i < max_bytes; ++i) {
    if (*p == end) return false;
    const auto byte = static_cast<uint8_t>(*(*p)++);
    if (i == 9 && byte > 1) return false;
    value |= static_cast<uint64_t>(byte & 0x7F) << (7 * i);
    if (byte < 0x80) {
      *out = value;
      return true;
    }
  }
  return false;
}

// Reads a length-delimited field's length and bytes at *p.
inline bool ReadLength(const char** p, const char* end, std::string_view* out) {
  uint64_t n = 0;
  if (!ReadVarint(p, end, 5, &n)) return false;
  if (n > static_cast<uint64_t>(end - *p)) return false;
  *out = std::string_view(*p, n);
  *p += n;
  return true;
}

// Appends `value` as a varint, in as few bytes as serializers use.
inline void AppendVarint(uint64_t value, std::string* out) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>((value & 0x7F) | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

// Appends field `field`'s tag and `bytes`, length-delimited.
inline void AppendLengthDelimited(int field, std::string_view bytes,
                                  std::string* out) {
  AppendVarint(static_cast<uint64_t>(field) << 3 | kLengthDelimited, out);
  AppendVarint(bytes.size(), out);
  out->append(bytes.data(), bytes.size());
}

}  // namespace txflag::v1::wire

#endif  // TXFLAG_PROTO_WIRE_H_
