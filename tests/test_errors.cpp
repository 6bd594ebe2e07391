// The catalogue of rejected input (docs/errors.md): one test case per entry, named by its ID.
// A check in tests/CMakeLists.txt keeps the IDs here and in the document identical.
#include <ddim/ddim.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>

#include "support/catch.hpp"

namespace {

using S = ddim::NoiseSchedule<double>;
const double not_a_number = std::numeric_limits<double>::quiet_NaN();
const double infinity = std::numeric_limits<double>::infinity();

const S& linear() {
  static const auto s = S::linear(1000);
  return s;
}

using ddim_test::contains;

}  // namespace

// --- noise schedules

TEST_CASE("E01: a schedule needs T >= 1", "[errors]") {
  CHECK_THROWS_WITH(S::linear(0), contains("ddim::NoiseSchedule::linear: num_train_steps = 0; allowed: num_train_steps >= 1"));
  CHECK_THROWS_WITH(S::scaled_linear(-3), contains("num_train_steps = -3"));
  CHECK_THROWS_WITH(S::cosine(0), contains("num_train_steps = 0"));
  CHECK_THROWS_WITH(S::sigmoid(0), contains("num_train_steps = 0"));
  CHECK_THROWS_AS(S::linear(0), std::invalid_argument);
}

TEST_CASE("E02: beta_start and beta_end lie in (0, 1)", "[errors]") {
  CHECK_THROWS_WITH(S::linear(10, 0.0, 0.02), contains("beta_start = 0; allowed: 0 < beta_start < 1"));
  CHECK_THROWS_WITH(S::linear(10, 1e-4, 1.0), contains("beta_end = 1; allowed: 0 < beta_end < 1"));
  CHECK_THROWS_WITH(S::linear(10, not_a_number, 0.02), contains("beta_start = nan"));
  CHECK_THROWS_WITH(S::linear(10, 1e-4, infinity), contains("beta_end = inf"));
  CHECK_THROWS_WITH(S::scaled_linear(10, -1.0, 0.02), contains("beta_start = -1"));
  CHECK_THROWS_WITH(S::sigmoid(10, 1e-4, 2.0), contains("beta_end = 2"));
}

TEST_CASE("E03: the cosine offset lies in [0, 1] and max_beta in (0, 1)", "[errors]") {
  CHECK_THROWS_WITH(S::cosine(10, -0.1), contains("offset = -0.10000000000000001; allowed: 0 <= offset <= 1"));
  CHECK_THROWS_WITH(S::cosine(10, 0.008, 1.0), contains("max_beta = 1; allowed: 0 < max_beta < 1"));
  CHECK_THROWS_WITH(S::cosine(10, 0.008, 0.0), contains("max_beta = 0"));
}

TEST_CASE("E04: user betas lie in (0, 1), the last may be 1", "[errors]") {
  CHECK_THROWS_WITH(S::from_betas({}), contains("betas.size() = 0; allowed: betas.size() >= 1"));
  CHECK_THROWS_WITH(S::from_betas({0.1, 0.0, 0.2}), contains("beta[1] = 0; allowed: 0 < beta[t] < 1"));
  CHECK_THROWS_WITH(S::from_betas({0.1, 1.0, 0.2}), contains("beta[1] = 1"));
  CHECK_THROWS_WITH(S::from_betas({0.1, -0.5}), contains("beta[1] = -0.5"));
  CHECK_THROWS_WITH(S::from_betas({0.1, infinity}), contains("beta[1] = inf"));
  CHECK_THROWS_WITH(S::from_betas({not_a_number, 0.1}), contains("beta[0] = nan"));
  CHECK_THROWS_WITH(S::from_betas({0.1, 1.5}), contains("0 < beta[T-1] <= 1 (1 means zero terminal SNR)"));
  CHECK(S::from_betas({0.1, 0.2, 1.0}).zero_terminal_snr());  // accepted: zero terminal SNR
}

TEST_CASE("E05: user betas must change alpha_bar in double precision", "[errors]") {
  CHECK_THROWS_WITH(S::from_betas({0.1, 1e-18}), contains("beta[1] = 1.0000000000000001e-18"));
  CHECK_THROWS_WITH(S::from_betas({0.1, 1e-18}), contains("strictly decreasing in double precision"));
}

