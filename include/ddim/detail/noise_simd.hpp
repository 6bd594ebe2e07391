// ddim: header-only DDIM/DDPM samplers. MIT licence.
//
// detail/noise_simd.hpp: explicit SIMD kernels for whole chunks of ddim's Gaussian noise (64
// values from 16 Philox blocks, see noise_spec.hpp), chosen at compile time:
//   AVX-512F: the 16 blocks of a chunk in one 512-bit register per Philox word; float
//             Box-Muller on 16 lanes, double on 8;
//   AVX2:     8 blocks per 256-bit register; float on 8 lanes, double on 4;
//   otherwise the portable lane code of noise_spec.hpp, which compilers auto-vectorize.
// Define DDIM_NOISE_NO_SIMD to force the portable code. Every kernel performs the IEEE operations
// of the scalar specification in its order (no fused multiply-add: every intrinsic below is one
// rounding of the specification's), and integer operations are exact, so all paths give the
// same bits; tests/test_noise.cpp checks them against the specification and against golden
// vectors in builds for each instruction set.
//
// The kernel is selected per translation unit by the instruction-set macros the compiler
// defines (-mavx2, -mavx512f, -march=...). As with Eigen, compile every translation unit that
// includes ddim with the same instruction-set flags: the linker keeps one copy of each inline
// function, so mixing flags can leave AVX-512 code in a program meant for older processors.
#ifndef DDIM_DETAIL_NOISE_SIMD_HPP
#define DDIM_DETAIL_NOISE_SIMD_HPP

#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "noise_spec.hpp"

#if !defined(DDIM_NOISE_NO_SIMD) && defined(__AVX512F__)
#define DDIM_NOISE_AVX512 1
#include <immintrin.h>
#elif !defined(DDIM_NOISE_NO_SIMD) && defined(__AVX2__)
#define DDIM_NOISE_AVX2 1
#include <immintrin.h>
#endif

// GCC before 13 reports its own _mm512_undefined_* placeholders inside the AVX-512 intrinsics as
// uninitialized wherever they are inlined under -Wall (GCC bug 105593); not about this code.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#define DDIM_NOISE_DIAGNOSTICS_PUSHED 1
#endif

// The kernels' building blocks are always inlined (at -O2 GCC would otherwise call them with their
// arrays of vectors in memory).
#if defined(_MSC_VER) && !defined(__clang__)
#define DDIM_NOISE_INLINE __forceinline
#else
#define DDIM_NOISE_INLINE inline __attribute__((always_inline))
#endif

// Full unrolling of the kernels' fixed-count loops, which GCC leaves rolled at -O2 (the arrays of
// vectors would then live in memory).
#if defined(__GNUC__) || defined(__clang__)
#define DDIM_NOISE_UNROLL _Pragma("GCC unroll 32")
#else
#define DDIM_NOISE_UNROLL
#endif

