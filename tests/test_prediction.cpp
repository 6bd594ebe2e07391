// Parameterizations (epsilon, x0, v): conversions and round trips; clipping rules.
#include <ddim/prediction.hpp>

#include <cmath>
#include <limits>

#include "support/catch.hpp"
#include "support/oracle.hpp"

namespace {

using ddim::Prediction;

struct Triple {
  Eigen::ArrayXd x_t, x0, eps, v;
};

// A consistent (x_t, x0, eps, v) at alpha_bar: x_t by eq. 4, v by its definition.
Triple make_triple(double alpha_bar, std::uint64_t seed) {
  oracle::Normal normal(seed);
  Triple out;
  out.x0.resize(64);
  out.eps.resize(64);
  normal.fill(out.x0);
  normal.fill(out.eps);
  out.x_t = std::sqrt(alpha_bar) * out.x0 + std::sqrt(1 - alpha_bar) * out.eps;
  out.v = std::sqrt(alpha_bar) * out.eps - std::sqrt(1 - alpha_bar) * out.x0;
  return out;
}

const Eigen::ArrayXd& pick(const Triple& triple, Prediction p) {
  return p == Prediction::epsilon ? triple.eps : p == Prediction::x0 ? triple.x0 : triple.v;
}

}  // namespace

TEST_CASE("epsilon, x0 and v convert into each other exactly", "[prediction]") {
  // alpha_bar in [0.01, 0.99]: the conversions divide by sqrt(alpha_bar) or sqrt(1 - alpha_bar)
  // >= 0.1, so rounding errors of ~1e-16 on O(1) values grow to at most ~1e-14.
  const double alpha_bar = GENERATE(0.01, 0.3, 0.5, 0.9, 0.99);
  const Triple triple = make_triple(alpha_bar, 7);
  for (Prediction from : {Prediction::epsilon, Prediction::x0, Prediction::v}) {
    for (Prediction to : {Prediction::epsilon, Prediction::x0, Prediction::v}) {
      const Eigen::ArrayXd converted = ddim::convert_prediction(from, to, alpha_bar, triple.x_t, pick(triple, from));
      INFO("from " << ddim::to_string(from) << " to " << ddim::to_string(to) << " at alpha_bar " << alpha_bar);
      CHECK((converted - pick(triple, to)).abs().maxCoeff() < 1e-13);
    }
  }
}

TEST_CASE("prediction coefficients match the definitions of each parameterization", "[prediction]") {
  const double alpha_bar = GENERATE(1e-4, 0.25, 0.9999);
  for (Prediction p : {Prediction::epsilon, Prediction::x0, Prediction::v}) {
    const auto c = ddim::prediction_coefficients(p, alpha_bar);
    const double x_t = 0.37, output = -1.25;
    const auto expected = oracle::split(p, alpha_bar, x_t, output);
    // one product and one sum in double against long double: a few ulp of the larger term,
    // which is at most 1e2 here (1/sqrt(1e-4)).
    CHECK_THAT(c.x0_from_x * x_t + c.x0_from_output * output, WithinAbs(static_cast<double>(expected.x0), 1e-13));
    CHECK_THAT(c.eps_from_x * x_t + c.eps_from_output * output, WithinAbs(static_cast<double>(expected.eps), 1e-13));
  }
}

TEST_CASE("v-prediction stays defined at zero terminal SNR", "[prediction]") {
  Eigen::ArrayXd x_t = Eigen::ArrayXd::Constant(3, 0.5), v = Eigen::ArrayXd::Constant(3, -2.0);
  // at alpha_bar = 0, x_t is pure noise: x0 = -v and eps = x_t (epsilon-prediction is undefined
  // there: catalogue entry E20)
  const Eigen::ArrayXd x0 = ddim::convert_prediction(Prediction::v, Prediction::x0, 0.0, x_t, v);
  CHECK((x0 == 2.0).all());
  CHECK((ddim::convert_prediction(Prediction::v, Prediction::epsilon, 0.0, x_t, v) == x_t).all());
}

TEST_CASE("dynamic threshold is the linearly interpolated quantile of |x0|, clamped to [1, max]", "[prediction][clipping]") {
  // |x0| sorted: 0.5, 1, 2, 3, 4 (n = 5, rank = ratio * 4)
  Eigen::ArrayXd x0(5);
  x0 << -3.0, 4.0, 0.5, -1.0, 2.0;
  Eigen::ArrayXd scratch(5);
  CHECK(ddim::dynamic_threshold(x0, 0.5, 10.0, scratch) == 2.0);            // rank 2: exactly 2
  CHECK_THAT(ddim::dynamic_threshold(x0, 0.6, 10.0, scratch), WithinAbs(2.4, 1e-15));  // rank 2.4
  CHECK_THAT(ddim::dynamic_threshold(x0, 0.9, 10.0, scratch), WithinAbs(3.6, 1e-15));  // rank 3.6
  CHECK(ddim::dynamic_threshold(x0, 0.9, 3.0, scratch) == 3.0);  // clamped to max_value
  CHECK(ddim::dynamic_threshold(x0, 0.1, 10.0, scratch) == 1.0);  // rank 0.4 -> 0.7, clamped to 1
  Eigen::ArrayXf small = Eigen::ArrayXf::Constant(8, 0.25f);
  Eigen::ArrayXf small_scratch(8);
  CHECK(ddim::dynamic_threshold(small, 0.995, 1.0, small_scratch) == 1.0f);
}

