// The sampling loop: equal to the step applied by hand, the model and observer contracts, the
// batch invariance of the noise, zero-copy states, validation, and sampling the exact model of a
// Gaussian mixture.
#include <ddim/ddim.hpp>

#include <cmath>
#include <functional>
#include <stdexcept>
#include <vector>

#include "support/catch.hpp"

namespace {

template <class Scalar>
const ddim::NoiseSchedule<Scalar>& schedule() {
  static const auto s = ddim::NoiseSchedule<Scalar>::linear(1000, 1e-4, 0.02);
  return s;
}

// A deterministic, non-linear test model in the writing form.
template <class Scalar>
void test_model(const Eigen::Array<Scalar, Eigen::Dynamic, Eigen::Dynamic>& x, int t,
                ddim::ModelOutput<Scalar>& out) {
  out = x * static_cast<Scalar>(t / (t + 1.0)) + static_cast<Scalar>(0.1) * (x * static_cast<Scalar>(1 + t / 1000.0)).sin();
}

}  // namespace

TEMPLATE_TEST_CASE("the loop is the step applied step by step", "[sample]", float, double) {
  using Tensor = Eigen::Array<TestType, Eigen::Dynamic, Eigen::Dynamic>;
  const auto& s = schedule<TestType>();
  const auto steps = ddim::Timesteps::trailing(1000, 20);
  std::vector<ddim::Options> configurations = {ddim::Options::ddim(0.0), ddim::Options::ddim(0.6),
                                               ddim::Options::ddpm(ddim::Variance::fixed_large)};
  configurations.push_back(ddim::Options::ddim(0.3));
  configurations.back().clipping = ddim::Clipping::dynamic_threshold(0.9, 1.5);
  configurations.back().prediction = ddim::Prediction::v;
  for (const auto& options : configurations) {
    const Tensor x_T = ddim::gaussian<TestType>(24, 3, 77);
    Tensor looped = x_T;
    const auto result = ddim::sample(s, steps, options, looped, test_model<TestType>, ddim::PhiloxNoise(5));
    CHECK(result.steps_taken == 20);
    CHECK_FALSE(result.stopped_early);
    Tensor by_hand = x_T, output(24, 3), z(24, 3);
    Eigen::Array<TestType, Eigen::Dynamic, 1> scratch(24);
    for (int k = 0; k < steps.num_steps(); ++k) {
      const auto c = ddim::step_coefficients(s, steps, k, options);
      test_model<TestType>(by_hand, steps.t(k), output);
      ddim::PhiloxNoise(5).step_noise(k, steps.t(k), z);
      if (options.clipping.kind == ddim::Clipping::Kind::dynamic_threshold) {
        ddim::step_thresholded(c, by_hand, output, z, by_hand, scratch);
      } else if (c.adds_noise()) {
        ddim::step(c, by_hand, output, z, by_hand);
      } else {
        ddim::step(c, by_hand, output, by_hand);
      }
    }
    CHECK((looped == by_hand).all());
  }
}

TEST_CASE("the observer sees every step with its timesteps and x0 prediction", "[sample][observer]") {
  const auto& s = schedule<double>();
  const auto steps = ddim::Timesteps::linspace(1000, 7);
  Eigen::ArrayXXd x = ddim::gaussian<double>(5, 2, 1);
  std::vector<ddim::StepInfo> seen;
  Eigen::ArrayXXd before = x;
  std::vector<double> x0_errors;
  const auto observer = [&](const ddim::StepInfo& info, const Eigen::ArrayXXd& state, const Eigen::ArrayXXd& x0_pred) {
    seen.push_back(info);
    // the x0 the step used, from the state before the step and the model output there
    ddim::ModelOutput<double> output;
    test_model<double>(before, info.t, output);
    Eigen::ArrayXXd expected(5, 2);
    ddim::predicted_x0(ddim::step_coefficients(s, steps, info.step_index, ddim::Options{}), before, output, expected);
    x0_errors.push_back((x0_pred - expected).abs().maxCoeff());
    before = state;
  };
  const auto result = ddim::sample(s, steps, ddim::Options{}, x, test_model<double>, ddim::no_noise, observer);
  REQUIRE(seen.size() == 7);
  CHECK(result.steps_taken == 7);
  for (int k = 0; k < 7; ++k) {
    CHECK(seen[static_cast<std::size_t>(k)].step_index == k);
    CHECK(seen[static_cast<std::size_t>(k)].num_steps == 7);
    CHECK(seen[static_cast<std::size_t>(k)].t == steps.t(k));
    CHECK(seen[static_cast<std::size_t>(k)].t_prev == steps.t_prev(k));
    CHECK(seen[static_cast<std::size_t>(k)].model_t == steps.t(k));
    CHECK(x0_errors[static_cast<std::size_t>(k)] == 0.0);
  }
  CHECK((before == x).all());  // the last state the observer saw is the result
}

