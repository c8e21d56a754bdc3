#include "engine/reorder_buffer.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace txflag::engine {
namespace {

// Offset of the legs byte and the id in an encoded payment (see Encode).
constexpr size_t kLegsOffset = 8 + 4 + 8 + 4 + 4;

// The (id, legs) part of the order key, from the encoded bytes.
std::pair<std::string_view, uint8_t> Tiebreak(const char* data) {
  uint32_t n;
  std::memcpy(&n, data + kLegsOffset + 1, sizeof(n));
  return {std::string_view(data + kLegsOffset + 1 + sizeof(n), n),
          static_cast<uint8_t>(data[kLegsOffset])};
}

// (ts, id, legs, seq) of a is less than b's. `data_a` / `data_b` are the
// encoded payments (only read on a timestamp tie).
template <typename A, typename B>
bool Earlier(const A& a, const char* data_a, const B& b, const char* data_b) {
  if (a.ts != b.ts) return a.ts < b.ts;
  const auto ta = Tiebreak(data_a);
  const auto tb = Tiebreak(data_b);
  if (ta != tb) return ta < tb;
  return a.seq < b.seq;
}

template <typename T>
T Get(const char** p) {
  T value;
  std::memcpy(&value, *p, sizeof(T));
  *p += sizeof(T);
  return value;
}

std::string_view GetString(const char** p) {
  const uint32_t n = Get<uint32_t>(p);
  std::string_view s(*p, n);
  *p += n;
  return s;
}

}  // namespace

// Layout: seconds i64, nanos i32, amount_minor i64, channel i32, mcc u32,
// legs u8, then length-prefixed strings: id, debtor account/name/country,
// creditor account/name/country, currency, reference, location.
// A buffered payment always has a timestamp (the engine orders by it).
size_t ReorderBuffer::EncodedSize(const txflag::v1::PaymentView& p,
                                  std::string_view location) {
  return kLegsOffset + 1 + 10 * sizeof(uint32_t) + p.id.size() +
         p.debtor_account.size() + p.debtor_name.size() +
         p.debtor_country.size() + p.creditor_account.size() +
         p.creditor_name.size() + p.creditor_country.size() +
         p.currency.size() + p.reference.size() + location.size();
}

void ReorderBuffer::EncodeTo(const txflag::v1::PaymentView& p,
                             std::string_view location, Legs legs, char* out) {
  auto put = [&out](const auto& value) {
    std::memcpy(out, &value, sizeof(value));
    out += sizeof(value);
  };
  auto put_string = [&](std::string_view v) {
    put(static_cast<uint32_t>(v.size()));
    if (!v.empty()) std::memcpy(out, v.data(), v.size());
    out += v.size();
  };
  put(static_cast<int64_t>(p.seconds));
  put(static_cast<int32_t>(p.nanos));
  put(static_cast<int64_t>(p.amount_minor));
  put(static_cast<int32_t>(p.channel));
  put(static_cast<uint32_t>(p.mcc));
  put(static_cast<uint8_t>(legs));
  put_string(p.id);
  put_string(p.debtor_account);
  put_string(p.debtor_name);
  put_string(p.debtor_country);
  put_string(p.creditor_account);
  put_string(p.creditor_name);
  put_string(p.creditor_country);
  put_string(p.currency);
  put_string(p.reference);
  put_string(location);
}

void ReorderBuffer::Decode(std::string_view bytes, txflag::v1::PaymentView* p,
                           std::string_view* location, Legs* legs) {
  const char* c = bytes.data();
  p->has_timestamp = true;
  p->seconds = Get<int64_t>(&c);
  p->nanos = Get<int32_t>(&c);
  p->amount_minor = Get<int64_t>(&c);
  p->channel = Get<int32_t>(&c);
  p->mcc = Get<uint32_t>(&c);
  const auto legs_byte = Get<uint8_t>(&c);
  if (legs != nullptr) *legs = static_cast<Legs>(legs_byte);
  p->id = GetString(&c);
  p->debtor_account = GetString(&c);
  p->debtor_name = GetString(&c);
  p->debtor_country = GetString(&c);
  p->creditor_account = GetString(&c);
  p->creditor_name = GetString(&c);
  p->creditor_country = GetString(&c);
  p->currency = GetString(&c);
  p->reference = GetString(&c);
  *location = GetString(&c);
}

