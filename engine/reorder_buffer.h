// File: engine/reorder_buffer.h
//
// Holds payments until the watermark passes them and hands them out in
// (timestamp, arrival) order. Input that is already in timestamp order (the
// usual case) costs O(1) per payment: such items go to a FIFO, and only
// out-of-order arrivals go to a binary heap. Item storage is recycled, so the
// strings of a payment are reused by later ones instead of reallocated.
//
//   auto item = buffer.Acquire();
//   item->payment.Swap(&record.payment);  ...
//   buffer.Push(std::move(item));
//   while (auto next = buffer.PopUntil(watermark)) { ...; buffer.Recycle(std::move(next)); }
//
// Not thread-safe.
#ifndef TXFLAG_ENGINE_REORDER_BUFFER_H_
#define TXFLAG_ENGINE_REORDER_BUFFER_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "proto/payment.pb.h"

namespace txflag::engine {

class ReorderBuffer {
 public:
  struct Item {
    txflag::v1::Payment payment;
    std::string location;
    int64_t ts = 0;   // payment timestamp, Unix seconds
    int64_t seq = 0;  // arrival number, unique and increasing
  };

  // An empty item, recycled when possible (its fields keep their capacity).
  std::unique_ptr<Item> Acquire();
  // Adds `item`; `item->seq` must be larger than every seq pushed before.
  void Push(std::unique_ptr<Item> item);
  // Removes and returns the earliest item by (ts, seq) if its ts <= until,
  // else returns nullptr.
  std::unique_ptr<Item> PopUntil(int64_t until);
  // Gives storage back for Acquire().
  void Recycle(std::unique_ptr<Item> item);

  size_t size() const { return fifo_.size() + heap_.size(); }
  // Visits every buffered item (in no particular order).
  template <typename Fn>
  void ForEach(Fn fn) const {
    for (const auto& item : fifo_) fn(*item);
    for (const auto& item : heap_) fn(*item);
  }

 private:
  std::deque<std::unique_ptr<Item>> fifo_;   // sorted by (ts, seq)
  std::vector<std::unique_ptr<Item>> heap_;  // min-heap by (ts, seq)
  std::vector<std::unique_ptr<Item>> pool_;
};

}  // namespace txflag::engine

#endif  // TXFLAG_ENGINE_REORDER_BUFFER_H_
