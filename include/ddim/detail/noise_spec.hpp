// ddim: header-only DDIM/DDPM samplers. MIT licence.
//
// detail/noise_spec.hpp: the definition of ddim's portable Gaussian noise, written as plain
// scalar C++ (integer operations and IEEE-754 +, -, *, / and sqrt, one rounding each, in the
// order written, with floating-point contraction off). These functions are the specification:
// the explicit SIMD kernels of noise_simd.hpp perform the same IEEE operations in the same order
// lane by lane, tests/support/reference/make_noise_vectors.py re-implements them in numpy, and
// tests/test_noise.cpp checks all of them against each other bit for bit.
//
// Element e of the stream (seed, sample, slot), for float and double alike:
//   chunk q = e / 64, i = e mod 64; Philox block b = (16 q + i mod 16) mod 2^32;
//   (w0, w1, w2, w3) = Philox4x32-10(counter = (b, sample mod 2^32, sample / 2^32, slot),
//                                    key = (seed mod 2^32, seed / 2^32));
//   i / 16 = 0, 1: first / second output of box_muller(w0, w1); 2, 3: of box_muller(w2, w3).
// So the 64 values of a chunk come from 16 consecutive blocks, word-major (values 0-15 from words
// (w0, w1) of blocks 16q ... 16q+15, and so on), which is the layout a 16-lane SIMD register holds.
// A value depends only on (seed, sample, slot, e); a stream has 2^34 distinct values (block
// indices wrap modulo 2^32).
#ifndef DDIM_DETAIL_NOISE_SPEC_HPP
#define DDIM_DETAIL_NOISE_SPEC_HPP

#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#if defined(__FAST_MATH__)
#pragma message("ddim/noise.hpp: -ffast-math is on; ddim's Gaussian noise is then no longer bit-identical across platforms")
#endif
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD != 0 && FLT_EVAL_METHOD != -1
#pragma message("ddim/noise.hpp: FLT_EVAL_METHOD != 0 (excess precision); noise bits may differ from other platforms")
#endif

// Function-level guard against floating-point contraction (a * b + c fused into one rounding),
// which compilers otherwise apply differently per target and per vector width. GCC honours it
// inside inlined intrinsics too; Clang's pragma covers the operations written in the function
// (Clang's -ffp-contract=fast is a code-generator setting that no source annotation overrides).
// Every function of the noise carries the guard: GCC does not inline across differing
// optimization attributes.
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

/// Philox4x32-10 constants (Salmon et al., SC'11): round multipliers and Weyl key increments.
inline constexpr std::uint32_t kPhiloxMultiplier0 = 0xD2511F53u, kPhiloxMultiplier1 = 0xCD9E8D57u;
inline constexpr std::uint32_t kPhiloxWeyl0 = 0x9E3779B9u, kPhiloxWeyl1 = 0xBB67AE85u;
inline constexpr int kPhiloxRounds = 10;

/// Philox4x32-10: ten rounds of the Random123 bijection. Known-answer vectors from Random123's
/// kat_vectors are in test_noise.cpp.
DDIM_STRICT_FP_FUNCTION inline PhiloxBlock philox4x32_10(PhiloxBlock counter, std::uint32_t key0, std::uint32_t key1) {
  std::uint32_t c0 = counter.word[0], c1 = counter.word[1], c2 = counter.word[2], c3 = counter.word[3];
  for (int round = 0; round < kPhiloxRounds; ++round) {
    const std::uint64_t product0 = std::uint64_t{kPhiloxMultiplier0} * c0;
    const std::uint64_t product1 = std::uint64_t{kPhiloxMultiplier1} * c2;
    const auto hi0 = static_cast<std::uint32_t>(product0 >> 32), lo0 = static_cast<std::uint32_t>(product0);
    const auto hi1 = static_cast<std::uint32_t>(product1 >> 32), lo1 = static_cast<std::uint32_t>(product1);
    c0 = hi1 ^ c1 ^ key0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ key1;
    c3 = lo0;
    key0 += kPhiloxWeyl0;
    key1 += kPhiloxWeyl1;
  }
  return PhiloxBlock{{c0, c1, c2, c3}};
}

