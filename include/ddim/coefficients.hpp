// ddim: header-only DDIM/DDPM samplers. MIT licence.
//
// coefficients.hpp: the scalar half of a step. Everything that depends only on
// (alpha_bar_t, alpha_bar_prev, options) is computed here once, in double precision and with all
// validation, so that the tensor half (step.hpp) is a single fused multiply-add pass that cannot
// fail.
#ifndef DDIM_COEFFICIENTS_HPP
#define DDIM_COEFFICIENTS_HPP

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "config.hpp"
#include "detail/math.hpp"
#include "detail/validate.hpp"
#include "options.hpp"
#include "prediction.hpp"
#include "schedule.hpp"
#include "timesteps.hpp"

namespace ddim {

/// sigma(eta) of eq. 16 for a step from alpha_bar_t down to alpha_bar_prev:
/// eta * sqrt((1 - alpha_bar_prev) / (1 - alpha_bar_t)) * sqrt(1 - alpha_bar_t / alpha_bar_prev).
/// The standard deviation of the noise a DDIM step injects; sigma(1)^2 = posterior_variance.
/// Preconditions (not checked; NaN outside them): 0 <= alpha_bar_t <= alpha_bar_prev <= 1,
/// alpha_bar_t < 1, 0 < alpha_bar_prev, eta >= 0. Does not throw.
inline double ddim_sigma(double alpha_bar_t, double alpha_bar_prev, double eta) {
  return eta * std::sqrt((1.0 - alpha_bar_prev) / (1.0 - alpha_bar_t)) *
         std::sqrt(1.0 - alpha_bar_t / alpha_bar_prev);  // eq. 16
}

/// The DDPM posterior variance beta~ = (1 - alpha_bar_prev) / (1 - alpha_bar_t) * beta' with
/// beta' = 1 - alpha_bar_t / alpha_bar_prev (DDPM eq. 7 on the respaced schedule); equals
/// ddim_sigma(alpha_bar_t, alpha_bar_prev, 1)^2. diffusers DDIMScheduler._get_variance.
/// Same preconditions as ddim_sigma; does not throw.
inline double posterior_variance(double alpha_bar_t, double alpha_bar_prev) {
  return (1.0 - alpha_bar_prev) / (1.0 - alpha_bar_t) * (1.0 - alpha_bar_t / alpha_bar_prev);
}

/// The largest eta for which eq. 12 stays real at this step (sigma(eta)^2 <= 1 - alpha_bar_prev):
/// sqrt((1 - alpha_bar_t) alpha_bar_prev / (alpha_bar_prev - alpha_bar_t)) >= 1, or +infinity
/// when sigma is 0 for every eta (alpha_bar_prev = 1 or alpha_bar_prev = alpha_bar_t).
/// Preconditions as ddim_sigma; does not throw.
inline double max_eta(double alpha_bar_t, double alpha_bar_prev) {
  if (alpha_bar_prev >= 1.0 || alpha_bar_prev <= alpha_bar_t) return std::numeric_limits<double>::infinity();
  return std::sqrt((1.0 - alpha_bar_t) * alpha_bar_prev / (alpha_bar_prev - alpha_bar_t));
}

/// The coefficients of one step, in the precision of the tensors they are applied to.
/// With x0_pred = x0_from_x * x_t + x0_from_output * output (the model's prediction converted),
/// the update is
///   x_prev = prev_from_x0 * clip(x0_pred) + prev_from_x * x_t + prev_from_output * output + std * z
/// where std = noise_scale, or exp(log_std_center + log_std_half_range * clamp(v, -1, 1)) per
/// element for the learned-range variance. Without clipping prev_from_x0 is 0 and the update is
/// the fused form prev_from_x * x_t + prev_from_output * output + noise_scale * z: the
/// prediction conversion and eq. 12 (or DDPM eq. 7) folded into two numbers computed in double.
template <class Scalar>
struct StepCoefficients {
  double alpha_bar_t = 0.0;     ///< alpha_bar at the step's start
  double alpha_bar_prev = 1.0;  ///< alpha_bar where it lands
  double variance = 0.0;        ///< variance of the injected noise (0 for learned_range: per element)
  /// x0_pred = x0_from_x * x_t + x0_from_output * output (eq. 9 for epsilon-prediction).
  Scalar x0_from_x = 0, x0_from_output = 0;
  /// The update's factors on clip(x0_pred), x_t and the model output (prev_from_x0 is 0 without
  /// clipping: the fused form; see docs/math.md, "The fused coefficient form").
  Scalar prev_from_x0 = 0, prev_from_x = 0, prev_from_output = 0;
  Scalar noise_scale = 0;  ///< sigma (eq. 16) or the DDPM standard deviation
  Clipping::Kind clip_kind = Clipping::Kind::none;
  Scalar clip_range = 0;  ///< bound for Clipping::Kind::range
  double threshold_ratio = 0.995, threshold_max_value = 1.0;  ///< for dynamic thresholding
  bool learned_range = false;  ///< noise std comes from the model's variance output
  /// The model output carries a variance half (Variance::learned_range), even at a step that
  /// adds no noise: its rows are twice those of x_t.
  bool has_variance_output = false;
  /// Variance::learned_range: log std = log_std_center + log_std_half_range * clamp(v, -1, 1),
  /// i.e. improved DDPM eq. 15 with f = (v + 1) / 2, halved for a standard deviation.
  Scalar log_std_center = 0, log_std_half_range = 0;

