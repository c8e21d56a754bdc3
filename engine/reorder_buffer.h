// File: engine/reorder_buffer.h
//
// Holds payments until the watermark passes them and hands them out in
// (timestamp, payment id, legs, arrival) order. Ties of timestamp are broken by
// the payment's own id, not by when it arrived, so the order in which an
// account's legs are processed does not depend on how a stream interleaved
// them (a back-test of a file and a Kafka run over partitions agree).
//
// Payments wait here for the allowed lateness (an hour of payments is
// megabytes), long enough to leave the CPU caches, so each is kept as compact
// bytes instead of a protobuf message with a dozen separately allocated
// strings. Input already in timestamp order (the usual case) costs O(1) per
// payment: such payments are appended to a FIFO whose bytes are laid end to
// end in 1 MiB chunks, written and read sequentially (what hardware
// prefetchers are good at); only out-of-order arrivals go to a binary heap,
// each with its own string.
//
//   buffer.Push(payment, location, seq, Legs::kBoth);
//   txflag::v1::Payment next; std::string where; Legs legs;
//   while (buffer.PopUntil(watermark, &next, &where, &legs)) ...
//
// Not thread-safe.
#ifndef TXFLAG_ENGINE_REORDER_BUFFER_H_
#define TXFLAG_ENGINE_REORDER_BUFFER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/source.h"
#include "proto/payment.pb.h"

namespace txflag::engine {

class ReorderBuffer {
 public:
  // Adds a copy of `payment` read at `location`, for `legs`. `seq` (the
  // arrival number) must be larger than every seq pushed before.
  // `lane` (>= 0, small) is a hint: payments of one lane usually arrive in
  // order among themselves (one Kafka partition), so each lane keeps its own
  // FIFO and interleaved lanes do not fall back to the heap. Any lane gives
  // the same order out.
  void Push(const txflag::v1::Payment& payment, std::string_view location,
            int64_t seq, Legs legs = Legs::kBoth, int32_t lane = 0);

  // If the earliest payment by (timestamp, id, legs, seq) has timestamp <=
  // until, removes it into *payment (every field overwritten, buffers reused),
  // *location and *legs and returns true; otherwise returns false.
  bool PopUntil(int64_t until, txflag::v1::Payment* payment,
                std::string* location, Legs* legs = nullptr,
                int64_t* seq = nullptr);

  size_t size() const { return fifo_count_ + heap_.size(); }

  // Visits every buffered payment with its location, seq and legs, in no
  // particular order (for checkpoints).
  void ForEach(const std::function<void(const txflag::v1::Payment&,
                                        std::string_view location, int64_t seq,
                                        Legs legs)>& fn) const;
  // The encoded form of the payments with seq > `after` (compact bytes, see
  // Encode in reorder_buffer.cc: what state format 4 stores for a buffered
  // payment), in no particular order.
  void ForEachEncodedAfter(
      int64_t after,
      const std::function<void(int64_t seq, std::string_view encoded)>& fn)
      const;
  // Push() of a payment given in its encoded form; false (nothing pushed)
  // when `encoded` is not a well-formed encoding.
  bool PushEncoded(std::string_view encoded, int64_t seq, int32_t lane = 0);

 private:
  static constexpr size_t kChunkBytes = size_t{1} << 20;

  // A payment in the FIFO: its bytes are in chunks_[chunk - first_chunk_].
  struct Slot {
    int64_t ts = 0;
    int64_t seq = 0;
    uint64_t chunk = 0;
    const char* data = nullptr;
    size_t size = 0;
  };
  // A payment in the heap (out of order).
  struct Item {
    int64_t ts = 0;
    int64_t seq = 0;
    std::string bytes;
  };
  struct Chunk {
    std::unique_ptr<char[]> data;
    size_t capacity = 0;  // kChunkBytes, or more for one outsized payment
    size_t used = 0;
    size_t live = 0;  // slots still pointing into it
  };

  static void Encode(const txflag::v1::Payment& payment,
                     std::string_view location, Legs legs, std::string* out);
  static void Decode(std::string_view bytes, txflag::v1::Payment* payment,
                     std::string* location, Legs* legs);
  // Whether `bytes` is a complete encoding (every length within bounds).
  static bool WellFormed(std::string_view bytes);
  void PushBytes(int64_t ts, int64_t seq, int32_t lane, std::string_view bytes);
  // Copies `bytes` to the end of the chunk chain and returns the slot.
  Slot Append(int64_t ts, int64_t seq, std::string_view bytes);
  void ReleaseFront(const Slot& slot);
  // std::push_heap's "less": the heap's top is the earliest item.
  static bool HeapOrder(const Item& a, const Item& b);

  // The lane whose front is the earliest; nullptr when all are empty.
  std::deque<Slot>* EarliestLane();

  // Per lane, sorted by (ts, id, legs, seq).
  std::vector<std::deque<Slot>> lanes_ = std::vector<std::deque<Slot>>(1);
  size_t fifo_count_ = 0;   // slots in all lanes
  std::vector<Item> heap_;  // min-heap by (ts, id, legs, seq)
  std::deque<Chunk> chunks_;
  uint64_t first_chunk_ = 0;  // number of chunks_.front()
  std::vector<std::unique_ptr<char[]>> spare_chunks_;
  std::string scratch_;  // encoding buffer
};

}  // namespace txflag::engine

#endif  // TXFLAG_ENGINE_REORDER_BUFFER_H_