namespace ddim {
namespace detail {

#if defined(DDIM_NOISE_AVX512)

/// The kernel set compiled into this translation unit: "avx512", "avx2" or "portable".
inline constexpr const char* kNoiseKernel = "avx512";
/// Partial chunks of at most this many values are cheaper value by value through the scalar
/// definition (about 27 ns a value on Zen 5) than through a whole chunk of the kernel (39 ns
/// float, 65 ns double).
template <class Real>
inline constexpr unsigned kNoiseValueByValue = std::is_same_v<Real, float> ? 1 : 2;

namespace noise_avx512 {

// One IEEE operation each (the strict-FP guard keeps GCC from fusing them).
DDIM_STRICT_FP_FUNCTION DDIM_NOISE_INLINE __m512 add(__m512 a, __m512 b) { return _mm512_add_ps(a, b); }
DDIM_STRICT_FP_FUNCTION DDIM_NOISE_INLINE __m512 sub(__m512 a, __m512 b) { return _mm512_sub_ps(a, b); }
DDIM_STRICT_FP_FUNCTION DDIM_NOISE_INLINE __m512 mul(__m512 a, __m512 b) { return _mm512_mul_ps(a, b); }
DDIM_STRICT_FP_FUNCTION DDIM_NOISE_INLINE __m512d add(__m512d a, __m512d b) { return _mm512_add_pd(a, b); }
DDIM_STRICT_FP_FUNCTION DDIM_NOISE_INLINE __m512d sub(__m512d a, __m512d b) { return _mm512_sub_pd(a, b); }
DDIM_STRICT_FP_FUNCTION DDIM_NOISE_INLINE __m512d mul(__m512d a, __m512d b) { return _mm512_mul_pd(a, b); }
DDIM_STRICT_FP_FUNCTION DDIM_NOISE_INLINE __m512 broadcast(float value) { return _mm512_set1_ps(value); }
DDIM_STRICT_FP_FUNCTION DDIM_NOISE_INLINE __m512d broadcast(double value) { return _mm512_set1_pd(value); }
DDIM_STRICT_FP_FUNCTION DDIM_NOISE_INLINE __m512i u32(std::uint32_t value) { return _mm512_set1_epi32(static_cast<int>(value)); }
DDIM_STRICT_FP_FUNCTION DDIM_NOISE_INLINE __m512i u64(std::uint64_t value) {
  return _mm512_set1_epi64(static_cast<long long>(value));
}

/// p[k] = c[0] + r[k] (c[1] + r[k] (c[2] + ...)) by Horner's rule, for K vectors side by side.
template <class Vector, class Real, std::size_t N, std::size_t K>
DDIM_STRICT_FP_FUNCTION DDIM_NOISE_INLINE void horner(const Real (&c)[N], const Vector (&r)[K], Vector (&p)[K]) {
  DDIM_NOISE_UNROLL for (std::size_t k = 0; k < K; ++k) p[k] = broadcast(c[N - 1]);
  DDIM_NOISE_UNROLL for (std::size_t j = 2; j <= N; ++j) {
    DDIM_NOISE_UNROLL for (std::size_t k = 0; k < K; ++k) p[k] = add(mul(p[k], r[k]), broadcast(c[N - j]));
  }
}

/// hi and lo halves of the 32 x 32 -> 64-bit products a * m, lane by lane: even lanes from one
/// vpmuludq, odd lanes from another on the operand shifted down, merged by masked shuffles
/// (GCC) or by shifts and bitwise selects (Clang, whose shuffle combiner turns the masked
/// shuffles into slower two-source permutes). Exact integer operations either way.
DDIM_STRICT_FP_FUNCTION DDIM_NOISE_INLINE void multiply_hi_lo(__m512i a, __m512i m, __m512i& hi, __m512i& lo) {
  const __m512i even = _mm512_mul_epu32(a, m);
  const __m512i odd = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), m);
#if defined(__clang__)
  const __m512i low_halves = u64(0xFFFFFFFFull);
  hi = _mm512_ternarylogic_epi32(_mm512_srli_epi64(even, 32), odd, low_halves, 0xF4);  // A | (B & ~C)
  lo = _mm512_ternarylogic_epi32(even, _mm512_slli_epi64(odd, 32), low_halves, 0xEC);  // (A & C) | B
#else
  hi = _mm512_mask_shuffle_epi32(odd, 0x5555, even, _MM_PERM_CDAB);
  lo = _mm512_mask_shuffle_epi32(even, 0xAAAA, odd, _MM_PERM_CDAB);
#endif
}

/// Philox4x32-10 of N chunks at once (N x 16 consecutive blocks from first_block, N independent
/// dependency chains for the out-of-order core); word k of chunk n lands in w[n][k].
template <std::size_t N>
DDIM_STRICT_FP_FUNCTION DDIM_NOISE_INLINE void philox(const NoiseStream& stream, std::uint32_t first_block, __m512i (&w)[N][4]) {
  const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  DDIM_NOISE_UNROLL for (std::size_t n = 0; n < N; ++n) {
    w[n][0] = _mm512_add_epi32(u32(first_block + 16u * static_cast<std::uint32_t>(n)), lanes);
    w[n][1] = u32(stream.sample_lo);
    w[n][2] = u32(stream.sample_hi);
    w[n][3] = u32(stream.slot);
  }
  const __m512i m0 = u32(kPhiloxMultiplier0), m1 = u32(kPhiloxMultiplier1);
  std::uint32_t key0 = stream.key0, key1 = stream.key1;
  DDIM_NOISE_UNROLL for (int round = 0; round < kPhiloxRounds; ++round) {
    const __m512i k0 = u32(key0), k1 = u32(key1);
    DDIM_NOISE_UNROLL for (std::size_t n = 0; n < N; ++n) {
      __m512i hi0, lo0, hi1, lo1;
      multiply_hi_lo(w[n][0], m0, hi0, lo0);
      multiply_hi_lo(w[n][2], m1, hi1, lo1);
      w[n][0] = _mm512_ternarylogic_epi32(hi1, w[n][1], k0, 0x96);  // hi1 ^ c1 ^ key0
      w[n][1] = lo1;
      w[n][2] = _mm512_ternarylogic_epi32(hi0, w[n][3], k1, 0x96);  // hi0 ^ c3 ^ key1
      w[n][3] = lo0;
    }
    key0 += kPhiloxWeyl0;
    key1 += kPhiloxWeyl1;
  }
}

/// The angle words' quarter turns n = (b + 2^29) >> 30 as lane masks (swap: n odd; negate cos:
/// n = 1, 2; negate sin: n = 2, 3) and residuals m (the low W bits of V sign-extended, which is
/// ((V + 2^(W-1)) mod 2^W) - 2^(W-1)), 16 lanes.
struct Quarter {
  __m512i residual;
  __mmask16 swap, negate_cos, negate_sin;
};

template <int ResidualBits>
DDIM_STRICT_FP_FUNCTION DDIM_NOISE_INLINE Quarter quarter_turn(__m512i angle_words) {
  const __m512i u = _mm512_add_epi32(angle_words, u32(1u << 29));
  const __m512i sign = u32(0x80000000u);
  Quarter q;
  q.residual = _mm512_srai_epi32(_mm512_slli_epi32(angle_words, 2), 32 - ResidualBits);
  q.swap = _mm512_test_epi32_mask(u, u32(1u << 30));
  q.negate_cos = _mm512_test_epi32_mask(_mm512_xor_si512(u, _mm512_slli_epi32(u, 1)), sign);
  q.negate_sin = _mm512_test_epi32_mask(u, sign);
  return q;
}

/// The e * minus_two_ln2 table of the float kernel, for t >> 23 = 0 ... 31 (e = index - 24): the
/// same products as the definition's, looked up instead of converted and multiplied.
DDIM_STRICT_FP_FUNCTION DDIM_NOISE_INLINE void float_integer_parts(__m512 (&table)[2]) {
  const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  for (int half = 0; half < 2; ++half) {
    const __m512i e = _mm512_sub_epi32(lanes, u32(static_cast<std::uint32_t>(BoxMullerFormat<float>::uniform_bits - 16 * half)));
    table[half] = mul(_mm512_cvtepi32_ps(e), broadcast(BoxMullerFormat<float>::minus_two_ln2));
  }
}

/// Float Box-Muller of K vectors of 16 word pairs (radius_words[k][i], angle_words[k][i]) at
/// once, operation by operation across the K vectors (independent work side by side). Follows
/// box_muller<float> of noise_spec.hpp step by step.
template <std::size_t K>
DDIM_STRICT_FP_FUNCTION DDIM_NOISE_INLINE void box_muller(const __m512i (&radius_words)[K], const __m512i (&angle_words)[K],
                                               const __m512 (&integer_part)[2], __m512 (&first)[K], __m512 (&second)[K]) {
  using F = BoxMullerFormat<float>;
  const __m512 one = broadcast(1.0f);
  // radius^2 = e * minus_two_ln2 + s * P(s^2), floored, and its square root
  __m512i t[K];
  __m512 s[K], r[K], p[K], radius[K];
  DDIM_NOISE_UNROLL for (std::size_t k = 0; k < K; ++k) {
    const __m512 real_k = _mm512_cvtepi32_ps(_mm512_add_epi32(_mm512_srli_epi32(radius_words[k], 8), u32(1)));
    t[k] = _mm512_sub_epi32(_mm512_castps_si512(real_k), u32(F::log_offset));
  }
  DDIM_NOISE_UNROLL for (std::size_t k = 0; k < K; ++k) {
    const __m512 y = _mm512_castsi512_ps(_mm512_add_epi32(_mm512_and_si512(t[k], u32(0x7fffffu)), u32(F::log_offset)));
    s[k] = _mm512_div_ps(sub(y, one), add(y, one));
  }
  DDIM_NOISE_UNROLL for (std::size_t k = 0; k < K; ++k) r[k] = mul(s[k], s[k]);
  horner(F::log_coefficients, r, p);
  DDIM_NOISE_UNROLL for (std::size_t k = 0; k < K; ++k) {
    const __m512 e_term = _mm512_permutex2var_ps(integer_part[0], _mm512_srli_epi32(t[k], F::mantissa_bits), integer_part[1]);
    const __m512 squared = add(e_term, mul(s[k], p[k]));
    radius[k] = _mm512_sqrt_ps(_mm512_max_ps(squared, broadcast(std::numeric_limits<float>::min())));
  }
  // cos and sin of the residual angle x in [-pi/4, pi/4)
  Quarter q[K];
  __m512 x[K], x2[K], sin_poly[K], cos_poly[K];
  DDIM_NOISE_UNROLL for (std::size_t k = 0; k < K; ++k) {
    q[k] = quarter_turn<F::residual_bits>(angle_words[k]);
    x[k] = mul(_mm512_cvtepi32_ps(q[k].residual), broadcast(F::angle_scale));
  }
  DDIM_NOISE_UNROLL for (std::size_t k = 0; k < K; ++k) x2[k] = mul(x[k], x[k]);
  horner(F::sin_coefficients, x2, sin_poly);
  horner(F::cos_coefficients, x2, cos_poly);
  const __m512i sign = u32(0x80000000u);
  DDIM_NOISE_UNROLL for (std::size_t k = 0; k < K; ++k) {
    const __m512 sin_x = add(x[k], mul(x[k], mul(x2[k], sin_poly[k])));
    const __m512 cos_x = add(one, mul(x2[k], cos_poly[k]));
    const __m512 c = _mm512_mask_blend_ps(q[k].swap, cos_x, sin_x);
    const __m512 s_angle = _mm512_mask_blend_ps(q[k].swap, sin_x, cos_x);
    // radius * (-c) = (-radius) * c exactly: the quarter turn's signs go on the radius
    const __m512i radius_bits = _mm512_castps_si512(radius[k]);
    first[k] = mul(_mm512_castsi512_ps(_mm512_mask_xor_epi32(radius_bits, q[k].negate_cos, radius_bits, sign)), c);
    second[k] = mul(_mm512_castsi512_ps(_mm512_mask_xor_epi32(radius_bits, q[k].negate_sin, radius_bits, sign)), s_angle);
  }
}

/// Double Box-Muller of K vectors of 8 lanes at once: the radius words, and the residuals and
/// quarter-turn masks of the matching angle words. Follows box_muller<double> of noise_spec.hpp.
template <std::size_t K>
DDIM_STRICT_FP_FUNCTION DDIM_NOISE_INLINE void box_muller(const __m256i (&radius_words)[K], const __m256i (&residual)[K],
                                               const __mmask8 (&swap)[K], const __mmask8 (&negate_cos)[K],
                                               const __mmask8 (&negate_sin)[K], __m512d (&first)[K], __m512d (&second)[K]) {
  using F = BoxMullerFormat<double>;
  const __m512d one = broadcast(1.0);
  __m512i t[K];
  __m512d s[K], r[K], p[K], radius[K];
  DDIM_NOISE_UNROLL for (std::size_t k = 0; k < K; ++k) {
    const __m512d real_k = add(_mm512_cvtepu32_pd(radius_words[k]), one);  // a + 1, exact
    t[k] = _mm512_sub_epi64(_mm512_castpd_si512(real_k), u64(F::log_offset));
  }
  DDIM_NOISE_UNROLL for (std::size_t k = 0; k < K; ++k) {
    const __m512i mantissa = _mm512_and_si512(t[k], u64((std::uint64_t{1} << 52) - 1));
    const __m512d y = _mm512_castsi512_pd(_mm512_add_epi64(mantissa, u64(F::log_offset)));
    s[k] = _mm512_div_pd(sub(y, one), add(y, one));
  }
  DDIM_NOISE_UNROLL for (std::size_t k = 0; k < K; ++k) r[k] = mul(s[k], s[k]);
  horner(F::log_coefficients, r, p);
  DDIM_NOISE_UNROLL for (std::size_t k = 0; k < K; ++k) {
    // e = (t >> 52) - 32 exactly: the integer t >> 52 <= 32 placed in the mantissa of 2^52, minus 2^52 + 32
    const __m512d e = sub(_mm512_castsi512_pd(_mm512_or_si512(_mm512_srli_epi64(t[k], 52), u64(0x4330000000000000ull))),
                          broadcast(0x1p52 + F::uniform_bits));
    const __m512d squared = add(mul(e, broadcast(F::minus_two_ln2)), mul(s[k], p[k]));
    radius[k] = _mm512_sqrt_pd(_mm512_max_pd(squared, broadcast(std::numeric_limits<double>::min())));
  }
  __m512d x[K], x2[K], sin_poly[K], cos_poly[K];
  DDIM_NOISE_UNROLL for (std::size_t k = 0; k < K; ++k) x[k] = mul(_mm512_cvtepi32_pd(residual[k]), broadcast(F::angle_scale));
  DDIM_NOISE_UNROLL for (std::size_t k = 0; k < K; ++k) x2[k] = mul(x[k], x[k]);
  horner(F::sin_coefficients, x2, sin_poly);
  horner(F::cos_coefficients, x2, cos_poly);
  const __m512i sign = u64(0x8000000000000000ull);
  DDIM_NOISE_UNROLL for (std::size_t k = 0; k < K; ++k) {
    const __m512d sin_x = add(x[k], mul(x[k], mul(x2[k], sin_poly[k])));
    const __m512d cos_x = add(one, mul(x2[k], cos_poly[k]));
    const __m512d c = _mm512_mask_blend_pd(swap[k], cos_x, sin_x);
    const __m512d s_angle = _mm512_mask_blend_pd(swap[k], sin_x, cos_x);
    const __m512i radius_bits = _mm512_castpd_si512(radius[k]);
    first[k] = mul(_mm512_castsi512_pd(_mm512_mask_xor_epi64(radius_bits, negate_cos[k], radius_bits, sign)), c);
    second[k] = mul(_mm512_castsi512_pd(_mm512_mask_xor_epi64(radius_bits, negate_sin[k], radius_bits, sign)), s_angle);
  }
}

/// N chunks of float from their Philox words: pair g of chunk n (words 2g, 2g + 1) gives values
/// 32 g ... 32 g + 15 (first outputs) and 32 g + 16 ... 32 g + 31 (second) at out + 64 n.
template <std::size_t N>
DDIM_STRICT_FP_FUNCTION DDIM_NOISE_INLINE void transform(const __m512i (&w)[N][4], const __m512 (&integer_part)[2], float* out) {
  constexpr std::size_t K = 2 * N;
  __m512i radius_words[K], angle_words[K];
  DDIM_NOISE_UNROLL for (std::size_t k = 0; k < K; ++k) {
    radius_words[k] = w[k / 2][2 * (k % 2)];
    angle_words[k] = w[k / 2][2 * (k % 2) + 1];
  }
  __m512 first[K], second[K];
  box_muller(radius_words, angle_words, integer_part, first, second);
  DDIM_NOISE_UNROLL for (std::size_t k = 0; k < K; ++k) {
    _mm512_storeu_ps(out + 32 * k, first[k]);
    _mm512_storeu_ps(out + 32 * k + 16, second[k]);
  }
}

/// N chunks of double: each pair's 16 lanes as two halves of 8 (values 32 g + 8 h ... and
/// 32 g + 16 + 8 h ... for half h).
template <std::size_t N>
DDIM_STRICT_FP_FUNCTION DDIM_NOISE_INLINE void transform(const __m512i (&w)[N][4], const __m512 (&)[2], double* out) {
  constexpr std::size_t K = 4 * N;  // vector k: chunk k / 4, pair (k / 2) % 2, half k % 2
  __m256i radius_words[K], residual[K];
  __mmask8 swap[K], negate_cos[K], negate_sin[K];
  DDIM_NOISE_UNROLL for (std::size_t k = 0; k < K; k += 2) {
    const __m512i& radius16 = w[k / 4][2 * ((k / 2) % 2)];
    const Quarter q = quarter_turn<BoxMullerFormat<double>::residual_bits>(w[k / 4][2 * ((k / 2) % 2) + 1]);
    radius_words[k] = _mm512_castsi512_si256(radius16);
    radius_words[k + 1] = _mm512_extracti64x4_epi64(radius16, 1);
    residual[k] = _mm512_castsi512_si256(q.residual);
    residual[k + 1] = _mm512_extracti64x4_epi64(q.residual, 1);
    swap[k] = static_cast<__mmask8>(q.swap);
    swap[k + 1] = static_cast<__mmask8>(q.swap >> 8);
    negate_cos[k] = static_cast<__mmask8>(q.negate_cos);
    negate_cos[k + 1] = static_cast<__mmask8>(q.negate_cos >> 8);
    negate_sin[k] = static_cast<__mmask8>(q.negate_sin);
    negate_sin[k + 1] = static_cast<__mmask8>(q.negate_sin >> 8);
  }
  __m512d first[K], second[K];
  box_muller(radius_words, residual, swap, negate_cos, negate_sin, first, second);
  DDIM_NOISE_UNROLL for (std::size_t k = 0; k < K; ++k) {
    double* values = out + 32 * (k / 2) + 8 * (k % 2);
    _mm512_storeu_pd(values, first[k]);
    _mm512_storeu_pd(values + 16, second[k]);
  }
}

/// `chunks` consecutive chunks from first_block, two at a time, then one.
template <class Real>
DDIM_STRICT_FP_FUNCTION inline void normal_chunks(const NoiseStream& stream, std::uint32_t first_block, std::uint64_t chunks,
                                                  Real* out) {
  __m512 integer_part[2];
  float_integer_parts(integer_part);
  for (; chunks >= 2; chunks -= 2) {
    __m512i w[2][4];
    philox(stream, first_block, w);
    transform(w, integer_part, out);
    first_block += 2 * kNoiseChunkBlocks;
    out += 2 * kNoiseChunkValues;
  }
  if (chunks != 0) {
    __m512i w[1][4];
    philox(stream, first_block, w);
    transform(w, integer_part, out);
  }
}

/// The raw Philox words of `chunks` chunks, word-major like the values (word k of block lane at
/// 16 k + lane), two chunks at a time.
DDIM_STRICT_FP_FUNCTION inline void philox_chunks(const NoiseStream& stream, std::uint32_t first_block, std::uint64_t chunks,
                                                  std::uint32_t* out) {
  for (; chunks >= 2; chunks -= 2) {
    __m512i w[2][4];
    philox(stream, first_block, w);
    DDIM_NOISE_UNROLL for (int n = 0; n < 2; ++n) {
      DDIM_NOISE_UNROLL for (int k = 0; k < 4; ++k) {
        _mm512_storeu_si512(out + kNoiseChunkValues * n + kNoiseChunkBlocks * k, w[n][k]);
      }
    }
    first_block += 2 * kNoiseChunkBlocks;
    out += 2 * kNoiseChunkValues;
  }
  if (chunks != 0) {
    __m512i w[1][4];
    philox(stream, first_block, w);
    DDIM_NOISE_UNROLL for (int k = 0; k < 4; ++k) _mm512_storeu_si512(out + kNoiseChunkBlocks * k, w[0][k]);
  }
}

}  // namespace noise_avx512

