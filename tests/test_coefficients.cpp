// Step coefficients: sigma(eta) (eq. 16), the eta = 1 == DDPM identity, the eta bound, the final
// step, the learned variance, and validation.
#include <ddim/coefficients.hpp>

#include <cmath>
#include <limits>

#include "support/catch.hpp"
#include "support/oracle.hpp"

namespace {

const ddim::NoiseSchedule<double>& linear_schedule() {
  static const auto schedule = ddim::NoiseSchedule<double>::linear(1000, 1e-4, 0.02);
  return schedule;
}

double alpha_bar(int t) { return t < 0 ? 1.0 : linear_schedule().alpha_bar(t); }

}  // namespace

TEST_CASE("sigma squared at eta 1 matches diffusers' pinned variances", "[coefficients]") {
  // tests/schedulers/test_scheduler_ddim.py::test_variance (linear 1e-4 ... 0.02, T = 1000),
  // pinned there to 1e-5; diffusers computes in float32.
  CHECK_THAT(ddim::posterior_variance(alpha_bar(420), alpha_bar(400)), WithinAbs(0.14771, 1e-5));
  CHECK_THAT(ddim::posterior_variance(alpha_bar(980), alpha_bar(960)), WithinAbs(0.32460, 1e-5));
  CHECK_THAT(ddim::posterior_variance(alpha_bar(487), alpha_bar(486)), WithinAbs(0.00979, 1e-5));
  CHECK_THAT(ddim::posterior_variance(alpha_bar(999), alpha_bar(998)), WithinAbs(0.02, 1e-5));
  CHECK(ddim::posterior_variance(alpha_bar(0), 1.0) == 0.0);
  const auto c = ddim::step_coefficients(alpha_bar(420), alpha_bar(400), ddim::Options::ddim(1.0), false);
  CHECK_THAT(c.variance, WithinAbs(0.14771, 1e-5));
  CHECK_THAT(static_cast<double>(c.noise_scale), WithinRel(std::sqrt(c.variance), 1e-15));
}

TEST_CASE("sigma(eta) is eq. 16: zero at eta 0, linear in eta", "[coefficients]") {
  const double a_t = alpha_bar(700), a_s = alpha_bar(500);
  CHECK(ddim::ddim_sigma(a_t, a_s, 0.0) == 0.0);
  const double sigma1 = ddim::ddim_sigma(a_t, a_s, 1.0);
  CHECK_THAT(ddim::ddim_sigma(a_t, a_s, 0.5), WithinRel(0.5 * sigma1, 1e-15));
  CHECK_THAT(sigma1, WithinRel(static_cast<double>(oracle::ddim_sigma(a_t, a_s, 1)), 1e-14));
  CHECK_THAT(sigma1 * sigma1, WithinRel(ddim::posterior_variance(a_t, a_s), 1e-14));
  const auto deterministic = ddim::step_coefficients(a_t, a_s, ddim::Options::ddim(0.0), false);
  CHECK(deterministic.noise_scale == 0.0);
  CHECK_FALSE(deterministic.adds_noise());
}

