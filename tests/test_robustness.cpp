// Valid input never produces NaN or Inf: the whole configuration grid of the reliability issue,
// sampled with the exact Gaussian-mixture model in float and double, plus the extremes (T = 1,
// S = 1, S = T, alpha_bar near 0 and 1, tensors of 0 and 1 values).
#include <ddim/ddim.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "support/catch.hpp"

namespace {

struct NamedSchedule {
  std::string name;
  ddim::NoiseSchedule<double> schedule;
  bool zero_snr;
};

std::vector<NamedSchedule> schedules() {
  using S = ddim::NoiseSchedule<double>;
  return {{"linear", S::linear(1000), false},
          {"scaled_linear", S::scaled_linear(1000), false},
          {"cosine", S::cosine(1000), false},
          {"sigmoid", S::sigmoid(1000), false},
          {"zero-SNR scaled_linear", S::scaled_linear(1000).rescaled_to_zero_terminal_snr(), true}};
}

ddim::Timesteps spacing(int which, int num_steps) {
  switch (which) {
    case 0: return ddim::Timesteps::leading(1000, num_steps);
    case 1: return ddim::Timesteps::trailing(1000, num_steps);
    case 2: return ddim::Timesteps::linspace(1000, num_steps);
    case 3: return ddim::Timesteps::uniform(1000, num_steps);
    default: return ddim::Timesteps::quadratic(1000, num_steps);
  }
}

const char* spacing_name(int which) {
  static const char* names[] = {"leading", "trailing", "linspace", "uniform", "quad"};
  return names[which];
}

}  // namespace

TEST_CASE("every configuration of the grid samples finite values, and float follows double", "[robustness]") {
  // {linear, scaled-linear, cosine, sigmoid, zero-SNR (v-prediction)} x {leading, trailing, linspace,
  // uniform, quad} x S in {1, 2, 10, 50, T} x {eta 0, 0.5, 1, sigma-hat} x {eps, x0, v} x {float,
  // double}, each with the exact model of a 2-D mixture on 6 samples.
  //
  // float against double: both runs start from the same x_T and draw the same noise (the double
  // stream, rounded), so they differ by float rounding alone. A step rounds each of its few
  // operations once, relative 2^-24 of its largest term: its largest coefficient C (the plan's
  // prev_from_x or prev_from_output; ~1/sqrt(alpha_bar) at the first step of epsilon-prediction,
  // ~160 for the linear schedule at t = 999 but ~1.3e4 for the cosine schedule, whose alpha_bar_999
  // is ~6e-9) times max|x|, the model's output being rounded to float as well. A step does not
  // amplify the error it inherits beyond that first step, so the difference stays below
  // S * 4 * 2^-24 * C * max|x| + 1e-5. The largest ratio to that bound is printed.
  const auto mixture = ddim::GaussianMixture::ring(4, 2.0, 0.5);
  const Eigen::ArrayXXd x_T = ddim::gaussian<double>(2, 6, 99);
  const ddim::PhiloxNoise stream(5);
  Eigen::ArrayXXd noise_buffer(2, 6);
  const auto double_noise = [&](int k, int t, ddim::ModelOutput<double>& z) { stream.step_noise(k, t, z); };
  const auto float_noise = [&](int k, int t, ddim::ModelOutput<float>& z) {
    stream.step_noise(k, t, noise_buffer);
    z = noise_buffer.cast<float>();
  };
  std::vector<ddim::Options> samplers = {ddim::Options::ddim(0.0), ddim::Options::ddim(0.5), ddim::Options::ddim(1.0),
                                         ddim::Options::ddpm(ddim::Variance::fixed_large)};
  int runs = 0;
  double worst_relative = 0;
  for (const auto& named : schedules()) {
    const auto schedule_float = named.schedule.cast<float>();
    auto model_double = mixture.model(named.schedule);
    for (int which = 0; which < 5; ++which) {
      for (int num_steps : {1, 2, 10, 50, 1000}) {
        const auto steps = spacing(which, num_steps);
        for (ddim::Options options : samplers) {
          for (ddim::Prediction prediction : {ddim::Prediction::epsilon, ddim::Prediction::x0, ddim::Prediction::v}) {
            if (named.zero_snr && prediction != ddim::Prediction::v) continue;
            options.prediction = prediction;
            auto model_d = mixture.model(named.schedule, prediction);
            auto model_f = mixture.model(schedule_float, prediction);
            Eigen::ArrayXXd x_double = x_T;
            Eigen::ArrayXXf x_float = x_T.cast<float>();
            ddim::sample(named.schedule, steps, options, x_double, model_d, double_noise);
            ddim::sample(schedule_float, steps, options, x_float, model_f, float_noise);
            INFO(named.name << ", " << spacing_name(which) << ", S = " << num_steps << ", "
                            << (options.method == ddim::Method::ddpm ? "sigma-hat" : "eta " + std::to_string(options.eta))
                            << ", " << ddim::to_string(prediction));
            REQUIRE(x_double.allFinite());
            REQUIRE(x_float.allFinite());
            const double scale = std::max(1.0, x_double.abs().maxCoeff());
            const double difference = (x_float.cast<double>() - x_double).abs().maxCoeff();
            const ddim::SamplingPlan<double> plan(named.schedule, steps, options);
            double largest = 1.0;
            for (int k = 0; k < plan.num_steps(); ++k) {
              largest = std::max({largest, std::abs(plan.coefficients(k).prev_from_x), std::abs(plan.coefficients(k).prev_from_output)});
            }
            const double bound = steps.num_steps() * 4.0 * std::ldexp(1.0, -24) * largest * scale + 1e-5;
            worst_relative = std::max(worst_relative, difference / bound);
            CHECK(difference <= bound);
            ++runs;
          }
        }
      }
    }
  }
  INFO("largest float/double difference as a fraction of its bound: " << worst_relative);
  CHECK(runs == 4 * 5 * 5 * 4 * 3 + 5 * 4 * 5);
}

