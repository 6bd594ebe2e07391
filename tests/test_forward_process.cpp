// The forward side: q(x_t | x_0) (eq. 4), the velocity, and the non-Markovian forward process
// q_sigma (eq. 6-7), whose marginals are q(x_t | x_0) for every sigma.
#include <ddim/coefficients.hpp>
#include <ddim/forward.hpp>
#include <ddim/prediction.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "support/catch.hpp"
#include "support/oracle.hpp"

namespace {

const ddim::NoiseSchedule<double>& schedule() {
  static const auto s = ddim::NoiseSchedule<double>::linear(1000, 1e-4, 0.02);
  return s;
}

struct SigmaFamily {
  std::string name;
  std::function<double(double, double)> sigma;  // (alpha_bar_t, alpha_bar_prev) -> sigma
};

std::vector<SigmaFamily> families() {
  std::vector<SigmaFamily> out;
  for (double eta : {0.0, 0.5, 1.0}) {
    out.push_back({"eta " + std::to_string(eta), [eta](double a_t, double a_s) { return ddim::ddim_sigma(a_t, a_s, eta); }});
  }
  // sigma-hat^2 = beta' = 1 - a_t / a_s, the DDPM "large" variance, capped at the largest sigma
  // eq. 7 admits (1 - a_s): beta' exceeds it wherever a_s^2 > a_t, i.e. at small t.
  out.push_back({"sigma-hat (capped)", [](double a_t, double a_s) { return std::sqrt(std::min(1 - a_t / a_s, 1 - a_s)); }});
  return out;
}

}  // namespace

TEST_CASE("the forward process keeps the marginals q(x_t | x0) exactly, for every sigma", "[forward]") {
  // Carry the mean and variance of the affine Gaussian recurrence x_prev = k0 x0 + kt x_t + sigma z
  // of eq. 7 from x_T ~ q(x_T | x0) down to t = 0. Each step is a handful of double operations on
  // O(1) numbers and the recurrence contracts (kt < 1), so 1e-12 bounds the accumulated rounding.
  const auto& s = schedule();
  const double x0_value = 0.8;
  for (const auto& family : families()) {
    for (int num_steps : {1000, 50, 10}) {
      const auto steps = ddim::Timesteps::leading(1000, num_steps);
      const int t_start = steps.t(0);
      double mean = std::sqrt(s.alpha_bar(t_start)) * x0_value;
      double variance = 1 - s.alpha_bar(t_start);
      for (int k = 0; k + 1 < steps.num_steps(); ++k) {
        const double a_t = s.alpha_bar(steps.t(k)), a_s = s.alpha_bar(steps.t_prev(k));
        const double sigma = family.sigma(a_t, a_s);
        // the library's step, read as an affine map: kt from (x_t = 1, x0 = 0), k0 from (0, 1)
        Eigen::ArrayXd one = Eigen::ArrayXd::Ones(1), zero = Eigen::ArrayXd::Zero(1), out(1);
        ddim::forward_process_step(a_t, a_s, sigma, one, zero, zero, out);
        const double kt = out(0);
        ddim::forward_process_step(a_t, a_s, sigma, zero, one, zero, out);
        const double k0 = out(0);
        mean = k0 * x0_value + kt * mean;
        variance = kt * kt * variance + sigma * sigma;
        INFO(family.name << ", S = " << num_steps << ", landing on t = " << steps.t_prev(k));
        REQUIRE_THAT(mean, WithinAbs(std::sqrt(a_s) * x0_value, 1e-12));
        REQUIRE_THAT(variance, WithinAbs(1 - a_s, 1e-12));
      }
    }
  }
}