TEST_CASE("eta 1 equals the DDPM fixed-small posterior in mean and variance", "[coefficients]") {
  // Both are computed in double from the same alpha_bar values but by different formulas
  // (eq. 12 + 16 against DDPM eq. 7); the coefficients are O(1) to O(1e2) (1/sqrt(alpha_bar)
  // near t = T - 1), so 1e-12 relative leaves ~10^3 ulp of room for the differing roundings.
  const auto& schedule = linear_schedule();
  for (int num_steps : {1000, 50, 10}) {
    const auto steps = ddim::Timesteps::leading(1000, num_steps);
    for (ddim::Prediction prediction : {ddim::Prediction::epsilon, ddim::Prediction::x0, ddim::Prediction::v}) {
      ddim::Options ddim_options = ddim::Options::ddim(1.0);
      ddim::Options ddpm_options = ddim::Options::ddpm(ddim::Variance::fixed_small);
      ddim_options.prediction = ddpm_options.prediction = prediction;
      for (int k = 0; k < steps.num_steps(); ++k) {
        const auto a = ddim::step_coefficients(schedule, steps, k, ddim_options);
        const auto b = ddim::step_coefficients(schedule, steps, k, ddpm_options);
        INFO("S = " << num_steps << ", step " << k << ", prediction " << ddim::to_string(prediction));
        CHECK_THAT(a.prev_from_x, WithinRel(b.prev_from_x, 1e-12) || WithinAbs(b.prev_from_x, 1e-13));
        CHECK_THAT(a.prev_from_output, WithinRel(b.prev_from_output, 1e-12) || WithinAbs(b.prev_from_output, 1e-13));
        CHECK_THAT(a.variance, WithinRel(b.variance, 1e-12) || WithinAbs(b.variance, 1e-16));
      }
    }
  }
}

TEST_CASE("the fused coefficients equal eq. 9 followed by eq. 12", "[coefficients]") {
  const double a_t = alpha_bar(600), a_s = alpha_bar(550);
  for (double eta : {0.0, 0.3, 1.0}) {
    for (ddim::Prediction prediction : {ddim::Prediction::epsilon, ddim::Prediction::x0, ddim::Prediction::v}) {
      ddim::Options options = ddim::Options::ddim(eta);
      options.prediction = prediction;
      const auto c = ddim::step_coefficients(a_t, a_s, options, false);
      const double x_t = 0.8, output = -0.3;
      const auto split = oracle::split(prediction, a_t, x_t, output);
      const auto expected = oracle::ddim_update(a_s, oracle::ddim_sigma(a_t, a_s, eta), split.x0, split.eps, 0);
      // coefficients of size <= 2 applied to O(1) values: a few ulp
      CHECK_THAT(c.prev_from_x * x_t + c.prev_from_output * output, WithinAbs(static_cast<double>(expected), 1e-14));
    }
  }
}

TEST_CASE("eta above the bound where 1 - alpha_bar_prev - sigma^2 < 0 is rejected unless clamped", "[coefficients][errors]") {
  const double a_t = alpha_bar(999), a_s = alpha_bar(900);
  const double bound = ddim::max_eta(a_t, a_s);
  REQUIRE(bound > 1.0);
  CHECK_NOTHROW(ddim::step_coefficients(a_t, a_s, ddim::Options::ddim(bound * (1 - 1e-9)), false));
  CHECK_THROWS_WITH(ddim::step_coefficients(a_t, a_s, ddim::Options::ddim(bound * 1.01), false),
                    ddim_test::contains("eta = "));
  CHECK_THROWS_WITH(ddim::step_coefficients(a_t, a_s, ddim::Options::ddim(bound * 1.01), false),
                    ddim_test::contains("Options::clamp_sigma"));
  ddim::Options clamped = ddim::Options::ddim(bound * 1.5);
  clamped.clamp_sigma = true;
  const auto c = ddim::step_coefficients(a_t, a_s, clamped, false);
  CHECK_THAT(c.variance, WithinRel(1 - a_s, 1e-15));  // sigma^2 = 1 - alpha_bar_prev
  // nothing left for the eps direction: x_prev = sqrt(a_s) x0_pred + sigma z
  const auto x0 = ddim::prediction_coefficients(ddim::Prediction::epsilon, a_t);
  CHECK_THAT(c.prev_from_output, WithinRel(std::sqrt(a_s) * x0.x0_from_output, 1e-14));
  // landing on alpha_bar = 1 makes sigma zero for every eta
  CHECK(ddim::max_eta(a_t, 1.0) == std::numeric_limits<double>::infinity());
  CHECK(ddim::step_coefficients(a_t, 1.0, ddim::Options::ddim(50.0), true).noise_scale == 0.0);
}

