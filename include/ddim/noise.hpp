// ddim: header-only DDIM/DDPM samplers. MIT licence.
//
// noise.hpp: reproducible Gaussian noise with the same bits on every compiler, standard library,
// platform and instruction set. std::normal_distribution cannot give that (its algorithm is
// implementation defined) and neither can std::log / std::cos (libm results differ in the last
// bits), so ddim's generator uses only integer arithmetic and IEEE-754 +, -, *, / and sqrt, whose
// results the standard fixes exactly, in a fixed order and with floating-point contraction
// (fused multiply-add) off.
//
// The generator is counter based: Philox4x32-10 (Salmon et al., SC'11) maps (counter, key) -> 4
// random words, and Box-Muller turns each pair of words into two normals (log, sin and cos as
// minimax polynomials on reduced ranges, the square root IEEE's). The noise of element e of sample
// i at slot k is a pure function of (seed, i, k, e):
//   key = (seed mod 2^32, seed / 2^32), counter = (16 (e / 64) + e mod 16, i mod 2^32, i / 2^32, k),
// the pair of words and the output of the pair chosen by (e mod 64) / 16; so batch size,
// evaluation order, vector width and thread count cannot change it. The exact definition, step by
// step, is detail/noise_spec.hpp; detail/noise_simd.hpp has the AVX-512 and AVX2 kernels that
// compute it 16 or 8 lanes at a time (and the portable code for every other target).
//
// Guarantee and its limits: identical bits wherever float and double are IEEE-754 binary32 and
// binary64 evaluated without excess precision (FLT_EVAL_METHOD == 0: every x86-64, ARM64, RISC-V
// and POWER compiler in default modes), round to nearest. -ffast-math (any reassociation or
// approximate reciprocal) and Clang's -ffp-contract=fast override the guards and void the
// guarantee.
#ifndef DDIM_NOISE_HPP
#define DDIM_NOISE_HPP

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "config.hpp"
#include "detail/noise_simd.hpp"
#include "detail/noise_spec.hpp"
#include "detail/validate.hpp"