#elif defined(DDIM_NOISE_AVX2)

inline constexpr const char* kNoiseKernel = "avx2";
/// (AVX2 chunks: 62 ns float, 106 ns double on Zen 5.)
template <class Real>
inline constexpr unsigned kNoiseValueByValue = std::is_same_v<Real, float> ? 2 : 3;

namespace noise_avx2 {

DDIM_STRICT_FP_FUNCTION DDIM_NOISE_INLINE __m256 add(__m256 a, __m256 b) { return _mm256_add_ps(a, b); }
DDIM_STRICT_FP_FUNCTION DDIM_NOISE_INLINE __m256 sub(__m256 a, __m256 b) { return _mm256_sub_ps(a, b); }
DDIM_STRICT_FP_FUNCTION DDIM_NOISE_INLINE __m256 mul(__m256 a, __m256 b) { return _mm256_mul_ps(a, b); }
DDIM_STRICT_FP_FUNCTION DDIM_NOISE_INLINE __m256d add(__m256d a, __m256d b) { return _mm256_add_pd(a, b); }
DDIM_STRICT_FP_FUNCTION DDIM_NOISE_INLINE __m256d sub(__m256d a, __m256d b) { return _mm256_sub_pd(a, b); }
DDIM_STRICT_FP_FUNCTION DDIM_NOISE_INLINE __m256d mul(__m256d a, __m256d b) { return _mm256_mul_pd(a, b); }
DDIM_STRICT_FP_FUNCTION DDIM_NOISE_INLINE __m256 broadcast(float value) { return _mm256_set1_ps(value); }
DDIM_STRICT_FP_FUNCTION DDIM_NOISE_INLINE __m256d broadcast(double value) { return _mm256_set1_pd(value); }
DDIM_STRICT_FP_FUNCTION DDIM_NOISE_INLINE __m256i u32(std::uint32_t value) { return _mm256_set1_epi32(static_cast<int>(value)); }
DDIM_STRICT_FP_FUNCTION DDIM_NOISE_INLINE __m256i u64(std::uint64_t value) {
  return _mm256_set1_epi64x(static_cast<long long>(value));
}

/// p[k] = c[0] + r[k] (c[1] + r[k] (c[2] + ...)) by Horner's rule, for K vectors side by side.
template <class Vector, class Real, std::size_t N, std::size_t K>
DDIM_STRICT_FP_FUNCTION DDIM_NOISE_INLINE void horner(const Real (&c)[N], const Vector (&r)[K], Vector (&p)[K]) {
  DDIM_NOISE_UNROLL for (std::size_t k = 0; k < K; ++k) p[k] = broadcast(c[N - 1]);
  DDIM_NOISE_UNROLL for (std::size_t j = 2; j <= N; ++j) {
    DDIM_NOISE_UNROLL for (std::size_t k = 0; k < K; ++k) p[k] = add(mul(p[k], r[k]), broadcast(c[N - j]));
  }
}

/// hi and lo halves of the 32 x 32 -> 64-bit products a * m, lane by lane.
DDIM_STRICT_FP_FUNCTION DDIM_NOISE_INLINE void multiply_hi_lo(__m256i a, __m256i m, __m256i& hi, __m256i& lo) {
  const __m256i even = _mm256_mul_epu32(a, m);
  const __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);
  hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
  lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
}