TEST_CASE("the last step lands on the final alpha_bar", "[coefficients]") {
  const auto& schedule = linear_schedule();
  const auto steps = ddim::Timesteps::leading(1000, 10);  // ..., 100, 0
  const int last = steps.num_steps() - 1;
  SECTION("final alpha_bar 1: the last DDIM step returns x0_pred, whatever eta") {
    const auto c = ddim::step_coefficients(schedule, steps, last, ddim::Options::ddim(1.0));
    CHECK(c.alpha_bar_prev == 1.0);
    CHECK(c.noise_scale == 0.0);
    CHECK_THAT(c.prev_from_x, WithinRel(c.x0_from_x, 1e-15));
    CHECK_THAT(c.prev_from_output, WithinRel(c.x0_from_output, 1e-15));
  }
  SECTION("final alpha_bar_0 with t = 0: the last step does not move (DDIM) and adds no noise (DDPM)") {
    ddim::Options options = ddim::Options::ddim(0.0);
    options.final_alpha_bar = ddim::FinalAlphaBar::alpha_bar_0;
    const auto c = ddim::step_coefficients(schedule, steps, last, options);
    CHECK(c.alpha_bar_prev == schedule.alpha_bar(0));
    CHECK_THAT(c.prev_from_x, WithinAbs(1.0, 1e-15));
    CHECK_THAT(c.prev_from_output, WithinAbs(0.0, 1e-15));
    options.method = ddim::Method::ddpm;
    options.variance = ddim::Variance::fixed_large;
    CHECK_FALSE(ddim::step_coefficients(schedule, steps, last, options).adds_noise());
  }
  SECTION("final alpha_bar_0 with a last t > 0: eta > 0 still adds noise at the last DDIM step") {
    const auto trailing = ddim::Timesteps::trailing(1000, 10);  // ..., 199, 99
    ddim::Options options = ddim::Options::ddim(1.0);
    options.final_alpha_bar = ddim::FinalAlphaBar::alpha_bar_0;
    const auto c = ddim::step_coefficients(schedule, trailing, trailing.num_steps() - 1, options);
    CHECK_THAT(c.variance, WithinRel(ddim::posterior_variance(schedule.alpha_bar(99), schedule.alpha_bar(0)), 1e-14));
    options.method = ddim::Method::ddpm;  // DDPM never adds noise at the last step
    CHECK_FALSE(ddim::step_coefficients(schedule, trailing, trailing.num_steps() - 1, options).adds_noise());
  }
}

TEST_CASE("DDPM variances: beta~, beta' and the learned interpolation between them", "[coefficients]") {
  const double a_t = alpha_bar(500), a_s = alpha_bar(480);
  const double beta = 1 - a_t / a_s;
  const double beta_tilde = ddim::posterior_variance(a_t, a_s);
  CHECK_THAT(ddim::step_coefficients(a_t, a_s, ddim::Options::ddpm(ddim::Variance::fixed_small), false).variance,
             WithinRel(beta_tilde, 1e-15));
  CHECK_THAT(ddim::step_coefficients(a_t, a_s, ddim::Options::ddpm(ddim::Variance::fixed_large), false).variance,
             WithinRel(beta, 1e-15));
  const auto c = ddim::step_coefficients(a_t, a_s, ddim::Options::ddpm(ddim::Variance::learned_range), false);
  REQUIRE(c.learned_range);
  const auto std_at = [&](double v) { return std::exp(c.log_std_center + c.log_std_half_range * v); };
  // v = -1: beta~, v = +1: beta', v = 0: the geometric mean; log-space arithmetic is exact to ~1e-15
  CHECK_THAT(std_at(-1.0), WithinRel(std::sqrt(beta_tilde), 1e-13));
  CHECK_THAT(std_at(1.0), WithinRel(std::sqrt(beta), 1e-13));
  CHECK_THAT(std_at(0.0), WithinRel(std::pow(beta * beta_tilde, 0.25), 1e-13));
  // the learned variance is never NaN, even where beta~ is tiny (t = 1 -> 0) or 0 (landing on 1)
  const auto tiny = ddim::step_coefficients(alpha_bar(1), alpha_bar(0), ddim::Options::ddpm(ddim::Variance::learned_range), false);
  CHECK(std::isfinite(static_cast<double>(tiny.log_std_center)));
  CHECK(std::isfinite(static_cast<double>(tiny.log_std_half_range)));
  const auto landing = ddim::step_coefficients(alpha_bar(1), 1.0, ddim::Options::ddpm(ddim::Variance::learned_range), false);
  CHECK(std::isfinite(static_cast<double>(landing.log_std_center)));
}

