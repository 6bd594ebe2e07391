// Agreement with diffusers (DDIMScheduler, DDPMScheduler, DDIMInverseScheduler) and the paper's
// code (ermongroup/ddim), against the reference data in tests/data/diffusers made by
// tests/support/reference/make_diffusers_reference.py from the unmodified Python schedulers
// (diffusers 58eb52c, torch 1.13 CPU). diffusers computes its tables in float32 and ddim in
// double, so table comparisons allow a few float32 ulp; loop comparisons allow what those table
// differences grow to over the loop (bounds below, each with its reason).
#include <ddim/ddim.hpp>

#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "support/catch.hpp"
#include "support/reference_data.hpp"

namespace {

const reference::File& data(const std::string& name) {
  static std::map<std::string, reference::File> files;
  auto found = files.find(name);
  if (found == files.end()) found = files.emplace(name, reference::File("diffusers/" + name)).first;
  return found->second;
}

std::vector<int> as_ints(const std::vector<double>& values) { return std::vector<int>(values.begin(), values.end()); }

template <class Scalar>
using Batch = Eigen::Array<Scalar, Eigen::Dynamic, Eigen::Dynamic>;

// diffusers' deterministic test tensors of shape (4, 3, 8, 8), element [b, c, h, w] =
// (256 c + 32 h + 4 w + b) / 768 (noise: (767 - that) / 768), stored as 4 columns (one per batch
// element) of 192 values in C order: the same memory as diffusers' tensor, and per-sample
// operations (dynamic thresholding) see the same samples.
template <class Scalar>
Batch<Scalar> dummy_sample(bool noise = false) {
  Batch<Scalar> x(192, 4);
  for (int b = 0; b < 4; ++b)
    for (int c = 0; c < 3; ++c)
      for (int h = 0; h < 8; ++h)
        for (int w = 0; w < 8; ++w) {
          const int q = 256 * c + 32 * h + 4 * w + b;
          x.data()[((b * 3 + c) * 8 + h) * 8 + w] = static_cast<Scalar>(static_cast<float>(noise ? 767 - q : q) / 768.0f);
        }
  return x;
}

// diffusers' test model: x * t / (t + 1).
template <class Scalar>
auto dummy_model(Scalar sign = Scalar(1)) {
  return [sign](const Batch<Scalar>& x, int t, ddim::ModelOutput<Scalar>& out) {
    out = sign * (x * static_cast<Scalar>(t)) / static_cast<Scalar>(t + 1);
  };
}

}  // namespace

TEST_CASE("every diffusers timestep list is reproduced", "[diffusers][timesteps]") {
  const auto& file = data("timesteps.txt");
  int compared = 0;
  for (const auto& key : file.keys()) {
    std::istringstream words(key);
    std::string spacing;
    int T = 0, S = 0, offset = 0;
    if (!(words >> spacing >> T >> S >> offset)) continue;
    if (spacing != "leading" && spacing != "trailing" && spacing != "linspace") continue;
    std::vector<int> expected = as_ints(file.numbers(key));
    INFO(key);
    if (spacing == "leading") {
      if (expected.front() > T - 1) {  // diffusers returns timestep T here and fails later; ddim refuses
        CHECK_THROWS_WITH(ddim::Timesteps::leading(T, S, offset), ddim_test::contains("steps_offset"));
        continue;
      }
      CHECK(ddim::Timesteps::leading(T, S, offset).values() == expected);
    } else if (spacing == "trailing") {
      // diffusers ignores steps_offset for trailing; for some (T, S) numpy's arange gives S + 1
      // entries ending at -1: ddim returns the S intended ones
      if (static_cast<int>(expected.size()) == S + 1) {
        CHECK(expected.back() == -1);
        expected.pop_back();
      }
      CHECK(ddim::Timesteps::trailing(T, S).values() == expected);
    } else {
      CHECK(ddim::Timesteps::linspace(T, S).values() == expected);  // steps_offset is ignored here too
    }
    ++compared;
  }
  CHECK(compared > 150);
}

