// ddim: the no_noise tag, shared by the step kernels and the sampling loop.
#ifndef DDIM_DETAIL_NO_NOISE_HPP
#define DDIM_DETAIL_NO_NOISE_HPP

namespace ddim {

/// The "no noise" tag: the step without its noise term, or a sampling loop without a noise
/// source (deterministic samplers). A loop whose options add noise throws before its first step
/// when given no_noise.
struct NoNoise {};
inline constexpr NoNoise no_noise{};

}  // namespace ddim

#endif  // DDIM_DETAIL_NO_NOISE_HPP
