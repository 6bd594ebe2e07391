// DDIM inversion: the encoding plan mirrors the decoding one, both model-time conventions, the
// reconstruction error trend of the paper's table 2, and validation.
#include <ddim/ddim.hpp>

#include <cmath>
#include <vector>

#include "support/catch.hpp"

namespace {

const ddim::NoiseSchedule<double>& schedule() {
  static const auto s = ddim::NoiseSchedule<double>::linear(1000, 1e-4, 0.02);
  return s;
}

}  // namespace

TEST_CASE("encoding walks the decoding steps in reverse", "[invert]") {
  const auto steps = ddim::Timesteps::trailing(1000, 6);  // 999, 832, 666, 499, 332, 166
  const auto decoding = ddim::SamplingPlan<double>(schedule(), steps, ddim::Options{});
  for (ddim::ModelTime model_time : {ddim::ModelTime::source, ddim::ModelTime::destination}) {
    const auto encoding = ddim::SamplingPlan<double>::encoding(schedule(), steps, ddim::Options{}, model_time);
    REQUIRE(encoding.num_steps() == 6);
    CHECK(encoding.encodes());
    for (int j = 0; j < 6; ++j) {
      const auto& up = encoding.step(j);
      const auto& down = decoding.step(5 - j);
      CHECK(up.t == down.t_prev);
      CHECK(up.t_prev == down.t);
      // the same pair of alpha_bar values, walked the other way
      CHECK(up.coefficients.alpha_bar_t == down.coefficients.alpha_bar_prev);
      CHECK(up.coefficients.alpha_bar_prev == down.coefficients.alpha_bar_t);
      CHECK(up.model_t == (model_time == ddim::ModelTime::destination ? down.t : std::max(down.t_prev, 0)));
    }
  }
}

TEST_CASE("evaluated at the source with the exact eps, encoding stays on the forward path", "[invert]") {
  // Data concentrated at one point x0: the exact model is eps*(x, t) = (x - sqrt(ab_t) x0) / sqrt(1 - ab_t).
  // Start on the forward path x = sqrt(ab_0) x0 + sqrt(1 - ab_0) eps0 (FinalAlphaBar::alpha_bar_0):
  // every encoding step with the model at its source must land on sqrt(ab) x0 + sqrt(1 - ab) eps0
  // again, up to rounding (the encoding counterpart of "eta 0 with the exact eps recovers x0").
  Eigen::ArrayXd x0(4), eps0(4);
  x0 << 0.5, -1.0, 2.0, 0.0;
  eps0 << 1.0, -0.3, 0.2, 2.5;
  const auto model = [&](const Eigen::ArrayXd& x, int t, ddim::ModelOutput<double>& out) {
    out = (x - schedule().sqrt_alpha_bar(t) * x0) / schedule().sqrt_one_minus_alpha_bar(t);
  };
  ddim::Options options;
  options.final_alpha_bar = ddim::FinalAlphaBar::alpha_bar_0;
  for (int num_steps : {10, 50}) {
    const auto steps = ddim::Timesteps::leading(1000, num_steps);
    Eigen::ArrayXd x = schedule().sqrt_alpha_bar(0) * x0 + schedule().sqrt_one_minus_alpha_bar(0) * eps0;
    double worst = 0;
    ddim::invert(schedule(), steps, options, ddim::ModelTime::source, x, model,
                 [&](const ddim::StepInfo& info, const Eigen::ArrayXd& state, const auto&) {
                   const Eigen::ArrayXd on_path = schedule().sqrt_alpha_bar(info.t_prev) * x0 +
                                                  schedule().sqrt_one_minus_alpha_bar(info.t_prev) * eps0;
                   worst = std::max(worst, (state - on_path).abs().maxCoeff());
                 });
    // a step never amplifies the error it inherits (see the decoding counterpart): a few ulp
    // of |x| <= 3 per step
    INFO("S = " << num_steps << ", largest distance from the path " << worst);
    CHECK(worst < 1e-13);
  }
}

TEST_CASE("reconstruction error falls as the number of steps grows (paper table 2)", "[invert]") {
  // Exact model of a 2-D mixture; x0 drawn from the mixture itself. The decoder is the encoder's
  // mirror, so its error is pure discretisation: it must fall monotonically with S.
  const auto mixture = ddim::GaussianMixture::ring(6, 3.0, 0.5, 2);
  const Eigen::ArrayXXd x0 = mixture.sample<double>(400, 17);
  auto model = mixture.model(schedule());
  for (ddim::ModelTime model_time : {ddim::ModelTime::source, ddim::ModelTime::destination}) {
    std::vector<double> errors;
    for (int num_steps : {10, 20, 50, 100}) {
      errors.push_back(ddim::reconstruction_error(schedule(), ddim::Timesteps::leading(1000, num_steps), ddim::Options{},
                                                  model_time, x0, model));
    }
    INFO("errors " << errors[0] << " " << errors[1] << " " << errors[2] << " " << errors[3]);
    for (std::size_t i = 1; i < errors.size(); ++i) CHECK(errors[i] < errors[i - 1]);
    CHECK(errors.back() < 0.05 * errors.front());
  }
}

TEST_CASE("the encoder reports its steps to the observer", "[invert][observer]") {
  const auto steps = ddim::Timesteps::leading(1000, 4);  // 750, 500, 250, 0
  Eigen::ArrayXd x = Eigen::ArrayXd::Constant(2, 0.3);
  std::vector<ddim::StepInfo> seen;
  ddim::invert(schedule(), steps, ddim::Options{}, ddim::ModelTime::destination, x,
               [](const Eigen::ArrayXd& x_t, int, ddim::ModelOutput<double>& out) { out = 0.1 * x_t; },
               [&](const ddim::StepInfo& info, const auto&, const auto&) { seen.push_back(info); });
  REQUIRE(seen.size() == 4);
  CHECK(seen[0].t == -1);  // from the clean end
  CHECK(seen[0].t_prev == 0);
  CHECK(seen[0].model_t == 0);
  CHECK(seen[3].t == 500);
  CHECK(seen[3].t_prev == 750);
  CHECK(seen[3].model_t == 750);
}