TEST_CASE("the paper code's uniform and quad sequences are reproduced", "[diffusers][timesteps]") {
  const auto& file = data("paper_sequences.txt");
  for (const auto& key : file.keys()) {
    std::istringstream words(key);
    std::string kind;
    int T = 0, S = 0;
    words >> kind >> T >> S;
    std::vector<int> expected = as_ints(file.numbers(key));
    INFO(key);
    if (kind == "uniform") {
      std::vector<int> ours = ddim::Timesteps::uniform(T, S).values();
      std::reverse(ours.begin(), ours.end());
      CHECK(ours == expected);
    } else if (kind == "quad") {
      expected.erase(std::unique(expected.begin(), expected.end()), expected.end());  // ddim drops duplicates
      std::vector<int> ours = ddim::Timesteps::quadratic(T, S).values();
      std::reverse(ours.begin(), ours.end());
      CHECK(ours == expected);
    }
  }
}

TEST_CASE("alpha_bar tables agree with diffusers and the paper code", "[diffusers][schedule]") {
  const auto& file = data("alphas_cumprod.txt");
  using S = ddim::NoiseSchedule<double>;
  // diffusers: float32 betas, cumprod accumulated in double and rounded per entry: every entry is
  // within a few float32 ulp (2^-24 ~ 6e-8 relative each) of the double computation; 1e-6
  // relative covers the betas' own float32 rounding carried through 1000 products.
  const auto check = [&](const S& ours, const std::string& key, double tolerance) {
    const auto expected = file.numbers(key);
    REQUIRE(static_cast<int>(expected.size()) == ours.num_train_steps());
    for (int t = 0; t < ours.num_train_steps(); ++t) {
      INFO(key << " t = " << t);
      CHECK_THAT(ours.alpha_bar(t), WithinRel(expected[static_cast<std::size_t>(t)], tolerance) ||
                                        WithinAbs(expected[static_cast<std::size_t>(t)], 1e-12));
    }
  };
  check(S::linear(1000), "diffusers-DDIM linear alphas_cumprod float32 1000", 1e-6);
  check(S::scaled_linear(1000), "diffusers-DDIM scaled_linear alphas_cumprod float32 1000", 1e-6);
  check(S::cosine(1000), "diffusers-DDIM squaredcos_cap_v2 alphas_cumprod float32 1000", 1e-6);
  check(S::sigmoid(1000), "diffusers-DDPM sigmoid alphas_cumprod float32 1000", 1e-6);
  // zero-SNR rescaling is done in float32 by diffusers; the small alpha_bar near t = T-1 carry
  // absolute, not relative, float32 errors (~1e-8)
  check(S::linear(1000).rescaled_to_zero_terminal_snr(), "diffusers-DDIM zsnr-linear alphas_cumprod float32 1000", 1e-5);
  check(S::scaled_linear(1000).rescaled_to_zero_terminal_snr(),
        "diffusers-DDIM zsnr-scaled_linear alphas_cumprod float32 1000", 1e-5);
  // the paper code works in float64 with numpy: linear, and its "quad" betas, which are ddim's
  // scaled_linear with the linear defaults. Same operations in the same order: 1e-13 relative.
  check(S::linear(1000, 1e-4, 0.02), "paper linear alphas_cumprod_f64 float64 1000", 1e-13);
  check(S::scaled_linear(1000, 1e-4, 0.02), "paper quad alphas_cumprod_f64 float64 1000", 1e-13);
}

