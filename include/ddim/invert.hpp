// ddim: header-only DDIM/DDPM samplers. MIT licence.
//
// invert.hpp: the deterministic encoder x_0 -> x_T (DDIM inversion: eq. 14 integrated from clean
// data towards noise, eta = 0) and the reconstruction error of decode(encode(x_0)). DDIM is the
// only sampler of the family whose latent x_T determines x_0, which is what makes encoding,
// reconstruction and latent interpolation meaningful.
#ifndef DDIM_INVERT_HPP
#define DDIM_INVERT_HPP

#include <string>
#include <utility>

#include "config.hpp"
#include "detail/validate.hpp"
#include "observer.hpp"
#include "options.hpp"
#include "sample.hpp"
#include "schedule.hpp"
#include "timesteps.hpp"

namespace ddim {

/// Encodes x in place, x_0 -> x_T, over the mirror of `timesteps` (see SamplingPlan::encoding):
/// decoding the result with ddim::sample and the same schedule, timesteps and options walks the
/// same alpha_bar values in reverse. `model_time` chooses where the model is evaluated (the
/// paper's ODE: ModelTime::source; diffusers' DDIMInverseScheduler: ModelTime::destination).
/// Options must be deterministic DDIM (Method::ddim, eta = 0); prediction, clipping and
/// final_alpha_bar (diffusers' set_alpha_to_one) apply. Throws std::invalid_argument for an
/// invalid configuration, before the first step.
template <class Scalar, class State, class Model, class Observer = NullObserver>
SampleResult invert(const NoiseSchedule<Scalar>& schedule, const Timesteps& timesteps, const Options& options,
                    ModelTime model_time, State&& x, Model&& model, Observer&& observer = Observer{}) {
  Sampler<Scalar> encoder(SamplingPlan<Scalar>::encoding(schedule, timesteps, options, model_time));
  return encoder.sample(std::forward<State>(x), std::forward<Model>(model), no_noise,
                        std::forward<Observer>(observer));
}

/// The per-element mean squared error of decode(encode(x0)) against x0: encode with `invert`,
/// decode with `sample` (same schedule, timesteps and options), compare. This is the paper's
/// table 2 quantity. Allocates a copy of x0; throws as invert and sample do.
template <class Scalar, class Derived, class Model>
double reconstruction_error(const NoiseSchedule<Scalar>& schedule, const Timesteps& timesteps,
                            const Options& options, ModelTime model_time, const Eigen::DenseBase<Derived>& x0,
                            Model&& model) {
  static_assert(std::is_same_v<typename Derived::Scalar, Scalar>,
                "ddim::reconstruction_error: x0 must have the schedule's scalar type");
  Eigen::Array<Scalar, Eigen::Dynamic, Eigen::Dynamic> x = x0.derived().array();
  invert(schedule, timesteps, options, model_time, x, model);
  Sampler<Scalar> decoder(schedule, timesteps, options);
  decoder.sample(x, model, no_noise);
  if (x.size() == 0) return 0.0;
  return (x.template cast<double>() - x0.derived().array().template cast<double>()).square().mean();
}

}  // namespace ddim

#endif  // DDIM_INVERT_HPP
