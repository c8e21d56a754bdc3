// File: engine/reorder_buffer.h
//
// Holds payments until the watermark passes them and hands them out in
// (timestamp, arrival) order.
//
// Payments wait here for the allowed lateness (an hour of payments is
// megabytes), long enough to leave the CPU caches, so each is kept as one
// compact byte string instead of a protobuf message with a dozen separately
// allocated strings: one cache miss to read it back instead of ten. Input
// already in timestamp order (the usual case) costs O(1) per payment: such
// payments go to a FIFO; only out-of-order arrivals go to a binary heap.
//
//   buffer.Push(payment, location, seq);
//   txflag::v1::Payment next; std::string where;
//   while (buffer.PopUntil(watermark, &next, &where)) Process(next, where);
//
// Not thread-safe.
#ifndef TXFLAG_ENGINE_REORDER_BUFFER_H_
#define TXFLAG_ENGINE_REORDER_BUFFER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/payment.pb.h"

namespace txflag::engine {

class ReorderBuffer {
 public:
  // Adds a copy of `payment` read at `location`. `seq` (the arrival number)
  // must be larger than every seq pushed before.
  void Push(const txflag::v1::Payment& payment, std::string_view location,
            int64_t seq);

  // If the earliest payment by (timestamp, seq) has timestamp <= until,
  // removes it into *payment (every field overwritten, buffers reused) and
  // *location and returns true; otherwise returns false.
  bool PopUntil(int64_t until, txflag::v1::Payment* payment,
                std::string* location);

  size_t size() const { return fifo_.size() + heap_.size(); }

  // Visits every buffered payment with its location and seq, in no
  // particular order (for checkpoints).
  void ForEach(const std::function<void(const txflag::v1::Payment&,
                                        std::string_view location,
                                        int64_t seq)>& fn) const;

 private:
  struct Item {
    int64_t ts = 0;
    int64_t seq = 0;
    std::string bytes;  // the payment and its location, see Encode()
  };
  static void Encode(const txflag::v1::Payment& payment,
                     std::string_view location, std::string* out);
  static void Decode(std::string_view bytes, txflag::v1::Payment* payment,
                     std::string* location);
  void Recycle(std::string bytes);

  std::deque<Item> fifo_;           // sorted by (ts, seq)
  std::vector<Item> heap_;          // min-heap by (ts, seq)
  std::vector<std::string> spare_;  // byte strings to reuse
};

}  // namespace txflag::engine

#endif  // TXFLAG_ENGINE_REORDER_BUFFER_H_