/// A stream's Philox key and the counter words that stay fixed along it.
struct NoiseStream {
  std::uint32_t key0, key1, sample_lo, sample_hi, slot;
};

DDIM_STRICT_FP_FUNCTION inline NoiseStream make_noise_stream(std::uint64_t seed, std::uint64_t sample, std::uint32_t slot) {
  return NoiseStream{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32),
                     static_cast<std::uint32_t>(sample), static_cast<std::uint32_t>(sample >> 32), slot};
}

/// Values per chunk and Philox blocks per chunk (four values per block).
inline constexpr int kNoiseChunkValues = 64;
inline constexpr int kNoiseChunkBlocks = 16;

/// The Philox block of chunk `chunk`'s first value (blocks wrap modulo 2^32).
DDIM_STRICT_FP_FUNCTION inline std::uint32_t chunk_first_block(std::uint64_t chunk) {
  return static_cast<std::uint32_t>(chunk * kNoiseChunkBlocks);
}

/// The Box-Muller transform of one precision. A pair of random words (a, b) becomes
///   radius^2 = -2 log u,  u = k / 2^U,  k = a + 1 (double, U = 32) or (a >> 8) + 1 (float, U = 24)
///   angle    = 2 pi v,    v = b / 2^32 (double) or (b >> 8) / 2^24 (float)
///   (first, second) = radius (cos angle, sin angle)
/// evaluated as follows (every step one IEEE operation of the precision, in this order):
///
/// log: the bits of K = Real(k) (exact) give K = y 2^j with y in [o, 2o), o = sqrt(2)/2 rounded to
///   the precision (its bit pattern `log_offset`): t = bits(K) - log_offset, j = t >> mantissa
///   bits, bits(y) = (t & mantissa mask) + log_offset (integer operations; t >= 0 since K >= 1).
///   With e = j - U, s = (y - 1) / (y + 1), R = s * s and P(R) by Horner's rule from the highest
///   coefficient (p = p * R + c), radius^2 = e * minus_two_ln2 + s * P(R); P approximates
///   -4 atanh(s) / s, so s P(R) = -2 log y.
/// floor: radius^2 below the smallest normal number (it can only be -0, at u = 1) becomes that
///   number, so radius >= 2^-63 (float) or 2^-511 (double) is never zero.
/// radius = sqrt(radius^2), the correctly rounded IEEE square root.
/// angle: the nearest quarter turn n and the residual: with V = b >> 8 (float, W = 22) or b
///   (double, W = 30), m = ((V + 2^(W-1)) mod 2^W) - 2^(W-1) in [-2^(W-1), 2^(W-1)) and
///   n = ((V + 2^(W-1)) >> W) mod 4, so that 4 v = n + m / 2^W. x = Real(m) * angle_scale
///   (= pi/2 rounded, times 2^-W; the product is x = m pi / 2^(W+1) in [-pi/4, pi/4) rounded once).
///   X = x * x; sin x = x + x * (X * S(X)), cos x = 1 + X * C(X) (S, C by Horner's rule).
///   (cos, sin) of the angle: n = 0: (cos x, sin x); 1: (-sin x, cos x); 2: (-cos x, -sin x);
///   3: (sin x, -cos x).
/// outputs: first = radius * cos angle, second = radius * sin angle.
///
/// The polynomials are minimax fits (tests/support/reference/fit_noise_polynomials.py) with
/// relative errors 2^-30.2 (log), 2^-27.9 (sin), 2^-33.0 (cos) in float and 2^-59.5, 2^-57.9,
/// 2^-63.9 in double, below the rounding of the arithmetic; test_noise.cpp measures the result.
template <class Real>
struct BoxMullerFormat;