/// Philox4x32-10 of N groups of 8 consecutive blocks from first_block; word k of group n in w[n][k].
template <std::size_t N>
DDIM_STRICT_FP_FUNCTION DDIM_NOISE_INLINE void philox(const NoiseStream& stream, std::uint32_t first_block, __m256i (&w)[N][4]) {
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  DDIM_NOISE_UNROLL for (std::size_t n = 0; n < N; ++n) {
    w[n][0] = _mm256_add_epi32(u32(first_block + 8u * static_cast<std::uint32_t>(n)), lanes);
    w[n][1] = u32(stream.sample_lo);
    w[n][2] = u32(stream.sample_hi);
    w[n][3] = u32(stream.slot);
  }
  const __m256i m0 = u32(kPhiloxMultiplier0), m1 = u32(kPhiloxMultiplier1);
  std::uint32_t key0 = stream.key0, key1 = stream.key1;
  DDIM_NOISE_UNROLL for (int round = 0; round < kPhiloxRounds; ++round) {
    const __m256i k0 = u32(key0), k1 = u32(key1);
    DDIM_NOISE_UNROLL for (std::size_t n = 0; n < N; ++n) {
      __m256i hi0, lo0, hi1, lo1;
      multiply_hi_lo(w[n][0], m0, hi0, lo0);
      multiply_hi_lo(w[n][2], m1, hi1, lo1);
      w[n][0] = _mm256_xor_si256(_mm256_xor_si256(hi1, w[n][1]), k0);
      w[n][1] = lo1;
      w[n][2] = _mm256_xor_si256(_mm256_xor_si256(hi0, w[n][3]), k1);
      w[n][3] = lo0;
    }
    key0 += kPhiloxWeyl0;
    key1 += kPhiloxWeyl1;
  }
}