ReorderBuffer::Slot ReorderBuffer::Append(int64_t ts, int64_t seq,
                                          size_t size) {
  if (chunks_.empty() || chunks_.back().capacity - chunks_.back().used < size) {
    Chunk chunk;
    chunk.capacity = std::max(kChunkBytes, size);
    if (chunk.capacity == kChunkBytes && !spare_chunks_.empty()) {
      chunk.data = std::move(spare_chunks_.back());
      spare_chunks_.pop_back();
    } else {
      chunk.data.reset(new char[chunk.capacity]);
    }
    chunks_.push_back(std::move(chunk));
  }
  Chunk& chunk = chunks_.back();
  Slot slot;
  slot.ts = ts;
  slot.seq = seq;
  slot.chunk = first_chunk_ + chunks_.size() - 1;
  slot.data = chunk.data.get() + chunk.used;
  slot.size = size;
  chunk.used += size;
  ++chunk.live;
  return slot;
}

void ReorderBuffer::ReleaseFront(const Slot& slot) {
  --chunks_[slot.chunk - first_chunk_].live;
  // With one lane, slots leave in order and only front chunks empty out;
  // with several, a chunk is freed once it and every older one are empty.
  // The newest chunk stays: it is still being written.
  while (chunks_.size() > 1 && chunks_.front().live == 0) {
    // Spares up to 32 MiB: a buffer that shrinks and grows again (partitions
    // catching up in turn) reuses them instead of fresh pages from the
    // kernel (mmap, page faults and zeroing were a fifth of the streaming
    // engine's time with 4).
    if (chunks_.front().capacity == kChunkBytes && spare_chunks_.size() < 32) {
      spare_chunks_.push_back(std::move(chunks_.front().data));
    }
    chunks_.pop_front();
    ++first_chunk_;
  }
  if (chunks_.size() == 1 && chunks_.front().live == 0) {
    chunks_.front().used = 0;  // empty: write from the start again
  }
}

void ReorderBuffer::Push(const txflag::v1::PaymentView& payment,
                         std::string_view location, int64_t seq, Legs legs,
                         int32_t lane, int64_t position) {
  ReleasePopped();
  // Encoded straight into the buffer's memory (a FIFO chunk, or a heap
  // item's string), not through a scratch string.
  PushWith(payment.seconds, {payment.id, static_cast<uint8_t>(legs)}, seq, lane,
           position, EncodedSize(payment, location),
           [&](char* out) { EncodeTo(payment, location, legs, out); });
}

void ReorderBuffer::ReleasePopped() {
  if (popped_slot_.has_value()) {
    ReleaseFront(*popped_slot_);
    popped_slot_.reset();
  }
}

int64_t ReorderBuffer::OldestPosition(int32_t lane) const {
  int64_t oldest = -1;
  auto consider = [&oldest](int64_t position) {
    if (position >= 0 && (oldest < 0 || position < oldest)) {
      oldest = position;
    }
  };
  const size_t index = lane > 0 ? static_cast<size_t>(lane) : 0;
  if (index < lanes_.size()) {
    // A lane's FIFO is in arrival order, so positions grow along it: the
    // first one that has a position is the lane's smallest.
    const SlotRing& fifo = lanes_[index];
    for (size_t i = 0; i < fifo.size(); ++i) {
      if (fifo[i].position >= 0) {
        consider(fifo[i].position);
        break;
      }
    }
  }
  for (const Item& item : heap_) {
    if (item.lane == static_cast<int32_t>(index)) consider(item.position);
  }
  return oldest;
}

