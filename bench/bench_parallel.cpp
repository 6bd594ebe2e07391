// Threads for large tensors: the same sampling loop (8 steps) with Sampler::set_parallelism at 1
// and 2 threads, over the sizes of bench_step, for the deterministic step (eta = 0) and the step
// with generated noise (eta = 1). The model costs nothing here, so the figures are the loop's own
// passes: the time at 2 threads divided by the time at 1 is the speedup the threads give the step.
//
// The model predicts x0 = 0 (written once into the Sampler's output buffer, then left alone): the
// step then contracts x towards 0 (x_prev = sqrt(1 - alpha_bar_prev - sigma^2) / sqrt(1 -
// alpha_bar_t) x + sigma z), so the state stays bounded and normal over any number of iterations,
// and the arithmetic is that of every other prediction type (the coefficients are precomputed).
#include <benchmark/benchmark.h>

#include <ddim/ddim.hpp>

#include <cstdint>

namespace {

// bench_step's sizes, and 2^16, 2^17 between them: where the thresholds of ddim::Parallelism lie
const std::vector<std::int64_t> kSizes = {16 * 7, 1000, 2 * 4 * 64 * 64, std::int64_t{1} << 16, std::int64_t{1} << 17,
                                         64 * 3 * 32 * 32, 4 * 4 * 128 * 128, std::int64_t{1} << 25};
constexpr int kSteps = 8;

const ddim::NoiseSchedule<float>& schedule() {
  static const auto s = ddim::NoiseSchedule<float>::linear(1000, 1e-4, 0.02);
  return s;
}

// Writes x0 = 0 on its first call and nothing afterwards: the Sampler keeps its output buffer.
struct ZeroOnceModel {
  bool* written;
  void operator()(const Eigen::ArrayXXf&, int, ddim::ModelOutput<float>& out) const {
    if (!*written) {
      out.setZero();
      *written = true;
    }
  }
};

// args: values, threads, eta x 10
void BM_SamplerThreads(benchmark::State& state) {
  const Eigen::Index n = state.range(0);
  const int threads = static_cast<int>(state.range(1));
  ddim::Options options = ddim::Options::ddim(static_cast<double>(state.range(2)) / 10.0);
  options.prediction = ddim::Prediction::x0;
  ddim::Sampler<float> sampler(schedule(), ddim::Timesteps::leading(1000, kSteps), options);
  ddim::Parallelism parallelism;
  parallelism.threads = threads;
  sampler.set_parallelism(parallelism);
  sampler.reserve(n, 1);
  Eigen::ArrayXXf x = Eigen::ArrayXXf::Random(n, 1);
  bool written = false;
  const ZeroOnceModel model{&written};
  const ddim::PhiloxNoise noise(7);
  const auto run = [&] {
    if (options.eta > 0) sampler.sample(x, model, noise);
    else sampler.sample(x, model);
  };
  run();  // untimed: the first call writes the model output and faults in every page
  for (auto _ : state) {
    run();
    benchmark::DoNotOptimize(x.data());
    benchmark::ClobberMemory();
  }
  // x_t read, x_prev written (the model output, read too, stays in place: 3 streams as a triad)
  state.SetBytesProcessed(state.iterations() * kSteps * n * static_cast<std::int64_t>(sizeof(float)) * 3);
}

void arguments(benchmark::internal::Benchmark* b) {
  for (int eta10 : {0, 10}) {
    for (auto n : kSizes) {
      for (int threads : {1, 2}) b->Args({n, threads, eta10});
    }
  }
}

}  // namespace

BENCHMARK(BM_SamplerThreads)->Apply(arguments)->ArgNames({"values", "threads", "eta10"})->UseRealTime();
