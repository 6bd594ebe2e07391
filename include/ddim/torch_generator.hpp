// ddim: header-only DDIM/DDPM samplers. MIT licence.
//
// torch_generator.hpp: noise generators that reproduce the values of PyTorch's `torch.randn`, so
// that a sampler run with ddim can start from exactly the noise a PyTorch pipeline would draw.
//
//   * TorchCpuGenerator  - `torch.Generator("cpu").manual_seed(s)` (MT19937 + PyTorch's three
//                          normal-sampling code paths), float32 and float64, bit for bit.
//   * TorchCudaGenerator - `torch.Generator("cuda").manual_seed(s)` (Philox4x32-10 through
//                          cuRAND's Box-Muller and PyTorch's grid-stride launch layout), float32,
//                          to within the accuracy of the GPU's approximate sine/cosine.
//
// Reference behaviour: PyTorch 1.13.1 (Debian's libtorch 1.13.1+dfsg, x86-64, glibc 2.36), whose
// outputs are committed as test vectors. Differences to later PyTorch releases are listed on each
// class. Only standard headers are used; the file does not depend on the rest of ddim.
//
// Numerical requirements for bit-exact results (all hold for GCC, Clang and MSVC defaults on
// x86-64 and AArch64): IEEE-754 binary32/binary64 arithmetic evaluated in its own precision
// (FLT_EVAL_METHOD == 0, i.e. no x87), round-to-nearest, and no -ffast-math (or any option that
// allows reassociation or ignores signed zeros). Contraction of a*b+c into FMA (-ffp-contract=fast,
// GCC's default in GNU modes) is harmless: every expression here gives the same result fused or
// not. The scalar paths call the C library's logf/sinf/cosf/log/sin/cos exactly as PyTorch does,
// so they reproduce PyTorch run against the same C library (glibc on Linux); see docs/noise.md.
#ifndef DDIM_TORCH_GENERATOR_HPP
#define DDIM_TORCH_GENERATOR_HPP

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "detail/validate.hpp"

