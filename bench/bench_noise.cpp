// Gaussian noise generation: ddim's portable Philox4x32-10 + Box-Muller stream against the
// standard library's std::normal_distribution driven by std::mt19937, in the same binary, and
// against its own floor: the same Philox kernel writing its raw words (one 32-bit word per value,
// no Box-Muller). Items/s is values (or words) per second; the reciprocal is the time per value.
// The label names the compiled kernel (avx512, avx2 or portable).
#include <benchmark/benchmark.h>

#include <ddim/noise.hpp>

#include <cstdint>
#include <random>
#include <vector>

namespace {

template <class Scalar>
void BM_Philox(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::vector<Scalar> out(n);
  std::uint32_t slot = 0;
  for (auto _ : state) {
    ddim::detail::normal_fill<Scalar>(42, 0, slot++, 0, out.data(), n);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetLabel(ddim::detail::kNoiseKernel);
}

// The floor: Philox4x32-10 alone, one word per value (whole chunks only).
void BM_PhiloxWords(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::vector<std::uint32_t> out(n);
  std::uint32_t slot = 0;
  for (auto _ : state) {
    ddim::detail::philox_chunks(ddim::detail::make_noise_stream(42, 0, slot++), 0, n / ddim::detail::kNoiseChunkValues,
                                out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetLabel(ddim::detail::kNoiseKernel);
}

template <class Scalar>
void BM_StdNormalMt19937(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::vector<Scalar> out(n);
  std::mt19937 engine(42);
  std::normal_distribution<Scalar> normal;
  for (auto _ : state) {
    for (auto& value : out) value = normal(engine);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

}  // namespace

// 112 values (a robot action chunk: one whole chunk and 48 of the next), 1000, 2^16 (256 KiB of
// float: in L2) and 2^22 (16 MiB)
BENCHMARK_TEMPLATE(BM_Philox, float)->Arg(112)->Arg(1000)->Arg(1 << 16)->Arg(1 << 22);
BENCHMARK_TEMPLATE(BM_Philox, double)->Arg(112)->Arg(1000)->Arg(1 << 16)->Arg(1 << 22);
BENCHMARK(BM_PhiloxWords)->Arg(1 << 16)->Arg(1 << 22);
BENCHMARK_TEMPLATE(BM_StdNormalMt19937, float)->Arg(1 << 16)->Arg(1 << 22);
BENCHMARK_TEMPLATE(BM_StdNormalMt19937, double)->Arg(1 << 16)->Arg(1 << 22);