TEST_CASE("an observer that returns false stops the loop", "[sample][observer]") {
  const auto& s = schedule<float>();
  Eigen::ArrayXf x = ddim::gaussian<float>(8, 2);
  int calls = 0;
  const auto result = ddim::sample(s, ddim::Timesteps::leading(1000, 50), ddim::Options{}, x,
                                   [](const auto& x_t, int, auto& out) { out = 0.5f * x_t; }, ddim::no_noise,
                                   [&](const ddim::StepInfo& info, const auto&, const auto&) {
                                     ++calls;
                                     return info.step_index < 9;
                                   });
  CHECK(calls == 10);
  CHECK(result.steps_taken == 10);
  CHECK(result.stopped_early);
}

TEST_CASE("observing does not change the result, and the recorder keeps the trajectory", "[sample][observer]") {
  const auto& s = schedule<float>();
  const auto steps = ddim::Timesteps::leading(1000, 12);
  const Eigen::ArrayXXf x_T = ddim::gaussian<float>(6, 4, 3);
  Eigen::ArrayXXf plain = x_T, observed = x_T;
  ddim::sample(s, steps, ddim::Options::ddim(0.5), plain, test_model<float>, ddim::PhiloxNoise(1));
  ddim::TrajectoryRecorder<float> recorder;
  ddim::sample(s, steps, ddim::Options::ddim(0.5), observed, test_model<float>, ddim::PhiloxNoise(1), recorder);
  CHECK((plain == observed).all());
  REQUIRE(recorder.size() == 12);
  CHECK((recorder.samples().back() == observed).all());
  CHECK(recorder.steps()[3].t == steps.t(3));
  CHECK(recorder.x0_predictions()[0].rows() == 6);
}

TEST_CASE("the real-time loop gives the bits of the observed loop", "[sample][observer]") {
  // Without an observer, a noise-free plan on a contiguous state runs in a loop of its own (the
  // model call and the raw kernel, nothing else per step); an observer forces the general loop.
  // Both must give the same bits, whatever the prediction type, clipping, state type and an
  // unused noise source.
  const auto& s = schedule<float>();
  const auto steps = ddim::Timesteps::trailing(1000, 15);
  std::vector<ddim::Options> configurations;
  for (const auto prediction : {ddim::Prediction::epsilon, ddim::Prediction::x0, ddim::Prediction::v}) {
    for (const auto clipping : {ddim::Clipping::none(), ddim::Clipping::clip(1.0)}) {
      configurations.push_back(ddim::Options::ddim(0.0));
      configurations.back().prediction = prediction;
      configurations.back().clipping = clipping;
      configurations.back().check_finite = clipping.kind == ddim::Clipping::Kind::range;
    }
  }
  const auto keep_going = [](const ddim::StepInfo&, const auto&, const auto&) { return true; };
  for (const auto& options : configurations) {
    INFO("prediction " << ddim::to_string(options.prediction) << ", clip kind " << static_cast<int>(options.clipping.kind));
    const Eigen::ArrayXXf x_T = ddim::gaussian<float>(37, 3, 12);
    Eigen::ArrayXXf observed = x_T, plain = x_T, with_noise = x_T;
    ddim::Sampler<float> sampler(s, steps, options);
    sampler.sample(observed, test_model<float>, ddim::no_noise, keep_going);
    sampler.sample(plain, test_model<float>);
    sampler.sample(with_noise, test_model<float>, ddim::PhiloxNoise(4));
    CHECK((plain == observed).all());
    CHECK((with_noise == observed).all());
    std::vector<float> buffer(x_T.data(), x_T.data() + x_T.size());
    Eigen::Map<Eigen::ArrayXXf> mapped(buffer.data(), 37, 3);
    sampler.sample(mapped, [](const Eigen::Map<Eigen::ArrayXXf>& x, int t, ddim::ModelOutput<float>& out) {
      test_model<float>(Eigen::ArrayXXf(x), t, out);
    });
    CHECK((mapped == observed).all());
  }
}