  /// True when x0_pred is clipped (by a range or a dynamic threshold) before the update.
  bool clips() const { return clip_kind != Clipping::Kind::none; }
  /// True when the update adds noise (sigma > 0, or a learned variance).
  bool adds_noise() const { return learned_range || noise_scale != Scalar(0); }

  /// The same coefficients rounded to another precision.
  template <class Other>
  StepCoefficients<Other> cast() const {
    StepCoefficients<Other> c;
    c.alpha_bar_t = alpha_bar_t;
    c.alpha_bar_prev = alpha_bar_prev;
    c.variance = variance;
    c.x0_from_x = static_cast<Other>(x0_from_x);
    c.x0_from_output = static_cast<Other>(x0_from_output);
    c.prev_from_x0 = static_cast<Other>(prev_from_x0);
    c.prev_from_x = static_cast<Other>(prev_from_x);
    c.prev_from_output = static_cast<Other>(prev_from_output);
    c.noise_scale = static_cast<Other>(noise_scale);
    c.clip_kind = clip_kind;
    c.clip_range = static_cast<Other>(clip_range);
    c.threshold_ratio = threshold_ratio;
    c.threshold_max_value = threshold_max_value;
    c.learned_range = learned_range;
    c.has_variance_output = has_variance_output;
    c.log_std_center = static_cast<Other>(log_std_center);
    c.log_std_half_range = static_cast<Other>(log_std_half_range);
    return c;
  }
};

namespace detail {

// The coefficients of eq. 12 / DDPM eq. 7 from a noise level alpha_bar_t (where x is) to
// alpha_bar_prev (where it lands), for validated input. Shared by sampling steps (landing on less
// noise) and inversion steps (landing on more noise, eta = 0).
template <class Scalar>
StepCoefficients<Scalar> make_step_coefficients(double alpha_bar_t, double alpha_bar_prev, const Options& options,
                                                 bool last_step, const std::string& where) {
  const double a_t = alpha_bar_t;
  const double a_s = alpha_bar_prev;
  StepCoefficients<double> c;
  c.alpha_bar_t = a_t;
  c.alpha_bar_prev = a_s;

  // x_prev = u0 * x0_pred + ue * eps + ux * x_t + noise
  double u0 = 0.0, ue = 0.0, ux = 0.0;
  if (options.method == Method::ddim) {
    // eq. 16, squared. Exactly 0 for eta = 0 (also where the variance itself is undefined: an
    // encoding step from clean data, alpha_bar_t = 1) and wherever the posterior variance is 0
    // (landing on alpha_bar = 1), whatever eta: eta^2 may overflow to infinity, and inf * 0 is NaN.
    const double variance_at_eta_1 = options.eta > 0.0 ? posterior_variance(a_t, a_s) : 0.0;
    double sigma2 = variance_at_eta_1 > 0.0 ? options.eta * options.eta * variance_at_eta_1 : 0.0;
    const double room = 1.0 - a_s;
    if (sigma2 > room) {
      // eta <= 1 never exceeds the bound mathematically: only rounding gets here, clamp it
      if (options.eta > 1.0 && !options.clamp_sigma) {
        detail::fail(where, "eta", options.eta,
                     "0 <= eta <= " + detail::format_value(max_eta(a_t, a_s)) +
                         " for the step from alpha_bar_t = " + detail::format_value(a_t) +
                         " to alpha_bar_prev = " + detail::format_value(a_s) +
                         " (sigma(eta)^2 must not exceed 1 - alpha_bar_prev), or set "
                         "Options::clamp_sigma");
      }
      sigma2 = room;
    }
    u0 = std::sqrt(a_s);                        // eq. 12, "predicted x0" term
    ue = detail::sqrt_clamped(room - sigma2);   // eq. 12, "direction pointing to x_t" term
    c.variance = sigma2;                        // eq. 12, random noise sigma_t^2
    c.noise_scale = std::sqrt(sigma2);
  } else {
    c.has_variance_output = options.variance == Variance::learned_range;
    const double alpha_ratio = a_t / a_s;  // alpha' of the respaced schedule
    const double beta_ratio = 1.0 - alpha_ratio;  // beta'
    u0 = std::sqrt(a_s) * beta_ratio / (1.0 - a_t);          // DDPM eq. 7, x0 coefficient
    ux = std::sqrt(alpha_ratio) * (1.0 - a_s) / (1.0 - a_t);  // DDPM eq. 7, x_t coefficient
    if (!last_step) {
      switch (options.variance) {
        case Variance::fixed_small:
          c.variance = posterior_variance(a_t, a_s);  // DDPM eq. 7, beta~
          c.noise_scale = std::sqrt(c.variance);
          break;
        case Variance::fixed_large:
          c.variance = beta_ratio;  // DDPM section 3.2, sigma^2 = beta
          c.noise_scale = std::sqrt(c.variance);
          break;
        case Variance::learned_range: {
          if (!(beta_ratio > 0.0)) break;  // a step that does not move: no noise at all
          // improved DDPM eq. 15, in log space: log beta~ and log beta' never overflow or NaN
          const double max_log = std::log(beta_ratio);
          // beta~ is 0 only when landing on alpha_bar = 1; floor it at 1e-20 as diffusers does
          const double min_log =
              std::max(std::log1p(-a_s) - std::log1p(-a_t) + max_log, std::log(1e-20));
          c.learned_range = true;
          c.log_std_center = 0.25 * (max_log + min_log);
          c.log_std_half_range = 0.25 * (max_log - min_log);
          break;
        }
      }
    }
  }

  const PredictionCoefficients p = prediction_coefficients(options.prediction, a_t);
  c.x0_from_x = p.x0_from_x;
  c.x0_from_output = p.x0_from_output;
  c.clip_kind = options.clipping.kind;
  c.clip_range = options.clipping.range;
  c.threshold_ratio = options.clipping.ratio;
  c.threshold_max_value = options.clipping.max_value;
  if (!c.clips()) {
    c.prev_from_x = u0 * p.x0_from_x + ue * p.eps_from_x + ux;
    c.prev_from_output = u0 * p.x0_from_output + ue * p.eps_from_output;
  } else if (!options.use_clipped_model_output) {
    c.prev_from_x0 = u0;
    c.prev_from_x = ue * p.eps_from_x + ux;
    c.prev_from_output = ue * p.eps_from_output;
  } else {
    // eps re-derived from the clipped x0: eps = (x_t - sqrt(a_t) x0) / sqrt(1 - a_t)  (eq. 4)
    const double noise_t = std::sqrt(1.0 - a_t);
    c.prev_from_x0 = u0 - ue * std::sqrt(a_t) / noise_t;
    c.prev_from_x = ue / noise_t + ux;
    c.prev_from_output = 0.0;
  }
  // The step must stay finite in Scalar: with every coefficient below sqrt(largest Scalar), values
  // up to that size again multiply into finite numbers. Only absurd schedules for the precision
  // fail this (float: alpha_bar_t below ~3e-39 with epsilon-prediction).
  const double limit = std::sqrt(static_cast<double>(std::numeric_limits<Scalar>::max()));
  const double largest = std::max({std::fabs(c.x0_from_x), std::fabs(c.x0_from_output), std::fabs(c.prev_from_x0),
                                   std::fabs(c.prev_from_x), std::fabs(c.prev_from_output), std::fabs(c.noise_scale)});
  if (!(largest <= limit)) {
    detail::fail(where, "alpha_bar_t", a_t,
                 "a noise level whose step coefficients (here up to " + detail::format_value(largest) +
                     ") stay below sqrt(largest " + (sizeof(Scalar) == 4 ? std::string("float") : std::string("value")) +
                     ") = " + detail::format_value(limit) + "; use NoiseSchedule<double> or a less extreme schedule");
  }
  return c.template cast<Scalar>();
}

}  // namespace detail

/// Computes and validates the coefficients of a step from alpha_bar_t to alpha_bar_prev: eq. 12
/// with sigma from eq. 16 (Method::ddim) or DDPM eq. 7 (Method::ddpm), the prediction conversion
/// folded in, all in double and rounded once to Scalar.
/// `last_step` marks the step that lands on the final point (Method::ddpm adds no noise there).
/// `where` names the caller in error messages.
/// Throws std::invalid_argument, naming the parameter, when: the options are invalid; not
/// 0 <= alpha_bar_t <= alpha_bar_prev <= 1 with alpha_bar_t < 1; the prediction cannot be
/// converted at alpha_bar_t (epsilon at zero SNR); or sigma(eta)^2 > 1 - alpha_bar_prev
/// (eta above max_eta) without Options::clamp_sigma.
template <class Scalar = double>
StepCoefficients<Scalar> step_coefficients(double alpha_bar_t, double alpha_bar_prev,
                                           const Options& options, bool last_step,
                                           const std::string& where = "ddim::step_coefficients") {
  options.validate(where);
  detail::require_in_range(where, "alpha_bar_t", alpha_bar_t, 0.0, true, 1.0, false);
  detail::require_in_range(where, "alpha_bar_prev", alpha_bar_prev, alpha_bar_t, true, 1.0, true);
  validate_prediction(where, options.prediction, alpha_bar_t);
  return detail::make_step_coefficients<Scalar>(alpha_bar_t, alpha_bar_prev, options, last_step, where);
}

/// The coefficients of one deterministic encoding step (eq. 12 with sigma = 0 run towards more
/// noise, i.e. an Euler step of the ODE of eq. 14 backwards): x at noise level alpha_bar_from is
/// split into (x0_pred, eps) by the model output, then x_to = sqrt(alpha_bar_to) x0_pred +
/// sqrt(1 - alpha_bar_to) eps. Clipping and the prediction type of `options` apply; the step
/// family must be Method::ddim with eta = 0. Throws std::invalid_argument, naming the parameter,
/// unless 0 <= alpha_bar_to <= alpha_bar_from <= 1 with alpha_bar_to < 1 and the prediction can
/// be converted at alpha_bar_from (x0-prediction cannot at alpha_bar_from = 1: eps is undefined on
/// clean data; encode from FinalAlphaBar::alpha_bar_0 then).
template <class Scalar = double>
StepCoefficients<Scalar> inversion_coefficients(double alpha_bar_from, double alpha_bar_to, const Options& options,
                                                const std::string& where = "ddim::inversion_coefficients") {
  options.validate(where);
  if (options.method != Method::ddim) {
    detail::fail_text(where, "options.method", "Method::ddpm", "Method::ddim (inversion is deterministic)");
  }
  if (options.eta != 0.0) detail::fail(where, "options.eta", options.eta, "0 (inversion is deterministic)");
  detail::require_in_range(where, "alpha_bar_to", alpha_bar_to, 0.0, true, 1.0, false);
  detail::require_in_range(where, "alpha_bar_from", alpha_bar_from, alpha_bar_to, true, 1.0, true);
  if (options.prediction == Prediction::x0 && alpha_bar_from == 1.0) {
    detail::fail(where, "alpha_bar_from", alpha_bar_from,
                 "alpha_bar_from < 1 for x0-prediction (eps = (x - x0) / sqrt(1 - alpha_bar) is undefined on "
                 "clean data; encode from FinalAlphaBar::alpha_bar_0)");
  }
  if (options.prediction == Prediction::epsilon && alpha_bar_from == 0.0) {
    validate_prediction(where, options.prediction, alpha_bar_from);
  }
  return detail::make_step_coefficients<Scalar>(alpha_bar_from, alpha_bar_to, options, false, where);
}

/// alpha_bar at a train timestep 0 <= t < T, or for t = -1 the final value: 1
/// (FinalAlphaBar::one) or alpha_bar_0. In double. t is not range-checked beyond Eigen's debug
/// assertion; does not throw.
template <class Scalar>
double alpha_bar_at(const NoiseSchedule<Scalar>& schedule, int t, FinalAlphaBar final_alpha_bar) {
  if (t >= 0) return schedule.alpha_bars_double()(t);
  return final_alpha_bar == FinalAlphaBar::one ? 1.0 : schedule.alpha_bars_double()(0);
}

/// The coefficients of step `step_index` of a timestep subsequence: from t(k) to t_prev(k).
/// Throws as the scalar overload does, naming the step, and when the schedule and the timesteps
/// disagree on T or step_index is out of range.
template <class Scalar>
StepCoefficients<Scalar> step_coefficients(const NoiseSchedule<Scalar>& schedule,
                                           const Timesteps& timesteps, int step_index,
                                           const Options& options) {
  const std::string where = "ddim::step_coefficients";
  if (timesteps.num_train_steps() != schedule.num_train_steps()) {
    detail::fail(where, "timesteps.num_train_steps()", timesteps.num_train_steps(),
                 "equal to schedule.num_train_steps() = " + std::to_string(schedule.num_train_steps()));
  }
  detail::require_int_in_range(where, "step_index", step_index, 0, timesteps.num_steps() - 1);
  const int t = timesteps.t(step_index);
  const int t_prev = timesteps.t_prev(step_index);
  return step_coefficients<Scalar>(
      alpha_bar_at(schedule, t, FinalAlphaBar::one), alpha_bar_at(schedule, t_prev, options.final_alpha_bar),
      options, t_prev < 0,
      where + " (step " + std::to_string(step_index) + ": t = " + std::to_string(t) +
          " -> t_prev = " + std::to_string(t_prev) + ")");
}

}  // namespace ddim

#endif  // DDIM_COEFFICIENTS_HPP