bool ReorderBuffer::WellFormed(std::string_view bytes) {
  // The fixed fields, then 10 length-prefixed strings (see Encode).
  size_t pos = kLegsOffset + 1;
  if (bytes.size() < pos) return false;
  for (int i = 0; i < 10; ++i) {
    if (bytes.size() - pos < sizeof(uint32_t)) return false;
    uint32_t n;
    std::memcpy(&n, bytes.data() + pos, sizeof(n));
    pos += sizeof(n);
    if (bytes.size() - pos < n) return false;
    pos += n;
  }
  return pos == bytes.size();
}

bool ReorderBuffer::PushEncoded(std::string_view encoded, int64_t seq,
                                int32_t lane) {
  if (!WellFormed(encoded)) return false;
  ReleasePopped();
  int64_t ts;
  std::memcpy(&ts, encoded.data(), sizeof(ts));
  PushWith(
      ts, Tiebreak(encoded.data()), seq, lane, /*position=*/-1, encoded.size(),
      [&](char* out) { std::memcpy(out, encoded.data(), encoded.size()); });
  return true;
}

void ReorderBuffer::SlotRing::push_back(const Slot& slot) {
  if (size_ == slots_.size()) {
    std::vector<Slot> bigger(std::max<size_t>(16, 2 * slots_.size()));
    for (size_t i = 0; i < size_; ++i) bigger[i] = (*this)[i];
    slots_.swap(bigger);
    head_ = 0;
  }
  slots_[(head_ + size_) & (slots_.size() - 1)] = slot;
  ++size_;
}

bool ReorderBuffer::LaneAfter(uint32_t a, uint32_t b) const {
  const int64_t ta = front_ts_[a];
  const int64_t tb = front_ts_[b];
  if (ta != tb) return tb < ta;
  const Slot& fa = lanes_[a].front();
  const Slot& fb = lanes_[b].front();
  return Earlier(fb, fb.data, fa, fa.data);
}

void ReorderBuffer::SiftTopLaneDown() {
  const size_t n = lane_heap_.size();
  const uint32_t lane = lane_heap_[0];
  size_t at = 0;
  while (true) {
    size_t child = 2 * at + 1;
    if (child >= n) break;
    if (child + 1 < n && LaneAfter(lane_heap_[child], lane_heap_[child + 1])) {
      ++child;  // the earlier of the two children
    }
    if (!LaneAfter(lane, lane_heap_[child])) break;
    lane_heap_[at] = lane_heap_[child];
    at = child;
  }
  lane_heap_[at] = lane;
}

template <typename Write>
void ReorderBuffer::PushWith(int64_t ts,
                             std::pair<std::string_view, uint8_t> tiebreak,
                             int64_t seq, int32_t lane, int64_t position,
                             size_t size, const Write& write) {
  const size_t index = lane > 0 ? static_cast<size_t>(lane) : 0;
  if (index >= lanes_.size()) {
    lanes_.resize(index + 1);
    front_ts_.resize(index + 1);
  }
  SlotRing& fifo = lanes_[index];
  if (fifo.empty() || ts > fifo.back().ts ||
      (ts == fifo.back().ts && !(tiebreak < Tiebreak(fifo.back().data)))) {
    // seq grows with every push, so the key is >= the back's.
    const bool was_empty = fifo.empty();
    Slot slot = Append(ts, seq, size);
    write(slot.data);
    slot.position = position;
    fifo.push_back(slot);
    ++fifo_count_;
    if (was_empty) {
      front_ts_[index] = ts;
      lane_heap_.push_back(static_cast<uint32_t>(index));
      std::push_heap(
          lane_heap_.begin(), lane_heap_.end(),
          [this](uint32_t a, uint32_t b) { return LaneAfter(a, b); });
    }
    return;
  }
  Item item;
  item.ts = ts;
  item.seq = seq;
  item.position = position;
  item.lane = static_cast<int32_t>(index);
  item.bytes.resize(size);
  write(item.bytes.data());
  heap_.push_back(std::move(item));
  std::push_heap(heap_.begin(), heap_.end(), HeapOrder);
}