/// Float Box-Muller of K vectors of 8 word pairs at once, operation by operation across them.
/// Follows box_muller<float> of noise_spec.hpp step by step.
template <std::size_t K>
DDIM_STRICT_FP_FUNCTION DDIM_NOISE_INLINE void box_muller(const __m256i (&radius_words)[K], const __m256i (&angle_words)[K],
                                                          __m256 (&first)[K], __m256 (&second)[K]) {
  using F = BoxMullerFormat<float>;
  const __m256 one = broadcast(1.0f);
  __m256i t[K];
  __m256 s[K], r[K], p[K], radius[K];
  DDIM_NOISE_UNROLL for (std::size_t k = 0; k < K; ++k) {
    const __m256 real_k = _mm256_cvtepi32_ps(_mm256_add_epi32(_mm256_srli_epi32(radius_words[k], 8), u32(1)));
    t[k] = _mm256_sub_epi32(_mm256_castps_si256(real_k), u32(F::log_offset));
  }
  DDIM_NOISE_UNROLL for (std::size_t k = 0; k < K; ++k) {
    const __m256 y = _mm256_castsi256_ps(_mm256_add_epi32(_mm256_and_si256(t[k], u32(0x7fffffu)), u32(F::log_offset)));
    s[k] = _mm256_div_ps(sub(y, one), add(y, one));
  }
  DDIM_NOISE_UNROLL for (std::size_t k = 0; k < K; ++k) r[k] = mul(s[k], s[k]);
  horner(F::log_coefficients, r, p);
  DDIM_NOISE_UNROLL for (std::size_t k = 0; k < K; ++k) {
    const __m256 e = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32(t[k], F::mantissa_bits), u32(F::uniform_bits)));
    const __m256 squared = add(mul(e, broadcast(F::minus_two_ln2)), mul(s[k], p[k]));
    radius[k] = _mm256_sqrt_ps(_mm256_max_ps(squared, broadcast(std::numeric_limits<float>::min())));
  }
  __m256i u[K];
  __m256 x[K], x2[K], sin_poly[K], cos_poly[K];
  DDIM_NOISE_UNROLL for (std::size_t k = 0; k < K; ++k) {
    u[k] = _mm256_add_epi32(angle_words[k], u32(1u << 29));  // quarter turn n in the top two bits
    const __m256i residual = _mm256_srai_epi32(_mm256_slli_epi32(angle_words[k], 2), 32 - F::residual_bits);
    x[k] = mul(_mm256_cvtepi32_ps(residual), broadcast(F::angle_scale));
  }
  DDIM_NOISE_UNROLL for (std::size_t k = 0; k < K; ++k) x2[k] = mul(x[k], x[k]);
  horner(F::sin_coefficients, x2, sin_poly);
  horner(F::cos_coefficients, x2, cos_poly);
  const __m256i sign = u32(0x80000000u);
  DDIM_NOISE_UNROLL for (std::size_t k = 0; k < K; ++k) {
    const __m256 sin_x = add(x[k], mul(x[k], mul(x2[k], sin_poly[k])));
    const __m256 cos_x = add(one, mul(x2[k], cos_poly[k]));
    const __m256i u_up = _mm256_slli_epi32(u[k], 1);  // sign bit: n odd
    const __m256 swap = _mm256_castsi256_ps(u_up);
    const __m256 c = _mm256_blendv_ps(cos_x, sin_x, swap);
    const __m256 s_angle = _mm256_blendv_ps(sin_x, cos_x, swap);
    const __m256i radius_bits = _mm256_castps_si256(radius[k]);
    const __m256i radius_c = _mm256_xor_si256(radius_bits, _mm256_and_si256(_mm256_xor_si256(u[k], u_up), sign));
    const __m256i radius_s = _mm256_xor_si256(radius_bits, _mm256_and_si256(u[k], sign));
    first[k] = mul(_mm256_castsi256_ps(radius_c), c);
    second[k] = mul(_mm256_castsi256_ps(radius_s), s_angle);
  }
}