TEST_CASE("sigma^2 at eta 1 agrees with diffusers' _get_variance", "[diffusers][coefficients]") {
  const auto& file = data("ddim_variance.txt");
  const auto schedule = ddim::NoiseSchedule<double>::linear(1000);
  int compared = 0;
  for (const auto& key : file.keys()) {
    std::istringstream words(key);
    std::string kind;
    int set_alpha_to_one = 0, t = 0, t_prev = 0;
    words >> kind >> set_alpha_to_one >> t >> t_prev;
    if (kind != "linear") continue;
    const double a_t = schedule.alpha_bar(t);
    const double a_s = t_prev >= 0 ? schedule.alpha_bar(t_prev) : (set_alpha_to_one ? 1.0 : schedule.alpha_bar(0));
    // float32 against double, with cancellation in 1 - a_t / a_s for adjacent timesteps
    INFO(key);
    CHECK_THAT(ddim::posterior_variance(a_t, a_s), WithinAbs(file.numbers(key)[0], 2e-6));
    ++compared;
  }
  CHECK(compared >= 5);
}

TEST_CASE("dynamic thresholding agrees with diffusers' _threshold_sample", "[diffusers][clipping]") {
  const auto& file = data("thresholding.txt");
  const auto input = file.numbers("input 96");
  // shape (2, 3, 4, 4): two samples of 48 values, flattened in C order = one column each
  Eigen::ArrayXXf x0(48, 2);
  for (int i = 0; i < 96; ++i) x0(i % 48, i / 48) = static_cast<float>(input[static_cast<std::size_t>(i)]);
  Eigen::ArrayXf scratch(48);
  for (const char* ratio : {"0.995", "0.8"}) {
    for (const char* max_value : {"1.0", "2.0"}) {
      const std::string key = std::string("output ") + ratio + " " + max_value + " 96";
      if (!file.has(key)) continue;
      const auto expected = file.numbers(key);
      for (int j = 0; j < 2; ++j) {
        const float s = ddim::dynamic_threshold(x0.col(j), std::stod(ratio), std::stod(max_value), scratch);
        INFO(key << " sample " << j);
        CHECK_THAT(s, WithinRel(file.numbers(std::string("s ") + ratio + " " + max_value + " " + std::to_string(j))[0], 1e-6));
        for (int i = 0; i < 48; ++i) {
          const float value = std::min(std::max(x0(i, j), -s), s) / s;
          // torch divides by s, the quantile may differ from torch's fused lerp by an ulp
          CHECK_THAT(value, WithinAbs(expected[static_cast<std::size_t>(48 * j + i)], 4e-7));
        }
      }
    }
  }
}

TEST_CASE("add_noise and get_velocity agree with diffusers", "[diffusers][forward]") {
  const auto& file = data("add_noise_velocity.txt");
  const auto x0_values = file.numbers("x0 24"), noise_values = file.numbers("noise 24");
  const auto schedule = ddim::NoiseSchedule<float>::linear(1000);
  Eigen::ArrayXf x0(24), noise(24), out(24);
  for (int i = 0; i < 24; ++i) {
    x0(i) = static_cast<float>(x0_values[static_cast<std::size_t>(i)]);
    noise(i) = static_cast<float>(noise_values[static_cast<std::size_t>(i)]);
  }
  for (int t : {250}) {
    const auto expected_noisy = file.numbers("add_noise linear " + std::to_string(t));
    const auto expected_velocity = file.numbers("get_velocity linear " + std::to_string(t));
    ddim::add_noise(schedule, t, x0, noise, out);
    for (int i = 0; i < 24; ++i) CHECK_THAT(out(i), WithinAbs(expected_noisy[static_cast<std::size_t>(i)], 1e-6));
    ddim::velocity(schedule, t, x0, noise, out);
    for (int i = 0; i < 24; ++i) CHECK_THAT(out(i), WithinAbs(expected_velocity[static_cast<std::size_t>(i)], 1e-6));
  }
}

