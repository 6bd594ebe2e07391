// The portable Gaussian noise: Philox known answers, bit-exact golden vectors from an independent
// implementation, the stream structure (prefixes, offsets, batch independence) and the
// distribution itself. This file is also built with -O3 -march=native (and fused multiply-add
// contraction allowed) and without vectorization: the same golden bits must come out.
#include <ddim/noise.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/catch.hpp"

namespace {

template <class Real>
std::uint64_t bits_of(Real value) {
  if constexpr (sizeof(Real) == 4) {
    std::uint32_t b;
    std::memcpy(&b, &value, 4);
    return b;
  } else {
    std::uint64_t b;
    std::memcpy(&b, &value, 8);
    return b;
  }
}

double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

}  // namespace

TEST_CASE("Philox4x32-10 matches the Random123 known-answer vectors", "[noise]") {
  using ddim::detail::philox4x32_10;
  using ddim::detail::PhiloxBlock;
  // Random123 tests/kat_vectors, "philox4x32 10" lines
  const PhiloxBlock zero = philox4x32_10(PhiloxBlock{{0, 0, 0, 0}}, 0, 0);
  CHECK(zero.word[0] == 0x6627e8d5u);
  CHECK(zero.word[1] == 0xe169c58du);
  CHECK(zero.word[2] == 0xbc57ac4cu);
  CHECK(zero.word[3] == 0x9b00dbd8u);
  const PhiloxBlock ones = philox4x32_10(PhiloxBlock{{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}}, 0xffffffffu,
                                         0xffffffffu);
  CHECK(ones.word[0] == 0x408f276du);
  CHECK(ones.word[1] == 0x41c83b0eu);
  CHECK(ones.word[2] == 0xa20bc7c6u);
  CHECK(ones.word[3] == 0x6d5451fdu);
  const PhiloxBlock pi = philox4x32_10(PhiloxBlock{{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}}, 0xa4093822u,
                                       0x299f31d0u);
  CHECK(pi.word[0] == 0xd16cfe09u);
  CHECK(pi.word[1] == 0x94fdccebu);
  CHECK(pi.word[2] == 0x5001e420u);
  CHECK(pi.word[3] == 0x24126ea1u);
}

TEST_CASE("normals equal the golden bits of the independent reference implementation", "[noise]") {
  // tests/data/noise/philox_normal.txt comes from tests/support/reference/make_noise_vectors.py,
  // which re-implements the documented algorithm in Python integers and numpy float32/float64.
  std::ifstream in(std::string(DDIM_TEST_DATA_DIR) + "/noise/philox_normal.txt");
  REQUIRE(in);
  std::string line;
  int cases = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    std::string type, colon;
    unsigned long long seed = 0, sample = 0, slot = 0, begin = 0, count = 0;
    words >> type >> seed >> sample >> slot >> begin >> count >> colon;
    INFO(line.substr(0, 60));
    std::vector<std::uint64_t> expected(count);
    for (auto& e : expected) {
      std::string hex;
      words >> hex;
      e = std::stoull(hex, nullptr, 16);
    }
    if (type == "float") {
      std::vector<float> values(count);
      ddim::detail::normal_fill<float>(seed, sample, static_cast<std::uint32_t>(slot), begin, values.data(), count);
      for (std::size_t i = 0; i < count; ++i) CHECK(bits_of(values[i]) == expected[i]);
    } else {
      std::vector<double> values(count);
      ddim::detail::normal_fill<double>(seed, sample, static_cast<std::uint32_t>(slot), begin, values.data(), count);
      for (std::size_t i = 0; i < count; ++i) CHECK(bits_of(values[i]) == expected[i]);
    }
    ++cases;
  }
  CHECK(cases == 10);
}

TEMPLATE_TEST_CASE("a stream's values do not depend on how many are drawn or where drawing starts", "[noise]", float,
                   double) {
  std::vector<TestType> all(1000), part(333);
  ddim::detail::normal_fill<TestType>(7, 3, 5, 0, all.data(), all.size());
  ddim::detail::normal_fill<TestType>(7, 3, 5, 0, part.data(), part.size());
  CHECK(std::equal(part.begin(), part.end(), all.begin()));  // prefix
  for (std::uint64_t begin : {1u, 2u, 3u, 61u, 64u, 65u, 500u}) {
    std::vector<TestType> window(97);
    ddim::detail::normal_fill<TestType>(7, 3, 5, begin, window.data(), window.size());
    INFO("begin " << begin);
    CHECK(std::equal(window.begin(), window.end(), all.begin() + static_cast<std::ptrdiff_t>(begin)));
  }
}