/// Double Box-Muller of K vectors of 4 word pairs at once. Follows box_muller<double>.
template <std::size_t K>
DDIM_STRICT_FP_FUNCTION DDIM_NOISE_INLINE void box_muller(const __m128i (&radius_words)[K], const __m128i (&angle_words)[K],
                                                          __m256d (&first)[K], __m256d (&second)[K]) {
  using F = BoxMullerFormat<double>;
  const __m256d one = broadcast(1.0);
  __m256i t[K];
  __m256d s[K], r[K], p[K], radius[K];
  DDIM_NOISE_UNROLL for (std::size_t k = 0; k < K; ++k) {
    // k = a + 1: (a - 2^31) converted exactly, plus 2^31 + 1 (exact: the sum is an integer <= 2^32)
    const __m256d real_k = add(_mm256_cvtepi32_pd(_mm_xor_si128(radius_words[k], _mm_set1_epi32(static_cast<int>(0x80000000u)))),
                               broadcast(0x1p31 + 1.0));
    t[k] = _mm256_sub_epi64(_mm256_castpd_si256(real_k), u64(F::log_offset));
  }
  DDIM_NOISE_UNROLL for (std::size_t k = 0; k < K; ++k) {
    const __m256i mantissa = _mm256_and_si256(t[k], u64((std::uint64_t{1} << 52) - 1));
    const __m256d y = _mm256_castsi256_pd(_mm256_add_epi64(mantissa, u64(F::log_offset)));
    s[k] = _mm256_div_pd(sub(y, one), add(y, one));
  }
  DDIM_NOISE_UNROLL for (std::size_t k = 0; k < K; ++k) r[k] = mul(s[k], s[k]);
  horner(F::log_coefficients, r, p);
  DDIM_NOISE_UNROLL for (std::size_t k = 0; k < K; ++k) {
    const __m256d e = sub(_mm256_castsi256_pd(_mm256_or_si256(_mm256_srli_epi64(t[k], 52), u64(0x4330000000000000ull))),
                          broadcast(0x1p52 + F::uniform_bits));
    const __m256d squared = add(mul(e, broadcast(F::minus_two_ln2)), mul(s[k], p[k]));
    radius[k] = _mm256_sqrt_pd(_mm256_max_pd(squared, broadcast(std::numeric_limits<double>::min())));
  }
  __m128i u[K];
  __m256d x[K], x2[K], sin_poly[K], cos_poly[K];
  DDIM_NOISE_UNROLL for (std::size_t k = 0; k < K; ++k) {
    u[k] = _mm_add_epi32(angle_words[k], _mm_set1_epi32(1 << 29));
    const __m128i residual = _mm_srai_epi32(_mm_slli_epi32(angle_words[k], 2), 32 - F::residual_bits);
    x[k] = mul(_mm256_cvtepi32_pd(residual), broadcast(F::angle_scale));
  }
  DDIM_NOISE_UNROLL for (std::size_t k = 0; k < K; ++k) x2[k] = mul(x[k], x[k]);
  horner(F::sin_coefficients, x2, sin_poly);
  horner(F::cos_coefficients, x2, cos_poly);
  const __m256i sign = u64(0x8000000000000000ull);
  DDIM_NOISE_UNROLL for (std::size_t k = 0; k < K; ++k) {
    const __m256d sin_x = add(x[k], mul(x[k], mul(x2[k], sin_poly[k])));
    const __m256d cos_x = add(one, mul(x2[k], cos_poly[k]));
    const __m128i u_up = _mm_slli_epi32(u[k], 1);
    // 32-bit lanes sign-extended to 64: each lane's bit 31 becomes bit 63
    const __m256d swap = _mm256_castsi256_pd(_mm256_cvtepi32_epi64(u_up));
    const __m256d c = _mm256_blendv_pd(cos_x, sin_x, swap);
    const __m256d s_angle = _mm256_blendv_pd(sin_x, cos_x, swap);
    const __m256i radius_bits = _mm256_castpd_si256(radius[k]);
    const __m256i negate_cos = _mm256_cvtepi32_epi64(_mm_xor_si128(u[k], u_up));  // sign bit: n = 1, 2
    const __m256i negate_sin = _mm256_cvtepi32_epi64(u[k]);                       // sign bit: n = 2, 3
    const __m256i radius_c = _mm256_xor_si256(radius_bits, _mm256_and_si256(negate_cos, sign));
    const __m256i radius_s = _mm256_xor_si256(radius_bits, _mm256_and_si256(negate_sin, sign));
    first[k] = mul(_mm256_castsi256_pd(radius_c), c);
    second[k] = mul(_mm256_castsi256_pd(radius_s), s_angle);
  }
}