namespace {

// Runs ddim's sampler on diffusers' test setup and returns the final sample.
template <class Scalar>
Batch<Scalar> ddim_loop(const ddim::NoiseSchedule<Scalar>& schedule, const ddim::Timesteps& steps,
                                                  const ddim::Options& options, Scalar sign = Scalar(1)) {
  auto x = dummy_sample<Scalar>();
  ddim::sample(schedule, steps, options, x, dummy_model<Scalar>(sign));
  return x;
}

template <class Scalar>
Batch<Scalar> ddim_inverse_loop(const ddim::NoiseSchedule<Scalar>& schedule,
                                                          const ddim::Timesteps& steps, const ddim::Options& options) {
  auto x = dummy_sample<Scalar>();
  ddim::invert(schedule, steps, options, ddim::ModelTime::destination, x, dummy_model<Scalar>());
  return x;
}

ddim::Options clipped(ddim::Prediction prediction = ddim::Prediction::epsilon,
                      ddim::FinalAlphaBar final_alpha_bar = ddim::FinalAlphaBar::one) {
  ddim::Options options;
  options.clipping = ddim::Clipping::clip(1.0);
  options.prediction = prediction;
  options.final_alpha_bar = final_alpha_bar;
  return options;
}

}  // namespace

TEMPLATE_TEST_CASE("DDIM reproduces diffusers' published full-loop sums", "[diffusers][sample]", float, double) {
  using Scalar = TestType;
  const auto steps = ddim::Timesteps::leading(1000, 10);
  const auto base = ddim::NoiseSchedule<Scalar>::linear(1000, 1e-4, 0.02);
  const auto high = ddim::NoiseSchedule<Scalar>::linear(1000, 0.01, 0.02);
  // diffusers' own tests accept 1e-2 on the sum of |x| over 768 values
  CHECK_THAT(ddim_loop(base, steps, clipped()).abs().sum(), WithinAbs(172.0067, 1e-2));
  CHECK_THAT(ddim_loop(base, steps, clipped(ddim::Prediction::v)).abs().sum(), WithinAbs(52.5302, 1e-2));
  CHECK_THAT(ddim_loop(high, steps, clipped()).abs().sum(), WithinAbs(149.8295, 1e-2));
  CHECK_THAT(ddim_loop(high, steps, clipped(ddim::Prediction::epsilon, ddim::FinalAlphaBar::alpha_bar_0)).abs().sum(),
             WithinAbs(149.0784, 1e-2));
  CHECK_THAT(ddim_loop(base, steps, clipped()).abs().mean(), WithinAbs(0.223967, 1e-3));
}

TEMPLATE_TEST_CASE("DDIM inversion reproduces diffusers' published full-loop sums", "[diffusers][invert]", float, double) {
  using Scalar = TestType;
  const auto steps = ddim::Timesteps::leading(1000, 10);  // mirrored: 0, 100, ..., 900
  const auto base = ddim::NoiseSchedule<Scalar>::linear(1000, 1e-4, 0.02);
  const auto high = ddim::NoiseSchedule<Scalar>::linear(1000, 0.01, 0.02);
  CHECK_THAT(ddim_inverse_loop(base, steps, clipped()).abs().sum(), WithinAbs(671.6816, 1e-2));
  CHECK_THAT(ddim_inverse_loop(base, steps, clipped(ddim::Prediction::v)).abs().sum(), WithinAbs(1394.2185, 1e-2));
  CHECK_THAT(ddim_inverse_loop(high, steps, clipped()).abs().sum(), WithinAbs(539.9622, 1e-2));
  CHECK_THAT(ddim_inverse_loop(high, steps, clipped(ddim::Prediction::epsilon, ddim::FinalAlphaBar::alpha_bar_0)).abs().sum(),
             WithinAbs(542.6722, 1e-2));
}

namespace {

template <class Scalar>
void check_final_sample(const Batch<Scalar>& ours, const reference::File& file,
                        const std::string& variant, double tolerance) {
  const auto expected = file.numbers(variant + " final_sample 768");
  REQUIRE(expected.size() == 768);
  double worst = 0;
  for (int i = 0; i < 768; ++i) {
    worst = std::max(worst, std::abs(static_cast<double>(ours.data()[i]) - expected[static_cast<std::size_t>(i)]));
  }
  INFO(variant << ": largest difference " << worst);
  CHECK(worst < tolerance);
}

}  // namespace