namespace ddim {

namespace detail {

/// Values [first, last) of `chunks` (1 or 2) consecutive chunks from `chunk` (counted from the
/// first chunk's value 0), computed whole by the kernel into a buffer and copied.
template <class Real>
DDIM_STRICT_FP_FUNCTION inline void normal_through_buffer(const NoiseStream& stream, std::uint64_t chunk, unsigned chunks,
                                                          unsigned first, unsigned last, Real* out) {
  alignas(64) Real values[2 * kNoiseChunkValues];
  normal_chunks<Real>(stream, chunk_first_block(chunk), chunks, values);
  std::memcpy(out, values + first, (last - first) * sizeof(Real));
}

/// Writes normals e = begin ... begin + count - 1 of the stream (seed, sample, slot) to out (the
/// definition is in detail/noise_spec.hpp). Whole chunks of 64 go straight from the kernel to
/// `out`, two at a time where possible. A partial chunk at either end goes through a buffer,
/// together with its whole neighbour when that keeps the kernel's pairs intact (a robot-sized
/// request of 112 values is one two-chunk call), or value by value when it is tiny.
/// Requires begin + count <= 2^63.
template <class Real>
DDIM_STRICT_FP_FUNCTION inline void normal_fill(std::uint64_t seed, std::uint64_t sample, std::uint32_t slot,
                                                std::uint64_t begin, Real* out, std::uint64_t count) {
  DDIM_STRICT_FP_BODY
  static_assert(std::is_same_v<Real, float> || std::is_same_v<Real, double>, "ddim's noise is float or double");
  constexpr std::uint64_t size = kNoiseChunkValues;
  constexpr std::uint64_t value_by_value = kNoiseValueByValue<Real>;
  const NoiseStream stream = make_noise_stream(seed, sample, slot);
  std::uint64_t chunk = begin / size;
  std::uint64_t remaining = count;
  const auto offset = static_cast<unsigned>(begin % size);
  if (remaining != 0 && (offset != 0 || remaining < size)) {  // head: part of the first chunk
    const std::uint64_t in_first = remaining < size - offset ? remaining : size - offset;
    if (in_first <= value_by_value) {
      for (std::uint64_t i = 0; i < in_first; ++i) *out++ = normal_value<Real>(stream, begin + i);
      remaining -= in_first;
      ++chunk;
    } else {
      const bool with_next = in_first == size - offset && remaining - in_first >= size;  // the next chunk is whole
      const std::uint64_t n = in_first + (with_next ? size : 0);
      normal_through_buffer<Real>(stream, chunk, with_next ? 2 : 1, offset, offset + static_cast<unsigned>(n), out);
      out += n;
      remaining -= n;
      chunk += with_next ? 2 : 1;
    }
  }
  // from here on `remaining` values from the start of `chunk`
  std::uint64_t whole = remaining / size;
  const auto tail = static_cast<unsigned>(remaining % size);
  const bool pair_tail = tail > value_by_value && whole % 2 == 1;  // the odd whole chunk joins the tail
  if (pair_tail) --whole;
  if (whole != 0) {
    normal_chunks<Real>(stream, chunk_first_block(chunk), whole, out);
    out += whole * size;
    chunk += whole;
  }
  if (pair_tail) {
    normal_through_buffer<Real>(stream, chunk, 2, 0, static_cast<unsigned>(size) + tail, out);
  } else if (tail > value_by_value) {
    normal_through_buffer<Real>(stream, chunk, 1, 0, tail, out);
  } else {
    for (unsigned i = 0; i < tail; ++i) out[i] = normal_value<Real>(stream, chunk * size + i);
  }
}

}  // namespace detail

/// The slot of a sample's initial latent x_T; step k of a sampling loop draws from slot k + 1.
inline constexpr std::uint32_t initial_noise_slot = 0;

/// Reproducible standard normal noise for batches: sample (column) j of a tensor gets the stream
/// of the pair (seed_j, index_j), slot by slot, so that the noise a sample receives depends only
/// on (seed, sample index, step) — sampling a batch of 8 gives the same bits as sampling the 8
/// one at a time with the matching first_sample.
///
/// This is ddim's default noise source for the sampling loop (its `step_noise` is called before
/// every step that adds noise); `initial_latent` draws x_T.
class PhiloxNoise {
 public:
  /// Sample j of a batch uses the stream (seed, first_sample + j).
  explicit PhiloxNoise(std::uint64_t seed, std::uint64_t first_sample = 0)
      : seed_(seed), first_sample_(first_sample) {}

  /// Sample j of a batch uses the stream (sample_seeds[j], 0): one seed per sample. The batch
  /// must then have exactly sample_seeds.size() columns (checked by `prepare`).
  static PhiloxNoise per_sample(std::vector<std::uint64_t> sample_seeds) {
    if (sample_seeds.empty()) {
      detail::fail_text("ddim::PhiloxNoise::per_sample", "sample_seeds", "{} (empty)", "one seed per sample");
    }
    PhiloxNoise noise(0);
    noise.sample_seeds_ = std::move(sample_seeds);
    return noise;
  }

  /// Checks that a batch of `cols` samples fits this source; throws std::invalid_argument naming
  /// the seed list's length otherwise. Called by the sampling loop before its first step.
  void prepare(Index rows, Index cols) const {
    (void)rows;
    if (!sample_seeds_.empty() && static_cast<Index>(sample_seeds_.size()) != cols) {
      detail::fail("ddim::PhiloxNoise", "sample_seeds.size()", sample_seeds_.size(),
                   "equal to the batch size (columns of x) = " + std::to_string(cols));
    }
  }

  /// Fills every column of x with its sample's initial-latent stream (x_T ~ N(0, I)).
  template <class Derived>
  void initial_latent(Eigen::DenseBase<Derived>& x) const {
    fill(initial_noise_slot, x);
  }
  template <class Derived>
  void initial_latent(Eigen::DenseBase<Derived>&& x) const {
    fill(initial_noise_slot, x);
  }

