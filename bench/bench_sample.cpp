// The loop's own cost: a full sampling loop with a trivial model (eps = 0.1 x) against the sum
// of its parts measured alone in the same binary (S model calls + S steps).
#include <benchmark/benchmark.h>

#include <ddim/ddim.hpp>

#include <cstdint>

namespace {

const ddim::NoiseSchedule<float>& schedule() {
  static const auto s = ddim::NoiseSchedule<float>::linear(1000, 1e-4, 0.02);
  return s;
}

struct TrivialModel {
  void operator()(const Eigen::ArrayXXf& x, int, ddim::ModelOutput<float>& out) const { out = 0.1f * x; }
};

// args: rows, cols, S
void shapes(benchmark::internal::Benchmark* b) {
  for (int num_steps : {8, 50, 1000}) {
    b->Args({16, 7, num_steps});
    b->Args({4 * 64 * 64, 2, num_steps});
  }
}

void BM_Loop(benchmark::State& state) {
  const Eigen::Index rows = state.range(0), cols = state.range(1);
  const int num_steps = static_cast<int>(state.range(2));
  ddim::Sampler<float> sampler(schedule(), ddim::Timesteps::leading(1000, num_steps), ddim::Options::ddim(0.0));
  sampler.reserve(rows, cols);
  Eigen::ArrayXXf x = Eigen::ArrayXXf::Random(rows, cols);
  const TrivialModel model;
  for (auto _ : state) {
    sampler.sample(x, model);
    benchmark::DoNotOptimize(x.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * num_steps);
}

// The same S model calls and steps written out by hand, with the plan's coefficients and nothing
// else: what a loop with no bookkeeping at all would cost. Unlike the parts measured alone, each
// call here waits for the previous one (the model reads the x the step just wrote, the step reads
// the output the model just wrote), the latency any loop pays.
void BM_HandLoop(benchmark::State& state) {
  const Eigen::Index rows = state.range(0), cols = state.range(1);
  const int num_steps = static_cast<int>(state.range(2));
  const ddim::SamplingPlan<float> plan(schedule(), ddim::Timesteps::leading(1000, num_steps), ddim::Options::ddim(0.0));
  Eigen::ArrayXXf x = Eigen::ArrayXXf::Random(rows, cols);
  ddim::ModelOutput<float> out(rows, cols);
  const TrivialModel model;
  for (auto _ : state) {
    for (int k = 0; k < num_steps; ++k) {
      model(x, plan.step(k).model_t, out);
      ddim::step(plan.coefficients(k), x, out, x);
    }
    benchmark::DoNotOptimize(x.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * num_steps);
}

// One model call alone, and one step alone: the loop's parts.
void BM_ModelCall(benchmark::State& state) {
  const Eigen::Index rows = state.range(0), cols = state.range(1);
  Eigen::ArrayXXf x = Eigen::ArrayXXf::Random(rows, cols);
  ddim::ModelOutput<float> out(rows, cols);
  const TrivialModel model;
  for (auto _ : state) {
    model(x, 500, out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
}

void BM_StepAlone(benchmark::State& state) {
  const Eigen::Index rows = state.range(0), cols = state.range(1);
  const auto c = ddim::step_coefficients(schedule(), ddim::Timesteps::leading(1000, 50), 10, ddim::Options::ddim(0.0));
  Eigen::ArrayXXf x = Eigen::ArrayXXf::Random(rows, cols);
  ddim::ModelOutput<float> out = Eigen::ArrayXXf::Random(rows, cols);
  for (auto _ : state) {
    ddim::step(c, x, out, x);
    benchmark::DoNotOptimize(x.data());
    benchmark::ClobberMemory();
  }
}

}  // namespace

BENCHMARK(BM_Loop)->Apply(shapes);
BENCHMARK(BM_HandLoop)->Apply(shapes);
BENCHMARK(BM_ModelCall)->Args({16, 7})->Args({4 * 64 * 64, 2});
BENCHMARK(BM_StepAlone)->Args({16, 7})->Args({4 * 64 * 64, 2});