/// One chunk of float from the Philox words of its two 8-block groups h: pair g of group h gives
/// values 32 g + 8 h ... (first outputs) and 32 g + 16 + 8 h ... (second).
DDIM_STRICT_FP_FUNCTION DDIM_NOISE_INLINE void transform(const __m256i (&w)[2][4], float* out) {
  constexpr std::size_t K = 4;  // vector k: pair k / 2, group k % 2
  __m256i radius_words[K], angle_words[K];
  DDIM_NOISE_UNROLL for (std::size_t k = 0; k < K; ++k) {
    radius_words[k] = w[k % 2][2 * (k / 2)];
    angle_words[k] = w[k % 2][2 * (k / 2) + 1];
  }
  __m256 first[K], second[K];
  box_muller(radius_words, angle_words, first, second);
  DDIM_NOISE_UNROLL for (std::size_t k = 0; k < K; ++k) {
    float* values = out + 32 * (k / 2) + 8 * (k % 2);
    _mm256_storeu_ps(values, first[k]);
    _mm256_storeu_ps(values + 16, second[k]);
  }
}

/// One chunk of double: each group's 8 lanes as two parts of 4.
DDIM_STRICT_FP_FUNCTION DDIM_NOISE_INLINE void transform(const __m256i (&w)[2][4], double* out) {
  constexpr std::size_t K = 8;  // vector k: pair k / 4, group (k / 2) % 2, part k % 2
  __m128i radius_words[K], angle_words[K];
  DDIM_NOISE_UNROLL for (std::size_t k = 0; k < K; k += 2) {
    const __m256i& a = w[(k / 2) % 2][2 * (k / 4)];
    const __m256i& b = w[(k / 2) % 2][2 * (k / 4) + 1];
    radius_words[k] = _mm256_castsi256_si128(a);
    radius_words[k + 1] = _mm256_extracti128_si256(a, 1);
    angle_words[k] = _mm256_castsi256_si128(b);
    angle_words[k + 1] = _mm256_extracti128_si256(b, 1);
  }
  __m256d first[K], second[K];
  box_muller(radius_words, angle_words, first, second);
  DDIM_NOISE_UNROLL for (std::size_t k = 0; k < K; ++k) {
    double* values = out + 32 * (k / 4) + 4 * (k % 4);
    _mm256_storeu_pd(values, first[k]);
    _mm256_storeu_pd(values + 16, second[k]);
  }
}