TEMPLATE_TEST_CASE("a batch's sample j gets the same bits as sampling it alone", "[noise]", float, double) {
  using Tensor = Eigen::Array<TestType, Eigen::Dynamic, Eigen::Dynamic>;
  Tensor batch(37, 8);
  ddim::PhiloxNoise(2024).step_noise(4, 999, batch);
  for (Eigen::Index j = 0; j < 8; ++j) {
    Tensor single(37, 1);
    ddim::PhiloxNoise(2024, static_cast<std::uint64_t>(j)).step_noise(4, 999, single);
    CHECK((single.col(0) == batch.col(j)).all());
  }
  // per-sample seeds: column j is the stream of seeds[j]
  auto per_sample = ddim::PhiloxNoise::per_sample({11, 22, 33});
  Tensor three(37, 3);
  per_sample.step_noise(4, 999, three);
  Tensor alone(37, 1);
  ddim::PhiloxNoise(22).step_noise(4, 999, alone);
  CHECK((alone.col(0) == three.col(1)).all());
}

TEST_CASE("streams differ between seeds, samples, slots and steps", "[noise]") {
  const auto draw = [](std::uint64_t seed, std::uint64_t sample, std::uint32_t slot) {
    Eigen::ArrayXd x(4096);
    ddim::detail::normal_fill<double>(seed, sample, slot, 0, x.data(), 4096);
    return x;
  };
  const Eigen::ArrayXd base = draw(1, 0, 0);
  // Correlations of independent N(0,1) streams of n = 4096: standard error 1/sqrt(n) = 0.0156;
  // the bound is 5 standard errors.
  for (const Eigen::ArrayXd& other : {draw(2, 0, 0), draw(1, 1, 0), draw(1, 0, 1), draw(1ull << 32, 0, 0), draw(1, 1ull << 32, 0)}) {
    const double correlation = (base * other).mean();
    CHECK(std::abs(correlation) < 5.0 / std::sqrt(4096.0));
    CHECK((base != other).all());
  }
  // the initial latent is slot 0 and step k is slot k + 1
  Eigen::ArrayXd x_T(16), step0(16), slot1(16);
  ddim::PhiloxNoise(5).initial_latent(x_T);
  ddim::PhiloxNoise(5).step_noise(0, 999, step0);
  ddim::PhiloxNoise(5).fill(1, slot1);
  CHECK((step0 == slot1).all());
  CHECK((x_T != step0).all());
  CHECK((ddim::gaussian<double>(16, 5) == x_T).all());
}