template <>
struct BoxMullerFormat<float> {
  using Bits = std::uint32_t;
  using Signed = std::int32_t;
  static constexpr int mantissa_bits = 23;
  static constexpr int uniform_bits = 24;  // U
  static constexpr int residual_bits = 22;  // W
  static constexpr Bits log_offset = 0x3f3504f3u;  // sqrt(2)/2 rounded to float
  static constexpr float minus_two_ln2 = -0x1.62e430p+0f;
  static constexpr float angle_scale = 0x1.921fb6p-22f;  // (pi/2 rounded to float) * 2^-22
  static constexpr int log_terms = 4, sin_terms = 3, cos_terms = 4;
  static constexpr float log_coefficients[log_terms] = {-0x1p+2f, -0x1.55557ap+0f, -0x1.995ed8p-1f, -0x1.31e03cp-1f};
  static constexpr float sin_coefficients[sin_terms] = {-0x1.555546p-3f, 0x1.110778p-7f, -0x1.995408p-13f};
  static constexpr float cos_coefficients[cos_terms] = {-0x1p-1f, 0x1.55554ap-5f, -0x1.6c0c28p-10f, 0x1.99e80cp-16f};
  /// k = (a >> 8) + 1 in [1, 2^24], exactly representable.
  DDIM_STRICT_FP_FUNCTION static float radius_integer(std::uint32_t word) {
    return static_cast<float>(static_cast<std::int32_t>((word >> 8) + 1u));
  }
  /// V = b >> 8, the angle's 24-bit uniform.
  DDIM_STRICT_FP_FUNCTION static std::uint32_t angle_integer(std::uint32_t word) { return word >> 8; }
};

template <>
struct BoxMullerFormat<double> {
  using Bits = std::uint64_t;
  using Signed = std::int64_t;
  static constexpr int mantissa_bits = 52;
  static constexpr int uniform_bits = 32;
  static constexpr int residual_bits = 30;
  static constexpr Bits log_offset = 0x3fe6a09e667f3bcdull;  // sqrt(2)/2 rounded to double
  static constexpr double minus_two_ln2 = -0x1.62e42fefa39efp+0;
  static constexpr double angle_scale = 0x1.921fb54442d18p-30;  // (pi/2 rounded to double) * 2^-30
  static constexpr int log_terms = 8, sin_terms = 6, cos_terms = 7;
  static constexpr double log_coefficients[log_terms] = {
      -0x1p+2, -0x1.5555555555592p+0, -0x1.999999997ff62p-1, -0x1.24924941db5f2p-1,
      -0x1.c71c521a02f65p-2, -0x1.74663ba889604p-2, -0x1.39a20b112d0bp-2, -0x1.2f0257b2d6d98p-2};
  static constexpr double sin_coefficients[sin_terms] = {-0x1.5555555555548p-3, 0x1.111111110f73p-7,
                                                         -0x1.a01a019be9219p-13, 0x1.71de35552b803p-19,
                                                         -0x1.ae5e4b840f0cbp-26, 0x1.5d8b55a1b3ab8p-33};
  static constexpr double cos_coefficients[cos_terms] = {-0x1p-1, 0x1.555555555554bp-5, -0x1.6c16c16c15015p-10,
                                                         0x1.a01a019c8f254p-16, -0x1.27e4f7f19147bp-22,
                                                         0x1.1ee9dbcef9cb5p-29, -0x1.8fa6848523c3dp-37};
  /// k = a + 1 in [1, 2^32], exactly representable; computed as (a - 2^31) + (2^31 + 1), both
  /// terms and the sum exact, because 32-bit signed conversions vectorize on every target.
  DDIM_STRICT_FP_FUNCTION static double radius_integer(std::uint32_t word) {
    DDIM_STRICT_FP_BODY
    const auto centered = static_cast<std::int32_t>(static_cast<std::int64_t>(word) - 0x80000000ll);
    return static_cast<double>(centered) + (0x1p31 + 1.0);
  }
  /// V = b, the angle's 32-bit uniform.
  DDIM_STRICT_FP_FUNCTION static std::uint32_t angle_integer(std::uint32_t word) { return word; }
};

