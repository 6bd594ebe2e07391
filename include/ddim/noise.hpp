// ddim: header-only DDIM/DDPM samplers. MIT licence.
//
// noise.hpp: reproducible Gaussian noise with the same bits on every compiler, standard library
// and platform. std::normal_distribution cannot give that (its algorithm is implementation
// defined) and neither can std::log / std::cos (libm results differ in the last bits), so this
// header uses only integer arithmetic and IEEE-754 +, -, *, / and sqrt, whose results the standard
// fixes exactly, in a fixed order and with floating-point contraction (fused multiply-add) off.
//
// The generator is counter based: Philox4x32-10 (Salmon et al., SC'11) maps
// (counter, key) -> 4 random words, and Box-Muller turns each pair of words into two normals.
// The noise of element e of sample i at slot k is a pure function of (seed, i, k, e):
//   key = (seed mod 2^32, seed / 2^32), counter = (e / 4, i mod 2^32, i / 2^32, k),
// so batch size, evaluation order, vector width and thread count cannot change it.
//
// Guarantee and its limits: identical bits wherever float and double are IEEE-754 binary32 and
// binary64 evaluated without excess precision (FLT_EVAL_METHOD == 0: every x86-64, ARM64, RISC-V
// and POWER compiler in default modes). -ffast-math (any reassociation or approximate reciprocal)
// and Clang's -ffp-contract=fast override the guards below and void the guarantee.
#ifndef DDIM_NOISE_HPP
#define DDIM_NOISE_HPP

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "config.hpp"
#include "detail/validate.hpp"

#if defined(__FAST_MATH__)
#pragma message("ddim/noise.hpp: -ffast-math is on; ddim's Gaussian noise is then no longer bit-identical across platforms")
#endif
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD != 0 && FLT_EVAL_METHOD != -1
#pragma message("ddim/noise.hpp: FLT_EVAL_METHOD != 0 (excess precision); noise bits may differ from other platforms")
#endif

// Function-level guard against floating-point contraction (a * b + c fused into one rounding),
// which compilers otherwise apply differently per target and per vector width.
#if defined(__clang__)
#define DDIM_STRICT_FP_FUNCTION
#define DDIM_STRICT_FP_BODY _Pragma("clang fp contract(off)")
#elif defined(__GNUC__)
#define DDIM_STRICT_FP_FUNCTION __attribute__((optimize("fp-contract=off", "no-math-errno")))
#define DDIM_STRICT_FP_BODY
#else  // MSVC does not contract under its default /fp:precise
#define DDIM_STRICT_FP_FUNCTION
#define DDIM_STRICT_FP_BODY
#endif

