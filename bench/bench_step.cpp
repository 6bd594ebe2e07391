// The step against the memory bus. Every step benchmark has a STREAM-style triad (a = b + s c)
// over the same sizes in the same binary: bytes/s of a step divided by the triad's is the
// fraction of what this machine's memory (or cache) delivers that the step achieves.
//
// Sizes: 16x7 (a robot action chunk), 1000, 2x4x64x64 (a Stable Diffusion latent batch),
// 64x3x32x32 (a CIFAR batch), 4x4x128x128 (an SDXL latent batch), 2^25 (134 MB per float array,
// over 4x the 32 MiB last-level cache measured on the reference machine).
#include <benchmark/benchmark.h>

#include <ddim/ddim.hpp>

#include <cstdint>

namespace {

const std::vector<std::int64_t> kSizes = {16 * 7, 1000, 2 * 4 * 64 * 64, 64 * 3 * 32 * 32, 4 * 4 * 128 * 128, std::int64_t{1} << 25};

void sizes(benchmark::internal::Benchmark* b) {
  for (auto n : kSizes) b->Arg(n);
}

template <class Scalar>
using Vector = Eigen::Array<Scalar, Eigen::Dynamic, 1>;

template <class Scalar>
const ddim::NoiseSchedule<Scalar>& schedule() {
  static const auto s = ddim::NoiseSchedule<Scalar>::linear(1000, 1e-4, 0.02);
  return s;
}

template <class Scalar>
ddim::StepCoefficients<Scalar> coefficients(const ddim::Options& options) {
  const auto& s = schedule<Scalar>();
  return ddim::step_coefficients<Scalar>(s.alpha_bars_double()(500), s.alpha_bars_double()(480), options, false);
}

template <class Scalar>
void set_bytes(benchmark::State& state, int streams) {
  state.SetBytesProcessed(state.iterations() * state.range(0) * static_cast<std::int64_t>(sizeof(Scalar)) * streams);
}

// STREAM triad: reads b and c, writes a (3 streams), the memory-bandwidth baseline.
template <class Scalar>
void BM_Triad(benchmark::State& state) {
  const Eigen::Index n = state.range(0);
  Vector<Scalar> a = Vector<Scalar>::Zero(n), b = Vector<Scalar>::Random(n), c = Vector<Scalar>::Random(n);
  Scalar s = Scalar(0.5);
  for (auto _ : state) {
    Scalar* DDIM_RESTRICT out = a.data();
    const Scalar* DDIM_RESTRICT x = b.data();
    const Scalar* DDIM_RESTRICT y = c.data();
    for (Eigen::Index i = 0; i < n; ++i) out[i] = x[i] + s * y[i];
    benchmark::DoNotOptimize(a.data());
    benchmark::ClobberMemory();
    benchmark::DoNotOptimize(s);
  }
  set_bytes<Scalar>(state, 3);
}

// eta = 0, out of place: reads x and the model output, writes x_prev (3 streams).
template <class Scalar>
void BM_StepEta0(benchmark::State& state, ddim::Prediction prediction, bool clip) {
  const Eigen::Index n = state.range(0);
  ddim::Options options = ddim::Options::ddim(0.0);
  options.prediction = prediction;
  if (clip) options.clipping = ddim::Clipping::clip(1.0);
  const auto c = coefficients<Scalar>(options);
  Vector<Scalar> x = Vector<Scalar>::Random(n), m = Vector<Scalar>::Random(n), out = Vector<Scalar>::Zero(n);
  for (auto _ : state) {
    ddim::step(c, x, m, out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_bytes<Scalar>(state, 3);
}

// eta = 0, in place: reads x and the model output, writes x (3 streams, no separate output).
template <class Scalar>
void BM_StepEta0InPlace(benchmark::State& state) {
  const Eigen::Index n = state.range(0);
  const auto c = coefficients<Scalar>(ddim::Options::ddim(0.0));
  Vector<Scalar> x = Vector<Scalar>::Random(n), m = Vector<Scalar>::Random(n);
  for (auto _ : state) {
    ddim::step(c, x, m, x);
    benchmark::DoNotOptimize(x.data());
    benchmark::ClobberMemory();
  }
  set_bytes<Scalar>(state, 3);
}

// eta > 0 with injected noise: reads x, the model output and z, writes x_prev (4 streams).
template <class Scalar>
void BM_StepInjectedNoise(benchmark::State& state) {
  const Eigen::Index n = state.range(0);
  const auto c = coefficients<Scalar>(ddim::Options::ddim(0.5));
  Vector<Scalar> x = Vector<Scalar>::Random(n), m = Vector<Scalar>::Random(n), z = Vector<Scalar>::Random(n),
                 out = Vector<Scalar>::Zero(n);
  for (auto _ : state) {
    ddim::step(c, x, m, z, out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_bytes<Scalar>(state, 4);
}

// eta > 0 with the noise generated inside the step (PhiloxNoise): reads x and the model output,
// writes x_prev (3 streams) and generates n normals.
template <class Scalar>
void BM_StepGeneratedNoise(benchmark::State& state) {
  const Eigen::Index n = state.range(0);
  const auto c = coefficients<Scalar>(ddim::Options::ddim(0.5));
  Vector<Scalar> x = Vector<Scalar>::Random(n), m = Vector<Scalar>::Random(n), out = Vector<Scalar>::Zero(n);
  const ddim::PhiloxNoise noise(7);
  for (auto _ : state) {
    ddim::step(c, x, m, noise, 3, out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_bytes<Scalar>(state, 3);
  state.SetItemsProcessed(state.iterations() * n);
}

// The noise alone, as the generated-noise step draws it (the reference for that step).
template <class Scalar>
void BM_NoiseAlone(benchmark::State& state) {
  const Eigen::Index n = state.range(0);
  Vector<Scalar> z = Vector<Scalar>::Zero(n);  // touched here: no page faults inside the timing
  const ddim::PhiloxNoise noise(7);
  for (auto _ : state) {
    noise.step_noise(3, 0, z);
    benchmark::DoNotOptimize(z.data());
    benchmark::ClobberMemory();
  }
  set_bytes<Scalar>(state, 1);
  state.SetItemsProcessed(state.iterations() * n);
}

void BM_StepEta0_float(benchmark::State& state, ddim::Prediction prediction, bool clip) {
  BM_StepEta0<float>(state, prediction, clip);
}
void BM_StepEta0_double(benchmark::State& state, ddim::Prediction prediction, bool clip) {
  BM_StepEta0<double>(state, prediction, clip);
}

}  // namespace

BENCHMARK_TEMPLATE(BM_Triad, float)->Apply(sizes);
BENCHMARK_TEMPLATE(BM_Triad, double)->Apply(sizes);
BENCHMARK_CAPTURE(BM_StepEta0_float, eps, ddim::Prediction::epsilon, false)->Apply(sizes);
BENCHMARK_CAPTURE(BM_StepEta0_double, eps, ddim::Prediction::epsilon, false)->Apply(sizes);
BENCHMARK_CAPTURE(BM_StepEta0_float, x0, ddim::Prediction::x0, false)->Apply(sizes);
BENCHMARK_CAPTURE(BM_StepEta0_float, v, ddim::Prediction::v, false)->Apply(sizes);
BENCHMARK_CAPTURE(BM_StepEta0_float, eps_clip, ddim::Prediction::epsilon, true)->Apply(sizes);
BENCHMARK_CAPTURE(BM_StepEta0_double, eps_clip, ddim::Prediction::epsilon, true)->Apply(sizes);
BENCHMARK_TEMPLATE(BM_StepEta0InPlace, float)->Apply(sizes);
BENCHMARK_TEMPLATE(BM_StepEta0InPlace, double)->Apply(sizes);
BENCHMARK_TEMPLATE(BM_StepInjectedNoise, float)->Apply(sizes);
BENCHMARK_TEMPLATE(BM_StepInjectedNoise, double)->Apply(sizes);
BENCHMARK_TEMPLATE(BM_StepGeneratedNoise, float)->Apply(sizes);
BENCHMARK_TEMPLATE(BM_StepGeneratedNoise, double)->Apply(sizes);
BENCHMARK_TEMPLATE(BM_NoiseAlone, float)->Apply(sizes);
BENCHMARK_TEMPLATE(BM_NoiseAlone, double)->Apply(sizes);
