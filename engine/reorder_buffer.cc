#include "engine/reorder_buffer.h"

#include <algorithm>

namespace txflag::engine {
namespace {

bool Earlier(const ReorderBuffer::Item& a, const ReorderBuffer::Item& b) {
  return a.ts < b.ts || (a.ts == b.ts && a.seq < b.seq);
}

// std::push_heap builds a max-heap: "less" here means "later".
bool HeapLess(const std::unique_ptr<ReorderBuffer::Item>& a,
              const std::unique_ptr<ReorderBuffer::Item>& b) {
  return Earlier(*b, *a);
}

}  // namespace

std::unique_ptr<ReorderBuffer::Item> ReorderBuffer::Acquire() {
  if (pool_.empty()) return std::make_unique<Item>();
  std::unique_ptr<Item> item = std::move(pool_.back());
  pool_.pop_back();
  return item;
}

void ReorderBuffer::Push(std::unique_ptr<Item> item) {
  if (fifo_.empty() || !Earlier(*item, *fifo_.back())) {
    fifo_.push_back(std::move(item));
  } else {
    heap_.push_back(std::move(item));
    std::push_heap(heap_.begin(), heap_.end(), HeapLess);
  }
}

std::unique_ptr<ReorderBuffer::Item> ReorderBuffer::PopUntil(int64_t until) {
  const bool from_heap =
      !heap_.empty() && (fifo_.empty() || Earlier(*heap_.front(), *fifo_.front()));
  if (from_heap) {
    if (heap_.front()->ts > until) return nullptr;
    std::pop_heap(heap_.begin(), heap_.end(), HeapLess);
    std::unique_ptr<Item> item = std::move(heap_.back());
    heap_.pop_back();
    return item;
  }
  if (fifo_.empty() || fifo_.front()->ts > until) return nullptr;
  std::unique_ptr<Item> item = std::move(fifo_.front());
  fifo_.pop_front();
  return item;
}

void ReorderBuffer::Recycle(std::unique_ptr<Item> item) {
  if (pool_.size() < 4096) pool_.push_back(std::move(item));
}

}  // namespace txflag::engine
