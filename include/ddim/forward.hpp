// ddim: header-only DDIM/DDPM samplers. MIT licence.
//
// forward.hpp: the forward (noising) side the samplers are defined against: sampling
// q(x_t | x_0) (eq. 4, diffusers' add_noise), the v-prediction target, and one step of the
// non-Markovian forward process q_sigma(x_prev | x_t, x_0) (eq. 7), whose marginals equal
// q(x_t | x_0) for every choice of sigma.
#ifndef DDIM_FORWARD_HPP
#define DDIM_FORWARD_HPP

#include <cmath>
#include <type_traits>

#include "config.hpp"
#include "detail/math.hpp"
#include "schedule.hpp"
#include "step.hpp"

namespace ddim {

/// x_t = sqrt(alpha_bar_t) x0 + sqrt(1 - alpha_bar_t) eps, a sample of q(x_t | x_0) (eq. 4) for
/// standard normal eps (diffusers `add_noise`). 0 <= t < T and equal shapes, checked by
/// DDIM_ASSERT only. x_t may alias x0 or eps. No allocation, no exception.
template <class Scalar, class D0, class DE, class Out>
void add_noise(const NoiseSchedule<Scalar>& schedule, int t, const Eigen::ArrayBase<D0>& x0,
               const Eigen::ArrayBase<DE>& eps, Out&& x_t) {
  static_assert(detail::is_writable_array_v<Out>, "ddim::add_noise: x_t must be a writable Eigen array");
  DDIM_ASSERT(t >= 0 && t < schedule.num_train_steps());
  DDIM_ASSERT(x0.rows() == eps.rows() && x0.cols() == eps.cols());
  x_t = schedule.sqrt_alpha_bar(t) * x0.derived() + schedule.sqrt_one_minus_alpha_bar(t) * eps.derived();  // eq. 4
}

/// The v-prediction target v = sqrt(alpha_bar_t) eps - sqrt(1 - alpha_bar_t) x0
/// (Salimans & Ho 2022; diffusers `get_velocity`). 0 <= t < T and equal shapes, checked by
/// DDIM_ASSERT only. No allocation, no exception.
template <class Scalar, class D0, class DE, class Out>
void velocity(const NoiseSchedule<Scalar>& schedule, int t, const Eigen::ArrayBase<D0>& x0,
              const Eigen::ArrayBase<DE>& eps, Out&& v) {
  static_assert(detail::is_writable_array_v<Out>, "ddim::velocity: v must be a writable Eigen array");
  DDIM_ASSERT(t >= 0 && t < schedule.num_train_steps());
  DDIM_ASSERT(x0.rows() == eps.rows() && x0.cols() == eps.cols());
  v = schedule.sqrt_alpha_bar(t) * eps.derived() - schedule.sqrt_one_minus_alpha_bar(t) * x0.derived();
}

/// One step of the non-Markovian forward process (eq. 7): a sample of
///   q_sigma(x_prev | x_t, x0) = N(sqrt(a_prev) x0 + sqrt(1 - a_prev - sigma^2) (x_t - sqrt(a_t) x0) / sqrt(1 - a_t), sigma^2 I)
/// with 0 <= a_t = alpha_bar_t < 1, a_t <= a_prev = alpha_bar_prev <= 1 and
/// 0 <= sigma^2 <= 1 - a_prev (checked by DDIM_ASSERT). z is standard normal noise. Pure, in
/// place allowed, no allocation. Used by the tests that prove the marginals of eq. 6-7.
template <class DT, class D0, class DZ, class Out>
void forward_process_step(double alpha_bar_t, double alpha_bar_prev, double sigma,
                          const Eigen::ArrayBase<DT>& x_t, const Eigen::ArrayBase<D0>& x0,
                          const Eigen::ArrayBase<DZ>& z, Out&& x_prev) {
  static_assert(detail::is_writable_array_v<Out>,
                "ddim::forward_process_step: x_prev must be a writable Eigen array");
  using Scalar = typename DT::Scalar;
  DDIM_ASSERT(alpha_bar_t >= 0.0 && alpha_bar_t < 1.0 && alpha_bar_t <= alpha_bar_prev && alpha_bar_prev <= 1.0);
  DDIM_ASSERT(sigma >= 0.0 && sigma * sigma <= (1.0 - alpha_bar_prev) * (1.0 + 1e-12));
  const double direction = detail::sqrt_clamped(1.0 - alpha_bar_prev - sigma * sigma) / std::sqrt(1.0 - alpha_bar_t);
  const auto k0 = static_cast<Scalar>(std::sqrt(alpha_bar_prev) - direction * std::sqrt(alpha_bar_t));
  const auto kt = static_cast<Scalar>(direction);
  const auto ks = static_cast<Scalar>(sigma);
  x_prev = k0 * x0.derived() + kt * x_t.derived() + ks * z.derived();  // eq. 7
}

}  // namespace ddim

#endif  // DDIM_FORWARD_HPP
