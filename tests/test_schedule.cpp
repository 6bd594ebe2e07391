// Noise schedules: the definitions of each family, the tables derived from them, zero-terminal-SNR
// rescaling, and the validation of bad input.
#include <ddim/schedule.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "support/catch.hpp"

namespace {

constexpr double kPi = 3.14159265358979323846;

// Tables are computed in double: one operation per entry, so agreement with an independent
// evaluation of the same formula is within a few ulp (tolerance 1e-15 relative for values of
// order 1e-4 ... 1 amounts to ~4 ulp).
constexpr double kDoubleRel = 1e-15;

// alpha_bar is a running product over up to 1000 factors: each multiplication rounds once, so the
// relative error grows at most like T * 2^-53 ~ 1.1e-13 for T = 1000.
constexpr double kProductRel = 2e-13;

std::vector<double> cumprod_one_minus(const std::vector<double>& betas) {
  std::vector<double> out(betas.size());
  double product = 1.0;
  for (std::size_t i = 0; i < betas.size(); ++i) out[i] = product *= 1.0 - betas[i];
  return out;
}

}  // namespace

TEST_CASE("linear schedule spaces beta evenly between its ends", "[schedule]") {
  const auto schedule = ddim::NoiseSchedule<double>::linear(1000, 1e-4, 0.02);
  REQUIRE(schedule.num_train_steps() == 1000);
  CHECK(schedule.beta(0) == 1e-4);
  CHECK(schedule.beta(999) == 0.02);
  const double step = (0.02 - 1e-4) / 999.0;
  for (int t = 0; t < 1000; ++t) {
    CHECK_THAT(schedule.beta(t), WithinRel(1e-4 + t * step, kDoubleRel));
  }
}

TEST_CASE("linear schedule alpha_bar is the product of 1 - beta", "[schedule]") {
  const auto schedule = ddim::NoiseSchedule<double>::linear(1000);
  std::vector<double> betas(1000);
  for (int t = 0; t < 1000; ++t) betas[static_cast<std::size_t>(t)] = schedule.beta(t);
  const std::vector<double> expected = cumprod_one_minus(betas);
  for (int t = 0; t < 1000; ++t) {
    CHECK_THAT(schedule.alpha_bar(t), WithinRel(expected[static_cast<std::size_t>(t)], kProductRel));
  }
  // The well-known end point of the DDPM schedule: alpha_bar_999 = 4.035829e-05 (diffusers and
  // the DDPM paper's code both give this to the digits shown; float32 rounding limits diffusers
  // to ~1e-7 relative).
  CHECK_THAT(schedule.alpha_bar(999), WithinRel(4.035829e-05, 1e-6));
}

TEST_CASE("scaled_linear schedule spaces sqrt(beta) evenly", "[schedule]") {
  const auto schedule = ddim::NoiseSchedule<double>::scaled_linear(1000);
  const double root0 = std::sqrt(0.00085), root1 = std::sqrt(0.012);
  for (int t = 0; t < 1000; t += 37) {
    const double root = root0 + t * (root1 - root0) / 999.0;
    CHECK_THAT(schedule.beta(t), WithinRel(root * root, 4 * kDoubleRel));
  }
  CHECK_THAT(schedule.beta(999), WithinRel(0.012, kDoubleRel));
}

TEST_CASE("cosine schedule follows f(t) = cos^2((t/T + s)/(1 + s) pi/2) until the beta cap", "[schedule]") {
  const int steps = 1000;
  const auto schedule = ddim::NoiseSchedule<double>::cosine(steps);
  const auto f = [](double u) {
    const double c = std::cos((u + 0.008) / 1.008 * kPi / 2);
    return c * c;
  };
  int capped = 0;
  for (int t = 0; t < steps; ++t) {
    const double uncapped = 1.0 - f((t + 1.0) / steps) / f(static_cast<double>(t) / steps);
    if (uncapped >= 0.999) {
      ++capped;
      CHECK(schedule.beta(t) == 0.999);
    } else {
      // 1 - ratio of nearby cosines: the cancellation costs up to ~1/beta ulp, beta >= 4e-5 here
      CHECK_THAT(schedule.beta(t), WithinRel(uncapped, 1e-10));
      if (capped == 0) {
        // before any cap, alpha_bar telescopes to f((t+1)/T) / f(0)
        CHECK_THAT(schedule.alpha_bar(t), WithinRel(f((t + 1.0) / steps) / f(0.0), 1e-11));
      }
    }
  }
  CHECK(capped >= 1);  // the last beta of the T = 1000 cosine schedule is capped
  CHECK(schedule.beta(steps - 1) == 0.999);
}