TEST_CASE("E06: user alpha_bar lies in (0, 1), the last may be 0", "[errors]") {
  CHECK_THROWS_WITH(S::from_alpha_bar({}), contains("alpha_bar.size() = 0"));
  CHECK_THROWS_WITH(S::from_alpha_bar({1.0, 0.5}), contains("alpha_bar[0] = 1; allowed: 0 < alpha_bar[t] < 1"));
  CHECK_THROWS_WITH(S::from_alpha_bar({1.5, 0.5}), contains("alpha_bar[0] = 1.5"));
  CHECK_THROWS_WITH(S::from_alpha_bar({0.9, 0.0, 0.0}), contains("alpha_bar[1] = 0"));
  CHECK_THROWS_WITH(S::from_alpha_bar({0.9, not_a_number}), contains("alpha_bar[1] = nan"));
  CHECK(S::from_alpha_bar({0.9, 0.5, 0.0}).zero_terminal_snr());  // accepted
}

TEST_CASE("E07: user alpha_bar is strictly decreasing", "[errors]") {
  CHECK_THROWS_WITH(S::from_alpha_bar({0.9, 0.95}),
                    contains("alpha_bar[1] = 0.94999999999999996; allowed: strictly decreasing in t, i.e. less than alpha_bar[0] = 0.90000000000000002"));
  CHECK_THROWS_WITH(S::from_alpha_bar({0.9, 0.9}), contains("alpha_bar[1] = 0.90000000000000002"));
}

TEST_CASE("E08: zero-terminal-SNR rescaling needs two timesteps", "[errors]") {
  CHECK_THROWS_WITH(S::linear(1).rescaled_to_zero_terminal_snr(),
                    contains("rescaled_to_zero_terminal_snr: num_train_steps = 1; allowed: num_train_steps >= 2"));
}

// --- timestep subsequences

TEST_CASE("E09: every spacing needs 1 <= S <= T", "[errors]") {
  using ddim::Timesteps;
  CHECK_THROWS_WITH(Timesteps::leading(1000, 0), contains("num_steps = 0; allowed: 1 <= num_steps <= 1000"));
  CHECK_THROWS_WITH(Timesteps::trailing(1000, 1001), contains("ddim::Timesteps::trailing: num_steps = 1001"));
  CHECK_THROWS_WITH(Timesteps::linspace(10, -1), contains("num_steps = -1"));
  CHECK_THROWS_WITH(Timesteps::uniform(0, 1), contains("num_train_steps = 0"));
  CHECK_THROWS_WITH(Timesteps::quadratic(10, 11), contains("num_steps = 11"));
}

TEST_CASE("E10: steps_offset is >= 0 and keeps every timestep below T", "[errors]") {
  using ddim::Timesteps;
  CHECK_THROWS_WITH(Timesteps::leading(1000, 10, -1), contains("steps_offset = -1; allowed: steps_offset >= 0"));
  CHECK_THROWS_WITH(Timesteps::leading(1000, 1000, 1),
                    contains("steps_offset = 1; allowed: small enough that the largest timestep (num_steps - 1) * (T / S) + "
                             "steps_offset = 1000 stays <= T - 1 = 999"));
  CHECK_NOTHROW(Timesteps::leading(1000, 10, 99));
  CHECK_THROWS(Timesteps::leading(1000, 10, 100));
}

TEST_CASE("E11: a custom timestep list is not empty", "[errors]") {
  CHECK_THROWS_WITH(ddim::Timesteps::custom(1000, {}), contains("timesteps = {} (empty); allowed: at least one timestep"));
}

TEST_CASE("E12: custom timesteps lie in [0, T - 1]", "[errors]") {
  CHECK_THROWS_WITH(ddim::Timesteps::custom(1000, {999, 1000}), contains("timesteps[1] = 1000; allowed: 0 <= timesteps[1] <= 999"));
  CHECK_THROWS_WITH(ddim::Timesteps::custom(1000, {5, -1}), contains("timesteps[1] = -1"));
  CHECK_THROWS_WITH(ddim::Timesteps::custom(0, {0}), contains("num_train_steps = 0"));
}

TEST_CASE("E13: custom timesteps are strictly monotone, without duplicates", "[errors]") {
  CHECK_THROWS_WITH(ddim::Timesteps::custom(1000, {1, 5, 5}), contains("timesteps[2] = 5; allowed: strictly increasing"));
  CHECK_THROWS_WITH(ddim::Timesteps::custom(1000, {9, 5, 7}), contains("timesteps[2] = 7; allowed: strictly decreasing"));
}