namespace ddim {

/// Which of PyTorch's CPU kernels for `normal_` to imitate. PyTorch compiles its CPU kernels once
/// per instruction set and picks one at start-up (the best the CPU supports, or the value of the
/// environment variable `ATEN_CPU_CAPABILITY`: `default`, `avx2` or `avx512`). Only float32
/// tensors of 16 or more elements are affected: their Box-Muller step is vectorised with AVX2
/// polynomial approximations of log/sin/cos, which round differently from the C library.
enum class TorchCpuCapability {
  /// `ATEN_CPU_CAPABILITY=default`: the portable kernel, which is also what non-x86 builds run
  /// (Apple silicon, AArch64 servers). Uses the C library's logf/sincosf, so it matches PyTorch
  /// bit for bit where both use the same C library (verified with glibc 2.36).
  scalar,
  /// `ATEN_CPU_CAPABILITY=avx2`: what PyTorch uses on any x86-64 CPU with AVX2 and FMA.
  avx2,
  /// `ATEN_CPU_CAPABILITY=avx512`. PyTorch 1.13 registers no AVX-512 kernel for `normal_` and
  /// falls back to the AVX2 one, so this produces exactly the `avx2` values (verified).
  avx512
};

/// The `ATEN_CPU_CAPABILITY` spelling of `capability`: "default", "avx2" or "avx512".
/// Throws std::invalid_argument for a value outside the enumeration.
inline std::string_view torch_cpu_capability_name(TorchCpuCapability capability);

/// Parses an `ATEN_CPU_CAPABILITY` value ("default", "avx2", "avx512"; exact, lower case).
/// Throws std::invalid_argument naming the value for anything else.
inline TorchCpuCapability parse_torch_cpu_capability(std::string_view name);

namespace detail {

// Called (by the randn functions) when out is null and n > 0. Kept out of line from the check
// itself so that compilers see the rest of the caller only runs with a usable buffer.
[[noreturn]] inline void throw_null_output(std::string_view where, std::size_t n) {
  fail_text(std::string(where), "out", "null (with n = " + std::to_string(n) + ")",
                         "a pointer to at least n writable elements (null only when n = 0)");
}

inline void check_capability(std::string_view where, TorchCpuCapability capability) {
  switch (capability) {
    case TorchCpuCapability::scalar:
    case TorchCpuCapability::avx2:
    case TorchCpuCapability::avx512:
      return;
  }
  fail_text(std::string(where), "capability",
                         std::to_string(static_cast<int>(capability)),
                         "TorchCpuCapability::scalar, ::avx2 or ::avx512");
}

inline std::uint32_t float_bits(float value) noexcept {
  std::uint32_t bits = 0;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

inline float float_from_bits(std::uint32_t bits) noexcept {
  float value = 0.0f;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

/// The 32-bit Mersenne Twister MT19937 (Matsumoto & Nishimura 1998) as PyTorch's CPU generator
/// runs it: a 624-word state initialised from the low 32 bits of the seed with the 2002
/// `init_genrand` recurrence, and the standard tempering. Its output equals std::mt19937 seeded
/// with the same 32-bit value.
class Mt19937 {
 public:
  static constexpr std::size_t state_size = 624;

  explicit Mt19937(std::uint32_t seed = 5489u) noexcept { seed_with(seed); }

  void seed_with(std::uint32_t seed) noexcept {
    state_[0] = seed;
    for (std::size_t i = 1; i < state_size; ++i) {
      const std::uint32_t previous = state_[i - 1];
      state_[i] = 1812433253u * (previous ^ (previous >> 30)) + static_cast<std::uint32_t>(i);
    }
    position_ = state_size;  // the first draw regenerates the whole block
  }

  std::uint32_t next() noexcept {
    if (position_ == state_size) regenerate();
    std::uint32_t y = state_[position_++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
  }

 private:
  static constexpr std::size_t shift_size = 397;

  static std::uint32_t twist(std::uint32_t upper_source, std::uint32_t lower_source) noexcept {
    const std::uint32_t joined = (upper_source & 0x80000000u) | (lower_source & 0x7fffffffu);
    return (joined >> 1) ^ ((lower_source & 1u) != 0u ? 0x9908b0dfu : 0u);
  }

  void regenerate() noexcept {
    for (std::size_t i = 0; i < state_size; ++i) {
      const std::uint32_t next_word = state_[(i + 1) % state_size];
      state_[i] = state_[(i + shift_size) % state_size] ^ twist(state_[i], next_word);
    }
    position_ = 0;
  }

  std::array<std::uint32_t, state_size> state_{};
  std::size_t position_ = state_size;
};

/// PyTorch's float uniform on [0, 1): the low 24 bits of one 32-bit draw times 2^-24 (exact).
inline float uniform_float_from_bits(std::uint32_t bits) noexcept {
  return static_cast<float>(bits & 0x00ffffffu) * 0x1p-24f;
}

/// PyTorch's double uniform on [0, 1): the low 53 bits of (first draw << 32 | second draw)
/// times 2^-53 (exact).
inline double uniform_double_from_bits(std::uint64_t bits) noexcept {
  return static_cast<double>(bits & ((std::uint64_t{1} << 53) - 1u)) * 0x1p-53;
}

/// pi as PyTorch's c10::pi<double>.
inline constexpr double torch_pi = 3.14159265358979323846264338327950288;

/// One Box-Muller block of PyTorch's portable `normal_fill_16`: slots j and j + 8 (j < 8) hold
/// uniforms u1' and u2 on entry and the cosine and sine normals on exit, with u1 = 1 - u1' so
/// that the logarithm sees (0, 1]. The angle is formed in double and rounded to float, as
/// PyTorch's `2.0f * c10::pi<double> * u2` is; log, sqrt, cos and sin are float functions.
inline void box_muller_16_scalar(float* data) noexcept {
  for (std::size_t j = 0; j < 8; ++j) {
    const float u1 = 1.0f - data[j];
    const float u2 = data[j + 8];
    const float radius = std::sqrt(-2.0f * std::log(u1));
    const float theta = static_cast<float>(2.0 * torch_pi * static_cast<double>(u2));
    // "* 1 + 0": PyTorch applies std = 1 and mean = 0 here, which turns -0 into +0.
    data[j] = radius * std::cos(theta) + 0.0f;
    data[j + 8] = radius * std::sin(theta) + 0.0f;
  }
}

/// The float64 counterpart of box_muller_16_scalar (all arithmetic in double; PyTorch uses this
/// kernel for float64 on every capability).
inline void box_muller_16_scalar(double* data) noexcept {
  for (std::size_t j = 0; j < 8; ++j) {
    const double u1 = 1.0 - data[j];
    const double u2 = data[j + 8];
    const double radius = std::sqrt(-2.0 * std::log(u1));
    const double theta = 2.0 * torch_pi * u2;
    data[j] = radius * std::cos(theta) + 0.0;
    data[j + 8] = radius * std::sin(theta) + 0.0;
  }
}

/// Constants of the AVX2 kernel's polynomial log/sin/cos (Cephes single-precision coefficients as
/// stored, rounded to float, in PyTorch's avx_mathfun.h; checked against the 1.13.1 binary).
namespace avx2_constants {
inline constexpr float min_normal = 0x1p-126f;
inline constexpr float sqrt_half = 0x1.6a09e6p-1f;
inline constexpr std::array<float, 9> log_poly = {
    0x1.204376p-4f,  -0x1.d7a370p-4f, 0x1.de4a34p-4f,  -0x1.fcba9ep-4f, 0x1.23d37ep-3f,
    -0x1.555ca0p-3f, 0x1.999d58p-3f,  -0x1.fffff8p-3f, 0x1.555554p-2f};
inline constexpr float log_q1 = -0x1.bd0106p-13f;  // -2.12194440e-4
inline constexpr float log_q2 = 0x1.63p-1f;        // 0.693359375
inline constexpr float four_over_pi = 0x1.45f306p+0f;
inline constexpr float minus_dp1 = -0x1.92p-1f;       // -0.78515625
inline constexpr float minus_dp2 = -0x1.fb4p-13f;     // -2.4187564849853515625e-4
inline constexpr float minus_dp3 = -0x1.4442d2p-25f;  // -3.77489497744594108e-8
inline constexpr std::array<float, 3> cos_poly = {0x1.99eb9cp-16f, -0x1.6c0c34p-10f,
                                                  0x1.55554ap-5f};
inline constexpr std::array<float, 3> sin_poly = {-0x1.9943f2p-13f, 0x1.11073cp-7f,
                                                  -0x1.555546p-3f};
inline constexpr float two_pi = 0x1.921fb6p+2f;  // float(2 * pi)
}  // namespace avx2_constants

/// Natural logarithm as PyTorch's AVX2 kernel evaluates it (one lane of `log256_ps`), with its
/// multiply-adds fused exactly where GCC fused them in the shipped binary. Inputs are in (0, 1]
/// here, but the function follows the kernel for any float (NaN for x <= 0).
inline float avx2_log(float x) noexcept {
  namespace c = avx2_constants;
  const bool invalid = x <= 0.0f;
  x = x > c::min_normal ? x : c::min_normal;
  std::uint32_t bits = float_bits(x);
  const auto exponent = static_cast<std::int32_t>(bits >> 23) - 127;
  bits = (bits & ~0x7f800000u) | 0x3f000000u;  // mantissa scaled into [0.5, 1)
  x = float_from_bits(bits);
  float e = static_cast<float>(exponent) + 1.0f;
  const bool below = x < c::sqrt_half;
  const float kept = below ? x : 0.0f;
  x = x - 1.0f;
  e = e - (below ? 1.0f : 0.0f);
  x = x + kept;
  const float z = x * x;
  float y = c::log_poly[0];
  for (std::size_t i = 1; i < c::log_poly.size(); ++i) y = std::fma(y, x, c::log_poly[i]);
  y = y * x;
  y = std::fma(y, z, e * c::log_q1);
  y = y - z * 0.5f;  // exact product: fused or not, the same value
  x = x + y;
  x = std::fma(e, c::log_q2, x);
  return invalid ? float_from_bits(0xffffffffu) : x;
}

/// Sine and cosine as PyTorch's AVX2 kernel evaluates them (one lane of `sincos256_ps`: octant
/// reduction with a three-part pi/4, Cephes polynomials, branch-free selection), fused like the
/// shipped binary. Valid for |x| < 2^31 / (4 / pi); PyTorch only passes [0, 2 pi).
inline void avx2_sincos(float x, float& sine, float& cosine) noexcept {
  namespace c = avx2_constants;
  const std::uint32_t input_bits = float_bits(x);
  std::uint32_t sign_sin = input_bits & 0x80000000u;
  const float ax = float_from_bits(input_bits & 0x7fffffffu);
  auto octant = static_cast<std::int32_t>(ax * c::four_over_pi);  // truncation, like cvttps2dq
  octant = (octant + 1) & ~1;
  const float octant_f = static_cast<float>(octant);
  const auto swap_sin = static_cast<std::uint32_t>(octant & 4) << 29;
  const bool sin_uses_sine_poly = (octant & 2) == 0;
  float r = std::fma(octant_f, c::minus_dp1, ax);
  r = std::fma(octant_f, c::minus_dp2, r);
  r = std::fma(octant_f, c::minus_dp3, r);
  const auto sign_cos = static_cast<std::uint32_t>(~(octant - 2) & 4) << 29;
  sign_sin ^= swap_sin;

  const float z = r * r;
  float yc = std::fma(c::cos_poly[0], z, c::cos_poly[1]);
  yc = std::fma(yc, z, c::cos_poly[2]);
  yc = yc * z;
  yc = std::fma(yc, z, -(z * 0.5f));
  yc = yc + 1.0f;
  float ys = std::fma(c::sin_poly[0], z, c::sin_poly[1]);
  ys = std::fma(ys, z, c::sin_poly[2]);
  ys = ys * z;
  ys = std::fma(ys, r, r);

  // The kernel selects with bit masks and then adds the pieces; replay that arithmetic (it only
  // matters for signed zeros, but it is free).
  const float sin_from_sine = sin_uses_sine_poly ? ys : 0.0f;
  const float sin_from_cosine = sin_uses_sine_poly ? 0.0f : yc;
  const float sine_rest = ys - sin_from_sine;
  const float cosine_rest = yc - sin_from_cosine;
  const float s = sin_from_cosine + sin_from_sine;
  const float co = sine_rest + cosine_rest;
  sine = float_from_bits(float_bits(s) ^ sign_sin);
  cosine = float_from_bits(float_bits(co) ^ sign_cos);
}

/// One Box-Muller block of PyTorch's `normal_fill_16_AVX2` (same slot layout as
/// box_muller_16_scalar): angle = float(2 pi) * u2 in float, polynomial log and sincos.
inline void box_muller_16_avx2(float* data) noexcept {
  for (std::size_t j = 0; j < 8; ++j) {
    const float u1 = 1.0f - data[j];
    const float u2 = data[j + 8];
    const float radius = std::sqrt(-2.0f * avx2_log(u1));
    const float theta = avx2_constants::two_pi * u2;
    float sine = 0.0f;
    float cosine = 0.0f;
    avx2_sincos(theta, sine, cosine);
    data[j] = radius * cosine + 0.0f;  // fmadd(n, std = 1, mean = 0)
    data[j + 8] = radius * sine + 0.0f;
  }
}

/// Philox4x32-10 (Salmon et al., SC'11) as in Random123 and cuRAND: ten rounds on a 128-bit
/// counter with a 64-bit key, the key bumped by the Weyl constants between rounds.
inline std::array<std::uint32_t, 4> philox4x32_10(std::array<std::uint32_t, 4> counter,
                                                  std::array<std::uint32_t, 2> key) noexcept {
  constexpr std::uint64_t multiplier_0 = 0xD2511F53u;
  constexpr std::uint64_t multiplier_1 = 0xCD9E8D57u;
  constexpr std::uint32_t weyl_0 = 0x9E3779B9u;
  constexpr std::uint32_t weyl_1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      key[0] += weyl_0;
      key[1] += weyl_1;
    }
    const std::uint64_t product_0 = multiplier_0 * counter[0];
    const std::uint64_t product_1 = multiplier_1 * counter[2];
    counter = {static_cast<std::uint32_t>(product_1 >> 32) ^ counter[1] ^ key[0],
               static_cast<std::uint32_t>(product_1),
               static_cast<std::uint32_t>(product_0 >> 32) ^ counter[3] ^ key[1],
               static_cast<std::uint32_t>(product_0)};
  }
  return counter;
}

/// The radius and angle of cuRAND's `_curand_box_muller` for two 32-bit words, as compiled for the
/// GPU: u = x 2^-32 + 2^-33 and v = fma(y, 2pi 2^-32, pi 2^-32) in float (nvcc fuses the latter
/// by default; u is exact either way), radius = sqrtf(-2 logf(u)). The GPU's logf is accurate to
/// 1 ulp; here the correctly rounded value (from double) is used.
struct CurandPolar {
  float radius = 0.0f;
  float angle = 0.0f;
};

inline CurandPolar curand_polar(std::uint32_t x, std::uint32_t y) noexcept {
  constexpr float two_pow_32_inv = 0x1p-32f;
  constexpr float two_pow_32_inv_2pi = 0x1p-32f * 0x1.921fb6p+2f;  // as float, exactly
  const float u = static_cast<float>(x) * two_pow_32_inv + two_pow_32_inv * 0.5f;
  const float v = std::fma(static_cast<float>(y), two_pow_32_inv_2pi, two_pow_32_inv_2pi * 0.5f);
  const auto log_u = static_cast<float>(std::log(static_cast<double>(u)));
  return {std::sqrt(-2.0f * log_u), v};
}

/// The first (sine) output of `_curand_box_muller`: sin(v) * radius in float. The GPU evaluates
/// sin with the approximate `__sincosf` intrinsic; here it is the correctly rounded value
/// (computed in double), so results differ from a GPU by about 2^-21 times the radius (the
/// intrinsic's error).
inline float curand_polar_sine(CurandPolar polar) noexcept {
  return static_cast<float>(std::sin(static_cast<double>(polar.angle))) * polar.radius;
}

/// The second (cosine) output of `_curand_box_muller`, like curand_polar_sine.
inline float curand_polar_cosine(CurandPolar polar) noexcept {
  return static_cast<float>(std::cos(static_cast<double>(polar.angle))) * polar.radius;
}

/// Both outputs of cuRAND's `_curand_box_muller(x, y)` (see curand_polar).
inline void curand_box_muller(std::uint32_t x, std::uint32_t y, float& first,
                              float& second) noexcept {
  const CurandPolar polar = curand_polar(x, y);
  first = curand_polar_sine(polar);
  second = curand_polar_cosine(polar);
}

}  // namespace detail

/// Reproduces PyTorch's CPU random generator for `torch.randn`:
///
///     g = torch.Generator().manual_seed(seed)      # or torch.manual_seed(seed), which seeds the
///     torch.randn(n, generator=g)                  # global CPU generator the same way
///     torch.randn(n, generator=g, dtype=torch.float64)
///
/// Each randn() call writes what one such `torch.randn` call returns and leaves the generator in
/// the state PyTorch's would be in, so any sequence of calls continues the same stream (shapes do
/// not matter: `torch.randn(2, 8)` draws what `torch.randn(16)` draws). Bit-for-bit for float64
/// and for float32, given the capability PyTorch ran with. The avx2/avx512 float32 kernel is pure
/// arithmetic; float64, n < 16 and the scalar float32 kernel call the C library's log/sin/cos
/// as PyTorch does, so they assume the same C library (verified on glibc 2.36).
/// `torch.manual_seed(seed)` followed by calls without `generator=` is the same stream as a
/// fresh `torch.Generator().manual_seed(seed)`.
///
/// How PyTorch 1.13 samples (details in docs/noise.md):
///   * n < 16 (float32 and float64): pairs of double uniforms (two 32-bit draws each) through
///     r = sqrt(-2 log(1 - u2)), theta = 2 pi u1; returns r cos(theta) and
///     caches r sin(theta) in the generator for the next small-path value (float32 output is the
///     double rounded). The cache survives across calls and is cleared by manual_seed().
///   * n >= 16: n uniforms (float: 24 bits of one draw; double: 53 bits of two draws) are made
///     first; every aligned block of 16 becomes 16 normals (slot j pairs with slot j + 8); if n is
///     not a multiple of 16, 16 fresh uniforms overwrite the last 16 slots and become the last 16
///     normals. The cache is neither read nor written.
///
/// Versions: later PyTorch releases compute the n < 16 path with log1p(-u2) instead of
/// log(1 - u2); both take the logarithm of the same exactly representable number, so they can
/// differ only where the two library functions round differently (last bit, rarely). Not
/// verified against releases other than 1.13.1.
///
/// Not thread-safe: use one generator per thread (PyTorch locks a mutex instead). Copying a
/// generator copies its whole state (like saving and restoring `Generator.get_state()`).
class TorchCpuGenerator {
 public:
  /// A generator as after `torch.Generator().manual_seed(seed)`. Every 64-bit value is accepted;
  /// as in PyTorch, only its low 32 bits seed MT19937 (seeds equal modulo 2^32 give the same
  /// stream), while initial_seed() keeps the full value. Python's negative seeds map to
  /// 2^64 + seed. `capability` selects the float32 n >= 16 kernel (default: avx2, which is what
  /// PyTorch runs on x86-64 CPUs with AVX2; choose scalar to match ARM machines or
  /// `ATEN_CPU_CAPABILITY=default`). Throws std::invalid_argument for an invalid capability.
  explicit TorchCpuGenerator(std::uint64_t seed,
                             TorchCpuCapability capability = TorchCpuCapability::avx2)
      : capability_(capability) {
    detail::check_capability("ddim::TorchCpuGenerator", capability);
    manual_seed(seed);
  }