TEST_CASE("DDIM final samples agree with diffusers element by element", "[diffusers][sample]") {
  const auto& file = data("ddim_loops.txt");
  const auto steps = ddim::Timesteps::leading(1000, 10);
  const auto linear = ddim::NoiseSchedule<double>::linear(1000, 1e-4, 0.02);
  // diffusers runs the loop in float32 on float32 tables: after 10 steps its values carry ~1e-6
  // relative error per step on values of size <= 1, i.e. well under 1e-5 absolute.
  check_final_sample(ddim_loop(linear, steps, clipped()), file, "eps", 1e-5);
  check_final_sample(ddim_loop(linear, steps, clipped(ddim::Prediction::v)), file, "v", 1e-5);
  check_final_sample(ddim_loop(ddim::NoiseSchedule<double>::linear(1000, 0.01, 0.02), steps,
                               clipped(ddim::Prediction::epsilon, ddim::FinalAlphaBar::alpha_bar_0)),
                     file, "b001-a0", 1e-5);
  check_final_sample(ddim_loop(ddim::NoiseSchedule<double>::cosine(1000), steps, clipped()),
                     file, "cos", 1e-5);
  check_final_sample(ddim_loop(ddim::NoiseSchedule<double>::scaled_linear(1000, 0.00085, 0.012), steps, clipped()),
                     file, "scaled", 1e-5);
  // zero terminal SNR with v-prediction and trailing spacing (starts at alpha_bar = 0)
  check_final_sample(ddim_loop(linear.rescaled_to_zero_terminal_snr(), ddim::Timesteps::trailing(1000, 10),
                               clipped(ddim::Prediction::v)),
                     file, "zsnr-v-trailing", 1e-5);
}

TEST_CASE("DDIM with clipping and thresholding active agrees with diffusers", "[diffusers][sample][clipping]") {
  // The test model never leaves [-1, 1]; its negation drives x0_pred to about +-100, so that the
  // clip, the threshold and use_clipped_model_output all act.
  const auto& file = data("ddim_loops.txt");
  const auto steps = ddim::Timesteps::leading(1000, 10);
  const auto linear = ddim::NoiseSchedule<double>::linear(1000, 1e-4, 0.02);
  check_final_sample(ddim_loop(linear, steps, clipped(), -1.0), file, "neg-eps", 1e-5);
  ddim::Options threshold;
  threshold.clipping = ddim::Clipping::dynamic_threshold(0.995, 2.0);
  check_final_sample(ddim_loop(linear, steps, threshold, -1.0), file, "neg-eps-thr2", 1e-5);
  threshold.clipping = ddim::Clipping::dynamic_threshold(0.8, 2.0);
  check_final_sample(ddim_loop(linear, steps, threshold, -1.0), file, "neg-eps-thr2-r08", 1e-5);
  ddim::Options range2;
  range2.clipping = ddim::Clipping::clip(2.0);
  CHECK_THAT(ddim_loop(linear, steps, range2, -1.0).abs().sum(), WithinAbs(file.field("neg-eps-range2 final", "sum_exact"), 1e-3));
  ddim::Options use_clipped = clipped();
  use_clipped.use_clipped_model_output = true;
  CHECK_THAT(ddim_loop(linear, steps, use_clipped, -1.0).abs().sum(), WithinAbs(file.field("neg-eps-ucmo final", "sum_exact"), 1e-3));
}