TEST_CASE("extreme schedules and sizes stay finite", "[robustness]") {
  const auto model = [](const Eigen::ArrayXXd& x, int, ddim::ModelOutput<double>& out) { out = 0.5 * x.tanh(); };
  const auto modelf = [](const Eigen::ArrayXXf& x, int, ddim::ModelOutput<float>& out) { out = 0.5f * x.tanh(); };
  SECTION("T = 1, S = 1") {
    const auto one = ddim::NoiseSchedule<double>::linear(1, 0.5, 0.5);
    for (const auto& options : {ddim::Options::ddim(0.0), ddim::Options::ddim(1.0), ddim::Options::ddpm()}) {
      Eigen::ArrayXXd x = ddim::gaussian<double>(3, 2, 1);
      ddim::sample(one, ddim::Timesteps::leading(1, 1), options, x, model, ddim::PhiloxNoise(1));
      CHECK(x.allFinite());
    }
  }
  SECTION("alpha_bar within an ulp of 1 and far below float's range, in double") {
    const auto extreme = ddim::NoiseSchedule<double>::from_alpha_bar({1 - 1e-15, 0.5, 1e-300});
    for (ddim::Prediction prediction : {ddim::Prediction::epsilon, ddim::Prediction::x0, ddim::Prediction::v}) {
      for (const auto& base : {ddim::Options::ddim(0.0), ddim::Options::ddim(1.0), ddim::Options::ddpm(ddim::Variance::learned_range)}) {
        ddim::Options options = base;
        options.prediction = prediction;
        Eigen::ArrayXXd x = ddim::gaussian<double>(3, 2, 2);
        const auto with_variance = [](const Eigen::ArrayXXd& x_t, int, ddim::ModelOutput<double>& out) {
          out.topRows(x_t.rows()) = 0.5 * x_t.tanh();
          if (out.rows() > x_t.rows()) out.bottomRows(x_t.rows()).setConstant(0.3);
        };
        if (base.method == ddim::Method::ddpm) {
          ddim::sample(extreme, ddim::Timesteps::custom(3, {2, 1, 0}), options, x, with_variance, ddim::PhiloxNoise(2));
        } else {
          ddim::sample(extreme, ddim::Timesteps::custom(3, {2, 1, 0}), options, x, model, ddim::PhiloxNoise(2));
        }
        INFO("prediction " << ddim::to_string(prediction) << ", method " << static_cast<int>(base.method));
        CHECK(x.allFinite());
      }
    }
  }
  SECTION("alpha_bar near float's limits, in float") {
    const auto extreme = ddim::NoiseSchedule<float>::from_alpha_bar({0.9999999, 0.5, 1e-36});
    for (ddim::Prediction prediction : {ddim::Prediction::epsilon, ddim::Prediction::x0, ddim::Prediction::v}) {
      ddim::Options options = ddim::Options::ddim(0.7);
      options.prediction = prediction;
      Eigen::ArrayXXf x = ddim::gaussian<float>(3, 2, 3);
      ddim::sample(extreme, ddim::Timesteps::custom(3, {2, 1, 0}), options, x, modelf, ddim::PhiloxNoise(3));
      INFO("prediction " << ddim::to_string(prediction));
      CHECK(x.allFinite());
    }
  }
  SECTION("S = T on the cosine schedule, whose last betas are capped at 0.999") {
    const auto cosine = ddim::NoiseSchedule<double>::cosine(1000);
    Eigen::ArrayXXd x = ddim::gaussian<double>(2, 3, 4);
    ddim::sample(cosine, ddim::Timesteps::leading(1000, 1000), ddim::Options::ddim(1.0), x, model, ddim::PhiloxNoise(4));
    CHECK(x.allFinite());
  }
  SECTION("tensors of zero and one value") {
    const auto schedule = ddim::NoiseSchedule<double>::linear(1000);
    Eigen::ArrayXXd none(0, 3), single = Eigen::ArrayXXd::Constant(1, 1, 0.25);
    ddim::sample(schedule, ddim::Timesteps::trailing(1000, 7), ddim::Options::ddim(1.0), none, model, ddim::PhiloxNoise(5));
    ddim::sample(schedule, ddim::Timesteps::trailing(1000, 7), ddim::Options::ddim(1.0), single, model, ddim::PhiloxNoise(5));
    ddim::invert(schedule, ddim::Timesteps::trailing(1000, 7), ddim::Options{}, ddim::ModelTime::source, single, model);
    CHECK(single.allFinite());
    CHECK(none.size() == 0);
  }
}