  /// Re-seeds as `Generator.manual_seed(seed)`: new MT19937 state from the low 32 bits, cached
  /// normal cleared.
  void manual_seed(std::uint64_t seed) noexcept {
    seed_ = seed;
    engine_.seed_with(static_cast<std::uint32_t>(seed & 0xffffffffu));
    cached_normal_.reset();
  }

  /// The seed last given (all 64 bits), as `Generator.initial_seed()`.
  std::uint64_t initial_seed() const noexcept { return seed_; }

  /// The capability whose float32 kernel is imitated.
  TorchCpuCapability capability() const noexcept { return capability_; }

  /// Changes the imitated capability; the stream position is unaffected (all kernels consume the
  /// same draws). Throws std::invalid_argument for a value outside the enumeration.
  void set_capability(TorchCpuCapability capability) {
    detail::check_capability("ddim::TorchCpuGenerator::set_capability", capability);
    capability_ = capability;
  }

  /// The second Box-Muller value PyTorch keeps for its next small-path normal (what
  /// `torch.get_rng_state()` stores as `normal_y` with `normal_is_valid` set), if any.
  std::optional<double> cached_normal() const noexcept { return cached_normal_; }

  /// One raw 32-bit MT19937 output (PyTorch's `CPUGeneratorImpl::random()`), advancing the
  /// stream by one draw. For tests and for building other PyTorch distributions.
  std::uint32_t next_uint32() noexcept { return engine_.next(); }

