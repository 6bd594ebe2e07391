// Gaussian noise generation: ddim's portable Philox4x32-10 + Box-Muller stream against the
// standard library's std::normal_distribution driven by std::mt19937, in the same binary.
// Items/s is values per second; the reciprocal is the time per value.
#include <benchmark/benchmark.h>

#include <ddim/noise.hpp>

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

// 2^16 values (256 KiB of float: in L2) and 2^22 (16 MiB)
BENCHMARK_TEMPLATE(BM_Philox, float)->Arg(1 << 16)->Arg(1 << 22);
BENCHMARK_TEMPLATE(BM_Philox, double)->Arg(1 << 16)->Arg(1 << 22);
BENCHMARK_TEMPLATE(BM_StdNormalMt19937, float)->Arg(1 << 16)->Arg(1 << 22);
BENCHMARK_TEMPLATE(BM_StdNormalMt19937, double)->Arg(1 << 16)->Arg(1 << 22);
