// ddim: header-only DDIM/DDPM samplers. MIT licence.
//
// prediction.hpp: what the model predicts (epsilon, x0 or v) and the conversions between the
// three, plus the x0 clipping rules (a fixed range, or Imagen's dynamic thresholding).
#ifndef DDIM_PREDICTION_HPP
#define DDIM_PREDICTION_HPP

#include <algorithm>
#include <cmath>
#include <string>

#include "config.hpp"
#include "detail/validate.hpp"

namespace ddim {

/// The quantity the user's model predicts (diffusers `prediction_type`).
enum class Prediction {
  epsilon,  ///< the noise eps (diffusers "epsilon"; the DDIM and DDPM papers)
  x0,       ///< the clean sample x0 (diffusers "sample")
  v         ///< the velocity v = sqrt(alpha_bar) eps - sqrt(1 - alpha_bar) x0 (diffusers "v_prediction")
};

/// The name used in messages and docs ("epsilon", "x0", "v").
inline const char* to_string(Prediction prediction) {
  switch (prediction) {
    case Prediction::epsilon: return "epsilon";
    case Prediction::x0: return "x0";
    case Prediction::v: return "v";
  }
  return "unknown";
}

/// The linear maps from (x_t, model output) to (x0_pred, eps) at one timestep:
///   x0_pred = x0_from_x * x_t + x0_from_output * output
///   eps     = eps_from_x * x_t + eps_from_output * output
/// Epsilon: eq. 9, x0_pred = (x_t - sqrt(1 - alpha_bar) eps) / sqrt(alpha_bar).
/// x0:      eps = (x_t - sqrt(alpha_bar) x0) / sqrt(1 - alpha_bar)   (eq. 4 solved for eps).
/// v:       x0_pred = sqrt(alpha_bar) x_t - sqrt(1 - alpha_bar) v,
///          eps     = sqrt(alpha_bar) v + sqrt(1 - alpha_bar) x_t.
/// Epsilon needs alpha_bar > 0 and x0 needs alpha_bar < 1 (the coefficients are infinite
/// otherwise); `prediction_coefficients` does not check, `validate_prediction` does.
struct PredictionCoefficients {
  double x0_from_x;
  double x0_from_output;
  double eps_from_x;
  double eps_from_output;
};

/// Throws std::invalid_argument when `prediction` cannot be converted to (x0, eps) at alpha_bar:
/// alpha_bar outside [0, 1], epsilon-prediction at alpha_bar = 0 (a zero-terminal-SNR timestep:
/// x0 is undefined), or x0-prediction at alpha_bar = 1.
inline void validate_prediction(const std::string& where, Prediction prediction, double alpha_bar_t) {
  detail::require_in_range(where, "alpha_bar_t", alpha_bar_t, 0.0, true, 1.0, true);
  if (prediction == Prediction::epsilon && alpha_bar_t == 0.0) {
    detail::fail(where, "alpha_bar_t", alpha_bar_t,
                 "alpha_bar_t > 0 for epsilon-prediction (at zero terminal SNR x0 cannot be "
                 "recovered from eps; use Prediction::v or Prediction::x0 with such schedules)");
  }
  if (prediction == Prediction::x0 && alpha_bar_t == 1.0) {
    detail::fail(where, "alpha_bar_t", alpha_bar_t,
                 "alpha_bar_t < 1 for x0-prediction (eps is undefined without noise)");
  }
}

/// The coefficients of the (x_t, output) -> (x0_pred, eps) maps at alpha_bar_t in [0, 1]; see
/// PredictionCoefficients (eq. 9 for epsilon, eq. 4 solved for eps for x0, the v identities for
/// v). Does not validate and does not throw: where a conversion is undefined (epsilon at
/// alpha_bar_t = 0, x0 at alpha_bar_t = 1) the coefficients are infinite or NaN; call
/// validate_prediction first.
inline PredictionCoefficients prediction_coefficients(Prediction prediction, double alpha_bar_t) {
  const double signal = std::sqrt(alpha_bar_t);        // sqrt(alpha_bar_t)
  const double noise = std::sqrt(1.0 - alpha_bar_t);   // sqrt(1 - alpha_bar_t)
  switch (prediction) {
    case Prediction::epsilon:
      return {1.0 / signal, -noise / signal, 0.0, 1.0};  // eq. 9
    case Prediction::x0:
      return {0.0, 1.0, 1.0 / noise, -signal / noise};   // eq. 4 solved for eps
    case Prediction::v:
      return {signal, -noise, noise, signal};            // v = sqrt(ab) eps - sqrt(1-ab) x0
  }
  return {0.0, 0.0, 0.0, 0.0};
}

/// Converts a model output from one parameterization to another at timestep alpha_bar_t
/// (a convenience for users and tests; it allocates the result). Throws std::invalid_argument
/// when the conversion is undefined (see validate_prediction) or the sizes differ.
template <class DX, class DO>
typename DX::PlainObject convert_prediction(Prediction from, Prediction to, double alpha_bar_t,
                                            const Eigen::ArrayBase<DX>& x_t,
                                            const Eigen::ArrayBase<DO>& output) {
  const std::string where = "ddim::convert_prediction";
  if (x_t.rows() != output.rows() || x_t.cols() != output.cols()) {
    detail::fail_text(where, "output size",
                      std::to_string(output.rows()) + "x" + std::to_string(output.cols()),
                      "the size of x_t, " + std::to_string(x_t.rows()) + "x" + std::to_string(x_t.cols()));
  }
  if (from == to) return output.derived();
  validate_prediction(where, from, alpha_bar_t);
  using Scalar = typename DX::Scalar;
  const PredictionCoefficients c = prediction_coefficients(from, alpha_bar_t);
  const auto s = [](double value) { return static_cast<Scalar>(value); };
  const double signal = std::sqrt(alpha_bar_t);
  const double noise = std::sqrt(1.0 - alpha_bar_t);
  switch (to) {
    case Prediction::epsilon:
      return s(c.eps_from_x) * x_t.derived() + s(c.eps_from_output) * output.derived();
    case Prediction::x0:
      return s(c.x0_from_x) * x_t.derived() + s(c.x0_from_output) * output.derived();
    case Prediction::v:
      // v = sqrt(ab) eps - sqrt(1-ab) x0, with eps and x0 both linear in (x_t, output)
      return s(signal * c.eps_from_x - noise * c.x0_from_x) * x_t.derived() +
             s(signal * c.eps_from_output - noise * c.x0_from_output) * output.derived();
  }
  return x_t.derived();
}

/// What happens to the predicted x0 before the update (diffusers `clip_sample`,
/// `clip_sample_range`, `thresholding`, `dynamic_thresholding_ratio`, `sample_max_value`).
/// The DDIM paper and its code do not clip; diffusers' DDIMScheduler clips to [-1, 1] by default.
/// Clipping is for pixel-space models whose data lie in a known range: latent models
/// (Stable Diffusion) must not clip.
struct Clipping {
  /// Which rule applies to x0_pred.
  enum class Kind {
    none,              ///< x0_pred is used as predicted
    range,             ///< x0_pred is clamped to [-range, range]
    dynamic_threshold  ///< Imagen (Saharia et al. 2022): per sample, s = quantile(|x0|, ratio)
                       ///< clamped to [1, max_value]; x0 is clamped to [-s, s] and divided by s
  };
  Kind kind = Kind::none;
  double range = 1.0;      ///< the bound for Kind::range; > 0
  double ratio = 0.995;    ///< the quantile for Kind::dynamic_threshold; in (0, 1)
  double max_value = 1.0;  ///< the largest threshold s for Kind::dynamic_threshold; >= 1