  /// Writes what `torch.randn(n, generator=g)` (float32) returns into out[0..n) and advances the
  /// stream as PyTorch does. n = 0 draws nothing. Allocates nothing; O(n).
  /// Throws std::invalid_argument if out is null and n > 0 (the generator is then unchanged).
  void randn(float* out, std::size_t n) {
    if (out == nullptr && n > 0) {
      detail::throw_null_output("ddim::TorchCpuGenerator::randn(float*)", n);
    }
    if (n < 16) {
      for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<float>(small_path_normal());
      return;
    }
    for (std::size_t i = 0; i < n; ++i) out[i] = detail::uniform_float_from_bits(engine_.next());
    const bool vectorised = capability_ != TorchCpuCapability::scalar;
    const auto transform = [vectorised](float* block) {
      if (vectorised) {
        detail::box_muller_16_avx2(block);
      } else {
        detail::box_muller_16_scalar(block);
      }
    };
    for (std::size_t i = 0; i + 16 <= n; i += 16) transform(out + i);
    if (n % 16 != 0) {
      float* last = out + (n - 16);
      for (std::size_t i = 0; i < 16; ++i) {
        last[i] = detail::uniform_float_from_bits(engine_.next());
      }
      transform(last);
    }
  }

  /// Writes what `torch.randn(n, generator=g, dtype=torch.float64)` returns into out[0..n) and
  /// advances the stream as PyTorch does (the same on every capability). n = 0 draws nothing.
  /// Allocates nothing; O(n). Throws std::invalid_argument if out is null and n > 0.
  void randn(double* out, std::size_t n) {
    if (out == nullptr && n > 0) {
      detail::throw_null_output("ddim::TorchCpuGenerator::randn(double*)", n);
    }
    if (n < 16) {
      for (std::size_t i = 0; i < n; ++i) out[i] = small_path_normal();
      return;
    }
    for (std::size_t i = 0; i < n; ++i) out[i] = next_uniform_double();
    for (std::size_t i = 0; i + 16 <= n; i += 16) detail::box_muller_16_scalar(out + i);
    if (n % 16 != 0) {
      double* last = out + (n - 16);
      for (std::size_t i = 0; i < 16; ++i) last[i] = next_uniform_double();
      detail::box_muller_16_scalar(last);
    }
  }