TEST_CASE("linspace spacing: ddim reads t_prev from the list, and reproduces diffusers' stride on request", "[diffusers][sample]") {
  const auto& file = data("ddim_loops.txt");
  const auto linear = ddim::NoiseSchedule<double>::linear(1000, 1e-4, 0.02);
  const auto steps = ddim::Timesteps::linspace(1000, 10);
  // diffusers' DDIMScheduler lands on t - T // S (999 -> 899, ...): 191.254 for this loop
  const double diffusers_sum = file.field("linspace10 final", "sum_exact");
  const double list_sum = file.field("linspace10-list final", "sum_exact");
  CHECK_THAT(ddim_loop(linear, steps.with_prev_by_stride(100), clipped()).abs().sum(), WithinAbs(diffusers_sum, 1e-3));
  CHECK_THAT(ddim_loop(linear, steps, clipped()).abs().sum(), WithinAbs(list_sum, 1e-3));
  CHECK(std::abs(diffusers_sum - list_sum) > 10.0);  // the bug is not a rounding matter
}

// ---------------------------------------------------------------------------------------------
// Loops driven by torch's CPU generator (TorchCpuNoise): the same seed must give the same noise,
// drawn in the same order, as diffusers' schedulers draw it. The reference data was made on an
// AVX2 machine (PyTorch's avx2 kernel: 'randn_seed0_first_draw' equals it bit for bit, checked
// below), which is TorchCpuNoise's default capability.
//
// Tolerances. diffusers runs these loops in float32, ddim in its state's scalar type on double
// coefficients, so their values cannot agree exactly. tests/data/torch/ddpm_loops_float64.txt
// (made by make_torch_loops.py) separates the causes: it evaluates DDPMScheduler.step with the
// same torch.manual_seed(0) noise once in float32 (equal to every sum recorded from diffusers,
// exactly) and once in float64. ddim's double state lands on the float64 loop (measured 2.7e-15
// on elements after 1000 steps), its float state within float32 rounding of it (1.0e-6); against
// diffusers the float32-versus-float64 gap is what remains: 1.57e-3 (eps) / 1.32e-3 (v) on the
// final sum of |x|, 2.8e-5 on elements. The 1000-step loops therefore allow 5e-3 on sums of |x|
// and 1e-4 on elements against diffusers; a stream misaligned by even the last draw (t = 1,
// noise std 7e-3) would move elements by about 1e-2.

namespace {

const reference::File& float64_loops() {
  static const reference::File file("torch/ddpm_loops_float64.txt");
  return file;
}

// diffusers' DDPMScheduler test loop from x: steps at `timesteps` (t_prev = the next entry, -1
// after the last), linear betas, fixed_small variance, clip on. Records the sum of |x| after the
// steps at t = 999 and at every multiple of 100 (the 'step' records of the reference files).
template <class Scalar>
void ddpm_torch_loop(ddim::Prediction prediction, const std::vector<int>& timesteps, Batch<Scalar>& x,
                     ddim::TorchCpuNoise& noise, std::map<int, double>& sums) {
  ddim::Options options = ddim::Options::ddpm(ddim::Variance::fixed_small);
  options.prediction = prediction;
  options.clipping = ddim::Clipping::clip(1.0);
  ddim::sample(ddim::NoiseSchedule<Scalar>::linear(1000, 1e-4, 0.02), ddim::Timesteps::custom(1000, timesteps), options,
               x, dummy_model<Scalar>(), noise,
               [&sums](const ddim::StepInfo& info, const Batch<Scalar>& state, const Batch<Scalar>&) {
                 if (info.t == 999 || info.t % 100 == 0 || info.num_steps < 10) {
                   sums[info.t] = state.template cast<double>().abs().sum();
                 }
               });
}

// Checks recorded sums against every record "<prefix> ... t=<t> ... : sum_exact=..." of a file.
void check_step_sums(const reference::File& file, const std::string& prefix, const std::map<int, double>& sums,
                     double tolerance) {
  int compared = 0;
  for (const auto& key : file.keys()) {
    if (key.rfind(prefix, 0) != 0) continue;
    const int t = std::stoi(key.substr(key.find("t=") + 2));
    INFO(key);
    REQUIRE(sums.count(t) == 1);
    CHECK_THAT(sums.at(t), WithinAbs(file.field(key, "sum_exact"), tolerance));
    ++compared;
  }
  CHECK(compared >= 2);
}

// The stream position of a generator, as its next raw draws (equal positions give equal draws).
std::vector<std::uint32_t> next_draws(ddim::TorchCpuGenerator generator) {
  std::vector<std::uint32_t> draws(8);
  for (auto& draw : draws) draw = generator.next_uint32();
  return draws;
}

// A seed-0 generator after `calls` torch.randn calls of 768 float32 values: each consumes
// exactly 768 raw draws (a multiple of 16, so no tail block; the cached normal is untouched).
ddim::TorchCpuGenerator after_draws(int calls) {
  ddim::TorchCpuGenerator generator(0);
  for (long k = 0; k < 768L * calls; ++k) generator.next_uint32();
  return generator;
}

std::vector<int> all_timesteps_descending() {
  std::vector<int> timesteps;
  for (int t = 999; t >= 0; --t) timesteps.push_back(t);
  return timesteps;
}

}  // namespace