/// c[0] + R (c[1] + R (c[2] + ...)) by Horner's rule, one rounding per operation.
template <class Real, std::size_t N>
DDIM_STRICT_FP_FUNCTION inline Real horner(const Real (&c)[N], Real r) {
  DDIM_STRICT_FP_BODY
  Real p = c[N - 1];
  for (std::size_t i = N - 1; i-- > 0;) {
    p = p * r;
    p = p + c[i];
  }
  return p;
}

/// radius^2 = -2 log u of the radius word, before the floor (see BoxMullerFormat).
template <class Real>
DDIM_STRICT_FP_FUNCTION inline Real minus_two_log_uniform(std::uint32_t radius_word) {
  DDIM_STRICT_FP_BODY
  using F = BoxMullerFormat<Real>;
  using Bits = typename F::Bits;
  const Real k = F::radius_integer(radius_word);
  Bits k_bits;
  std::memcpy(&k_bits, &k, sizeof k_bits);
  const Bits t = k_bits - F::log_offset;
  const Bits y_bits = (t & ((Bits(1) << F::mantissa_bits) - 1)) + F::log_offset;
  Real y;
  std::memcpy(&y, &y_bits, sizeof y);
  const Real e = static_cast<Real>(static_cast<int>(t >> F::mantissa_bits) - F::uniform_bits);
  const Real s = (y - Real(1)) / (y + Real(1));
  const Real r = s * s;
  const Real p = horner(F::log_coefficients, r);
  const Real integer_part = e * F::minus_two_ln2;
  const Real fraction_part = s * p;
  return integer_part + fraction_part;
}

/// max(-2 log u, smallest normal number): radius^2 with its floor.
template <class Real>
DDIM_STRICT_FP_FUNCTION inline Real box_muller_radius_squared(std::uint32_t radius_word) {
  DDIM_STRICT_FP_BODY
  const Real squared = minus_two_log_uniform<Real>(radius_word);
  const Real tiny = std::numeric_limits<Real>::min();
  return squared < tiny ? tiny : squared;
}

/// The correctly rounded IEEE square root (GCC's builtin is inlined where its std::sqrt, which
/// lacks the strict-FP attribute, would be called out of line).
template <class Real>
DDIM_STRICT_FP_FUNCTION inline Real ieee_sqrt(Real x) {
#if defined(__GNUC__)
  if constexpr (std::is_same_v<Real, float>) {
    return __builtin_sqrtf(x);
  } else {
    return __builtin_sqrt(x);
  }
#else
  return std::sqrt(x);
#endif
}

/// The radius sqrt(max(-2 log u, smallest normal)).
template <class Real>
DDIM_STRICT_FP_FUNCTION inline Real box_muller_radius(std::uint32_t radius_word) {
  DDIM_STRICT_FP_BODY
  return ieee_sqrt(box_muller_radius_squared<Real>(radius_word));
}

/// (cos 2 pi v, sin 2 pi v) of the angle word (see BoxMullerFormat). Branch free.
template <class Real>
DDIM_STRICT_FP_FUNCTION inline void unit_circle(std::uint32_t angle_word, Real& cosine, Real& sine) {
  DDIM_STRICT_FP_BODY
  using F = BoxMullerFormat<Real>;
  using Signed = typename F::Signed;
  constexpr std::uint64_t half = std::uint64_t{1} << (F::residual_bits - 1);
  const std::uint64_t shifted = std::uint64_t{F::angle_integer(angle_word)} + half;
  const auto residual = static_cast<Signed>(shifted & ((half << 1) - 1)) - static_cast<Signed>(half);
  const auto quarter = static_cast<unsigned>((shifted >> F::residual_bits) & 3u);
  const Real x = static_cast<Real>(static_cast<std::int32_t>(residual)) * F::angle_scale;  // |m| <= 2^29: exact
  const Real x2 = x * x;
  const Real sin_poly = horner(F::sin_coefficients, x2);
  const Real cos_poly = horner(F::cos_coefficients, x2);
  const Real sin_x = x + x * (x2 * sin_poly);
  const Real cos_x = Real(1) + x2 * cos_poly;
  const bool swap = (quarter & 1u) != 0;
  const Real c = swap ? sin_x : cos_x;
  const Real s = swap ? cos_x : sin_x;
  const Real minus_c = -c, minus_s = -s;
  cosine = (quarter == 1u || quarter == 2u) ? minus_c : c;
  sine = quarter >= 2u ? minus_s : s;
}