namespace ddim {

namespace detail {

/// The four 32-bit words of a Philox counter or output block.
struct PhiloxBlock {
  std::uint32_t word[4];
};

/// Philox4x32-10: ten rounds of the Random123 bijection with the published multipliers and Weyl
/// key increments. Known-answer vectors from Random123's kat_vectors are in test_noise.cpp.
DDIM_STRICT_FP_FUNCTION inline PhiloxBlock philox4x32_10(PhiloxBlock counter, std::uint32_t key0, std::uint32_t key1) {
  constexpr std::uint64_t multiplier0 = 0xD2511F53u, multiplier1 = 0xCD9E8D57u;
  constexpr std::uint32_t weyl0 = 0x9E3779B9u, weyl1 = 0xBB67AE85u;
  std::uint32_t c0 = counter.word[0], c1 = counter.word[1], c2 = counter.word[2], c3 = counter.word[3];
  for (int round = 0; round < 10; ++round) {
    const std::uint64_t product0 = multiplier0 * c0;
    const std::uint64_t product1 = multiplier1 * c2;
    const auto hi0 = static_cast<std::uint32_t>(product0 >> 32), lo0 = static_cast<std::uint32_t>(product0);
    const auto hi1 = static_cast<std::uint32_t>(product1 >> 32), lo1 = static_cast<std::uint32_t>(product1);
    c0 = hi1 ^ c1 ^ key0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ key1;
    c3 = lo0;
    key0 += weyl0;
    key1 += weyl1;
  }
  return PhiloxBlock{{c0, c1, c2, c3}};
}

/// IEEE-only mathematics for Box-Muller, one version per precision. Polynomials are truncated
/// Taylor series on reduced ranges (|s| <= 0.1716 for log, |x| <= pi/4 for sin/cos), accurate to
/// about one ulp; what matters for reproducibility is that every operation is fixed.
/// One Newton step towards 1/sqrt(x): r (3/2 - (x/2) r^2).
template <class Real>
DDIM_STRICT_FP_FUNCTION inline Real newton_rsqrt_step(Real r, Real half_x) {
  DDIM_STRICT_FP_BODY
  Real t = r * r;
  t = half_x * t;
  t = Real(1.5) - t;
  return r * t;
}

/// sqrt(x) for x >= 0 by Newton's iteration on 1/sqrt(x) from the classic bit-level first guess
/// (3 steps in float, 4 in double: accurate to a few ulp). Only integer operations, * and -, so it
/// is as portable as the rest and vectorizes everywhere (a libm or builtin sqrt may set errno,
/// which keeps GCC from vectorizing it). Precondition x > 0 (x = 0 would make the guess diverge).
template <class Real>
DDIM_STRICT_FP_FUNCTION inline Real newton_sqrt(Real x) {
  DDIM_STRICT_FP_BODY
  constexpr bool single = std::is_same_v<Real, float>;
  using Bits = std::conditional_t<single, std::uint32_t, std::uint64_t>;
  constexpr Bits magic = single ? Bits(0x5f3759dfu) : Bits(0x5fe6eb50c7b537a9ull);
  Bits bits;
  std::memcpy(&bits, &x, sizeof bits);
  const Bits guess = magic - (bits >> 1);
  Real r;
  std::memcpy(&r, &guess, sizeof r);
  const Real half_x = Real(0.5) * x;
  r = newton_rsqrt_step(r, half_x);
  r = newton_rsqrt_step(r, half_x);
  r = newton_rsqrt_step(r, half_x);
  if constexpr (!single) r = newton_rsqrt_step(r, half_x);
  return x * r;
}

template <class Real>
struct BoxMullerMath;

template <>
struct BoxMullerMath<float> {
  using Bits = std::uint32_t;
  using Int = std::int32_t;
  static constexpr int mantissa_bits = 23;
  static constexpr int exponent_bias = 127;
  static constexpr int uniform_bits = 24;
  static constexpr float quarter_pi = 0x1.921fb6p-1f;
  static constexpr float ln2 = 0x1.62e430p-1f;
  static constexpr std::uint32_t sqrt2_bits = 0x3fb504f3u;  // sqrt(2) rounded to float
  // radius uniform u = k / 2^24 with k = (word >> 8) + 1 in [1, 2^24]: u in (0, 1]
  DDIM_STRICT_FP_FUNCTION static float radius_integer(std::uint32_t word) { return static_cast<float>(static_cast<std::int32_t>(word >> 8) + 1); }
  // angle uniform v = (word >> 8) / 2^24 in [0, 1), returned as 8 v = octant + fraction
  DDIM_STRICT_FP_FUNCTION static float eight_v(std::uint32_t word) { return static_cast<float>(static_cast<std::int32_t>(word >> 8)) * 0x1p-21f; }
};

template <>
struct BoxMullerMath<double> {
  using Bits = std::uint64_t;
  using Int = std::int64_t;
  static constexpr int mantissa_bits = 52;
  static constexpr int exponent_bias = 1023;
  static constexpr int uniform_bits = 32;
  static constexpr double quarter_pi = 0x1.921fb54442d18p-1;
  static constexpr double ln2 = 0x1.62e42fefa39efp-1;
  static constexpr std::uint64_t sqrt2_bits = 0x3ff6a09e667f3bcdull;  // sqrt(2) rounded to double
  // radius uniform u = k / 2^32 with k = word + 1 in [1, 2^32]: u in (0, 1]
  DDIM_STRICT_FP_FUNCTION static double radius_integer(std::uint32_t word) { return static_cast<double>(word) + 1.0; }
  // angle uniform v = word / 2^32 in [0, 1), returned as 8 v
  DDIM_STRICT_FP_FUNCTION static double eight_v(std::uint32_t word) { return static_cast<double>(word) * 0x1p-29; }
};

/// log(k / 2^bits) for an integer-valued 1 <= k <= 2^bits (exactly representable): k = 2^e y with
/// y in [sqrt(2)/2, sqrt(2)) read off the bit pattern, log y = 2 atanh(s) with
/// s = (y - 1) / (y + 1), and log u = (e - bits) ln 2 + log y.
template <class Real>
DDIM_STRICT_FP_FUNCTION inline Real log_uniform(Real k) {
  DDIM_STRICT_FP_BODY
  using M = BoxMullerMath<Real>;
  using Bits = typename M::Bits;
  Bits bits;
  std::memcpy(&bits, &k, sizeof bits);
  const auto exponent = static_cast<typename M::Int>(bits >> M::mantissa_bits) - M::exponent_bias;
  const Bits mantissa_mask = (Bits(1) << M::mantissa_bits) - 1;
  const Bits one_bits = static_cast<Bits>(M::exponent_bias) << M::mantissa_bits;
  // y = k / 2^exponent in [1, 2) from the mantissa bits; above sqrt(2), halve it (exponent
  // field one lower) so that y lands in [sqrt(2)/2, sqrt(2)). Integer selects only: compilers
  // will not if-convert a conditional floating-point operation, and that would block vectorizing.
  const Bits mantissa = bits & mantissa_mask;
  const bool above = mantissa > (M::sqrt2_bits & mantissa_mask);
  const Bits half_bits = static_cast<Bits>(M::exponent_bias - 1) << M::mantissa_bits;
  const Bits y_bits = mantissa | (above ? half_bits : one_bits);
  Real y;
  std::memcpy(&y, &y_bits, sizeof y);
  const Real e = static_cast<Real>(exponent + (above ? 1 : 0) - M::uniform_bits);
  const Real s = (y - Real(1)) / (y + Real(1));
  const Real s2 = s * s;
  Real series;
  if constexpr (std::is_same_v<Real, float>) {
    series = Real(1) / Real(9);
    series = series * s2 + Real(1) / Real(7);
    series = series * s2 + Real(1) / Real(5);
    series = series * s2 + Real(1) / Real(3);
    series = series * s2 + Real(1);
  } else {
    series = Real(1) / Real(23);
    series = series * s2 + Real(1) / Real(21);
    series = series * s2 + Real(1) / Real(19);
    series = series * s2 + Real(1) / Real(17);
    series = series * s2 + Real(1) / Real(15);
    series = series * s2 + Real(1) / Real(13);
    series = series * s2 + Real(1) / Real(11);
    series = series * s2 + Real(1) / Real(9);
    series = series * s2 + Real(1) / Real(7);
    series = series * s2 + Real(1) / Real(5);
    series = series * s2 + Real(1) / Real(3);
    series = series * s2 + Real(1);
  }
  const Real log_y = Real(2) * s * series;
  return e * M::ln2 + log_y;
}

/// sin(x) and cos(x) for 0 <= x <= pi/4 (truncated Taylor series, Horner form).
template <class Real>
DDIM_STRICT_FP_FUNCTION inline void sincos_octant(Real x, Real& sine, Real& cosine) {
  DDIM_STRICT_FP_BODY
  const Real x2 = x * x;
  Real s, c;
  if constexpr (std::is_same_v<Real, float>) {
    s = Real(1.0 / 362880.0);
    s = s * x2 - Real(1.0 / 5040.0);
    s = s * x2 + Real(1.0 / 120.0);
    s = s * x2 - Real(1.0 / 6.0);
    c = Real(-1.0 / 3628800.0);
    c = c * x2 + Real(1.0 / 40320.0);
    c = c * x2 - Real(1.0 / 720.0);
    c = c * x2 + Real(1.0 / 24.0);
    c = c * x2 - Real(0.5);
  } else {
    // sin: terms through x^19; cos: through x^20 (the factorials are exact doubles up to 20!)
    s = Real(-1.0 / 121645100408832000.0);
    s = s * x2 + Real(1.0 / 355687428096000.0);
    s = s * x2 - Real(1.0 / 1307674368000.0);
    s = s * x2 + Real(1.0 / 6227020800.0);
    s = s * x2 - Real(1.0 / 39916800.0);
    s = s * x2 + Real(1.0 / 362880.0);
    s = s * x2 - Real(1.0 / 5040.0);
    s = s * x2 + Real(1.0 / 120.0);
    s = s * x2 - Real(1.0 / 6.0);
    c = Real(1.0 / 2432902008176640000.0);
    c = c * x2 - Real(1.0 / 6402373705728000.0);
    c = c * x2 + Real(1.0 / 20922789888000.0);
    c = c * x2 - Real(1.0 / 87178291200.0);
    c = c * x2 + Real(1.0 / 479001600.0);
    c = c * x2 - Real(1.0 / 3628800.0);
    c = c * x2 + Real(1.0 / 40320.0);
    c = c * x2 - Real(1.0 / 720.0);
    c = c * x2 + Real(1.0 / 24.0);
    c = c * x2 - Real(0.5);
  }
  sine = x + x * (x2 * s);
  cosine = Real(1) + x2 * c;
}

/// (cos 2 pi v, sin 2 pi v) for the angle word's v in [0, 1): 8 v = octant + fraction (exact),
/// the series only sees [0, pi/4], symmetries do the rest. Branch free.
template <class Real>
DDIM_STRICT_FP_FUNCTION inline void unit_circle(std::uint32_t angle_word, Real& cosine, Real& sine) {
  DDIM_STRICT_FP_BODY
  using M = BoxMullerMath<Real>;
  const Real w = M::eight_v(angle_word);
  const auto octant = static_cast<std::int32_t>(w);
  const Real fraction = w - static_cast<Real>(octant);  // exact
  const bool odd = (octant & 1) != 0;
  // alpha, the angle within the quadrant: fraction * pi/4, or pi/2 - (1 - fraction) * pi/4
  // fraction or 1 - fraction as arithmetic, not a select (exact either way: both live on the
  // 2^-21 (float) or 2^-29 (double) grid inside [0, 1])
  const Real odd_weight = static_cast<Real>(octant & 1);
  const Real x = (fraction + odd_weight * (Real(1) - Real(2) * fraction)) * M::quarter_pi;
  Real s, c;
  sincos_octant(x, s, c);
  const Real cos_alpha = odd ? s : c;
  const Real sin_alpha = odd ? c : s;
  // rotate by the quadrant: (c, s) -> (-s, c) for quadrants 1 and 3, then negate for 2 and 3
  const bool rotate = (octant & 2) != 0;
  const bool negate = (octant & 4) != 0;
  const Real minus_sin_alpha = -sin_alpha;
  const Real c1 = rotate ? minus_sin_alpha : cos_alpha;
  const Real s1 = rotate ? cos_alpha : sin_alpha;
  const Real minus_c1 = -c1, minus_s1 = -s1;
  cosine = negate ? minus_c1 : c1;
  sine = negate ? minus_s1 : s1;
}

/// The Box-Muller pair of two random words: radius sqrt(-2 log u) from the first, angle 2 pi v
/// from the second.
template <class Real>
DDIM_STRICT_FP_FUNCTION inline void box_muller(std::uint32_t radius_word, std::uint32_t angle_word, Real& first,
                                               Real& second) {
  DDIM_STRICT_FP_BODY
  using M = BoxMullerMath<Real>;
  // -2 log u >= 0, and 0 exactly when u = 1: floor it at the smallest normal number so that the
  // square root's precondition holds (the radius is then ~1e-19 instead of 0). For non-negative
  // IEEE numbers the integer order of the bit patterns is the numeric order, so the floor is an
  // integer max, which compilers vectorize without branching.
  const Real radius_squared = Real(-2) * log_uniform<Real>(M::radius_integer(radius_word));
  const Real tiny = std::numeric_limits<Real>::min();
  typename M::Bits squared_bits, tiny_bits;
  std::memcpy(&squared_bits, &radius_squared, sizeof squared_bits);
  std::memcpy(&tiny_bits, &tiny, sizeof tiny_bits);
  squared_bits = squared_bits > tiny_bits ? squared_bits : tiny_bits;
  Real floored;
  std::memcpy(&floored, &squared_bits, sizeof floored);
  const Real radius = newton_sqrt(floored);
  Real c, s;
  unit_circle<Real>(angle_word, c, s);
  first = radius * c;
  second = radius * s;
}

/// Philox blocks processed together: the lane loops below are what compilers vectorize.
inline constexpr int kNoiseLanes = 16;

/// Normals of kNoiseLanes consecutive blocks starting at `first_block`, in stream order.
template <class Real>
DDIM_STRICT_FP_FUNCTION inline void normal_blocks(std::uint32_t first_block, std::uint32_t sample_lo,
                                                  std::uint32_t sample_hi, std::uint32_t slot, std::uint32_t key0,
                                                  std::uint32_t key1, Real* out) {
  DDIM_STRICT_FP_BODY
  std::uint32_t w0[kNoiseLanes], w1[kNoiseLanes], w2[kNoiseLanes], w3[kNoiseLanes];
  for (int lane = 0; lane < kNoiseLanes; ++lane) {
    const PhiloxBlock r = philox4x32_10(
        PhiloxBlock{{first_block + static_cast<std::uint32_t>(lane), sample_lo, sample_hi, slot}}, key0, key1);
    w0[lane] = r.word[0];
    w1[lane] = r.word[1];
    w2[lane] = r.word[2];
    w3[lane] = r.word[3];
  }
  Real z0[kNoiseLanes], z1[kNoiseLanes], z2[kNoiseLanes], z3[kNoiseLanes];
  for (int lane = 0; lane < kNoiseLanes; ++lane) box_muller<Real>(w0[lane], w1[lane], z0[lane], z1[lane]);
  for (int lane = 0; lane < kNoiseLanes; ++lane) box_muller<Real>(w2[lane], w3[lane], z2[lane], z3[lane]);
  for (int lane = 0; lane < kNoiseLanes; ++lane) {
    out[4 * lane + 0] = z0[lane];
    out[4 * lane + 1] = z1[lane];
    out[4 * lane + 2] = z2[lane];
    out[4 * lane + 3] = z3[lane];
  }
}

/// The four normals of one Philox block (the scalar path: same functions, so the same bits).
template <class Real>
DDIM_STRICT_FP_FUNCTION inline void normal_block(std::uint32_t block, std::uint32_t sample_lo, std::uint32_t sample_hi,
                                                 std::uint32_t slot, std::uint32_t key0, std::uint32_t key1, Real* out) {
  DDIM_STRICT_FP_BODY
  const PhiloxBlock r = philox4x32_10(PhiloxBlock{{block, sample_lo, sample_hi, slot}}, key0, key1);
  box_muller<Real>(r.word[0], r.word[1], out[0], out[1]);
  box_muller<Real>(r.word[2], r.word[3], out[2], out[3]);
}

/// Writes normals e = begin ... begin + count - 1 of the stream (seed, sample, slot). Element e
/// is output (e mod 4) of Philox block e / 4: word pairs (0, 1) and (2, 3) each give a
/// Box-Muller pair, so a value never depends on how many values are drawn around it. Whole
/// chunks of kNoiseLanes blocks go through the vectorizable path, the rest block by block.
template <class Real>
DDIM_STRICT_FP_FUNCTION inline void normal_fill(std::uint64_t seed, std::uint64_t sample, std::uint32_t slot,
                                                std::uint64_t begin, Real* out, std::uint64_t count) {
  DDIM_STRICT_FP_BODY
  const auto key0 = static_cast<std::uint32_t>(seed), key1 = static_cast<std::uint32_t>(seed >> 32);
  const auto sample_lo = static_cast<std::uint32_t>(sample), sample_hi = static_cast<std::uint32_t>(sample >> 32);
  constexpr std::uint64_t chunk = 4 * kNoiseLanes;
  std::uint64_t e = begin;
  const std::uint64_t end = begin + count;
  while (e < end) {
    if (e % chunk == 0 && end - e >= chunk) {
      normal_blocks<Real>(static_cast<std::uint32_t>(e / 4), sample_lo, sample_hi, slot, key0, key1, out);
      out += chunk;
      e += chunk;
      continue;
    }
    Real values[4];
    normal_block<Real>(static_cast<std::uint32_t>(e / 4), sample_lo, sample_hi, slot, key0, key1, values);
    for (std::uint64_t lane = e % 4; lane < 4 && e < end; ++lane, ++e) *out++ = values[lane];
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