  /// Fills z (one column per sample) with the noise of sampling step `step_index` (slot k + 1).
  /// `t` is not used: the stream is keyed by the step index alone.
  template <class Derived>
  void step_noise(int step_index, int t, Eigen::DenseBase<Derived>& z) const {
    (void)t;
    fill(static_cast<std::uint32_t>(step_index) + 1u, z);
  }

  /// Writes values begin ... begin + count - 1 of column `column`'s noise for sampling step
  /// `step_index` (the same values step_noise puts there) to `out`. This is what lets a step
  /// generate its noise in small chunks and consume them at once (ddim::step with a noise
  /// source), with no noise tensor in memory. No allocation.
  template <class Scalar>
  void step_noise_range(int step_index, Index column, Index begin, Index count, Scalar* out) const {
    static_assert(std::is_same_v<Scalar, float> || std::is_same_v<Scalar, double>,
                  "ddim::PhiloxNoise fills float or double tensors");
    const auto j = static_cast<std::size_t>(column);
    const std::uint64_t seed = sample_seeds_.empty() ? seed_ : sample_seeds_[j];
    const std::uint64_t sample = sample_seeds_.empty() ? first_sample_ + static_cast<std::uint64_t>(column) : 0;
    detail::normal_fill<Scalar>(seed, sample, static_cast<std::uint32_t>(step_index) + 1u, static_cast<std::uint64_t>(begin),
                                out, static_cast<std::uint64_t>(count));
  }

  /// Fills each column j of `tensor` with slot `slot` of sample j's stream. The tensor must be
  /// stored contiguously per column (any Eigen array, matrix or Map with unit inner stride).
  template <class Derived>
  void fill(std::uint32_t slot, Eigen::DenseBase<Derived>& tensor) const {
    using Scalar = typename Derived::Scalar;
    static_assert(std::is_same_v<Scalar, float> || std::is_same_v<Scalar, double>,
                  "ddim::PhiloxNoise fills float or double tensors");
    Derived& out = tensor.derived();
    DDIM_ASSERT(out.innerStride() == 1);
    if (out.rows() == 0) return;  // nothing to fill, and no element to take the address of
    for (Index j = 0; j < out.cols(); ++j) {
      const auto column = static_cast<std::size_t>(j);
      const std::uint64_t seed = sample_seeds_.empty() ? seed_ : sample_seeds_[column];
      const std::uint64_t sample = sample_seeds_.empty() ? first_sample_ + static_cast<std::uint64_t>(j) : 0;
      detail::normal_fill<Scalar>(seed, sample, slot, 0, &out.coeffRef(0, j), static_cast<std::uint64_t>(out.rows()));
    }
  }
  template <class Derived>
  void fill(std::uint32_t slot, Eigen::DenseBase<Derived>&& tensor) const {
    fill(slot, tensor);
  }

 private:
  std::uint64_t seed_;
  std::uint64_t first_sample_;
  std::vector<std::uint64_t> sample_seeds_;
};

/// n standard normals: the initial latent of sample 0 of `seed` (PhiloxNoise(seed)).
template <class Scalar>
Eigen::Array<Scalar, Eigen::Dynamic, 1> gaussian(Index n, std::uint64_t seed) {
  Eigen::Array<Scalar, Eigen::Dynamic, 1> x(n);
  PhiloxNoise(seed).initial_latent(x);
  return x;
}

/// A batch of initial latents, one column per sample: column j is sample j of `seed`.
template <class Scalar>
Eigen::Array<Scalar, Eigen::Dynamic, Eigen::Dynamic> gaussian(Index rows, Index cols, std::uint64_t seed) {
  Eigen::Array<Scalar, Eigen::Dynamic, Eigen::Dynamic> x(rows, cols);
  PhiloxNoise(seed).initial_latent(x);
  return x;
}

}  // namespace ddim

#endif  // DDIM_NOISE_HPP