TEST_CASE("E14: the stride of with_prev_by_stride is >= 1", "[errors]") {
  CHECK_THROWS_WITH(ddim::Timesteps::leading(1000, 10).with_prev_by_stride(0), contains("stride = 0; allowed: stride >= 1"));
}

// --- step options and coefficients

TEST_CASE("E15: eta is finite and >= 0", "[errors]") {
  const auto steps = ddim::Timesteps::leading(1000, 10);
  CHECK_THROWS_WITH(ddim::SamplingPlan<double>(linear(), steps, ddim::Options::ddim(-0.5)),
                    contains("eta = -0.5; allowed: 0 <= eta < inf"));
  CHECK_THROWS_WITH(ddim::step_coefficients(0.5, 0.6, ddim::Options::ddim(not_a_number), false), contains("eta = nan"));
  CHECK_THROWS_WITH(ddim::step_coefficients(0.5, 0.6, ddim::Options::ddim(infinity), false), contains("eta = inf"));
}

TEST_CASE("E16: eta above its bound is rejected unless sigma is clamped", "[errors]") {
  const auto steps = ddim::Timesteps::leading(1000, 10);
  CHECK_THROWS_WITH(ddim::SamplingPlan<double>(linear(), steps, ddim::Options::ddim(3.0)),
                    contains("(step 0: t = 900 -> t_prev = 800): eta = 3; allowed: 0 <= eta <= 1.10367"));
  CHECK_THROWS_WITH(ddim::SamplingPlan<double>(linear(), steps, ddim::Options::ddim(3.0)), contains("or set Options::clamp_sigma"));
  ddim::Options clamped = ddim::Options::ddim(3.0);
  clamped.clamp_sigma = true;
  CHECK_NOTHROW(ddim::SamplingPlan<double>(linear(), steps, clamped));
  CHECK_NOTHROW(ddim::SamplingPlan<double>(linear(), steps, ddim::Options::ddim(1.0)));  // eta <= 1 always fits
}

TEST_CASE("E17: the clip range is finite and > 0", "[errors]") {
  CHECK_THROWS_WITH(ddim::Clipping::clip(0.0), contains("ddim::Clipping::clip: clipping.range = 0; allowed: 0 < clipping.range < inf"));
  CHECK_THROWS_WITH(ddim::Clipping::clip(-1.0), contains("clipping.range = -1"));
  CHECK_THROWS_WITH(ddim::Clipping::clip(infinity), contains("clipping.range = inf"));
  ddim::Options options;  // also when the field is set directly
  options.clipping.kind = ddim::Clipping::Kind::range;
  options.clipping.range = 0.0;
  CHECK_THROWS_WITH(ddim::step_coefficients(0.5, 0.6, options, false), contains("clipping.range = 0"));
}

TEST_CASE("E18: the thresholding ratio lies in (0, 1)", "[errors]") {
  CHECK_THROWS_WITH(ddim::Clipping::dynamic_threshold(1.2), contains("clipping.ratio = 1.2; allowed: 0 < clipping.ratio < 1"));
  CHECK_THROWS_WITH(ddim::Clipping::dynamic_threshold(0.0), contains("clipping.ratio = 0"));
  ddim::Options options;
  options.clipping.kind = ddim::Clipping::Kind::dynamic_threshold;
  options.clipping.ratio = 1.5;
  CHECK_THROWS_WITH(ddim::step_coefficients(0.5, 0.6, options, false), contains("clipping.ratio = 1.5"));
}

TEST_CASE("E19: the thresholding maximum is >= 1", "[errors]") {
  CHECK_THROWS_WITH(ddim::Clipping::dynamic_threshold(0.995, 0.5),
                    contains("clipping.max_value = 0.5; allowed: 1 <= clipping.max_value < inf"));
  CHECK(ddim::Clipping::dynamic_threshold(0.8, 2.0).max_value == 2.0);
}

