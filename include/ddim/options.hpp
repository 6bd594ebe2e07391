// ddim: header-only DDIM/DDPM samplers. MIT licence.
//
// options.hpp: the configuration of the update rule shared by every step of a sampling loop:
// which family of step (DDIM with eta, or the DDPM posterior with a variance type), what the model
// predicts, how x0 is clipped, and which alpha_bar the last step lands on.
#ifndef DDIM_OPTIONS_HPP
#define DDIM_OPTIONS_HPP

#include <cmath>
#include <string>

#include "config.hpp"
#include "detail/validate.hpp"
#include "prediction.hpp"

namespace ddim {

/// The family of the update x_t -> x_prev.
enum class Method {
  /// The generalized step of the DDIM paper (eq. 12) with sigma(eta) from eq. 16: eta = 0 is the
  /// deterministic DDIM sampler, eta = 1 is exactly the DDPM ancestral step (fixed-small
  /// variance) on the respaced schedule. diffusers DDIMScheduler; paper code `generalized_steps`.
  ddim,
  /// The DDPM posterior step (Ho et al. 2020, eq. 6-7 on the respaced schedule): the mean of
  /// q(x_prev | x_t, x0_pred) with the variance chosen by `Options::variance`; no noise is added
  /// at the last step. diffusers DDPMScheduler; paper code `ddpm_steps` (with fixed_large).
  ddpm
};

/// The variance of Method::ddpm, with beta' = 1 - alpha_bar_t / alpha_bar_prev (the respaced
/// beta) and beta~ = (1 - alpha_bar_prev) / (1 - alpha_bar_t) beta' (the posterior variance).
enum class Variance {
  fixed_small,   ///< beta~ (diffusers "fixed_small" and "fixed_small_log": the same distribution)
  fixed_large,   ///< beta'; the DDIM paper's sigma-hat row (diffusers "fixed_large"; its
                 ///< "fixed_large_log" takes the square root of a logarithm and yields NaN)
  learned_range  ///< exp(f log beta' + (1 - f) log beta~), f = (v + 1) / 2 from a second model
                 ///< output v (improved DDPM; diffusers "learned_range"); v is clamped to [-1, 1]
};

/// The alpha_bar the last step lands on (t_prev = -1), diffusers `set_alpha_to_one`.
enum class FinalAlphaBar {
  one,         ///< 1: the last step returns the predicted x0 (paper code; set_alpha_to_one=True)
  alpha_bar_0  ///< alpha_bar at timestep 0 (set_alpha_to_one=False)
};

/// The configuration of a step. An aggregate: set the fields you need, the rest keep the
/// defaults of the paper's deterministic DDIM sampler. Validated where a step or a sampling plan
/// is built (`validate`), never inside the per-step update.
struct Options {
  /// The step family: the DDIM step of eq. 12 (default) or the DDPM posterior step.
  Method method = Method::ddim;
  /// eta of eq. 16 for Method::ddim: 0 = deterministic DDIM, 1 = DDPM. Any finite eta >= 0 whose
  /// sigma stays within sqrt(1 - alpha_bar_prev) at every step (always true for eta <= 1).
  double eta = 0.0;
  /// For Method::ddim with eta > 1: clamp sigma^2 to 1 - alpha_bar_prev instead of rejecting a
  /// configuration where sigma(eta)^2 > 1 - alpha_bar_prev (eq. 12 would take the square root of a
  /// negative number; diffusers returns NaN there).
  bool clamp_sigma = false;
  /// The variance of Method::ddpm.
  Variance variance = Variance::fixed_small;
  /// What the model predicts.
  Prediction prediction = Prediction::epsilon;
  /// What happens to x0_pred before the update.
  Clipping clipping = Clipping::none();
  /// With clipping: re-derive eps from the clipped x0_pred before the update
  /// (diffusers `use_clipped_model_output`; only Method::ddim uses eps in its update).
  bool use_clipped_model_output = false;
  /// The alpha_bar of the last step's landing point.
  FinalAlphaBar final_alpha_bar = FinalAlphaBar::one;
  /// Sampling loops only: after every model call, check the output for NaN and Inf and throw
  /// std::runtime_error naming the step and timestep (an extra pass over the output per step).
  bool check_finite = false;

  /// Deterministic DDIM (eta = 0) or its stochastic generalization with the given eta (eq. 16;
  /// eta = 1 is DDPM). Not validated here: a negative or non-finite eta throws where a step or
  /// plan is built.
  static Options ddim(double eta_value = 0.0) {
    Options options;
    options.eta = eta_value;
    return options;
  }
  /// The DDPM posterior step (DDPM eq. 6-7 on the respaced schedule) with the given variance.
  static Options ddpm(Variance variance_value = Variance::fixed_small) {
    Options options;
    options.method = Method::ddpm;
    options.variance = variance_value;
    return options;
  }

  /// Throws std::invalid_argument naming the first invalid field (the per-step checks that need
  /// alpha_bar values, such as the eta bound, happen where the coefficients are computed).
  void validate(const std::string& where) const {
    detail::require_in_range(where, "eta", eta, 0.0, true, HUGE_VAL, false);
    clipping.validate(where);
  }
};

}  // namespace ddim

#endif  // DDIM_OPTIONS_HPP