TEST_CASE("a model that throws in the real-time loop leaves the Sampler usable", "[sample]") {
  // The real-time loop borrows the Sampler's output buffer for its duration; an exception from
  // the model must give it back (and leave x at the last completed step).
  const auto& s = schedule<float>();
  const auto steps = ddim::Timesteps::leading(1000, 10);
  ddim::Sampler<float> sampler(s, steps, ddim::Options::ddim(0.0));
  const Eigen::ArrayXXf x_T = ddim::gaussian<float>(8, 2, 5);
  Eigen::ArrayXXf reference = x_T, x = x_T, partial = x_T;
  sampler.sample(reference, test_model<float>);
  int calls = 0;
  const auto failing = [&calls](const Eigen::ArrayXXf& state, int t, ddim::ModelOutput<float>& out) {
    if (++calls == 4) throw std::runtime_error("model failure");
    test_model<float>(state, t, out);
  };
  CHECK_THROWS_AS(sampler.sample(x, failing), std::runtime_error);
  ddim::Sampler<float> three(s, ddim::Timesteps::leading(1000, 10), ddim::Options::ddim(0.0));
  int steps_seen = 0;
  three.sample(partial, test_model<float>, ddim::no_noise,
               [&steps_seen](const ddim::StepInfo&, const auto&, const auto&) { return ++steps_seen < 3; });
  CHECK((x == partial).all());  // three steps completed before the fourth model call threw
  x = x_T;
  sampler.sample(x, test_model<float>);
  CHECK((x == reference).all());
}

TEST_CASE("models may write, return, be std::function or stateful functors", "[sample][predictor]") {
  const auto& s = schedule<float>();
  const auto steps = ddim::Timesteps::leading(1000, 10);
  const Eigen::ArrayXf x_T = ddim::gaussian<float>(16, 9);
  Eigen::ArrayXf writing = x_T, returning = x_T, function = x_T, functor = x_T;
  ddim::sample(s, steps, ddim::Options{}, writing,
               [](const Eigen::ArrayXf& x, int t, ddim::ModelOutput<float>& out) { out = x * (0.001f * static_cast<float>(t)); });
  ddim::sample(s, steps, ddim::Options{}, returning,
               [](const Eigen::ArrayXf& x, int t) { return x * (0.001f * static_cast<float>(t)); });
  std::function<void(const Eigen::ArrayXf&, int, ddim::ModelOutput<float>&)> as_function =
      [](const Eigen::ArrayXf& x, int t, ddim::ModelOutput<float>& out) { out = x * (0.001f * static_cast<float>(t)); };
  ddim::sample(s, steps, ddim::Options{}, function, as_function);
  struct Counting {
    int calls = 0;
    void operator()(const Eigen::ArrayXf& x, int t, ddim::ModelOutput<float>& out) {
      ++calls;
      out = x * (0.001f * static_cast<float>(t));
    }
  } counting;
  ddim::sample(s, steps, ddim::Options{}, functor, counting);  // by reference: the count is visible
  CHECK(counting.calls == 10);
  CHECK((writing == returning).all());
  CHECK((writing == function).all());
  CHECK((writing == functor).all());
}

TEST_CASE("a raw float buffer is sampled in place through Eigen::Map, and matrices work too", "[sample]") {
  const auto& s = schedule<float>();
  const auto steps = ddim::Timesteps::leading(1000, 10);
  std::vector<float> buffer(32);
  const Eigen::ArrayXXf x_T = ddim::gaussian<float>(8, 4, 10);
  std::copy(x_T.data(), x_T.data() + 32, buffer.begin());
  const float* seen_data = nullptr;
  ddim::sample(s, steps, ddim::Options{}, Eigen::Map<Eigen::ArrayXXf>(buffer.data(), 8, 4),
               [&](const Eigen::Map<Eigen::ArrayXXf>& x, int t, ddim::ModelOutput<float>& out) {
                 seen_data = x.data();  // the model sees the caller's memory, no copy
                 out = x * (0.001f * static_cast<float>(t));
               });
  CHECK(seen_data == buffer.data());
  Eigen::ArrayXXf copy = x_T;
  ddim::sample(s, steps, ddim::Options{}, copy, [](const auto& x, int t, auto& out) { out = x * (0.001f * static_cast<float>(t)); });
  CHECK((Eigen::Map<Eigen::ArrayXXf>(buffer.data(), 8, 4) == copy).all());
  Eigen::MatrixXf matrix = x_T.matrix();
  ddim::sample(s, steps, ddim::Options{}, matrix,
               [](const Eigen::MatrixXf& x, int t, ddim::ModelOutput<float>& out) { out = x.array() * (0.001f * static_cast<float>(t)); });
  CHECK((matrix.array() == copy).all());
}