template <class Real>
DDIM_STRICT_FP_FUNCTION inline void normal_chunks(const NoiseStream& stream, std::uint32_t first_block, std::uint64_t chunks,
                                                  Real* out) {
  for (; chunks != 0; --chunks) {
    __m256i w[2][4];
    philox(stream, first_block, w);
    transform(w, out);
    first_block += kNoiseChunkBlocks;
    out += kNoiseChunkValues;
  }
}

DDIM_STRICT_FP_FUNCTION inline void philox_chunks(const NoiseStream& stream, std::uint32_t first_block, std::uint64_t chunks,
                                                  std::uint32_t* out) {
  for (; chunks != 0; --chunks) {
    __m256i w[2][4];
    philox(stream, first_block, w);
    DDIM_NOISE_UNROLL for (int h = 0; h < 2; ++h) {
      DDIM_NOISE_UNROLL for (int k = 0; k < 4; ++k) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + kNoiseChunkBlocks * k + 8 * h), w[h][k]);
      }
    }
    first_block += kNoiseChunkBlocks;
    out += kNoiseChunkValues;
  }
}

}  // namespace noise_avx2

#else

inline constexpr const char* kNoiseKernel = "portable";
/// (Portable chunks: 100-200 ns float, 140-350 ns double on Zen 5, depending on the vector width
/// the compiler targets.)
template <class Real>
inline constexpr unsigned kNoiseValueByValue = std::is_same_v<Real, float> ? 6 : 10;

#endif

/// The raw Philox4x32-10 words behind `chunks` chunks from first_block, in the values' layout
/// (word k of block first_block + 16 c + lane at out[64 c + 16 k + lane]), by the compiled
/// kernel's Philox: the random bits without the Box-Muller transform (its cost is the floor of
/// the generator's).
DDIM_STRICT_FP_FUNCTION inline void philox_chunks(const NoiseStream& stream, std::uint32_t first_block, std::uint64_t chunks,
                                                  std::uint32_t* out) {
#if defined(DDIM_NOISE_AVX512)
  noise_avx512::philox_chunks(stream, first_block, chunks, out);
#elif defined(DDIM_NOISE_AVX2)
  noise_avx2::philox_chunks(stream, first_block, chunks, out);
#else
  for (; chunks != 0; --chunks) {
    for (int lane = 0; lane < kNoiseChunkBlocks; ++lane) {
      const PhiloxBlock r = philox4x32_10(
          PhiloxBlock{{first_block + static_cast<std::uint32_t>(lane), stream.sample_lo, stream.sample_hi, stream.slot}},
          stream.key0, stream.key1);
      for (int k = 0; k < 4; ++k) out[kNoiseChunkBlocks * k + lane] = r.word[k];
    }
    first_block += kNoiseChunkBlocks;
    out += kNoiseChunkValues;
  }
#endif
}

/// The compiled kernel's Box-Muller transform applied to 16 chosen word pairs: (first[i],
/// second[i]) from (radius_words[i], angle_words[i]), through the same code as the chunks (the
/// words take the place of Philox output words 0 and 1; the portable code uses the scalar
/// definition's box_muller). For tests on edge-case words.
template <class Real>
DDIM_STRICT_FP_FUNCTION inline void box_muller_lanes(const std::uint32_t (&radius_words)[kNoiseChunkBlocks],
                                                     const std::uint32_t (&angle_words)[kNoiseChunkBlocks],
                                                     Real (&first)[kNoiseChunkBlocks], Real (&second)[kNoiseChunkBlocks]) {
#if defined(DDIM_NOISE_AVX512)
  __m512i w[1][4];
  w[0][0] = w[0][2] = _mm512_loadu_si512(radius_words);
  w[0][1] = w[0][3] = _mm512_loadu_si512(angle_words);
  __m512 integer_part[2];
  noise_avx512::float_integer_parts(integer_part);
  Real values[kNoiseChunkValues];
  noise_avx512::transform(w, integer_part, values);
#elif defined(DDIM_NOISE_AVX2)
  __m256i w[2][4];
  for (int h = 0; h < 2; ++h) {
    w[h][0] = w[h][2] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(radius_words + 8 * h));
    w[h][1] = w[h][3] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(angle_words + 8 * h));
  }
  Real values[kNoiseChunkValues];
  noise_avx2::transform(w, values);
#else
  Real values[kNoiseChunkValues];
  for (int lane = 0; lane < kNoiseChunkBlocks; ++lane) {
    box_muller<Real>(radius_words[lane], angle_words[lane], values[lane], values[kNoiseChunkBlocks + lane]);
  }
#endif
  for (int lane = 0; lane < kNoiseChunkBlocks; ++lane) {
    first[lane] = values[lane];
    second[lane] = values[kNoiseChunkBlocks + lane];
  }
}

/// Writes `chunks` whole chunks (64 values each) whose first Philox block is first_block.
template <class Real>
DDIM_STRICT_FP_FUNCTION inline void normal_chunks(const NoiseStream& stream, std::uint32_t first_block, std::uint64_t chunks,
                                                  Real* out) {
#if defined(DDIM_NOISE_AVX512)
  noise_avx512::normal_chunks<Real>(stream, first_block, chunks, out);
#elif defined(DDIM_NOISE_AVX2)
  noise_avx2::normal_chunks<Real>(stream, first_block, chunks, out);
#else
  for (; chunks != 0; --chunks) {
    normal_chunk_portable<Real>(stream, first_block, out);
    first_block += kNoiseChunkBlocks;
    out += kNoiseChunkValues;
  }
#endif
}

}  // namespace detail
}  // namespace ddim

#undef DDIM_NOISE_UNROLL
#undef DDIM_NOISE_INLINE
#if defined(DDIM_NOISE_DIAGNOSTICS_PUSHED)
#pragma GCC diagnostic pop
#undef DDIM_NOISE_DIAGNOSTICS_PUSHED
#endif

#endif  // DDIM_DETAIL_NOISE_SIMD_HPP
