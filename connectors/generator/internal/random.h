// File: connectors/generator/internal/random.h
//
// The generator's own pseudo-random numbers: xoshiro256** seeded through
// splitmix64, and distributions built only from integer arithmetic and exact
// double comparisons. std::uniform_*_distribution and libm differ between
// standard libraries; this does not, so a seed gives the same bytes
// everywhere.
//
//   Rng rng(42);
//   int64_t kroner = rng.Between(300, 2500);
//   if (rng.Chance(0.25)) ...
#ifndef TXFLAG_CONNECTORS_GENERATOR_INTERNAL_RANDOM_H_
#define TXFLAG_CONNECTORS_GENERATOR_INTERNAL_RANDOM_H_

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <utility>
#include <vector>

namespace txflag::generator::internal {

// One step of splitmix64: advances *state and returns the mixed value.
inline uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Stateless mix of `a` and `b`, for per-entity parameters that must not
// depend on the order in which entities are visited.
inline uint64_t Mix(uint64_t a, uint64_t b) {
  uint64_t s = a ^ (b * 0xd1342543de82ef95ULL);
  return SplitMix64(&s);
}

// xoshiro256** (Blackman and Vigna). Not thread-safe; cheap to copy.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    uint64_t sm = seed;
    for (uint64_t& word : s_) word = SplitMix64(&sm);
  }

  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, n); n > 0. Lemire's multiply-shift (bias below n / 2^64).
  uint64_t Below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >>
                                 64);
  }

  // Uniform integer in [lo, hi]; lo <= hi.
  int64_t Between(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo) + 1));
  }

  // Uniform double in [0, 1) with 53 random bits.
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

  // True with probability p.
  bool Chance(double p) { return Uniform() < p; }

  // Integer in [lo, hi] skewed towards lo: the smaller of two uniforms.
  int64_t LowSkewed(int64_t lo, int64_t hi) {
    int64_t a = Between(lo, hi), b = Between(lo, hi);
    return a < b ? a : b;
  }

  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[Below(v.size())];
  }
  template <typename T, size_t N>
  const T& Pick(const T (&v)[N]) {
    return v[Below(N)];
  }

  // Fisher-Yates shuffle.
  template <typename T>
  void Shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) {
      std::swap(v[i - 1], v[Below(i)]);
    }
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// A discrete distribution over 0..n-1 given integer weights.
class Weighted {
 public:
  Weighted(std::initializer_list<uint32_t> weights) {
    uint64_t total = 0;
    for (uint32_t w : weights) cumulative_.push_back(total += w);
  }
  explicit Weighted(const std::vector<uint32_t>& weights) {
    uint64_t total = 0;
    for (uint32_t w : weights) cumulative_.push_back(total += w);
  }
  size_t Sample(Rng& rng) const {
    uint64_t r = rng.Below(cumulative_.back());
    size_t i = 0;
    while (cumulative_[i] <= r) ++i;
    return i;
  }
  size_t size() const { return cumulative_.size(); }

 private:
  std::vector<uint64_t> cumulative_;
};

}  // namespace txflag::generator::internal

#endif  // TXFLAG_CONNECTORS_GENERATOR_INTERNAL_RANDOM_H_