TEST_CASE("E20: epsilon-prediction is rejected where alpha_bar = 0", "[errors]") {
  const auto zero_snr = linear().rescaled_to_zero_terminal_snr();
  const auto steps = ddim::Timesteps::trailing(1000, 10);  // starts at t = 999, alpha_bar = 0
  CHECK_THROWS_WITH(ddim::SamplingPlan<double>(zero_snr, steps, ddim::Options{}),
                    contains("(step 0: t = 999 -> t_prev = 899): alpha_bar_t = 0; allowed: alpha_bar_t > 0 for epsilon-prediction"));
  Eigen::ArrayXd x = Eigen::ArrayXd::Constant(3, 0.5), output = Eigen::ArrayXd::Constant(3, -2.0);
  CHECK_THROWS_WITH(ddim::convert_prediction(ddim::Prediction::epsilon, ddim::Prediction::x0, 0.0, x, output),
                    contains("alpha_bar_t = 0"));
  for (ddim::Prediction prediction : {ddim::Prediction::v, ddim::Prediction::x0}) {  // these are fine there
    ddim::Options options;
    options.prediction = prediction;
    CHECK_NOTHROW(ddim::SamplingPlan<double>(zero_snr, steps, options));
  }
  CHECK_NOTHROW(ddim::SamplingPlan<double>(zero_snr, ddim::Timesteps::leading(1000, 10), ddim::Options{}));  // never at t = 999
}

TEST_CASE("E21: x0-prediction is rejected where alpha_bar = 1", "[errors]") {
  ddim::Options options;
  options.prediction = ddim::Prediction::x0;
  const auto steps = ddim::Timesteps::leading(1000, 10);
  CHECK_THROWS_WITH(ddim::SamplingPlan<double>::encoding(linear(), steps, options, ddim::ModelTime::source),
                    contains("alpha_bar_from = 1; allowed: alpha_bar_from < 1 for x0-prediction"));
  Eigen::ArrayXd x = Eigen::ArrayXd::Constant(3, 0.5);
  CHECK_THROWS_WITH(ddim::convert_prediction(ddim::Prediction::x0, ddim::Prediction::epsilon, 1.0, x, x),
                    contains("alpha_bar_t = 1; allowed: alpha_bar_t < 1 for x0-prediction"));
  options.final_alpha_bar = ddim::FinalAlphaBar::alpha_bar_0;  // encoding from alpha_bar_0 works
  CHECK_NOTHROW(ddim::SamplingPlan<double>::encoding(linear(), steps, options, ddim::ModelTime::source));
}

TEST_CASE("E22: a schedule and its timesteps share T", "[errors]") {
  CHECK_THROWS_WITH(ddim::SamplingPlan<double>(linear(), ddim::Timesteps::leading(500, 10), ddim::Options{}),
                    contains("timesteps.num_train_steps() = 500; allowed: equal to schedule.num_train_steps() = 1000"));
  CHECK_THROWS_WITH(ddim::step_coefficients(linear(), ddim::Timesteps::leading(500, 10), 0, ddim::Options{}),
                    contains("timesteps.num_train_steps() = 500"));
}

TEST_CASE("E23: step_coefficients takes 0 <= alpha_bar_t <= alpha_bar_prev <= 1", "[errors]") {
  CHECK_THROWS_WITH(ddim::step_coefficients(0.5, 0.4, ddim::Options{}, false),
                    contains("alpha_bar_prev = 0.40000000000000002; allowed: 0.5 <= alpha_bar_prev <= 1"));
  CHECK_THROWS_WITH(ddim::step_coefficients(1.0, 1.0, ddim::Options{}, false), contains("alpha_bar_t = 1"));
  CHECK_THROWS_WITH(ddim::step_coefficients(-0.1, 0.5, ddim::Options{}, false), contains("alpha_bar_t = -0.10000000000000001"));
  CHECK_THROWS_WITH(ddim::inversion_coefficients(0.5, 0.6, ddim::Options{}), contains("alpha_bar_from = 0.5"));
}

