// ddim: header-only DDIM/DDPM samplers. MIT licence.
//
// detail/noise_simd.hpp: the kernels that compute whole chunks of ddim's Gaussian noise (64 values
// from 16 Philox blocks, see noise_spec.hpp) and the helpers built on them. For now every target
// runs the portable lane code of noise_spec.hpp, which compilers auto-vectorize.
#ifndef DDIM_DETAIL_NOISE_SIMD_HPP
#define DDIM_DETAIL_NOISE_SIMD_HPP

#include <cstdint>
#include <type_traits>

#include "noise_spec.hpp"

namespace ddim {
namespace detail {

/// The kernel set compiled into this translation unit ("portable").
inline constexpr const char* kNoiseKernel = "portable";
/// Partial chunks of at most this many values are cheaper value by value through the scalar
/// definition (about 27 ns a value on Zen 5) than through a whole chunk of the portable code
/// (100-200 ns float, 140-350 ns double, depending on the vector width the compiler targets).
template <class Real>
inline constexpr unsigned kNoiseValueByValue = std::is_same_v<Real, float> ? 6 : 10;

/// The raw Philox4x32-10 words behind `chunks` chunks from first_block, in the values' layout
/// (word k of block first_block + 16 c + lane at out[64 c + 16 k + lane]), by the compiled
/// kernel's Philox: the random bits without the Box-Muller transform (its cost is the floor of
/// the generator's).
DDIM_STRICT_FP_FUNCTION inline void philox_chunks(const NoiseStream& stream, std::uint32_t first_block, std::uint64_t chunks,
                                                  std::uint32_t* out) {
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
}

/// The compiled kernel's Box-Muller transform applied to 16 chosen word pairs: (first[i],
/// second[i]) from (radius_words[i], angle_words[i]), through the same code as the chunks (the
/// words take the place of Philox output words 0 and 1). For tests on edge-case words.
template <class Real>
DDIM_STRICT_FP_FUNCTION inline void box_muller_lanes(const std::uint32_t (&radius_words)[kNoiseChunkBlocks],
                                                     const std::uint32_t (&angle_words)[kNoiseChunkBlocks],
                                                     Real (&first)[kNoiseChunkBlocks], Real (&second)[kNoiseChunkBlocks]) {
  Real values[kNoiseChunkValues];
  for (int lane = 0; lane < kNoiseChunkBlocks; ++lane) {
    box_muller<Real>(radius_words[lane], angle_words[lane], values[lane], values[kNoiseChunkBlocks + lane]);
  }
  for (int lane = 0; lane < kNoiseChunkBlocks; ++lane) {
    first[lane] = values[lane];
    second[lane] = values[kNoiseChunkBlocks + lane];
  }
}

/// Writes `chunks` whole chunks (64 values each) whose first Philox block is first_block.
template <class Real>
DDIM_STRICT_FP_FUNCTION inline void normal_chunks(const NoiseStream& stream, std::uint32_t first_block, std::uint64_t chunks,
                                                  Real* out) {
  for (; chunks != 0; --chunks) {
    normal_chunk_portable<Real>(stream, first_block, out);
    first_block += kNoiseChunkBlocks;
    out += kNoiseChunkValues;
  }
}

}  // namespace detail
}  // namespace ddim

#endif  // DDIM_DETAIL_NOISE_SIMD_HPP