TEST_CASE("torch.manual_seed(0)'s first draw in diffusers' loops is TorchCpuNoise(0)'s, bit for bit", "[diffusers][torch]") {
  const auto expected = data("ddpm_loops.txt").numbers("randn_seed0_first_draw 768");
  REQUIRE(expected.size() == 768);
  Batch<float> z(192, 4);
  ddim::TorchCpuNoise(0).initial_latent(z);
  int differing = 0;
  for (int i = 0; i < 768; ++i) differing += z.data()[i] != static_cast<float>(expected[static_cast<std::size_t>(i)]) ? 1 : 0;
  CHECK(differing == 0);
}

// (Catch2 v2's console reporter indents a name's continuation lines past its first ": ", and
// loops forever printing it when that is beyond the line width: keep ": " out of long names.)
TEMPLATE_TEST_CASE("DDPM driven by torch.manual_seed(0) reproduces diffusers' DDPMScheduler loops (sums, per-100-step "
                   "sums, final samples) and ends at the generator position diffusers does",
                   "[diffusers][sample][torch]", float, double) {
  using Scalar = TestType;
  const auto& file = data("ddpm_loops.txt");
  constexpr bool exact = std::is_same_v<Scalar, double>;
  for (const auto& [variant, prediction, published_sum, published_mean] :
       {std::tuple{std::string("eps"), ddim::Prediction::epsilon, 258.9606, 0.3372},
        std::tuple{std::string("v"), ddim::Prediction::v, 202.0296, 0.2631}}) {
    INFO(variant);
    ddim::TorchCpuNoise noise(0);
    std::map<int, double> sums;
    Batch<Scalar> x = dummy_sample<Scalar>();
    ddpm_torch_loop(prediction, all_timesteps_descending(), x, noise, sums);
    // the and diffusers' own acceptance: 1e-2 on the sum of |x|, 1e-3 on the mean
    CHECK_THAT(static_cast<double>(x.abs().sum()), WithinAbs(published_sum, 1e-2));
    CHECK_THAT(static_cast<double>(x.abs().mean()), WithinAbs(published_mean, 1e-3));
    check_step_sums(file, variant + " step ", sums, 5e-3);
    check_final_sample(x, file, variant, 1e-4);
    // the same loop in float64: double rounding only for a double state (measured 2.7e-15 on
    // elements); float32 rounding of the state for a float one (measured 1.0e-6 on elements)
    check_step_sums(float64_loops(), variant + " float64 step ", sums, exact ? 1e-9 : 1e-3);
    check_final_sample(x, float64_loops(), variant + " float64", exact ? 1e-12 : 1e-5);
    // diffusers drew 999 tensors (t = 999 ... 1); ddim's last step (t = 0) adds no noise either
    CHECK(next_draws(noise.generator()) == next_draws(after_draws(999)));
  }
}