TEMPLATE_TEST_CASE("the noise is standard normal", "[noise][statistical]", float, double) {
  // 2^20 values from 4 seeds. Bounds are 5 standard errors of each statistic for i.i.d. N(0, 1):
  // mean 1/sqrt(n), variance sqrt(2/n), fourth moment sqrt(96/n) (var of z^4 is 105 - 9 = 96),
  // tail fraction beyond 3 sqrt(p(1-p)/n); Kolmogorov-Smirnov at the 1e-4 level: 2.23/sqrt(n).
  const std::size_t n = 1u << 20;
  std::vector<TestType> values(n);
  for (std::uint64_t seed = 0; seed < 4; ++seed) {
    ddim::detail::normal_fill<TestType>(seed + 100, 0, 0, 0, values.data() + seed * n / 4, n / 4);
  }
  double sum = 0, sum2 = 0, sum4 = 0;
  std::size_t beyond3 = 0;
  for (TestType v : values) {
    const double x = static_cast<double>(v);
    sum += x;
    sum2 += x * x;
    sum4 += x * x * x * x;
    beyond3 += std::abs(x) > 3.0;
  }
  const double count = static_cast<double>(n);
  CHECK(std::abs(sum / count) < 5.0 / std::sqrt(count));
  CHECK(std::abs(sum2 / count - 1.0) < 5.0 * std::sqrt(2.0 / count));
  CHECK(std::abs(sum4 / count - 3.0) < 5.0 * std::sqrt(96.0 / count));
  const double p3 = 2.0 * normal_cdf(-3.0);
  CHECK(std::abs(static_cast<double>(beyond3) / count - p3) < 5.0 * std::sqrt(p3 * (1 - p3) / count));
  std::sort(values.begin(), values.end());
  double ks = 0;
  for (std::size_t i = 0; i < n; i += 7) {
    const double cdf = normal_cdf(static_cast<double>(values[i]));
    ks = std::max({ks, std::abs(cdf - static_cast<double>(i) / count), std::abs(cdf - static_cast<double>(i + 1) / count)});
  }
  CHECK(ks < 2.23 / std::sqrt(count));
  // neighbours are uncorrelated (the two values of a Box-Muller pair included)
  std::vector<TestType> stream(n);
  ddim::detail::normal_fill<TestType>(9, 0, 0, 0, stream.data(), n);
  for (std::size_t lag : {1u, 2u, 3u, 4u, 5u}) {
    double product = 0;
    for (std::size_t i = 0; i + lag < n; ++i) product += static_cast<double>(stream[i]) * static_cast<double>(stream[i + lag]);
    INFO("lag " << lag);
    CHECK(std::abs(product / count) < 5.0 / std::sqrt(count));
  }
}

TEST_CASE("the float and double streams are one Box-Muller transform at two uniform resolutions", "[noise]") {
  // Both precisions transform the same Philox words; float keeps 24 bits of each uniform, double
  // 32. The radius uniform then differs by du <= 2^-24 and the angle by 2 pi 2^-24, so a value z
  // of a pair with radius r = hypot(z0, z1) and u = exp(-r^2 / 2) moves by at most
  // |dr| + r dtheta = du / (u r) + 2 pi r 2^-24, plus float rounding (8 ulp of r).
  std::vector<float> single(100000);
  std::vector<double> precise(100000);
  ddim::detail::normal_fill<float>(3, 0, 0, 0, single.data(), single.size());
  ddim::detail::normal_fill<double>(3, 0, 0, 0, precise.data(), precise.size());
  const double du = std::ldexp(1.0, -24);
  for (std::size_t i = 0; i < single.size(); i += 2) {
    const double r = std::hypot(precise[i], precise[i + 1]);
    const double bound = du / (std::exp(-r * r / 2) * std::max(r, 1e-3)) + 6.2831853 * r * du + 8 * 6e-8 * r;
    INFO("pair " << i / 2 << ", radius " << r);
    CHECK(std::abs(static_cast<double>(single[i]) - precise[i]) <= bound);
    CHECK(std::abs(static_cast<double>(single[i + 1]) - precise[i + 1]) <= bound);
  }
}

TEST_CASE("the Box-Muller pieces are accurate", "[noise]") {
  // Not needed for reproducibility, but for quality: log and sin/cos within a few float ulp.
  double worst_log = 0, worst_angle = 0;
  for (std::uint32_t m = 1; m < (1u << 24); m += 997) {
    const float log_u = ddim::detail::log_uniform<float>(static_cast<float>(m));
    const double exact = std::log(m / 16777216.0);
    worst_log = std::max(worst_log, std::abs(log_u - exact) / std::max(1.0, std::abs(exact)));
    float c = 0, s = 0;
    ddim::detail::unit_circle<float>(m << 8, c, s);
    const double angle = 6.283185307179586 * (m / 16777216.0);
    worst_angle = std::max({worst_angle, std::abs(c - std::cos(angle)), std::abs(s - std::sin(angle))});
  }
  CHECK(worst_log < 4e-7);
  CHECK(worst_angle < 2.5e-7);
}

TEST_CASE("a batch of empty samples (0 rows) is filled without touching memory", "[noise]") {
  // Regression: fill() took the address of element (0, j) of a 0-row tensor (undefined
  // behaviour, reported by UBSan through the sampling loop).
  Eigen::ArrayXXf empty(0, 3);
  ddim::PhiloxNoise(1).initial_latent(empty);
  ddim::PhiloxNoise(1).fill(5, empty);
  CHECK(empty.size() == 0);
}
