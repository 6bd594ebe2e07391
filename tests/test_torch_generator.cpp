// Tests for include/ddim/torch_generator.hpp.
//
// CPU: compared with PyTorch 1.13.1 outputs recorded by tests/support/reference/
// make_torch_vectors.py in tests/data/torch/ (path from the DDIM_TEST_DATA_DIR definition).
// CUDA: compared with values published by people who ran PyTorch on GPUs (sources cited at each
// test) and with the Random123 known-answer vectors; no GPU was used to make these tests.
#include <ddim/torch_generator.hpp>

#include "support/catch.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#ifndef DDIM_TEST_DATA_DIR
#error "Define DDIM_TEST_DATA_DIR as the path of tests/data (a quoted string literal)."
#endif

namespace {

using ddim::CudaDeviceProperties;
using ddim::TorchCpuCapability;
using ddim::TorchCpuGenerator;
using ddim::TorchCudaGenerator;

// ---------------------------------------------------------------------------------------------
// Reference data

struct Call {
  std::size_t n = 0;
  bool is_double = false;
};

struct RandnCase {
  std::string line_label;  // "<capability> <seed> <calls>" for messages
  std::string capability;
  std::uint64_t seed = 0;
  std::vector<Call> calls;
  std::optional<std::uint64_t> cache;
  std::vector<std::uint64_t> values;  // bit patterns, float32 ones in the low 32 bits
};

std::string data_path(const std::string& file) {
  return std::string(DDIM_TEST_DATA_DIR) + "/torch/" + file;
}

std::vector<Call> parse_calls(const std::string& text) {
  std::vector<Call> calls;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    if (item.size() < 2 || (item.back() != 'f' && item.back() != 'd')) {
      throw std::runtime_error("bad call list: " + text);
    }
    calls.push_back({static_cast<std::size_t>(std::stoull(item.substr(0, item.size() - 1))),
                     item.back() == 'd'});
  }
  return calls;
}

const std::vector<RandnCase>& cpu_cases() {
  static const std::vector<RandnCase> cases = [] {
    std::ifstream file(data_path("cpu_randn.txt"));
    if (!file) throw std::runtime_error("cannot open " + data_path("cpu_randn.txt"));
    std::vector<RandnCase> parsed;
    std::string line;
    while (std::getline(file, line)) {
      if (line.empty() || line[0] == '#') continue;
      std::istringstream fields(line);
      RandnCase c;
      std::string seed;
      std::string calls;
      std::string cache;
      fields >> c.capability >> seed >> calls >> cache;
      c.seed = std::stoull(seed);
      c.calls = parse_calls(calls);
      if (cache != "none") c.cache = std::stoull(cache, nullptr, 16);
      std::string value;
      while (fields >> value) c.values.push_back(std::stoull(value, nullptr, 16));
      c.line_label = c.capability + " " + seed + " " + calls;
      std::size_t expected = 0;
      for (const Call& call : c.calls) expected += call.n;
      if (expected != c.values.size()) throw std::runtime_error("value count: " + c.line_label);
      parsed.push_back(std::move(c));
    }
    return parsed;
  }();
  return cases;
}

bool has_vectorised_call(const RandnCase& c) {
  return std::any_of(c.calls.begin(), c.calls.end(),
                     [](const Call& call) { return !call.is_double && call.n >= 16; });
}

// ---------------------------------------------------------------------------------------------
// Running cases