TEMPLATE_TEST_CASE("DDPM from an add_noise'd sample with torch.manual_seed(0) follows diffusers' with_noise loop, whose "
                   "published sum carries 0.02 of float32 rounding",
                   "[diffusers][sample][torch]", float, double) {
  // test_full_loop_with_noise: x = add_noise(sample, dummy_noise, t = 1), then steps t = 1 and 0;
  // only the step at t = 1 draws noise. Its coefficient sqrt(alpha_bar_0) beta_1' / (1 - alpha_bar_1)
  // with beta_1' = 1 - alpha_bar_1 / alpha_bar_0 ~ 1.2e-4 is only good to 1e-4 relative when
  // evaluated in float32, which moves every element by ~2.7e-5 and the sum of |x| by 0.0207:
  // diffusers' 387.9466 (asserted by its test to 1e-2) against 387.96725 in float64 (reference
  // file above). ddim computes in double and lands on the float64 value.
  using Scalar = TestType;
  constexpr bool exact = std::is_same_v<Scalar, double>;
  Batch<Scalar> x(192, 4);
  ddim::add_noise(ddim::NoiseSchedule<Scalar>::linear(1000, 1e-4, 0.02), 1, dummy_sample<Scalar>(),
                  dummy_sample<Scalar>(true), x);
  ddim::TorchCpuNoise noise(0);
  std::map<int, double> sums;
  ddpm_torch_loop(ddim::Prediction::epsilon, {1, 0}, x, noise, sums);
  // measured against the float64 loop: 3.3e-16 (double state), 1.6e-7 (float state)
  check_step_sums(float64_loops(), "with_noise float64 step ", sums, exact ? 1e-9 : 1e-3);
  check_final_sample(x, float64_loops(), "with_noise float64", exact ? 1e-12 : 1e-5);
  check_final_sample(x, data("ddpm_loops.txt"), "with_noise", 1e-4);  // measured 5.4e-5: the float32 effect
  CHECK_THAT(static_cast<double>(x.abs().sum()) - 387.9466, WithinAbs(0.0207, 1e-3));
}

TEMPLATE_TEST_CASE("DDIM eta 0.5 driven by torch.Generator().manual_seed(0) reproduces diffusers, drawing at every step "
                   "including the last",
                   "[diffusers][sample][torch]", float, double) {
  using Scalar = TestType;
  const auto& file = data("ddim_loops.txt");
  ddim::Options options = ddim::Options::ddim(0.5);
  options.clipping = ddim::Clipping::clip(1.0);
  ddim::TorchCpuNoise noise(0);
  Batch<Scalar> x = dummy_sample<Scalar>();
  std::map<int, double> sums;
  ddim::sample(ddim::NoiseSchedule<Scalar>::linear(1000, 1e-4, 0.02), ddim::Timesteps::leading(1000, 10), options, x,
               dummy_model<Scalar>(), noise,
               [&sums](const ddim::StepInfo& info, const Batch<Scalar>& state, const Batch<Scalar>&) {
                 sums[info.t] = state.template cast<double>().abs().sum();
               });
  CHECK_THAT(static_cast<double>(x.abs().sum()), WithinAbs(238.725967, 1e-2));  // diffusers' tolerance
  // 10 steps of float32 rounding in diffusers: measured 2.8e-4 on sums, 2.1e-6 on elements
  check_step_sums(file, "eta05-gen0 step ", sums, 1e-3);
  check_final_sample(x, file, "eta05-gen0", 1e-5);
  // DDIMScheduler draws at all 10 steps, also at the last one (sigma = 0 there): ddim drew 9
  // tensors and skipped one, so the stream ends where diffusers' does
  CHECK(next_draws(noise.generator()) == next_draws(after_draws(10)));
  CHECK(next_draws(noise.generator()) != next_draws(after_draws(9)));
}