TEST_CASE("sigmoid schedule is symmetric about its midpoint", "[schedule]") {
  // sigmoid(x) + sigmoid(-x) = 1 and linspace(-6, 6, T) is symmetric, so
  // beta_t + beta_{T-1-t} = beta_start + beta_end.
  const auto schedule = ddim::NoiseSchedule<double>::sigmoid(1000, 1e-4, 0.02);
  for (int t = 0; t < 1000; ++t) {
    CHECK_THAT(schedule.beta(t) + schedule.beta(999 - t), WithinRel(1e-4 + 0.02, 1e-14));
  }
  const double sig6 = 1.0 / (1.0 + std::exp(6.0));
  CHECK_THAT(schedule.beta(0), WithinRel(sig6 * (0.02 - 1e-4) + 1e-4, kDoubleRel));
}

TEST_CASE("derived tables agree with beta and alpha_bar", "[schedule]") {
  const auto schedule = ddim::NoiseSchedule<double>::scaled_linear(1000);
  for (int t = 0; t < 1000; t += 13) {
    const double alpha_bar = schedule.alpha_bar(t);
    CHECK(schedule.alpha(t) == 1.0 - schedule.beta(t));
    CHECK(schedule.sqrt_alpha_bar(t) == std::sqrt(alpha_bar));
    CHECK(schedule.sqrt_one_minus_alpha_bar(t) == std::sqrt(1.0 - alpha_bar));
    CHECK_THAT(schedule.snr(t), WithinRel(alpha_bar / (1.0 - alpha_bar), kDoubleRel));
    if (t > 0) CHECK(schedule.alpha_bar(t) < schedule.alpha_bar(t - 1));
  }
  CHECK(schedule.betas().size() == 1000);
  CHECK(schedule.alpha_bars().size() == 1000);
  CHECK_FALSE(schedule.zero_terminal_snr());
}

TEST_CASE("float tables are the double tables rounded once", "[schedule]") {
  const auto precise = ddim::NoiseSchedule<double>::linear(1000);
  const auto single = ddim::NoiseSchedule<float>::linear(1000);
  for (int t = 0; t < 1000; ++t) {
    CHECK(single.alpha_bar(t) == static_cast<float>(precise.alpha_bar(t)));
    CHECK(single.beta(t) == static_cast<float>(precise.beta(t)));
  }
  CHECK((single.alpha_bars_double() == precise.alpha_bars_double()).all());
  const auto cast_back = single.cast<double>();
  CHECK((cast_back.alpha_bars() == precise.alpha_bars()).all());
}

TEST_CASE("from_betas and from_alpha_bar describe the same schedule", "[schedule]") {
  const auto reference = ddim::NoiseSchedule<double>::cosine(200);
  std::vector<double> betas(200), alpha_bar(200);
  for (int t = 0; t < 200; ++t) {
    betas[static_cast<std::size_t>(t)] = reference.beta(t);
    alpha_bar[static_cast<std::size_t>(t)] = reference.alpha_bar(t);
  }
  const auto from_betas = ddim::NoiseSchedule<double>::from_betas(betas);
  const auto from_alpha_bar = ddim::NoiseSchedule<double>::from_alpha_bar(alpha_bar);
  for (int t = 0; t < 200; ++t) {
    CHECK(from_betas.alpha_bar(t) == reference.alpha_bar(t));
    CHECK(from_alpha_bar.alpha_bar(t) == reference.alpha_bar(t));  // kept exactly as given
    // beta re-derived as 1 - alpha_bar_t / alpha_bar_{t-1}: one division and one subtraction
    // with cancellation of order 1/beta (beta >= 4e-5 here)
    CHECK_THAT(from_alpha_bar.beta(t), WithinRel(reference.beta(t), 1e-10));
  }
}

TEST_CASE("zero terminal SNR rescaling is Lin et al. algorithm 1", "[schedule]") {
  const auto original = ddim::NoiseSchedule<double>::scaled_linear(1000);
  const auto rescaled = original.rescaled_to_zero_terminal_snr();
  CHECK(rescaled.zero_terminal_snr());
  CHECK(rescaled.alpha_bar(999) == 0.0);
  CHECK(rescaled.beta(999) == 1.0);
  CHECK(rescaled.snr(999) == 0.0);
  CHECK_THAT(rescaled.alpha_bar(0), WithinRel(original.alpha_bar(0), 1e-14));
  // sqrt(alpha_bar) is an affine function of the original sqrt(alpha_bar)
  const double first = std::sqrt(original.alpha_bar(0));
  const double last = std::sqrt(original.alpha_bar(999));
  for (int t = 0; t < 1000; t += 7) {
    const double expected = (std::sqrt(original.alpha_bar(t)) - last) * first / (first - last);
    CHECK_THAT(std::sqrt(rescaled.alpha_bar(t)), WithinAbs(expected, 1e-14));
    if (t > 0) CHECK(rescaled.alpha_bar(t) < rescaled.alpha_bar(t - 1));
  }
}

TEST_CASE("a single train timestep is a valid schedule", "[schedule]") {
  const auto schedule = ddim::NoiseSchedule<float>::linear(1, 0.5, 0.9);
  REQUIRE(schedule.num_train_steps() == 1);
  CHECK(schedule.beta(0) == 0.5f);  // numpy.linspace(start, stop, 1) == [start]
  CHECK(schedule.alpha_bar(0) == 0.5f);
}