TEST_CASE("E24: a step whose coefficients would overflow the precision is rejected", "[errors]") {
  const auto extreme = ddim::NoiseSchedule<float>::from_alpha_bar({0.9, 0.5, 1e-60});
  CHECK_THROWS_WITH(ddim::SamplingPlan<float>(extreme, ddim::Timesteps::custom(3, {2, 1, 0}), ddim::Options{}),
                    contains("alpha_bar_t = 9.9999999999999997e-61; allowed: a noise level whose step coefficients"));
  CHECK_THROWS_WITH(ddim::SamplingPlan<float>(extreme, ddim::Timesteps::custom(3, {2, 1, 0}), ddim::Options{}),
                    contains("use NoiseSchedule<double>"));
  // the same schedule is fine in double, and a milder one in float
  CHECK_NOTHROW(ddim::SamplingPlan<double>(extreme.cast<double>(), ddim::Timesteps::custom(3, {2, 1, 0}), ddim::Options{}));
  CHECK_NOTHROW(ddim::SamplingPlan<float>(ddim::NoiseSchedule<float>::from_alpha_bar({0.9, 0.5, 1e-30}),
                                          ddim::Timesteps::custom(3, {2, 1, 0}), ddim::Options{}));
}

TEST_CASE("E25: a step index lies in the list", "[errors]") {
  CHECK_THROWS_WITH(ddim::step_coefficients(linear(), ddim::Timesteps::leading(1000, 10), 10, ddim::Options{}),
                    contains("step_index = 10; allowed: 0 <= step_index <= 9"));
}

TEST_CASE("E37: steps landing far below the next step's start cannot compound |x| past the precision", "[errors]") {
  // found by the fuzzer: 809 consecutive timesteps, each landing 165 below its start
  const auto schedule = ddim::NoiseSchedule<double>::linear(938);
  const auto runaway = ddim::Timesteps::leading(938, 809).with_prev_by_stride(165);
  CHECK_THROWS_WITH(ddim::SamplingPlan<double>(schedule, runaway, ddim::Options{}),
                    contains("growth of |x| over the steps = 1.48"));
  CHECK_THROWS_WITH(ddim::SamplingPlan<double>(schedule, runaway, ddim::Options{}),
                    contains("because steps land below where the next ones start"));
  // diffusers' own stride on a linspace list stays well within bounds
  CHECK_NOTHROW(ddim::SamplingPlan<double>(schedule, ddim::Timesteps::linspace(938, 10).with_prev_by_stride(93), ddim::Options{}));
}

TEST_CASE("E38: an enumeration value outside its list, or an unknown ATEN_CPU_CAPABILITY name", "[errors][torch]") {
  CHECK_THROWS_WITH(ddim::parse_torch_cpu_capability("avx1"),
                    contains("ddim::parse_torch_cpu_capability: name = \"avx1\"; allowed: \"default\", \"avx2\" or \"avx512\""));
  CHECK_THROWS_WITH(ddim::TorchCpuNoise(0, static_cast<ddim::TorchDtype>(7)), contains("dtype = 7"));
  ddim::TorchCpuGenerator generator(0);
  CHECK_THROWS_WITH(generator.set_capability(static_cast<ddim::TorchCpuCapability>(9)), contains("capability = 9"));
  CHECK_NOTHROW(ddim::parse_torch_cpu_capability("avx512"));
}

TEST_CASE("E39: a null output buffer for a non-empty torch.randn draw", "[errors][torch]") {
  ddim::TorchCpuGenerator cpu(0);
  CHECK_THROWS_WITH(cpu.randn(static_cast<float*>(nullptr), 3), contains("out = null (with n = 3)"));
  CHECK_THROWS_WITH(cpu.randn(static_cast<double*>(nullptr), 3), contains("out = null (with n = 3)"));
  ddim::TorchCudaGenerator cuda(0);
  CHECK_THROWS_WITH(cuda.randn(nullptr, 5), contains("ddim::TorchCudaGenerator::randn: out = null (with n = 5)"));
  CHECK_NOTHROW(cpu.randn(static_cast<float*>(nullptr), 0));  // n = 0 draws nothing
}

TEST_CASE("E40: imitated CUDA devices without a multiprocessor or with fewer than 256 threads per one, empty or oversized launches", "[errors][torch]") {
  CHECK_THROWS_WITH(ddim::cuda_randn_launch_layout(0, ddim::CudaDeviceProperties{}), contains("n = 0; allowed: n >= 1"));
  CHECK_THROWS_WITH(ddim::TorchCudaGenerator(0, ddim::CudaDeviceProperties{0, 2048}),
                    contains("properties.multiprocessor_count = 0; allowed: >= 1"));
  CHECK_THROWS_WITH(ddim::TorchCudaGenerator(0, ddim::CudaDeviceProperties{108, 128}),
                    contains("properties.max_threads_per_multiprocessor = 128; allowed: >= 256"));
  ddim::TorchCudaGenerator generator(0);
  float one = 0.0f;  // the size check comes before any write
  CHECK_THROWS_WITH(generator.randn(&one, (std::size_t{1} << 29) + 1), contains("n = 536870913"));
  CHECK(generator.philox_offset() == 0);  // unchanged by the rejected call
}