TEMPLATE_TEST_CASE("sampling a batch of 8 gives the bits of sampling the 8 one at a time", "[sample][noise]", float, double) {
  using Tensor = Eigen::Array<TestType, Eigen::Dynamic, Eigen::Dynamic>;
  const auto& s = schedule<TestType>();
  const auto steps = ddim::Timesteps::leading(1000, 25);
  const auto options = ddim::Options::ddim(0.7);
  const auto mixture = ddim::GaussianMixture::ring(4, 2.0, 0.3, 3);
  Tensor batch(3, 8);
  ddim::PhiloxNoise(31).initial_latent(batch);
  auto model = mixture.model(s);
  ddim::sample(s, steps, options, batch, model, ddim::PhiloxNoise(31));
  for (int j = 0; j < 8; ++j) {
    ddim::PhiloxNoise noise(31, static_cast<std::uint64_t>(j));
    Tensor single(3, 1);
    noise.initial_latent(single);
    ddim::sample(s, steps, options, single, model, noise);
    INFO("sample " << j);
    CHECK((single.col(0) == batch.col(j)).all());
  }
}

TEST_CASE("sampling reproduces the mixture's mean and covariance", "[sample][statistical]") {
  // 3-component 2-D mixture; 3000 samples; DDIM (eta 0) with 200 steps and DDPM-like eta 1 with
  // 500. With the exact model only the sampler's discretisation and the finite sample remain.
  // Bound: 5 standard errors of each estimate (mean: sqrt(C_ii / N); covariance entry:
  // sqrt((C_ii C_jj + C_ij^2) / N), the Gaussian approximation) plus 2% of the entry's scale
  // for the discretisation bias.
  const auto& s = schedule<double>();
  Eigen::MatrixXd means(2, 3);
  means << -2.0, 1.0, 3.0, 0.5, -1.5, 2.0;
  const auto mixture = ddim::GaussianMixture(std::vector<double>{0.5, 0.3, 0.2}, means,
                                             (Eigen::MatrixXd(2, 3) << 0.3, 0.5, 0.2, 0.4, 0.1, 0.6).finished());
  const Eigen::VectorXd true_mean = mixture.mean();
  const Eigen::MatrixXd true_cov = mixture.covariance();
  const Eigen::Index n = 3000;
  for (const auto& [eta, num_steps] : std::vector<std::pair<double, int>>{{0.0, 200}, {1.0, 500}}) {
    Eigen::ArrayXXd x = ddim::gaussian<double>(2, n, 8);
    auto model = mixture.model(s);
    ddim::sample(s, ddim::Timesteps::leading(1000, num_steps), ddim::Options::ddim(eta), x, model, ddim::PhiloxNoise(8));
    const Eigen::VectorXd mean = x.rowwise().mean().matrix();
    const Eigen::MatrixXd centred = x.matrix().colwise() - mean;
    const Eigen::MatrixXd cov = centred * centred.transpose() / static_cast<double>(n - 1);
    for (int i = 0; i < 2; ++i) {
      INFO("eta " << eta << ", coordinate " << i);
      CHECK(std::abs(mean(i) - true_mean(i)) < 5 * std::sqrt(true_cov(i, i) / n) + 0.02 * std::sqrt(true_cov(i, i)));
      for (int j = 0; j < 2; ++j) {
        const double se = std::sqrt((true_cov(i, i) * true_cov(j, j) + true_cov(i, j) * true_cov(i, j)) / n);
        CHECK(std::abs(cov(i, j) - true_cov(i, j)) < 5 * se + 0.02 * std::sqrt(true_cov(i, i) * true_cov(j, j)));
      }
    }
  }
}

TEST_CASE("a Sampler reused for many batches gives the same result each time", "[sample]") {
  const auto& s = schedule<float>();
  ddim::Sampler<float> sampler(s, ddim::Timesteps::leading(1000, 16), ddim::Options::ddim(1.0));
  sampler.reserve(7, 3);
  const Eigen::ArrayXXf x_T = ddim::gaussian<float>(7, 3, 4);
  Eigen::ArrayXXf first = x_T, second = x_T;
  sampler.sample(first, test_model<float>, ddim::PhiloxNoise(2));
  sampler.sample(second, test_model<float>, ddim::PhiloxNoise(2));
  CHECK((first == second).all());
  Eigen::ArrayXXf other_shape = ddim::gaussian<float>(5, 2, 4);  // the workspace follows the shape
  CHECK(sampler.sample(other_shape, test_model<float>, ddim::PhiloxNoise(2)).steps_taken == 16);
}