TEST_CASE("sampled chains of the forward process have the marginals q(x_t | x0)", "[forward][statistical]") {
  // 20 000 chains from x_T ~ q(x_T | x0) down to t = 0 along a 200-step subsequence. At several
  // t the sample mean and variance must be within 5 standard errors of sqrt(ab) x0 and 1 - ab:
  // SE(mean) = sqrt(var / N), SE(variance) = var sqrt(2 / (N - 1)) (Gaussian chains). Fixed seed;
  // a false alarm at 5 SE has probability ~6e-7 per check.
  const auto& s = schedule();
  const Eigen::Index chains = 20000;
  const double x0_value = 0.8;
  const Eigen::ArrayXd x0 = Eigen::ArrayXd::Constant(chains, x0_value);
  const auto steps = ddim::Timesteps::leading(1000, 200);
  std::uint64_t seed = 100;
  for (const auto& family : families()) {
    oracle::Normal normal(seed++);
    Eigen::ArrayXd x(chains), z(chains);
    normal.fill(z);
    ddim::add_noise(s, steps.t(0), x0, z, x);
    int checked = 0;
    for (int k = 0; k + 1 < steps.num_steps(); ++k) {
      const int t_prev = steps.t_prev(k);
      const double a_t = s.alpha_bar(steps.t(k)), a_s = s.alpha_bar(t_prev);
      normal.fill(z);
      ddim::forward_process_step(a_t, a_s, family.sigma(a_t, a_s), x, x0, z, x);
      if (t_prev == 750 || t_prev == 500 || t_prev == 250 || t_prev == 50 || t_prev == 0) {
        const double expected_mean = std::sqrt(a_s) * x0_value, expected_variance = 1 - a_s;
        const double sample_mean = x.mean();
        const double sample_variance = (x - sample_mean).square().sum() / static_cast<double>(chains - 1);
        const double se_mean = std::sqrt(expected_variance / static_cast<double>(chains));
        const double se_variance = expected_variance * std::sqrt(2.0 / static_cast<double>(chains - 1));
        INFO(family.name << " at t = " << t_prev);
        CHECK(std::abs(sample_mean - expected_mean) < 5 * se_mean);
        CHECK(std::abs(sample_variance - expected_variance) < 5 * se_variance);
        ++checked;
      }
    }
    CHECK(checked == 5);
  }
}

TEST_CASE("add_noise and velocity invert through the v-parameterization", "[forward]") {
  const auto& s = schedule();
  oracle::Normal normal(9);
  Eigen::ArrayXd x0(100), eps(100), x_t(100), v(100);
  normal.fill(x0);
  normal.fill(eps);
  for (int t : {0, 250, 999}) {
    ddim::add_noise(s, t, x0, eps, x_t);
    ddim::velocity(s, t, x0, eps, v);
    const double ab = s.alpha_bar(t);
    CHECK((x_t - (std::sqrt(ab) * x0 + std::sqrt(1 - ab) * eps)).abs().maxCoeff() < 1e-15 * 8);
    // a model that predicts this v exactly gives back x0 and eps
    const Eigen::ArrayXd x0_back = ddim::convert_prediction(ddim::Prediction::v, ddim::Prediction::x0, ab, x_t, v);
    const Eigen::ArrayXd eps_back = ddim::convert_prediction(ddim::Prediction::v, ddim::Prediction::epsilon, ab, x_t, v);
    // sqrt(ab)^2 + sqrt(1-ab)^2 = 1 up to rounding: a few ulp of O(1) values
    CHECK((x0_back - x0).abs().maxCoeff() < 1e-14);
    CHECK((eps_back - eps).abs().maxCoeff() < 1e-14);
  }
}

TEST_CASE("the forward step with the largest sigma forgets x_t", "[forward]") {
  // sigma^2 = 1 - a_s leaves no x_t direction: x_prev = sqrt(a_s) x0 + sigma z
  Eigen::ArrayXd x_t = Eigen::ArrayXd::Constant(2, 5.0), x0 = Eigen::ArrayXd::Constant(2, 0.5),
                 z = Eigen::ArrayXd::Constant(2, -1.0), out(2);
  const double a_t = 0.3, a_s = 0.6;
  ddim::forward_process_step(a_t, a_s, std::sqrt(1 - a_s), x_t, x0, z, out);
  // sigma^2 rounds to 1 - a_s within ~2 ulp, and the x_t direction keeps sqrt of that residue:
  // up to sqrt(4.4e-16) ~ 2.1e-8 times |x_t - sqrt(a_t) x0| / sqrt(1 - a_t) ~ 5.5, i.e. ~1.2e-7
  CHECK_THAT(out(0), WithinAbs(std::sqrt(a_s) * 0.5 - std::sqrt(1 - a_s), 2e-7));
}
