// Test oracles: the paper's formulas written out literally, one scalar at a time, in long double.
// They share no code with the library's fused coefficients, so agreement between the two checks
// the algebra that folds eq. 9, eq. 12/16 and DDPM eq. 7 into two or three coefficients.
#ifndef DDIM_TESTS_SUPPORT_ORACLE_HPP
#define DDIM_TESTS_SUPPORT_ORACLE_HPP

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include <ddim/options.hpp>

namespace oracle {

using Real = long double;

struct Split {
  Real x0;
  Real eps;
};

/// (x0_pred, eps) from a model output, by the definitions of each parameterization.
inline Split split(ddim::Prediction prediction, Real alpha_bar_t, Real x_t, Real output) {
  const Real a = std::sqrt(alpha_bar_t), b = std::sqrt(1 - alpha_bar_t);
  switch (prediction) {
    case ddim::Prediction::epsilon: return {(x_t - b * output) / a, output};   // eq. 9
    case ddim::Prediction::x0: return {output, (x_t - a * output) / b};
    case ddim::Prediction::v: return {a * x_t - b * output, a * output + b * x_t};
  }
  return {0, 0};
}

/// The DDIM update of eq. 12 with sigma given; z is the injected noise.
inline Real ddim_update(Real alpha_bar_prev, Real sigma, Real x0, Real eps, Real z) {
  return std::sqrt(alpha_bar_prev) * x0 + std::sqrt(std::max<Real>(1 - alpha_bar_prev - sigma * sigma, 0)) * eps +
         sigma * z;
}

/// sigma(eta) of eq. 16.
inline Real ddim_sigma(Real alpha_bar_t, Real alpha_bar_prev, Real eta) {
  return eta * std::sqrt((1 - alpha_bar_prev) / (1 - alpha_bar_t)) * std::sqrt(1 - alpha_bar_t / alpha_bar_prev);
}

/// The DDPM posterior mean (Ho et al. eq. 7) on the respaced schedule.
inline Real ddpm_mean(Real alpha_bar_t, Real alpha_bar_prev, Real x0, Real x_t) {
  const Real alpha = alpha_bar_t / alpha_bar_prev, beta = 1 - alpha;
  return std::sqrt(alpha_bar_prev) * beta / (1 - alpha_bar_t) * x0 +
         std::sqrt(alpha) * (1 - alpha_bar_prev) / (1 - alpha_bar_t) * x_t;
}

/// The DDPM posterior variance beta~.
inline Real ddpm_posterior_variance(Real alpha_bar_t, Real alpha_bar_prev) {
  return (1 - alpha_bar_prev) / (1 - alpha_bar_t) * (1 - alpha_bar_t / alpha_bar_prev);
}

/// A seeded standard normal stream for statistical tests (bits need not be portable: the tests
/// that use it bound statistics, not values).
class Normal {
 public:
  explicit Normal(std::uint64_t seed) : engine_(seed) {}
  double operator()() { return distribution_(engine_); }
  template <class Array>
  void fill(Array& array) {
    for (Eigen::Index i = 0; i < array.size(); ++i) array.data()[i] = static_cast<typename Array::Scalar>((*this)());
  }

 private:
  std::mt19937_64 engine_;
  std::normal_distribution<double> distribution_;
};

}  // namespace oracle

#endif  // DDIM_TESTS_SUPPORT_ORACLE_HPP