TEST_CASE("E41: a Philox offset that is not a multiple of 4", "[errors][torch]") {
  ddim::TorchCudaGenerator generator(0);
  CHECK_THROWS_WITH(generator.set_philox_offset(6),
                    contains("ddim::TorchCudaGenerator::set_philox_offset: offset = 6; allowed: a multiple of 4"));
  CHECK_NOTHROW(generator.set_philox_offset(8));
}

TEST_CASE("E42: torch noise sources with no seeds, a batch of another size than their generators, a sample index past them", "[errors][torch]") {
  CHECK_THROWS_WITH(ddim::TorchCpuNoise::per_sample({}), contains("seeds = {} (empty)"));
  CHECK_THROWS_WITH(ddim::TorchCudaNoise::per_sample_generators({}), contains("generators = {} (empty)"));
  auto noise = ddim::TorchCpuNoise::per_sample({1, 2, 3});
  Eigen::ArrayXXf z(4, 2);
  CHECK_THROWS_WITH(noise.fill(z), contains("batch size (columns of x) = 2; allowed: equal to the number of per-sample generators = 3"));
  CHECK_THROWS_WITH(noise.generator(3), contains("ddim::TorchCpuNoise::generator: sample = 3; allowed: below the number of generators = 3"));
}

TEST_CASE("C1: a learned-range variance value outside [-1, 1] is clamped, not rejected", "[errors]") {
  const auto c = ddim::step_coefficients<double>(linear().alpha_bar(400), linear().alpha_bar(390),
                                                 ddim::Options::ddpm(ddim::Variance::learned_range), false);
  Eigen::ArrayXd x = Eigen::ArrayXd::Zero(2), z = Eigen::ArrayXd::Ones(2), out(2), output(4);
  output << 0.0, 0.0, -7.0, 30.0;  // variance values far outside [-1, 1]
  ddim::step(c, x, output, z, out);
  Eigen::ArrayXd edges(4), edge_out(2);
  edges << 0.0, 0.0, -1.0, 1.0;
  ddim::step(c, x, edges, z, edge_out);
  CHECK((out == edge_out).all());
  CHECK(out.allFinite());
}

// --- loops

TEST_CASE("E26: inversion is deterministic DDIM only", "[errors]") {
  const auto steps = ddim::Timesteps::leading(1000, 10);
  CHECK_THROWS_WITH(ddim::SamplingPlan<double>::encoding(linear(), steps, ddim::Options::ddim(0.5), ddim::ModelTime::source),
                    contains("options.eta = 0.5; allowed: 0 (inversion is deterministic)"));
  CHECK_THROWS_WITH(ddim::SamplingPlan<double>::encoding(linear(), steps, ddim::Options::ddpm(), ddim::ModelTime::source),
                    contains("options.method = Method::ddpm; allowed: Method::ddim"));
}

TEST_CASE("E27: a stochastic configuration needs a noise source, before any model call", "[errors]") {
  Eigen::ArrayXf x = Eigen::ArrayXf::Constant(4, 0.1f);
  int calls = 0;
  const auto model = [&](const Eigen::ArrayXf& x_t, int, ddim::ModelOutput<float>& out) {
    ++calls;
    out = x_t;
  };
  const auto schedule = ddim::NoiseSchedule<float>::linear(1000);
  CHECK_THROWS_WITH(ddim::sample(schedule, ddim::Timesteps::leading(1000, 5), ddim::Options::ddim(0.5), x, model),
                    contains("ddim::sample: noise = ddim::no_noise; allowed: a noise source (e.g. ddim::PhiloxNoise(seed))"));
  CHECK_THROWS_WITH(ddim::sample(schedule, ddim::Timesteps::leading(1000, 5), ddim::Options::ddpm(), x, model),
                    contains("method ddpm"));
  CHECK(calls == 0);
  CHECK_NOTHROW(ddim::sample(schedule, ddim::Timesteps::leading(1000, 1), ddim::Options::ddpm(), x, model));  // no noise at S = 1
}