TEST_CASE("epsilon-prediction is rejected at zero terminal SNR, while v and x0 are accepted", "[coefficients][errors]") {
  const auto schedule = ddim::NoiseSchedule<double>::scaled_linear(1000).rescaled_to_zero_terminal_snr();
  const auto steps = ddim::Timesteps::trailing(1000, 10);  // starts at t = 999, alpha_bar = 0
  CHECK_THROWS_WITH(ddim::step_coefficients(schedule, steps, 0, ddim::Options::ddim()),
                    ddim_test::contains("alpha_bar_t = 0; allowed: alpha_bar_t > 0 for epsilon-prediction"));
  CHECK_THROWS_WITH(ddim::step_coefficients(schedule, steps, 0, ddim::Options::ddim()),
                    ddim_test::contains("step 0: t = 999"));
  for (ddim::Prediction prediction : {ddim::Prediction::v, ddim::Prediction::x0}) {
    ddim::Options options;
    options.prediction = prediction;
    const auto c = ddim::step_coefficients(schedule, steps, 0, options);
    CHECK(std::isfinite(static_cast<double>(c.prev_from_x)));
    CHECK(std::isfinite(static_cast<double>(c.prev_from_output)));
  }
  CHECK_NOTHROW(ddim::step_coefficients(schedule, steps, 1, ddim::Options::ddim()));
}

TEST_CASE("step_coefficients rejects inconsistent input, naming the parameter", "[coefficients][errors]") {
  const auto& schedule = linear_schedule();
  CHECK_THROWS_WITH(ddim::step_coefficients(schedule, ddim::Timesteps::leading(500, 10), 0, ddim::Options{}),
                    ddim_test::contains("timesteps.num_train_steps() = 500; allowed: equal to schedule.num_train_steps() = 1000"));
  CHECK_THROWS_WITH(ddim::step_coefficients(schedule, ddim::Timesteps::leading(1000, 10), 10, ddim::Options{}),
                    ddim_test::contains("step_index = 10"));
  CHECK_THROWS_WITH(ddim::step_coefficients(0.5, 0.4, ddim::Options{}, false), ddim_test::contains("alpha_bar_prev = 0.4"));
  CHECK_THROWS_WITH(ddim::step_coefficients(1.0, 1.0, ddim::Options{}, false), ddim_test::contains("alpha_bar_t = 1"));
  CHECK_THROWS_WITH(ddim::step_coefficients(0.5, 0.6, ddim::Options::ddim(-0.1), false), ddim_test::contains("eta = -0.10000000000000001"));
  CHECK_THROWS_WITH(ddim::step_coefficients(0.5, 0.6, ddim::Options::ddim(std::nan("")), false), ddim_test::contains("eta = nan"));
  ddim::Options bad_clip;
  bad_clip.clipping.kind = ddim::Clipping::Kind::range;
  bad_clip.clipping.range = 0.0;
  CHECK_THROWS_WITH(ddim::step_coefficients(0.5, 0.6, bad_clip, false), ddim_test::contains("clipping.range = 0"));
  ddim::Options bad_threshold;
  bad_threshold.clipping.kind = ddim::Clipping::Kind::dynamic_threshold;
  bad_threshold.clipping.ratio = 1.5;
  CHECK_THROWS_WITH(ddim::step_coefficients(0.5, 0.6, bad_threshold, false), ddim_test::contains("clipping.ratio = 1.5"));
}