TEST_CASE("tensors of size 0 and 1 sample without trouble", "[sample]") {
  const auto& s = schedule<double>();
  Eigen::ArrayXd empty(0), one = Eigen::ArrayXd::Constant(1, 0.5);
  int calls = 0;
  const auto model = [&](const Eigen::ArrayXd& x, int, ddim::ModelOutput<double>& out) {
    ++calls;
    out = 0.1 * x;
  };
  CHECK(ddim::sample(s, ddim::Timesteps::leading(1000, 5), ddim::Options::ddim(1.0), empty, model, ddim::PhiloxNoise(1)).steps_taken == 5);
  CHECK(ddim::sample(s, ddim::Timesteps::leading(1000, 5), ddim::Options::ddim(1.0), one, model, ddim::PhiloxNoise(1)).steps_taken == 5);
  CHECK(calls == 10);
  CHECK(std::isfinite(one(0)));
}

TEST_CASE("learned-range DDPM feeds the model's variance half to the step", "[sample]") {
  const auto& s = schedule<double>();
  const auto steps = ddim::Timesteps::leading(1000, 10);
  Eigen::ArrayXXd x = ddim::gaussian<double>(3, 2, 6);
  Eigen::ArrayXXd by_hand = x, output(6, 2), z(3, 2);
  const auto model = [](const Eigen::ArrayXXd& x_t, int, ddim::ModelOutput<double>& out) {
    REQUIRE(out.rows() == 6);  // prediction on top, variance value below
    out.topRows(3) = 0.2 * x_t;
    out.bottomRows(3).setConstant(0.25);
  };
  ddim::sample(s, steps, ddim::Options::ddpm(ddim::Variance::learned_range), x, model, ddim::PhiloxNoise(3));
  for (int k = 0; k < 10; ++k) {
    const auto c = ddim::step_coefficients(s, steps, k, ddim::Options::ddpm(ddim::Variance::learned_range));
    ddim::ModelOutput<double> out(6, 2);
    model(by_hand, steps.t(k), out);
    ddim::PhiloxNoise(3).step_noise(k, steps.t(k), z);
    if (c.adds_noise()) ddim::step(c, by_hand, out, z, by_hand);
    else ddim::step(c, by_hand, out, by_hand);
  }
  CHECK((x == by_hand).all());
}

TEST_CASE("stateful noise sources are told where diffusers draws noise the step does not use", "[sample][noise]") {
  // diffusers' DDIMScheduler draws noise at every step when eta > 0 (at the last step too, where
  // sigma = 0) and DDPMScheduler whenever t > 0; a torch-compatible generator must consume its
  // stream the same way, so the loop reports the draws it does not need through skip_step.
  struct Counting {
    std::vector<int> drawn, skipped;
    void step_noise(int step_index, int, ddim::ModelOutput<double>& z) {
      drawn.push_back(step_index);
      z.setZero();
    }
    void skip_step(int step_index, int, ddim::Index, ddim::Index) { skipped.push_back(step_index); }
  };
  const auto& s = schedule<double>();
  Eigen::ArrayXd x = Eigen::ArrayXd::Constant(3, 0.1);
  Counting ddim_noise;
  ddim::sample(s, ddim::Timesteps::leading(1000, 10), ddim::Options::ddim(0.5), x, test_model<double>, ddim_noise);
  CHECK(ddim_noise.drawn.size() == 9);
  CHECK(ddim_noise.skipped == std::vector<int>{9});  // the last step, landing on alpha_bar = 1
  Counting deterministic;
  ddim::sample(s, ddim::Timesteps::leading(1000, 10), ddim::Options::ddim(0.0), x, test_model<double>, deterministic);
  CHECK(deterministic.drawn.empty());
  CHECK(deterministic.skipped.empty());
  Counting ddpm_leading, ddpm_trailing;
  ddim::sample(s, ddim::Timesteps::leading(1000, 10), ddim::Options::ddpm(), x, test_model<double>, ddpm_leading);
  CHECK(ddpm_leading.drawn.size() == 9);
  CHECK(ddpm_leading.skipped.empty());  // the last step is t = 0: diffusers draws nothing there either
  ddim::sample(s, ddim::Timesteps::trailing(1000, 10), ddim::Options::ddpm(), x, test_model<double>, ddpm_trailing);
  CHECK(ddpm_trailing.skipped == std::vector<int>{9});  // last t = 99 > 0: diffusers draws (and adds) noise
}