 private:
  double next_uniform_double() noexcept {
    const std::uint64_t high = engine_.next();
    const std::uint64_t low = engine_.next();
    return detail::uniform_double_from_bits((high << 32) | low);
  }

  // PyTorch's at::normal_distribution<double> with mean 0 and std 1 on this generator.
  double small_path_normal() noexcept {
    if (cached_normal_) {
      const double value = *cached_normal_;
      cached_normal_.reset();
      return value + 0.0;  // "* std + mean" on the cached value
    }
    const double u1 = next_uniform_double();
    const double u2 = next_uniform_double();
    const double r = std::sqrt(-2.0 * std::log(1.0 - u2));
    const double theta = 2.0 * detail::torch_pi * u1;
    cached_normal_ = r * std::sin(theta);
    return r * std::cos(theta) + 0.0;
  }

  detail::Mt19937 engine_;
  std::optional<double> cached_normal_;
  std::uint64_t seed_ = 0;
  TorchCpuCapability capability_ = TorchCpuCapability::avx2;
};

/// The two properties of a CUDA device that PyTorch's launch configuration for random kernels
/// reads (`cudaDeviceProp::multiProcessorCount` and `maxThreadsPerMultiProcessor`, printed by
/// `torch.cuda.get_device_properties(0)`). They decide which output element comes from which
/// Philox counter once a tensor has more than 256 * multiprocessor_count *
/// (max_threads_per_multiprocessor / 256) elements; below that every device gives the same values.
/// The presets are the data-sheet values of common boards; a MIG slice or another board needs its
/// own numbers. The default is the A100 (108 SMs, 2048 threads per SM: one wave = 221184 threads).
struct CudaDeviceProperties {
  std::uint32_t multiprocessor_count = 108;
  std::uint32_t max_threads_per_multiprocessor = 2048;

