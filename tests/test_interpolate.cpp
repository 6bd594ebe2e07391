// Latent interpolation: slerp's definition, its endpoints and norm behaviour, the linear fallback,
// paths as batches, and validation.
#include <ddim/interpolate.hpp>
#include <ddim/noise.hpp>

#include <cmath>

#include "support/catch.hpp"

TEST_CASE("slerp returns its endpoints at w = 0 and w = 1", "[interpolate]") {
  const Eigen::ArrayXd a = ddim::gaussian<double>(50, 1), b = ddim::gaussian<double>(50, 2);
  CHECK((ddim::slerp(a, b, 0.0) - a).abs().maxCoeff() < 1e-15);
  CHECK((ddim::slerp(a, b, 1.0) - b).abs().maxCoeff() < 1e-14);
}

TEST_CASE("slerp between orthogonal vectors of equal norm keeps the norm and halves the angle", "[interpolate]") {
  Eigen::ArrayXd a = Eigen::ArrayXd::Zero(3), b = Eigen::ArrayXd::Zero(3);
  a(0) = 2.0;
  b(1) = 2.0;
  const Eigen::ArrayXd middle = ddim::slerp(a, b, 0.5);
  CHECK_THAT(middle.matrix().norm(), WithinRel(2.0, 1e-15));
  CHECK_THAT(middle(0), WithinRel(std::sqrt(2.0), 1e-15));
  CHECK_THAT(middle(1), WithinRel(std::sqrt(2.0), 1e-15));
  // the linear midpoint shrinks to norm sqrt(2): what slerp is for
  CHECK_THAT(ddim::linear_path(a, b, 3).col(1).matrix().norm(), WithinRel(std::sqrt(2.0), 1e-15));
}

TEST_CASE("slerp of two Gaussian latents keeps the norm of a typical latent", "[interpolate]") {
  // Independent N(0, I) latents in d = 4096 are nearly orthogonal with norm ~ sqrt(d); every point
  // of the slerp path keeps that norm to within the endpoints' own spread, the linear path drops
  // to sqrt(d / 2) in the middle.
  const Eigen::ArrayXf a = ddim::gaussian<float>(4096, 1), b = ddim::gaussian<float>(4096, 2);
  const auto path = ddim::slerp_path(a, b, 9);
  const auto straight = ddim::linear_path(a, b, 9);
  REQUIRE(path.cols() == 9);
  const float norm_a = a.matrix().norm(), norm_b = b.matrix().norm();
  for (int i = 0; i < 9; ++i) {
    const float norm = path.col(i).matrix().norm();
    CHECK(norm > 0.99f * std::min(norm_a, norm_b));
    CHECK(norm < 1.01f * std::max(norm_a, norm_b));
  }
  CHECK(straight.col(4).matrix().norm() < 0.75f * norm_a);
  CHECK((path.col(0) == a).all());
}

TEST_CASE("nearly parallel latents fall back to linear interpolation", "[interpolate]") {
  Eigen::ArrayXd a(3), b(3);
  a << 1.0, 2.0, 3.0;
  b = a * (1.0 + 1e-12);
  b(0) += 1e-12;  // angle ~1e-13, far below the threshold
  const Eigen::ArrayXd w3 = ddim::slerp(a, b, 0.3);
  CHECK(((w3 - (0.7 * a + 0.3 * b)).abs() < 1e-15).all());
}

