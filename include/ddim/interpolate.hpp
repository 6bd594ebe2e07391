// ddim: header-only DDIM/DDPM samplers. MIT licence.
//
// interpolate.hpp: interpolation between two latents x_T (the DDIM paper's section 5.3): spherical
// linear interpolation, which keeps an interpolated Gaussian latent at the norm the sampler
// expects, and the plain linear interpolation it improves on. Paths come back as one column per
// point, ready to be decoded as one batch by ddim::sample.
#ifndef DDIM_INTERPOLATE_HPP
#define DDIM_INTERPOLATE_HPP

#include <cmath>
#include <string>

#include "config.hpp"
#include "detail/validate.hpp"

namespace ddim {

/// Below this angle between the latents (radians) slerp falls back to linear interpolation:
/// sin(theta) then carries too few significant digits to divide by, and the two are equal to
/// O(theta^2) anyway.
inline constexpr double slerp_linear_threshold = 1e-4;

namespace detail {

template <class DA, class DB>
void check_endpoints(const std::string& where, const Eigen::DenseBase<DA>& a, const Eigen::DenseBase<DB>& b) {
  if (a.rows() != b.rows() || a.cols() != b.cols()) {
    fail_text(where, "b shape", std::to_string(b.rows()) + "x" + std::to_string(b.cols()),
              "the shape of a, " + std::to_string(a.rows()) + "x" + std::to_string(a.cols()));
  }
  if (a.size() == 0) fail_text(where, "a", "an empty tensor", "at least one value");
  const double norm_a = a.derived().template cast<double>().matrix().norm();
  const double norm_b = b.derived().template cast<double>().matrix().norm();
  if (!(norm_a > 0.0) || !std::isfinite(norm_a)) fail(where, "|a|", norm_a, "finite and > 0 (slerp needs a direction)");
  if (!(norm_b > 0.0) || !std::isfinite(norm_b)) fail(where, "|b|", norm_b, "finite and > 0 (slerp needs a direction)");
}

}  // namespace detail

/// Spherical linear interpolation between latents a and b (each flattened to one vector):
///   slerp(a, b, w) = sin((1 - w) theta) / sin(theta) a + sin(w theta) / sin(theta) b,
///   theta = arccos(<a, b> / (|a| |b|)),
/// falling back to (1 - w) a + w b when theta < slerp_linear_threshold. w in [0, 1].
/// Throws std::invalid_argument when the shapes differ, a tensor is empty, a norm is zero or not
/// finite (the angle is undefined), or w is outside [0, 1].
template <class DA, class DB>
typename DA::PlainArray slerp(const Eigen::DenseBase<DA>& a, const Eigen::DenseBase<DB>& b, double w) {
  const std::string where = "ddim::slerp";
  detail::check_endpoints(where, a, b);
  detail::require_in_range(where, "w", w, 0.0, true, 1.0, true);
  using Scalar = typename DA::Scalar;
  const auto a64 = a.derived().template cast<double>();
  const auto b64 = b.derived().template cast<double>();
  const double cosine = (a64.array() * b64.array()).sum() / (a64.matrix().norm() * b64.matrix().norm());
  const double theta = std::acos(std::fmin(1.0, std::fmax(-1.0, cosine)));
  double weight_a = 1.0 - w, weight_b = w;
  if (theta >= slerp_linear_threshold) {
    const double sine = std::sin(theta);
    weight_a = std::sin((1.0 - w) * theta) / sine;
    weight_b = std::sin(w * theta) / sine;
  }
  return static_cast<Scalar>(weight_a) * a.derived().array() + static_cast<Scalar>(weight_b) * b.derived().array();
}

/// `num_points` latents on the slerp path from a to b (both ends included, w = i / (num_points - 1)),
/// one column per point; a and b are flattened. Throws as slerp does, and unless num_points >= 2.
template <class DA, class DB>
Eigen::Array<typename DA::Scalar, Eigen::Dynamic, Eigen::Dynamic> slerp_path(const Eigen::DenseBase<DA>& a,
                                                                             const Eigen::DenseBase<DB>& b,
                                                                             int num_points) {
  const std::string where = "ddim::slerp_path";
  detail::check_endpoints(where, a, b);
  if (num_points < 2) detail::fail(where, "num_points", num_points, "num_points >= 2");
  Eigen::Array<typename DA::Scalar, Eigen::Dynamic, Eigen::Dynamic> path(a.size(), num_points);
  for (int i = 0; i < num_points; ++i) {
    const auto point = slerp(a, b, static_cast<double>(i) / (num_points - 1));
    path.col(i) = Eigen::Map<const Eigen::Array<typename DA::Scalar, Eigen::Dynamic, 1>>(point.data(), point.size());
  }
  return path;
}

/// `num_points` latents on the straight segment from a to b, one column per point (the paper's
/// baseline: interpolated Gaussian latents shrink towards the middle, norm ~ sqrt(1/2) |a|).
/// Throws unless the shapes match and num_points >= 2.
template <class DA, class DB>
Eigen::Array<typename DA::Scalar, Eigen::Dynamic, Eigen::Dynamic> linear_path(const Eigen::DenseBase<DA>& a,
                                                                              const Eigen::DenseBase<DB>& b,
                                                                              int num_points) {
  const std::string where = "ddim::linear_path";
  if (a.rows() != b.rows() || a.cols() != b.cols()) {
    detail::fail_text(where, "b shape", std::to_string(b.rows()) + "x" + std::to_string(b.cols()),
                      "the shape of a, " + std::to_string(a.rows()) + "x" + std::to_string(a.cols()));
  }
  if (num_points < 2) detail::fail(where, "num_points", num_points, "num_points >= 2");
  using Scalar = typename DA::Scalar;
  using Column = Eigen::Array<Scalar, Eigen::Dynamic, 1>;
  const typename DA::PlainObject a_plain = a.derived();
  const typename DB::PlainObject b_plain = b.derived();
  const Eigen::Map<const Column> a_flat(a_plain.data(), a_plain.size());
  const Eigen::Map<const Column> b_flat(b_plain.data(), b_plain.size());
  Eigen::Array<Scalar, Eigen::Dynamic, Eigen::Dynamic> path(a.size(), num_points);
  for (int i = 0; i < num_points; ++i) {
    const auto w = static_cast<Scalar>(static_cast<double>(i) / (num_points - 1));
    path.col(i) = (Scalar(1) - w) * a_flat + w * b_flat;
  }
  return path;
}

}  // namespace ddim

#endif  // DDIM_INTERPOLATE_HPP
