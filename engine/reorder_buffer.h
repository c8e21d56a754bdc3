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
// strings. Input already in timestamp order within its lane (the usual case)
// costs O(log lanes) per payment: such payments are appended to the lane's
// FIFO, whose bytes are laid end to end in 1 MiB chunks, written and read
// sequentially (what hardware prefetchers are good at), and a small heap
// keeps the lanes by their earliest payment; only out-of-order arrivals go
// to a binary heap, each with its own string.
//
//   buffer.Push(payment, location, seq, Legs::kBoth);
//   txflag::v1::PaymentView next; std::string_view where; Legs legs;
//   while (buffer.PopUntil(watermark, &next, &where, &legs)) ...
//
// Payments go in and come out as PaymentViews: what comes out points into
// the buffer's own bytes, so neither side builds a protobuf message.
//
// Not thread-safe.
#ifndef TXFLAG_ENGINE_REORDER_BUFFER_H_
#define TXFLAG_ENGINE_REORDER_BUFFER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/source.h"
#include "proto/payment_view.h"

namespace txflag::engine {

class ReorderBuffer {
 public:
  // Adds a copy of `payment` (a txflag::v1::Payment converts) read at
  // `location`, for `legs`. `seq` (the arrival number) must be larger than
  // every seq pushed before. `lane` (>= 0, small) is a hint: payments of one
  // lane usually arrive in order among themselves (one Kafka partition), so
  // each lane keeps its own FIFO and interleaved lanes do not fall back to
  // the heap. Any lane gives the same order out. `position` (>= 0, or -1 for
  // none) is the payment's place in its lane's input, growing with every
  // push to the lane (a Kafka offset); see OldestPosition.
  void Push(const txflag::v1::PaymentView& payment, std::string_view location,
            int64_t seq, Legs legs = Legs::kBoth, int32_t lane = 0,
            int64_t position = -1);

  // If the earliest payment by (timestamp, id, legs, seq) has timestamp <=
  // until, removes it, sets the non-null outputs to it (*lane and *position
  // as it was pushed with) and returns true; otherwise returns false.
  // *payment and *location point into the buffer: they stay valid until the
  // next call of a non-const method.
  bool PopUntil(int64_t until, txflag::v1::PaymentView* payment,
                std::string_view* location, Legs* legs = nullptr,
                int64_t* seq = nullptr, int32_t* lane = nullptr,
                int64_t* position = nullptr);

  size_t size() const { return fifo_count_ + heap_.size(); }

  // The smallest position (see Push) of the payments of `lane` still
  // buffered; -1 when none has one. O(out-of-order payments) (and the
  // lane's leading payments without a position, restored from old state).
  int64_t OldestPosition(int32_t lane) const;

  // Visits every buffered payment with its location, seq and legs, in no
  // particular order (for checkpoints).
  void ForEach(const std::function<void(const txflag::v1::PaymentView&,
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
    int64_t position = -1;
    uint64_t chunk = 0;
    char* data = nullptr;  // in chunks_
    size_t size = 0;
  };
  // A payment in the heap (out of order).
  struct Item {
    int64_t ts = 0;
    int64_t seq = 0;
    int64_t position = -1;
    int32_t lane = 0;
    std::string bytes;
  };
  struct Chunk {
    std::unique_ptr<char[]> data;
    size_t capacity = 0;  // kChunkBytes, or more for one outsized payment
    size_t used = 0;
    size_t live = 0;  // slots still pointing into it
  };

  static size_t EncodedSize(const txflag::v1::PaymentView& payment,
                            std::string_view location);
  // Writes EncodedSize() bytes at `out`.
  static void EncodeTo(const txflag::v1::PaymentView& payment,
                       std::string_view location, Legs legs, char* out);
  // *payment and *location point into `bytes`.
  static void Decode(std::string_view bytes, txflag::v1::PaymentView* payment,
                     std::string_view* location, Legs* legs);
  // Whether `bytes` is a complete encoding (every length within bounds).
  static bool WellFormed(std::string_view bytes);
  // Adds a payment of `size` encoded bytes, which write(char* out) writes
  // where they are kept; `tiebreak` is its (id, legs).
  template <typename Write>
  void PushWith(int64_t ts, std::pair<std::string_view, uint8_t> tiebreak,
                int64_t seq, int32_t lane, int64_t position, size_t size,
                const Write& write);
  // Reserves `size` bytes at the end of the chunk chain; returns the slot.
  Slot Append(int64_t ts, int64_t seq, size_t size);
  void ReleaseFront(const Slot& slot);
  // std::push_heap's "less": the heap's top is the earliest item.
  static bool HeapOrder(const Item& a, const Item& b);

  // A lane's FIFO: a ring that doubles when full and never shrinks. (A
  // std::deque allocated and freed a 512-byte block every 12 slots of each
  // lane: 7% of the streaming engine's time with 16 lanes.)
  class SlotRing {
   public:
    bool empty() const { return size_ == 0; }
    size_t size() const { return size_; }
    const Slot& operator[](size_t i) const {
      return slots_[(head_ + i) & (slots_.size() - 1)];
    }
    const Slot& front() const { return slots_[head_]; }
    const Slot& back() const { return (*this)[size_ - 1]; }
    void push_back(const Slot& slot);
    void pop_front() {
      head_ = (head_ + 1) & (slots_.size() - 1);
      --size_;
    }

   private:
    std::vector<Slot> slots_;  // size 0 or a power of two
    size_t head_ = 0;
    size_t size_ = 0;
  };

  // The lane whose front is the earliest; nullptr when all are empty.
  SlotRing* EarliestLane() {
    return lane_heap_.empty() ? nullptr : &lanes_[lane_heap_.front()];
  }
  // std::push_heap's "less" on lane numbers: the top is the non-empty lane
  // with the earliest front.
  bool LaneAfter(uint32_t a, uint32_t b) const;
  // Restores lane_heap_ after its top changed (a new front, or another lane
  // moved up in place of an emptied one; the top lane is not empty): moves
  // the top down while a child's front is earlier. One pass, which stops
  // as soon as the lane is still the earliest (a lane often releases
  // several payments in a row); std::pop_heap then push_heap took twice
  // the comparisons.
  void SiftTopLaneDown();

  // Per lane, sorted by (ts, id, legs, seq).
  std::vector<SlotRing> lanes_ = std::vector<SlotRing>(1);
  // Per lane, its front's ts while it is not empty: LaneAfter decides most
  // comparisons from this one small array instead of two lanes' rings.
  std::vector<int64_t> front_ts_ = std::vector<int64_t>(1);
  // The non-empty lanes, a min-heap by their fronts: finding the earliest
  // of 16 lanes' fronts for every payment released was 4% of the engine's
  // time when each pop compared them all.
  std::vector<uint32_t> lane_heap_;
  size_t fifo_count_ = 0;   // slots in all lanes
  std::vector<Item> heap_;  // min-heap by (ts, id, legs, seq)
  std::deque<Chunk> chunks_;
  uint64_t first_chunk_ = 0;  // number of chunks_.front()
  std::vector<std::unique_ptr<char[]>> spare_chunks_;
  // What the last PopUntil gave out, kept until the next non-const call:
  // a FIFO slot whose chunk is released then, or a heap item's bytes.
  std::optional<Slot> popped_slot_;
  std::string popped_bytes_;
  void ReleasePopped();
};

}  // namespace txflag::engine

#endif  // TXFLAG_ENGINE_REORDER_BUFFER_H_