TEST_CASE("E28: a per-sample seed list matches the batch", "[errors]") {
  Eigen::ArrayXXd x = Eigen::ArrayXXd::Zero(4, 2);
  const auto model = [](const Eigen::ArrayXXd& x_t, int, ddim::ModelOutput<double>& out) { out = x_t; };
  CHECK_THROWS_WITH(ddim::sample(linear(), ddim::Timesteps::leading(1000, 10), ddim::Options::ddim(1.0), x, model,
                                 ddim::PhiloxNoise::per_sample({1, 2, 3})),
                    contains("ddim::PhiloxNoise: sample_seeds.size() = 3; allowed: equal to the batch size (columns of x) = 2"));
  CHECK_THROWS_WITH(ddim::PhiloxNoise::per_sample({}), contains("sample_seeds = {} (empty); allowed: one seed per sample"));
  CHECK_NOTHROW(ddim::PhiloxNoise::per_sample({1, 2}).prepare(4, 2));
}

TEST_CASE("E29: a model output of the wrong shape is reported with its step", "[errors]") {
  Eigen::ArrayXXd x = Eigen::ArrayXXd::Zero(4, 2);
  const auto steps = ddim::Timesteps::leading(1000, 10);
  CHECK_THROWS_WITH(ddim::sample(linear(), steps, ddim::Options{}, x,
                                 [](const Eigen::ArrayXXd&, int, ddim::ModelOutput<double>& out) { out.setZero(3, 2); }),
                    contains("ddim::sample: model output shape = 3x2 at step 0 (t = 900); allowed: 4x2"));
  CHECK_THROWS_WITH(ddim::sample(linear(), steps, ddim::Options{}, x,
                                 [](const Eigen::ArrayXXd&, int) { return Eigen::ArrayXXd::Zero(4, 3); }),
                    contains("model output shape = 4x3 at step 0 (t = 900); allowed: 4x2, the shape of x_t"));
}

TEST_CASE("E30: with check_finite, a model output with NaN or Inf stops the loop", "[errors]") {
  Eigen::ArrayXXd x = Eigen::ArrayXXd::Zero(4, 2);
  ddim::Options checked;
  checked.check_finite = true;
  const auto bad_at_500 = [](const Eigen::ArrayXXd& x_t, int t, ddim::ModelOutput<double>& out) {
    out = x_t;
    if (t == 500) out(1, 1) = std::nan("");
  };
  CHECK_THROWS_WITH(ddim::sample(linear(), ddim::Timesteps::leading(1000, 10), checked, x, bad_at_500),
                    contains("ddim::sample: the model output contains NaN or Inf at step 4 (t = 500)"));
  CHECK_THROWS_AS(ddim::sample(linear(), ddim::Timesteps::leading(1000, 10), checked, x, bad_at_500), std::runtime_error);
  // without the option the loop does not look (no extra pass)
  CHECK_NOTHROW(ddim::sample(linear(), ddim::Timesteps::leading(1000, 10), ddim::Options{}, x, bad_at_500));
}

// --- interpolation, conversions, mixture, threads

TEST_CASE("E31: interpolation needs latents with a direction", "[errors]") {
  const Eigen::ArrayXd a = Eigen::ArrayXd::Ones(3), zero = Eigen::ArrayXd::Zero(3);
  CHECK_THROWS_WITH(ddim::slerp(zero, a, 0.5), contains("ddim::slerp: |a| = 0; allowed: finite and > 0"));
  CHECK_THROWS_WITH(ddim::slerp(a, zero, 0.5), contains("|b| = 0"));
  Eigen::ArrayXd with_nan = a;
  with_nan(1) = not_a_number;
  CHECK_THROWS_WITH(ddim::slerp(with_nan, a, 0.5), contains("|a| = nan"));
  CHECK_THROWS_WITH(ddim::slerp_path(zero, a, 5), contains("|a| = 0"));
}