/// The Box-Muller pair of two random words: first = radius * cos, second = radius * sin.
template <class Real>
DDIM_STRICT_FP_FUNCTION inline void box_muller(std::uint32_t radius_word, std::uint32_t angle_word, Real& first,
                                               Real& second) {
  DDIM_STRICT_FP_BODY
  const Real radius = box_muller_radius<Real>(radius_word);
  Real c, s;
  unit_circle<Real>(angle_word, c, s);
  first = radius * c;
  second = radius * s;
}

/// Value e of a stream, straight from the definition: one Philox block, one Box-Muller pair.
template <class Real>
DDIM_STRICT_FP_FUNCTION inline Real normal_value(const NoiseStream& stream, std::uint64_t e) {
  DDIM_STRICT_FP_BODY
  const auto i = static_cast<unsigned>(e % kNoiseChunkValues);
  const std::uint32_t block = chunk_first_block(e / kNoiseChunkValues) + (i % kNoiseChunkBlocks);
  const PhiloxBlock r =
      philox4x32_10(PhiloxBlock{{block, stream.sample_lo, stream.sample_hi, stream.slot}}, stream.key0, stream.key1);
  const unsigned group = i / kNoiseChunkBlocks;  // 0..3: output (group & 1) of word pair (group >> 1)
  Real first, second;
  box_muller<Real>(r.word[2 * (group >> 1)], r.word[2 * (group >> 1) + 1], first, second);
  return (group & 1u) != 0 ? second : first;
}

/// One chunk (64 values, Philox blocks first_block ... first_block + 15) in portable code: the
/// operations of box_muller grouped into lane loops that compilers auto-vectorize where no
/// explicit kernel exists. The square roots have a loop of their own: without -fno-math-errno
/// the square root keeps an errno path (for negative arguments, which never occur here) that
/// stops GCC from vectorizing any loop containing it, so only those 32 operations stay scalar.
template <class Real>
DDIM_STRICT_FP_FUNCTION inline void normal_chunk_portable(const NoiseStream& stream, std::uint32_t first_block,
                                                          Real* out) {
  DDIM_STRICT_FP_BODY
  constexpr int lanes = kNoiseChunkBlocks;
  std::uint32_t radius_words[2 * lanes], angle_words[2 * lanes];  // index 16 g + lane: pair g
  for (int lane = 0; lane < lanes; ++lane) {
    const PhiloxBlock r = philox4x32_10(
        PhiloxBlock{{first_block + static_cast<std::uint32_t>(lane), stream.sample_lo, stream.sample_hi, stream.slot}},
        stream.key0, stream.key1);
    radius_words[lane] = r.word[0];
    angle_words[lane] = r.word[1];
    radius_words[lanes + lane] = r.word[2];
    angle_words[lanes + lane] = r.word[3];
  }
  Real radius[2 * lanes];
  for (int i = 0; i < 2 * lanes; ++i) radius[i] = box_muller_radius_squared<Real>(radius_words[i]);
  for (int i = 0; i < 2 * lanes; ++i) radius[i] = ieee_sqrt(radius[i]);
  for (int pair = 0; pair < 2; ++pair) {  // pair g: values 32 g + lane (first), 32 g + 16 + lane (second)
    for (int lane = 0; lane < lanes; ++lane) {
      Real c, s;
      unit_circle<Real>(angle_words[lanes * pair + lane], c, s);
      out[2 * lanes * pair + lane] = radius[lanes * pair + lane] * c;
      out[2 * lanes * pair + lanes + lane] = radius[lanes * pair + lane] * s;
    }
  }
}

}  // namespace detail
}  // namespace ddim

#endif  // DDIM_DETAIL_NOISE_SPEC_HPP