  static constexpr CudaDeviceProperties a100() noexcept { return {108, 2048}; }
  static constexpr CudaDeviceProperties h100_sxm() noexcept { return {132, 2048}; }
  static constexpr CudaDeviceProperties h100_pcie() noexcept { return {114, 2048}; }
  static constexpr CudaDeviceProperties a10g() noexcept { return {80, 1536}; }
  static constexpr CudaDeviceProperties l4() noexcept { return {58, 1536}; }
  static constexpr CudaDeviceProperties t4() noexcept { return {40, 1024}; }
  static constexpr CudaDeviceProperties rtx_3090() noexcept { return {82, 1536}; }
  static constexpr CudaDeviceProperties rtx_4090() noexcept { return {128, 1536}; }
  static constexpr CudaDeviceProperties rtx_a4000() noexcept { return {48, 1536}; }
  static constexpr CudaDeviceProperties rtx_a6000() noexcept { return {84, 1536}; }
};

/// The launch PyTorch makes for a CUDA random kernel over n elements (`calc_execution_policy`):
/// blocks of 256 threads, at most multiprocessor_count * (max_threads_per_multiprocessor / 256)
/// blocks; each thread makes `draws_per_thread` cuRAND 4-word draws, and the generator's Philox
/// offset advances by `offset_increment` (= 4 * draws_per_thread).
struct CudaLaunchLayout {
  std::uint64_t blocks = 0;
  std::uint64_t threads = 0;  ///< blocks * 256: the grid stride
  std::uint64_t draws_per_thread = 0;
  std::uint64_t offset_increment = 0;
};

namespace detail {

// A device PyTorch can launch its 256-thread randn blocks on: at least one SM, 256 threads each.
inline void validate_cuda_properties(std::string_view where, CudaDeviceProperties properties) {
  if (properties.multiprocessor_count == 0) {
    fail_text(std::string(where), "properties.multiprocessor_count", "0", ">= 1");
  }
  if (properties.max_threads_per_multiprocessor < 256) {
    fail_text(std::string(where), "properties.max_threads_per_multiprocessor",
              std::to_string(properties.max_threads_per_multiprocessor), ">= 256");
  }
}

}  // namespace detail

/// The launch layout PyTorch uses for `torch.randn(n, device="cuda")` (float32) on a device with
/// `properties`. Throws std::invalid_argument for n = 0 (PyTorch launches nothing) or for
/// properties with no SM or fewer than 256 threads per SM.
inline CudaLaunchLayout cuda_randn_launch_layout(std::size_t n, CudaDeviceProperties properties) {
  constexpr std::string_view where = "ddim::cuda_randn_launch_layout";
  if (n == 0) detail::fail_text(std::string(where), "n", "0", "n >= 1");
  detail::validate_cuda_properties(where, properties);
  constexpr std::uint64_t block_size = 256;
  constexpr std::uint64_t values_per_draw = 4;  // curand_normal4
  const std::uint64_t count = n;
  const std::uint64_t wanted_blocks = (count + block_size - 1) / block_size;
  const std::uint64_t max_blocks = std::uint64_t{properties.multiprocessor_count} *
                                   (properties.max_threads_per_multiprocessor / block_size);
  CudaLaunchLayout layout;
  layout.blocks = wanted_blocks < max_blocks ? wanted_blocks : max_blocks;
  layout.threads = layout.blocks * block_size;
  layout.draws_per_thread = (count - 1) / (layout.threads * values_per_draw) + 1;
  layout.offset_increment = layout.draws_per_thread * values_per_draw;
  return layout;
}

/// Reproduces PyTorch's CUDA generator for float32 `torch.randn`:
///
///     g = torch.Generator("cuda").manual_seed(seed)    # or torch.manual_seed(seed) and the
///     torch.randn(n, device="cuda", generator=g)       # default CUDA generator
///
/// Algorithm (PyTorch 1.13 `distribution_nullary_kernel` with cuRAND's Philox4x32-10): a call
/// over n elements launches T = 256 * blocks threads (cuda_randn_launch_layout); thread t runs
/// `curand_init(seed, t, offset)`, i.e. key = seed (low word first) and counter = (offset / 4 +
/// k, t) for its k-th draw, and each draw is `curand_normal4`: the 4 Philox words become two
/// Box-Muller pairs (sin, cos, sin, cos). Element i = t + T (4 k + c) receives component c of
/// draw k of thread t. After the call the offset grows by 4 * draws per thread, which is 4 for
/// every n <= 4 T. For n <= T (the common case) element i is simply the first (sine) value of
/// Philox block (seed, counter = (offset / 4, i)).
///
/// Accuracy: the Philox words, the element mapping and the offsets are exact; the GPU then uses
/// the approximate `__sincosf` intrinsic and a 1-ulp logf, which cannot be replicated on a CPU,
/// so values agree with a GPU to about 2^-21 times the Box-Muller radius (which is at most 6.8),
/// i.e. within a few 1e-6 absolute and typically a few float ulps (more, in ulps, near zero).
/// Checked against published GPU printouts (4 decimals, several boards) and the Random123
/// known-answer vectors; no GPU was available to compare all bits (see docs/noise.md).
///
/// Versions: the float32 kernel, its launch layout and the offset arithmetic are unchanged in
/// PyTorch 2.x (which only widens the indices to 64 bits); the published values the tests use
/// come from PyTorch 1.11, 2.0 and 2.5. float64, float16 and bfloat16 are not reproduced.
///
/// Not thread-safe; copies are independent generators.
class TorchCudaGenerator {
 public:
  /// A generator as after `torch.Generator("cuda").manual_seed(seed)`: all 64 bits form the
  /// Philox key, the offset is 0. `properties` describes the GPU being imitated (only matters
  /// for n above one wave of threads). Throws std::invalid_argument for properties that
  /// cuda_randn_launch_layout rejects.
  explicit TorchCudaGenerator(std::uint64_t seed, CudaDeviceProperties properties = {})
      : properties_(properties) {
    detail::validate_cuda_properties("ddim::TorchCudaGenerator", properties);
    manual_seed(seed);
  }