TEST_CASE("E32: interpolated latents share one non-empty shape", "[errors]") {
  const Eigen::ArrayXd a = Eigen::ArrayXd::Ones(3), b = Eigen::ArrayXd::Ones(4), empty(0);
  CHECK_THROWS_WITH(ddim::slerp(a, b, 0.5), contains("ddim::slerp: b shape = 4x1; allowed: the shape of a, 3x1"));
  CHECK_THROWS_WITH(ddim::linear_path(a, b, 3), contains("ddim::linear_path: b shape = 4x1"));
  CHECK_THROWS_WITH(ddim::slerp(empty, empty, 0.5), contains("a = an empty tensor"));
}

TEST_CASE("E33: interpolation weights lie in [0, 1] and paths have >= 2 points", "[errors]") {
  const Eigen::ArrayXd a = Eigen::ArrayXd::Ones(3);
  CHECK_THROWS_WITH(ddim::slerp(a, a, 1.5), contains("w = 1.5; allowed: 0 <= w <= 1"));
  CHECK_THROWS_WITH(ddim::slerp(a, a, -0.1), contains("w = -0.10000000000000001"));
  CHECK_THROWS_WITH(ddim::slerp_path(a, a, 1), contains("num_points = 1; allowed: num_points >= 2"));
  CHECK_THROWS_WITH(ddim::linear_path(a, a, 0), contains("num_points = 0"));
}

TEST_CASE("E34: a converted prediction has the shape of x_t", "[errors]") {
  const Eigen::ArrayXd x = Eigen::ArrayXd::Ones(3), output = Eigen::ArrayXd::Ones(4);
  CHECK_THROWS_WITH(ddim::convert_prediction(ddim::Prediction::v, ddim::Prediction::x0, 0.5, x, output),
                    contains("ddim::convert_prediction: output size = 4x1; allowed: the size of x_t, 3x1"));
}

TEST_CASE("E35: a Gaussian mixture has positive weights and variances and matching shapes", "[errors]") {
  Eigen::MatrixXd means = Eigen::MatrixXd::Zero(2, 2), variances = Eigen::MatrixXd::Ones(2, 2);
  CHECK_THROWS_WITH(ddim::GaussianMixture({}, Eigen::MatrixXd(2, 0), Eigen::MatrixXd(2, 0)), contains("weights.size() = 0"));
  CHECK_THROWS_WITH(ddim::GaussianMixture({1.0, -1.0}, means, variances), contains("weights[1] = -1; allowed: 0 < weights[1] < inf"));
  CHECK_THROWS_WITH(ddim::GaussianMixture({1.0}, means, variances), contains("means shape = 2x2"));
  Eigen::MatrixXd bad = variances;
  bad(1, 0) = 0.0;
  CHECK_THROWS_WITH(ddim::GaussianMixture({1.0, 1.0}, means, bad), contains("variances(1, 0) = 0"));
  CHECK_THROWS_WITH(ddim::GaussianMixture({1.0, 1.0}, means, Eigen::MatrixXd::Ones(3, 2)), contains("variances shape = 3x2"));
  Eigen::MatrixXd infinite = means;
  infinite(0, 1) = infinity;
  CHECK_THROWS_WITH(ddim::GaussianMixture({1.0, 1.0}, infinite, variances), contains("means(0, 1) = inf"));
  CHECK_THROWS_WITH(ddim::GaussianMixture::ring(0, 1.0, 0.1), contains("components = 0"));
  CHECK_THROWS_WITH(ddim::GaussianMixture::ring(3, 1.0, 0.0), contains("stddev = 0"));
  CHECK_THROWS_WITH(ddim::GaussianMixture::isotropic({1.0, 1.0}, means, {1.0}), contains("variances.size() = 1"));
}

TEST_CASE("E36: a thread team has 1 to 1024 threads and positive thresholds", "[errors]") {
  CHECK_THROWS_WITH(ddim::ThreadTeam(0), contains("ddim::ThreadTeam: threads = 0; allowed: 1 <= threads <= 1024"));
  ddim::Sampler<double> sampler(linear(), ddim::Timesteps::leading(1000, 4), ddim::Options{});
  CHECK_THROWS_WITH(sampler.set_parallelism({0, 1, 1}), contains("threads = 0"));
  CHECK_THROWS_WITH(sampler.set_parallelism({2, 0, 1}), contains("min_step_values = 0"));
  CHECK_THROWS_WITH(sampler.set_parallelism({2, 1, -5}), contains("min_noise_values = -5"));
  CHECK_NOTHROW(sampler.set_parallelism({2, 1 << 20, 1 << 14}));
}