  /// No clipping (the default).
  static Clipping none() { return Clipping{}; }
  /// Clamp x0_pred to [-range, range]; throws unless range is finite and > 0.
  static Clipping clip(double range = 1.0) {
    Clipping clipping;
    clipping.kind = Kind::range;
    clipping.range = range;
    clipping.validate("ddim::Clipping::clip");
    return clipping;
  }
  /// Dynamic thresholding; throws unless 0 < ratio < 1 and 1 <= max_value < infinity.
  static Clipping dynamic_threshold(double ratio = 0.995, double max_value = 1.0) {
    Clipping clipping;
    clipping.kind = Kind::dynamic_threshold;
    clipping.ratio = ratio;
    clipping.max_value = max_value;
    clipping.validate("ddim::Clipping::dynamic_threshold");
    return clipping;
  }

  /// Throws std::invalid_argument naming the offending field (only the fields the kind uses).
  void validate(const std::string& where) const {
    if (kind == Kind::range) {
      detail::require_in_range(where, "clipping.range", range, 0.0, false, HUGE_VAL, false);
    } else if (kind == Kind::dynamic_threshold) {
      detail::require_in_range(where, "clipping.ratio", ratio, 0.0, false, 1.0, false);
      detail::require_in_range(where, "clipping.max_value", max_value, 1.0, true, HUGE_VAL, false);
    }
  }
};

/// Imagen's dynamic threshold of one sample (Saharia et al. 2022, section 2.3): s =
/// quantile(|x0|, ratio), with rank ratio * (n - 1) linearly interpolated between order statistics
/// as torch.quantile does, then clamped to [1, max_value]; returns 1 for an empty x0.
/// Expects 0 < ratio < 1 and max_value >= 1 (validated by Clipping::dynamic_threshold, not here).
/// `scratch` is any buffer with .data() and .size() holding at least x0.size() values; it is
/// overwritten. Does not allocate and does not throw (a NaN in x0 gives an unspecified s).
template <class D, class Scratch>
typename D::Scalar dynamic_threshold(const Eigen::ArrayBase<D>& x0, double ratio, double max_value,
                                     Scratch& scratch) {
  using Scalar = typename D::Scalar;
  const Index count = x0.size();
  DDIM_ASSERT(scratch.size() >= count);
  if (count == 0) return Scalar(1);
  Scalar* const values = scratch.data();
  for (Index i = 0; i < count; ++i) values[i] = std::abs(x0.derived().coeff(i));
  const double rank = ratio * static_cast<double>(count - 1);
  const auto below = static_cast<Index>(std::floor(rank));
  const double weight = rank - static_cast<double>(below);
  std::nth_element(values, values + below, values + count);
  const double low = static_cast<double>(values[below]);
  double high = low;
  if (below + 1 < count) high = static_cast<double>(*std::min_element(values + below + 1, values + count));
  // torch.lerp's two-sided form, exact at both ends
  const double quantile = weight < 0.5 ? low + weight * (high - low) : high - (high - low) * (1.0 - weight);
  return static_cast<Scalar>(std::min(std::max(quantile, 1.0), max_value));
}

}  // namespace ddim

#endif  // DDIM_PREDICTION_HPP