  /// Re-seeds as `Generator.manual_seed(seed)`: key = seed, Philox offset = 0.
  void manual_seed(std::uint64_t seed) noexcept {
    seed_ = seed;
    offset_ = 0;
  }

  /// The seed last given, as `Generator.initial_seed()`.
  std::uint64_t initial_seed() const noexcept { return seed_; }

  /// PyTorch's `philox_offset_per_thread` (what recent releases return from
  /// `Generator.get_offset()`): the number of 32-bit Philox outputs each thread has consumed;
  /// always a multiple of 4.
  std::uint64_t philox_offset() const noexcept { return offset_; }

  /// Sets the Philox offset (like `Generator.set_offset` in recent releases), e.g. to resume a
  /// stream. Throws std::invalid_argument unless offset is a multiple of 4.
  void set_philox_offset(std::uint64_t offset) {
    if (offset % 4 != 0) {
      detail::fail_text("ddim::TorchCudaGenerator::set_philox_offset", "offset",
                                     std::to_string(offset), "a multiple of 4");
    }
    offset_ = offset;
  }

  /// The device whose launch layout is imitated.
  CudaDeviceProperties device_properties() const noexcept { return properties_; }

  /// Changes the imitated device (takes effect from the next call). Throws
  /// std::invalid_argument for properties that cuda_randn_launch_layout rejects.
  void set_device_properties(CudaDeviceProperties properties) {
    detail::validate_cuda_properties("ddim::TorchCudaGenerator::set_device_properties", properties);
    properties_ = properties;
  }