std::uint32_t bits_of(float value) {
  std::uint32_t bits = 0;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

std::uint64_t bits_of(double value) {
  std::uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

// Distance in units in the last place between two finite floats (0 for +0 and -0).
std::int64_t ulp_distance(std::uint32_t a, std::uint32_t b) {
  const auto ordered = [](std::uint32_t bits) {
    const auto magnitude = static_cast<std::int64_t>(bits & 0x7fffffffu);
    return (bits & 0x80000000u) != 0u ? -magnitude : magnitude;
  };
  const std::int64_t d = ordered(a) - ordered(b);
  return d < 0 ? -d : d;
}

struct Comparison {
  std::size_t compared = 0;
  std::size_t differing = 0;
  std::int64_t max_float_ulp = 0;    // over float32 values
  std::size_t differing_double = 0;  // float64 values are compared bitwise only
  bool cache_matches = true;
  std::string first_difference;
};

Comparison run_case(const RandnCase& c, TorchCpuCapability capability) {
  TorchCpuGenerator generator(c.seed, capability);
  Comparison result;
  std::size_t k = 0;
  for (const Call& call : c.calls) {
    if (call.is_double) {
      std::vector<double> out(call.n);
      generator.randn(out.data(), call.n);
      for (double v : out) {
        const std::uint64_t expected = c.values[k++];
        ++result.compared;
        if (bits_of(v) != expected) {
          ++result.differing;
          ++result.differing_double;
          if (result.first_difference.empty()) {
            result.first_difference = "value " + std::to_string(k - 1) + " (float64)";
          }
        }
      }
    } else {
      std::vector<float> out(call.n);
      generator.randn(out.data(), call.n);
      for (float v : out) {
        const auto expected = static_cast<std::uint32_t>(c.values[k++]);
        ++result.compared;
        if (bits_of(v) != expected) {
          ++result.differing;
          result.max_float_ulp = std::max(result.max_float_ulp, ulp_distance(bits_of(v), expected));
          if (result.first_difference.empty()) {
            result.first_difference = "value " + std::to_string(k - 1) + " (float32)";
          }
        }
      }
    }
  }
  const std::optional<double> cache = generator.cached_normal();
  const std::optional<std::uint64_t> cache_bits =
      cache ? std::optional<std::uint64_t>(bits_of(*cache)) : std::nullopt;
  result.cache_matches = cache_bits == c.cache;
  return result;
}

// Measured bound on |TorchCpuGenerator(avx2) - PyTorch avx2| in float32 ulps over every recorded
// case, the million-value digests and two 33.5M-value runs made while developing (docs/noise.md):
// the emulation of the AVX2 kernel is exact, so the bound is 0.
constexpr std::int64_t kMeasuredAvx2UlpBound = 0;

// ---------------------------------------------------------------------------------------------
// FNV-1a 64 over the little-endian bytes of each value, as make_torch_vectors.py computes it.

template <typename T>
std::uint64_t fnv1a64(const std::vector<T>& values) {
  std::uint64_t hash = 0xcbf29ce484222325u;
  for (T v : values) {
    const auto bits = bits_of(v);
    for (std::size_t byte = 0; byte < sizeof bits; ++byte) {
      hash ^= static_cast<std::uint64_t>((bits >> (8 * byte)) & 0xffu);
      hash *= 0x100000001b3u;
    }
  }
  return hash;
}

}  // namespace

// =============================================================================================
// CPU generator

TEST_CASE("CPU engine draws equal std::mt19937 seeded with the low 32 bits of the seed",
          "[torch][cpu]") {
  for (std::uint64_t seed : {std::uint64_t{0}, std::uint64_t{42}, std::uint64_t{4294967301u},
                             std::uint64_t{0xFEDCBA9876543210u}}) {
    TorchCpuGenerator generator(seed);
    std::mt19937 reference(static_cast<std::mt19937::result_type>(seed & 0xffffffffu));
    std::size_t mismatches = 0;
    for (int i = 0; i < 5000; ++i) {  // crosses several 624-word regenerations
      if (generator.next_uint32() != static_cast<std::uint32_t>(reference())) ++mismatches;
    }
    INFO("seed " << seed);
    CHECK(mismatches == 0);
  }
}

TEST_CASE("CPU seeds equal modulo 2^32 give the same stream while initial_seed keeps 64 bits",
          "[torch][cpu]") {
  TorchCpuGenerator low(5);
  TorchCpuGenerator high(4294967301u);  // 2^32 + 5
  CHECK(low.initial_seed() == 5u);
  CHECK(high.initial_seed() == 4294967301u);
  std::vector<float> a(100);
  std::vector<float> b(100);
  low.randn(a.data(), a.size());
  high.randn(b.data(), b.size());
  CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

TEST_CASE("CPU scalar kernel (ATEN_CPU_CAPABILITY=default) reproduces every single torch.randn "
          "call bit for bit, float32 and float64",
          "[torch][cpu]") {
  std::size_t cases = 0;
  std::size_t values = 0;
  for (const RandnCase& c : cpu_cases()) {
    if (c.capability != "default" || c.calls.size() != 1) continue;
    const Comparison r = run_case(c, TorchCpuCapability::scalar);
    INFO(c.line_label << ": " << r.differing << " of " << r.compared << " differ, first at "
                      << r.first_difference);
    CHECK(r.differing == 0);
    CHECK(r.cache_matches);
    ++cases;
    values += r.compared;
  }
  // 5 seeds x 7 sizes x 2 dtypes, plus the 4099-element runs.
  CHECK(cases == 73);
  CHECK(values > 20000);
}

TEST_CASE("CPU AVX2 kernel reproduces PyTorch's avx2 float32 outputs within the measured bound "
          "(0 ulp)",
          "[torch][cpu]") {
  std::size_t cases = 0;
  std::int64_t max_ulp = 0;
  std::size_t scalar_differences = 0;
  for (const RandnCase& c : cpu_cases()) {
    if (c.capability != "avx2" || c.calls.size() != 1) continue;
    const Comparison r = run_case(c, TorchCpuCapability::avx2);
    INFO(c.line_label << ": " << r.differing << " of " << r.compared << " differ, max "
                      << r.max_float_ulp << " ulp");
    CHECK(r.differing_double == 0);
    CHECK(r.max_float_ulp <= kMeasuredAvx2UlpBound);
    max_ulp = std::max(max_ulp, r.max_float_ulp);
    // The reference is discriminating: PyTorch's portable kernel gives other bits here.
    scalar_differences += run_case(c, TorchCpuCapability::scalar).differing;
    ++cases;
  }
  INFO("maximum ulp distance to PyTorch avx2: " << max_ulp);
  CHECK(max_ulp <= kMeasuredAvx2UlpBound);
  CHECK(cases == 22);  // 5 seeds x sizes 16, 17, 100, 1000, and float32 4099 for 2 seeds
  CHECK(scalar_differences > 1000);
}

TEST_CASE("CPU avx512 capability reproduces PyTorch's avx512 outputs, which equal avx2 in 1.13",
          "[torch][cpu]") {
  std::size_t cases = 0;
  for (const RandnCase& c : cpu_cases()) {
    if (c.capability != "avx512") continue;
    const Comparison r = run_case(c, TorchCpuCapability::avx512);
    INFO(c.line_label << ": " << r.differing << " of " << r.compared << " differ");
    CHECK(r.differing == 0);
    ++cases;
  }
  CHECK(cases == 8);
}

TEST_CASE("CPU float64 and n < 16 outputs are the same bits under every capability",
          "[torch][cpu]") {
  for (const RandnCase& c : cpu_cases()) {
    if (c.capability != "default" || has_vectorised_call(c)) continue;
    for (TorchCpuCapability capability : {TorchCpuCapability::avx2, TorchCpuCapability::avx512}) {
      const Comparison r = run_case(c, capability);
      INFO(c.line_label << " under " << ddim::torch_cpu_capability_name(capability));
      CHECK(r.differing == 0);
    }
  }
}

TEST_CASE("CPU successive calls continue PyTorch's stream, including the cached Box-Muller "
          "normal that survives large calls and is shared by float32 and float64",
          "[torch][cpu]") {
  std::size_t sequences = 0;
  for (const RandnCase& c : cpu_cases()) {
    if (c.calls.size() < 2) continue;
    const Comparison r = run_case(c, ddim::parse_torch_cpu_capability(c.capability));
    INFO(c.line_label << ": " << r.differing << " of " << r.compared << " differ, first at "
                      << r.first_difference);
    CHECK(r.differing == 0);
    CHECK(r.cache_matches);
    ++sequences;
  }
  CHECK(sequences >= 27);

  // The cache is observable: after a 7-element call one value is pending, after 8 none.
  TorchCpuGenerator generator(3);
  std::vector<float> out(8);
  generator.randn(out.data(), 7);
  REQUIRE(generator.cached_normal().has_value());
  generator.randn(out.data(), 1);
  CHECK_FALSE(generator.cached_normal().has_value());
}

TEST_CASE("CPU outputs of 4099 values (every seed) and of a million values hash to PyTorch's "
          "digests, float32 and float64",
          "[torch][cpu][slow]") {
  std::ifstream file(data_path("cpu_randn_hashes.txt"));
  REQUIRE(file);
  std::string line;
  std::size_t checked = 0;
  while (std::getline(file, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string capability;
    std::string seed;
    std::string call;
    std::string digest;
    fields >> capability >> seed >> call >> digest;
    const Call c = parse_calls(call).at(0);
    TorchCpuGenerator generator(std::stoull(seed), ddim::parse_torch_cpu_capability(capability));
    std::uint64_t hash = 0;
    if (c.is_double) {
      std::vector<double> out(c.n);
      generator.randn(out.data(), out.size());
      hash = fnv1a64(out);
    } else {
      std::vector<float> out(c.n);
      generator.randn(out.data(), out.size());
      hash = fnv1a64(out);
    }
    INFO(line);
    CHECK(hash == std::stoull(digest, nullptr, 16));
    ++checked;
  }
  // 4 large outputs x 3 capabilities (float64 once) = 10, and 5 seeds x 4099 values: float32 on
  // 3 capabilities and float64 once = 20
  CHECK(checked == 30);
}

TEST_CASE("CPU manual_seed restarts the stream and clears the cached normal", "[torch][cpu]") {
  TorchCpuGenerator fresh(42);
  std::vector<float> expected(5);
  fresh.randn(expected.data(), expected.size());

  TorchCpuGenerator reused(7);
  std::vector<float> scratch(7);
  reused.randn(scratch.data(), scratch.size());  // leaves a cached normal
  REQUIRE(reused.cached_normal().has_value());
  reused.manual_seed(42);
  CHECK_FALSE(reused.cached_normal().has_value());
  CHECK(reused.initial_seed() == 42u);
  std::vector<float> again(5);
  reused.randn(again.data(), again.size());
  CHECK(std::memcmp(expected.data(), again.data(), expected.size() * sizeof(float)) == 0);

  // Switching the capability does not move the stream: both kernels consume the same draws.
  TorchCpuGenerator a(9, TorchCpuCapability::scalar);
  TorchCpuGenerator b(9, TorchCpuCapability::avx2);
  std::vector<float> big(40);
  a.randn(big.data(), big.size());
  b.randn(big.data(), big.size());
  CHECK(a.next_uint32() == b.next_uint32());
  b.set_capability(TorchCpuCapability::scalar);
  CHECK(b.capability() == TorchCpuCapability::scalar);
}

TEST_CASE("CPU bad arguments throw std::invalid_argument naming the parameter, and n = 0 draws "
          "nothing",
          "[torch][cpu]") {
  TorchCpuGenerator generator(1);
  float* null_float = nullptr;
  double* null_double = nullptr;
  CHECK_THROWS_AS(generator.randn(null_float, 3), std::invalid_argument);
  CHECK_THROWS_WITH(generator.randn(null_float, 3),
                    ddim_test::contains("out = null") && ddim_test::contains("n = 3"));
  CHECK_THROWS_WITH(generator.randn(null_double, 20), ddim_test::contains("out = null"));
  CHECK_THROWS_AS(TorchCpuGenerator(1, static_cast<TorchCpuCapability>(7)), std::invalid_argument);
  CHECK_THROWS_WITH(generator.set_capability(static_cast<TorchCpuCapability>(-1)),
                    ddim_test::contains("capability = -1"));

  // Nothing was consumed by the failed calls or by n = 0 (null is allowed then).
  generator.randn(null_float, 0);
  generator.randn(null_double, 0);
  TorchCpuGenerator untouched(1);
  CHECK(generator.next_uint32() == untouched.next_uint32());
}

TEST_CASE("CPU capability names round-trip through the ATEN_CPU_CAPABILITY spellings",
          "[torch][cpu]") {
  for (TorchCpuCapability capability :
       {TorchCpuCapability::scalar, TorchCpuCapability::avx2, TorchCpuCapability::avx512}) {
    CHECK(ddim::parse_torch_cpu_capability(ddim::torch_cpu_capability_name(capability)) ==
          capability);
  }
  CHECK(ddim::torch_cpu_capability_name(TorchCpuCapability::scalar) == "default");
  CHECK_THROWS_WITH(ddim::parse_torch_cpu_capability("AVX2"), ddim_test::contains("\"AVX2\""));
  CHECK_THROWS_AS(ddim::parse_torch_cpu_capability(""), std::invalid_argument);
  CHECK_THROWS_AS(ddim::torch_cpu_capability_name(static_cast<TorchCpuCapability>(3)),
                  std::invalid_argument);
}

TEST_CASE("CPU AVX2 kernel constants are the Cephes coefficients rounded to float",
          "[torch][cpu]") {
  namespace c = ddim::detail::avx2_constants;
  // The decimal literals of the Cephes single-precision routines, as avx_mathfun.h spells them.
  const double log_decimal[] = {7.0376836292E-2,  -1.1514610310E-1, 1.1676998740E-1,
                                -1.2420140846E-1, 1.4249322787E-1,  -1.6668057665E-1,
                                2.0000714765E-1,  -2.4999993993E-1, 3.3333331174E-1};
  for (std::size_t i = 0; i < c::log_poly.size(); ++i) {
    CHECK(c::log_poly[i] == static_cast<float>(log_decimal[i]));
  }
  CHECK(c::log_q1 == static_cast<float>(-2.12194440e-4));
  CHECK(c::log_q2 == static_cast<float>(0.693359375));
  CHECK(c::sqrt_half == static_cast<float>(0.707106781186547524));
  CHECK(c::four_over_pi == static_cast<float>(1.27323954473516));
  CHECK(c::minus_dp1 == static_cast<float>(-0.78515625));
  CHECK(c::minus_dp2 == static_cast<float>(-2.4187564849853515625e-4));
  CHECK(c::minus_dp3 == static_cast<float>(-3.77489497744594108e-8));
  CHECK(c::sin_poly[0] == static_cast<float>(-1.9515295891E-4));
  CHECK(c::sin_poly[1] == static_cast<float>(8.3321608736E-3));
  CHECK(c::sin_poly[2] == static_cast<float>(-1.6666654611E-1));
  CHECK(c::cos_poly[0] == static_cast<float>(2.443315711809948E-005));
  CHECK(c::cos_poly[1] == static_cast<float>(-1.388731625493765E-003));
  CHECK(c::cos_poly[2] == static_cast<float>(4.166664568298827E-002));
  CHECK(c::two_pi == static_cast<float>(2.0 * 3.14159265358979323846));

  // And the polynomial functions are accurate approximations (a sanity check of the wiring).
  for (float x : {1.0f, 0.75f, 0.5f, 0.1f, 1e-3f, 0x1p-24f}) {
    const double exact = std::log(static_cast<double>(x));
    CHECK_THAT(static_cast<double>(ddim::detail::avx2_log(x)), WithinAbs(exact, 1e-7) || WithinRel(exact, 1e-6));
  }
  CHECK(ddim::detail::avx2_log(1.0f) == 0.0f);
  for (float x : {0.0f, 0.3f, 1.2f, 2.5f, 3.9f, 5.0f, 6.28f}) {
    float s = 0.0f;
    float co = 0.0f;
    ddim::detail::avx2_sincos(x, s, co);
    CHECK_THAT(static_cast<double>(s), WithinAbs(std::sin(static_cast<double>(x)), 3e-7));
    CHECK_THAT(static_cast<double>(co), WithinAbs(std::cos(static_cast<double>(x)), 3e-7));
  }
}

// =============================================================================================
// CUDA generator

TEST_CASE("Philox4x32-10 matches the Random123 known-answer vectors", "[torch][cuda]") {
  // Random123 tests/kat_vectors, the three "philox4x32 10" lines (counter, key -> output).
  using ddim::detail::philox4x32_10;
  using Words = std::array<std::uint32_t, 4>;
  CHECK(philox4x32_10({0u, 0u, 0u, 0u}, {0u, 0u}) ==
        Words{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u});
  CHECK(philox4x32_10({0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu},
                      {0xffffffffu, 0xffffffffu}) ==
        Words{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu});
  CHECK(philox4x32_10({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u},
                      {0xa4093822u, 0x299f31d0u}) ==
        Words{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u});
}

namespace {

// |ours - published| for values printed with 4 decimals: half a unit of the last printed digit
// plus the GPU's approximate sine/cosine (about 2^-21 times a radius below 6).
constexpr double kPrinted4Tolerance = 5e-5 + 6e-6;

struct Published {
  std::size_t index;
  double value;
};

void check_published(const std::vector<float>& out, const std::vector<Published>& expected,
                     double tolerance, float mean = 0.0f, float std_dev = 1.0f) {
  for (const Published& p : expected) {
    // PyTorch's CUDA normal_(mean, std) applies rand * std + mean in float (fused by nvcc).
    const float value = std::fma(out.at(p.index), std_dev, mean);
    INFO("element " << p.index << ": ours " << value << ", published " << p.value);
    CHECK(std::fabs(static_cast<double>(value) - p.value) <= tolerance);
  }
}

}  // namespace

TEST_CASE("CUDA small tensors match published GPU printouts", "[torch][cuda]") {
  SECTION("pytorch/pytorch#79496: torch.manual_seed(10); torch.randn(3, device='cuda')") {
    // Reported with PyTorch 1.11.0+cu113: tensor([-0.1029,  1.6810, -0.2708]).
    TorchCudaGenerator generator(10);
    std::vector<float> out(3);
    generator.randn(out.data(), out.size());
    check_published(out, {{0, -0.1029}, {1, 1.6810}, {2, -0.2708}}, kPrinted4Tolerance);
  }
  SECTION("pytorch/pytorch#62467: RTX A6000, normal_ of a (1,3,128,128) tensor, seed 43") {
    // rng0 = torch.Generator(device='cuda:0').manual_seed(43);
    // torch.empty(1, 3, 128, 128, device='cuda:0').normal_(generator=rng0)[..., 0, 0]
    // printed tensor([[1.9983, 0.8704, 2.1127]]): elements 0, 16384 and 32768.
    TorchCudaGenerator generator(43, CudaDeviceProperties::rtx_a6000());
    std::vector<float> out(3 * 128 * 128);
    generator.randn(out.data(), out.size());
    check_published(out, {{0, 1.9983}, {16384, 0.8704}, {32768, 2.1127}}, kPrinted4Tolerance);
  }
}

TEST_CASE("CUDA output agrees with AUTOMATIC1111's published rng_philox reference output",
          "[torch][cuda]") {
  // stable-diffusion-webui modules/rng_philox.py, module docstring: Generator(seed=0).randn((3, 4))
  // prints these values. That file is a NumPy re-implementation (float64 Box-Muller) stated to
  // reproduce torch.randn(..., device='cuda'); it is not a GPU printout. It computes u and v in
  // float64 where the GPU (and this header) use float, so values differ by up to 6.2e-7 here;
  // agreement at that level confirms the counter layout (element i <- counter (0, i), sine).
  const std::vector<Published> expected = {
      {0, -0.92466259}, {1, -0.42534415}, {2, -2.6438457},  {3, 0.14518388},
      {4, -0.12086647}, {5, -0.57972564}, {6, -0.62285122}, {7, -0.32838709},
      {8, -1.07454231}, {9, -0.36314407}, {10, -1.67105067}, {11, 2.26550497}};
  TorchCudaGenerator generator(0);
  std::vector<float> out(12);
  generator.randn(out.data(), out.size());
  check_published(out, expected, 1.5e-6);
}

TEST_CASE("CUDA launch layout and Philox offset advance as PyTorch computes them",
          "[torch][cuda]") {
  const auto a100 = CudaDeviceProperties::a100();
  const auto h100 = CudaDeviceProperties::h100_sxm();
  auto layout = ddim::cuda_randn_launch_layout(12, a100);
  CHECK(layout.blocks == 1);
  CHECK(layout.threads == 256);
  CHECK(layout.draws_per_thread == 1);
  CHECK(layout.offset_increment == 4);
  layout = ddim::cuda_randn_launch_layout(4 * 64 * 64, a100);
  CHECK(layout.blocks == 64);
  CHECK(layout.offset_increment == 4);
  layout = ddim::cuda_randn_launch_layout(49u * 12u * 112u * 144u, a100);  // 9483264
  CHECK(layout.blocks == 864);
  CHECK(layout.threads == 221184);
  CHECK(layout.draws_per_thread == 11);
  CHECK(layout.offset_increment == 44);
  layout = ddim::cuda_randn_launch_layout(49u * 12u * 112u * 144u, h100);
  CHECK(layout.blocks == 1056);
  CHECK(layout.draws_per_thread == 9);
  // Exactly one wave of 4 values per thread still needs one draw; one more element needs two.
  CHECK(ddim::cuda_randn_launch_layout(4 * 221184, a100).draws_per_thread == 1);
  CHECK(ddim::cuda_randn_launch_layout(4 * 221184 + 1, a100).draws_per_thread == 2);

  TorchCudaGenerator generator(5);
  std::vector<float> out(1000);
  generator.randn(out.data(), 12);
  CHECK(generator.philox_offset() == 4);
  generator.randn(out.data(), 1000);
  CHECK(generator.philox_offset() == 8);
  generator.randn(out.data(), 0);  // PyTorch returns before touching the generator
  CHECK(generator.philox_offset() == 8);
  generator.manual_seed(6);
  CHECK(generator.philox_offset() == 0);
  CHECK(generator.initial_seed() == 6u);
}

TEST_CASE("CUDA successive calls read consecutive Philox counters of their thread",
          "[torch][cuda]") {
  // For n <= one wave, element i of the call made at offset o is the first Box-Muller output of
  // Philox(counter = (o / 4, i), key = seed): check that directly from the primitives.
  const std::uint64_t seed = 0x0123456789ABCDEFu;
  TorchCudaGenerator generator(seed);
  std::vector<float> first(300);
  std::vector<float> second(300);
  generator.randn(first.data(), first.size());
  generator.randn(second.data(), second.size());
  const std::array<std::uint32_t, 2> key = {0x89ABCDEFu, 0x01234567u};
  for (std::uint32_t i : {0u, 1u, 255u, 256u, 299u}) {
    for (std::uint32_t call : {0u, 1u}) {
      const auto words = ddim::detail::philox4x32_10({call, 0u, i, 0u}, key);
      float sine = 0.0f;
      float cosine = 0.0f;
      ddim::detail::curand_box_muller(words[0], words[1], sine, cosine);
      const float ours = call == 0 ? first[i] : second[i];
      INFO("call " << call << " element " << i);
      CHECK(bits_of(ours) == bits_of(sine + 0.0f));
    }
  }
  // Resuming from a saved offset continues the stream.
  TorchCudaGenerator resumed(seed);
  resumed.set_philox_offset(4);
  std::vector<float> again(300);
  resumed.randn(again.data(), again.size());
  CHECK(std::memcmp(again.data(), second.data(), again.size() * sizeof(float)) == 0);
}

namespace {

// Element i of `torch.randn(n, device="cuda", generator=g)` for a generator at Philox offset
// `offset`, computed on its own from PyTorch's launch layout (T threads): thread t = i mod T
// makes draw k with component c where i / T = 4 k + c, from Philox counter (offset / 4 + k, t);
// components 0-3 are (sin, cos) of words (0, 1), then (sin, cos) of words (2, 3).
float cuda_element(std::uint64_t seed, std::uint64_t offset, std::size_t n, std::size_t i,
                   CudaDeviceProperties properties) {
  const ddim::CudaLaunchLayout layout = ddim::cuda_randn_launch_layout(n, properties);
  const std::uint64_t thread = i % layout.threads;
  const std::uint64_t q = i / layout.threads;
  const std::uint64_t block = offset / 4 + q / 4;
  const auto words = ddim::detail::philox4x32_10(
      {static_cast<std::uint32_t>(block), static_cast<std::uint32_t>(block >> 32),
       static_cast<std::uint32_t>(thread), static_cast<std::uint32_t>(thread >> 32)},
      {static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)});
  const std::uint64_t c = q % 4;
  float sine = 0.0f;
  float cosine = 0.0f;
  ddim::detail::curand_box_muller(words[c < 2 ? 0 : 2], words[c < 2 ? 1 : 3], sine, cosine);
  return (c % 2 == 0 ? sine : cosine) + 0.0f;
}

}  // namespace

TEST_CASE("CUDA calls beyond one wave of threads place draw k, component c of thread t at element "
          "t + T (4 k + c)",
          "[torch][cuda]") {
  // A device with one SM of 256 threads: 5000 values need 5 draws per thread (offset + 20).
  const CudaDeviceProperties tiny{1, 256};
  TorchCudaGenerator generator(77, tiny);
  std::vector<float> first(5000);
  std::vector<float> second(300);
  generator.randn(first.data(), first.size());
  CHECK(generator.philox_offset() == 20);
  generator.randn(second.data(), second.size());
  CHECK(generator.philox_offset() == 24);  // 300 values: one draw (4 values) per thread
  std::size_t differing = 0;
  for (std::size_t i = 0; i < first.size(); ++i) {
    differing += bits_of(first[i]) != bits_of(cuda_element(77, 0, first.size(), i, tiny)) ? 1u : 0u;
  }
  for (std::size_t i = 0; i < second.size(); ++i) {
    differing += bits_of(second[i]) != bits_of(cuda_element(77, 20, second.size(), i, tiny)) ? 1u : 0u;
  }
  CHECK(differing == 0);
}

TEST_CASE("CUDA large tensors map elements to threads by the GPU's SM count as published",
          "[torch][cuda]") {
  SECTION("pytorch/pytorch#143086: seed 1, 49*12*112*144 elements, A100 versus H100") {
    // generator = torch.Generator('cuda').manual_seed(1); torch.randn(1, 9483264, ...) printed
    //   h100: [-0.2963, 2.6764, -0.1408, ..., -0.6970, -0.7780, 0.3267]
    //   a100: [-0.2963, 2.6764, -0.1408, ...,  0.1549, -0.6797, -0.1656]   (PyTorch 2.5.1)
    // The H100 values are those of the SXM board (132 SMs), not the PCIe one (114 SMs). The
    // printed elements are computed alone (cuda_element, checked against randn above) rather
    // than by drawing all 9.5M values, which takes seconds in a sanitizer build.
    constexpr std::size_t n = 49u * 12u * 112u * 144u;
    const auto check_printed = [](CudaDeviceProperties device, const std::vector<Published>& expected) {
      for (const Published& p : expected) {
        const float value = cuda_element(1, 0, n, p.index, device);
        INFO("element " << p.index << ": ours " << value << ", published " << p.value);
        CHECK(std::fabs(static_cast<double>(value) - p.value) <= kPrinted4Tolerance);
      }
    };
    check_printed(CudaDeviceProperties::a100(), {{0, -0.2963}, {1, 2.6764}, {2, -0.1408},
                                                 {n - 3, 0.1549}, {n - 2, -0.6797}, {n - 1, -0.1656}});
    check_printed(CudaDeviceProperties::h100_sxm(), {{0, -0.2963}, {1, 2.6764}, {2, -0.1408},
                                                     {n - 3, -0.6970}, {n - 2, -0.7780}, {n - 1, 0.3267}});
    CHECK(ddim::cuda_randn_launch_layout(n, CudaDeviceProperties::a100()).offset_increment == 44);
  }
  SECTION("pytorch/pytorch#97097: RTX A4000, seed 14, (1000, 100).normal_(5, 5**.5)") {
    // Machine 1 (RTX A4000, PyTorch 2.0.0) printed the corners of the 1000 x 100 tensor; rows 998
    // and 999 lie beyond one wave (48 SMs x 6 blocks x 256 = 73728 threads).
    const std::size_t n = 100000;
    std::vector<float> out(n);
    TorchCudaGenerator generator(14, CudaDeviceProperties::rtx_a4000());
    generator.randn(out.data(), n);
    const std::vector<Published> corners = {
        {0, 2.8731},     {1, 5.2727},     {2, 2.9889},     {97, 1.6853},    {98, 9.6331},
        {99, 6.6319},    {100, 3.9968},   {101, 3.8097},   {102, 5.7328},   {197, 4.4029},
        {198, 3.9804},   {199, 7.4698},   {99700, 8.6297}, {99701, 2.3137}, {99702, 6.2596},
        {99797, 7.9358}, {99798, 4.4697}, {99799, 2.7475}, {99800, 7.0551}, {99801, 7.8583},
        {99802, 3.9990}, {99897, 4.1139}, {99898, 8.9315}, {99899, 4.2042}, {99900, 2.7337},
        {99901, 2.2106}, {99902, 7.7815}, {99997, 8.2207}, {99998, 6.5395}, {99999, 4.2604}};
    check_published(out, corners, kPrinted4Tolerance, 5.0f,
                    static_cast<float>(std::sqrt(5.0)));
    // The same call on an A100 (one wave covers the tensor) gives other values for row 999.
    TorchCudaGenerator other(14, CudaDeviceProperties::a100());
    other.randn(out.data(), n);
    CHECK(std::fabs(std::fma(out[99999], static_cast<float>(std::sqrt(5.0)), 5.0f) - 4.2604f) >
          1e-3f);
  }
  SECTION("pytorch/pytorch#158398: seed 42, (1, 64, 2048) on a GPU whose grid is 168 blocks") {
    // Machine 1 of the report (CUDA 12.6) printed the corners of rows 0-2 and 61-63. Rows 61-63
    // lie beyond one wave; of all SM counts 1-200 with 1024, 1536 or 2048 threads per SM only
    // grids of 168 blocks reproduce all 36 values (e.g. 28 SMs x 1536 threads, an RTX 3060).
    const std::size_t n = 64 * 2048;
    std::vector<float> out(n);
    TorchCudaGenerator generator(42, CudaDeviceProperties{28, 1536});
    generator.randn(out.data(), n);
    check_published(out,
                    {{0, 0.1940},          {1, 2.1614},          {2, -0.1721},
                     {2045, 1.4540},       {2046, -2.7733},      {2047, -0.8932},
                     {2048, -0.4574},      {2049, 0.8063},       {2050, 0.1580},
                     {4093, 0.1124},       {4094, 0.2769},       {4095, -1.2535},
                     {4096, 1.1346},       {4097, -0.6329},      {4098, -0.9147},
                     {6141, -1.0001},      {6142, -1.1552},      {6143, -0.6955},
                     {124928, -0.4861},    {124929, 0.3358},     {124930, 1.0578},
                     {126973, -0.7282},    {126974, 0.5087},     {126975, 0.1318},
                     {126976, 0.7881},     {126977, 0.8339},     {126978, -1.1424},
                     {129021, -0.6297},    {129022, -1.1112},    {129023, -0.4091},
                     {129024, -1.2356},    {129025, -0.4083},    {129026, -0.4695},
                     {131069, -0.4841},    {131070, 1.2850},     {131071, -0.0282}},
                    kPrinted4Tolerance);
  }
}

TEST_CASE("CUDA bad arguments throw std::invalid_argument naming the parameter",
          "[torch][cuda]") {
  TorchCudaGenerator generator(1);
  CHECK_THROWS_WITH(generator.randn(nullptr, 4),
                    ddim_test::contains("out = null") && ddim_test::contains("n = 4"));
  float one = 0.0f;
  CHECK_THROWS_WITH(generator.randn(&one, TorchCudaGenerator::max_elements + 1),
                    ddim_test::contains("n = 536870913"));
  CHECK(generator.philox_offset() == 0);  // failed calls leave the generator unchanged
  CHECK_THROWS_WITH(generator.set_philox_offset(6), ddim_test::contains("offset = 6"));
  CHECK_THROWS_AS(TorchCudaGenerator(1, CudaDeviceProperties{0, 2048}), std::invalid_argument);
  CHECK_THROWS_WITH(generator.set_device_properties(CudaDeviceProperties{10, 128}),
                    ddim_test::contains("max_threads_per_multiprocessor = 128"));
  CHECK_THROWS_AS(ddim::cuda_randn_launch_layout(0, CudaDeviceProperties{}),
                  std::invalid_argument);
  generator.randn(nullptr, 0);  // allowed, draws nothing
  CHECK(generator.philox_offset() == 0);
}