bool ReorderBuffer::HeapOrder(const Item& a, const Item& b) {
  return Earlier(b, b.bytes.data(), a, a.bytes.data());
}

bool ReorderBuffer::PopUntil(int64_t until, txflag::v1::PaymentView* payment,
                             std::string_view* location, Legs* legs,
                             int64_t* seq, int32_t* lane, int64_t* position) {
  ReleasePopped();
  SlotRing* fifo = EarliestLane();
  const bool from_heap =
      !heap_.empty() &&
      (fifo == nullptr || Earlier(heap_.front(), heap_.front().bytes.data(),
                                  fifo->front(), fifo->front().data));
  if (from_heap) {
    if (heap_.front().ts > until) return false;
    std::pop_heap(heap_.begin(), heap_.end(), HeapOrder);
    popped_bytes_.swap(heap_.back().bytes);
    Decode(popped_bytes_, payment, location, legs);
    if (seq != nullptr) *seq = heap_.back().seq;
    if (lane != nullptr) *lane = heap_.back().lane;
    if (position != nullptr) *position = heap_.back().position;
    heap_.pop_back();
    return true;
  }
  if (fifo == nullptr || fifo->front().ts > until) return false;
  const Slot slot = fifo->front();
  // fifo is the heap's top: take it out, and back in with its next front.
  fifo->pop_front();
  if (fifo->empty()) {
    // The last lane takes the empty one's place at the top.
    lane_heap_.front() = lane_heap_.back();
    lane_heap_.pop_back();
  } else {
    front_ts_[lane_heap_.front()] = fifo->front().ts;
  }
  if (!lane_heap_.empty()) SiftTopLaneDown();
  // The next payment out (the earliest lane's front) was written long ago:
  // it waited for the watermark. Start loading it while this one is
  // processed.
  if (!lane_heap_.empty()) {
    __builtin_prefetch(lanes_[lane_heap_.front()].front().data);
  }
  --fifo_count_;
  Decode(std::string_view(slot.data, slot.size), payment, location, legs);
  if (seq != nullptr) *seq = slot.seq;
  if (lane != nullptr) *lane = static_cast<int32_t>(fifo - lanes_.data());
  if (position != nullptr) *position = slot.position;
  popped_slot_ = slot;  // its chunk stays until the next call
  return true;
}

void ReorderBuffer::ForEachEncodedAfter(
    int64_t after,
    const std::function<void(int64_t, std::string_view)>& fn) const {
  for (const Item& item : heap_) {
    if (item.seq > after) fn(item.seq, item.bytes);
  }
  for (const SlotRing& lane : lanes_) {
    // A lane's seqs grow with every push: skip the ones at or below `after`
    // (at a commit, those already stored) without visiting them.
    size_t lo = 0, hi = lane.size();
    while (lo < hi) {
      const size_t mid = lo + (hi - lo) / 2;
      if (lane[mid].seq <= after) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    for (size_t i = lo; i < lane.size(); ++i) {
      fn(lane[i].seq, std::string_view(lane[i].data, lane[i].size));
    }
  }
}

void ReorderBuffer::ForEach(
    const std::function<void(const txflag::v1::PaymentView&, std::string_view,
                             int64_t, Legs)>& fn) const {
  txflag::v1::PaymentView payment;
  std::string_view location;
  Legs legs;
  ForEachEncodedAfter(std::numeric_limits<int64_t>::min(),
                      [&](int64_t seq, std::string_view encoded) {
                        Decode(encoded, &payment, &location, &legs);
                        fn(payment, location, seq, legs);
                      });
}

}  // namespace txflag::engine