  /// Writes (an approximation, see the class comment) of `torch.randn(n, device="cuda",
  /// generator=g)` into out[0..n) and advances the offset as PyTorch does. n = 0 leaves the
  /// offset unchanged, as in PyTorch. Allocates nothing; O(n).
  /// Throws std::invalid_argument if out is null and n > 0, or if n > 2^29 (PyTorch 1.13 then
  /// splits the launch into 32-bit-indexable pieces, which is not reproduced); the generator is
  /// unchanged when it throws.
  void randn(float* out, std::size_t n) {
    constexpr std::string_view where = "ddim::TorchCudaGenerator::randn";
    if (out == nullptr && n > 0) detail::throw_null_output(where, n);
    if (n > max_elements) {
      detail::fail_text(std::string(where), "n", std::to_string(n),
                                     "n <= 536870912 (2^29, one 32-bit-indexed launch)");
    }
    if (n == 0) return;
    const CudaLaunchLayout layout = cuda_randn_launch_layout(n, properties_);
    const std::uint64_t first_block = offset_ / 4;
    offset_ += layout.offset_increment;
    const std::uint64_t count = n;
    const std::array<std::uint32_t, 2> key = {static_cast<std::uint32_t>(seed_),
                                              static_cast<std::uint32_t>(seed_ >> 32)};
    for (std::uint64_t draw = 0; draw < layout.draws_per_thread; ++draw) {
      const std::uint64_t low = first_block + draw;
      const std::uint64_t carry = low < first_block ? 1u : 0u;
      const std::uint64_t base = draw * 4 * layout.threads;
      for (std::uint64_t thread = 0; thread < layout.threads; ++thread) {
        const std::uint64_t element = base + thread;
        if (element >= count) break;  // later threads of this draw are beyond n as well
        const std::uint64_t high = thread + carry;
        const std::array<std::uint32_t, 4> words = detail::philox4x32_10(
            {static_cast<std::uint32_t>(low), static_cast<std::uint32_t>(low >> 32),
             static_cast<std::uint32_t>(high), static_cast<std::uint32_t>(high >> 32)},
            key);
        store_pair(out, count, element, layout.threads, words[0], words[1]);
        const std::uint64_t third = element + 2 * layout.threads;
        if (third < count) store_pair(out, count, third, layout.threads, words[2], words[3]);
      }
    }
  }

  /// Largest n one randn() call accepts: 2^29 float32 elements (PyTorch 1.13 uses one
  /// 32-bit-indexed launch while the tensor spans at most 2^31 - 1 bytes).
  static constexpr std::size_t max_elements = std::size_t{1} << 29;

 private:
  // Components (sin, cos) of one Box-Muller pair go to `element` and `element + stride`; the
  // cosine is only evaluated when its element exists.
  static void store_pair(float* out, std::uint64_t count, std::uint64_t element,
                         std::uint64_t stride, std::uint32_t x, std::uint32_t y) noexcept {
    const detail::CurandPolar polar = detail::curand_polar(x, y);
    out[element] = detail::curand_polar_sine(polar) + 0.0f;  // "* std + mean", std 1, mean 0
    if (element + stride < count) {
      out[element + stride] = detail::curand_polar_cosine(polar) + 0.0f;
    }
  }

  CudaDeviceProperties properties_;
  std::uint64_t seed_ = 0;
  std::uint64_t offset_ = 0;
};

inline std::string_view torch_cpu_capability_name(TorchCpuCapability capability) {
  detail::check_capability("ddim::torch_cpu_capability_name", capability);
  switch (capability) {
    case TorchCpuCapability::scalar:
      return "default";
    case TorchCpuCapability::avx2:
      return "avx2";
    case TorchCpuCapability::avx512:
      return "avx512";
  }
  return "default";  // unreachable: check_capability threw
}

inline TorchCpuCapability parse_torch_cpu_capability(std::string_view name) {
  if (name == "default") return TorchCpuCapability::scalar;
  if (name == "avx2") return TorchCpuCapability::avx2;
  if (name == "avx512") return TorchCpuCapability::avx512;
  detail::fail_text("ddim::parse_torch_cpu_capability", "name",
                                 "\"" + std::string(name) + "\"",
                                 "\"default\", \"avx2\" or \"avx512\"");
}

}  // namespace ddim

#endif  // DDIM_TORCH_GENERATOR_HPP
