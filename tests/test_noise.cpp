// The portable Gaussian noise: Philox known answers, bit-exact golden vectors from an independent
// implementation, the compiled kernel against the scalar definition, the stream structure
// (prefixes, offsets, batch independence), accuracy, and the distribution itself. This file is
// also built with -O3 -march=native (the AVX-512 kernel where the host has it; fused
// multiply-add contraction allowed), with -mavx2 -mfma (the AVX2 kernel) and without
// vectorization: the same golden bits must come out of each.
#include <ddim/noise.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <type_traits>
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
  // which re-implements the documented algorithm in Python integers and numpy float32/float64:
  // whole streams, and Box-Muller pairs of chosen words (the ends of both uniforms) through the
  // scalar definition and through the compiled kernel.
  std::ifstream in(std::string(DDIM_TEST_DATA_DIR) + "/noise/philox_normal.txt");
  REQUIRE(in);
  INFO("kernel: " << ddim::detail::kNoiseKernel);
  std::string line;
  int streams = 0, pairs = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    std::string type;
    words >> type;
    INFO(line.substr(0, 60));
    if (type.rfind("pair_", 0) == 0) {
      std::string a_hex, b_hex, colon, first_hex, second_hex;
      words >> a_hex >> b_hex >> colon >> first_hex >> second_hex;
      const auto a = static_cast<std::uint32_t>(std::stoul(a_hex, nullptr, 16));
      const auto b = static_cast<std::uint32_t>(std::stoul(b_hex, nullptr, 16));
      const std::uint64_t first = std::stoull(first_hex, nullptr, 16), second = std::stoull(second_hex, nullptr, 16);
      const auto check = [&](auto zero) {
        using Real = decltype(zero);
        Real z0 = 0, z1 = 0;
        ddim::detail::box_muller<Real>(a, b, z0, z1);
        CHECK(bits_of(z0) == first);
        CHECK(bits_of(z1) == second);
        std::uint32_t radius_words[16], angle_words[16];
        Real firsts[16], seconds[16];
        for (int lane = 0; lane < 16; ++lane) {  // the pair in one lane, neighbours in the others
          radius_words[lane] = lane == 5 ? a : a ^ static_cast<std::uint32_t>(lane);
          angle_words[lane] = lane == 5 ? b : b + static_cast<std::uint32_t>(lane) * 0x10000000u;
        }
        ddim::detail::box_muller_lanes<Real>(radius_words, angle_words, firsts, seconds);
        CHECK(bits_of(firsts[5]) == first);
        CHECK(bits_of(seconds[5]) == second);
      };
      if (type == "pair_float") {
        check(0.0f);
      } else {
        check(0.0);
      }
      ++pairs;
      continue;
    }
    unsigned long long seed = 0, sample = 0, slot = 0, begin = 0, count = 0;
    std::string colon;
    words >> seed >> sample >> slot >> begin >> count >> colon;
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
    ++streams;
  }
  CHECK(streams == 14);
  CHECK(pairs == 2 * 10 * 17);
}

TEMPLATE_TEST_CASE("the compiled kernels give the definition's bits for any range", "[noise]", float, double) {
  // normal_fill (whole chunks through the SIMD or portable kernel, partial chunks through a
  // buffer or value by value) against normal_value, the scalar definition, element by element:
  // random streams, ranges starting anywhere in a chunk, crossing chunks, and near the ends of
  // the block counter.
  using ddim::detail::normal_value;
  INFO("kernel: " << ddim::detail::kNoiseKernel);
  std::mt19937_64 random(20240611);
  const std::uint64_t origins[] = {0, 64, 1u << 20, (std::uint64_t{1} << 33) - 64, (std::uint64_t{1} << 34) - 128};
  std::vector<TestType> values;
  int mismatches = 0;
  for (int trial = 0; trial < 300; ++trial) {
    const std::uint64_t seed = random(), sample = trial % 3 == 0 ? random() : random() % 8;
    const auto slot = static_cast<std::uint32_t>(random() % 1000);
    const std::uint64_t begin = origins[trial % 5] + random() % 200;
    const std::uint64_t count = trial % 4 == 0 ? random() % 8 : random() % 300;
    values.assign(count, TestType(0));
    ddim::detail::normal_fill<TestType>(seed, sample, slot, begin, values.data(), count);
    const auto stream = ddim::detail::make_noise_stream(seed, sample, slot);
    for (std::uint64_t i = 0; i < count; ++i) {
      const TestType expected = normal_value<TestType>(stream, begin + i);
      if (bits_of(values[i]) != bits_of(expected) && ++mismatches <= 10) {
        FAIL_CHECK("seed " << seed << " sample " << sample << " slot " << slot << " begin " << begin << " count "
                           << count << ": value " << i << " is " << values[i] << ", definition " << expected);
      }
    }
  }
  CHECK(mismatches == 0);
  // every start within two chunks and every length up to three chunks (each way of splitting a
  // range into value-by-value, buffered and direct parts)
  const auto sweep = ddim::detail::make_noise_stream(3, 1, 4);
  std::vector<TestType> reference(128 + 192);
  for (std::uint64_t e = 0; e < reference.size(); ++e) reference[e] = normal_value<TestType>(sweep, e);
  int sweep_mismatches = 0;
  for (std::uint64_t begin = 0; begin < 128; ++begin) {
    for (std::uint64_t count = 0; count <= 192; ++count) {
      values.assign(count + 1, TestType(-1234));
      ddim::detail::normal_fill<TestType>(3, 1, 4, begin, values.data(), count);
      for (std::uint64_t i = 0; i < count; ++i) sweep_mismatches += bits_of(values[i]) != bits_of(reference[begin + i]);
      sweep_mismatches += values[count] != TestType(-1234);  // nothing written past the end
    }
  }
  CHECK(sweep_mismatches == 0);
  // the raw Philox words in the values' layout
  std::vector<std::uint32_t> words(3 * 64);
  const auto word_stream = ddim::detail::make_noise_stream(0x0123456789ABCDEFull, 77, 9);
  ddim::detail::philox_chunks(word_stream, 0xFFFFFFF0u, 3, words.data());
  for (std::uint32_t chunk = 0; chunk < 3; ++chunk) {
    for (std::uint32_t lane = 0; lane < 16; ++lane) {
      const auto block = ddim::detail::philox4x32_10(
          ddim::detail::PhiloxBlock{{0xFFFFFFF0u + 16 * chunk + lane, 77, 0, 9}}, word_stream.key0, word_stream.key1);
      for (int k = 0; k < 4; ++k) CHECK(words[64 * chunk + 16 * static_cast<std::uint32_t>(k) + lane] == block.word[k]);
    }
  }
  // whole chunks, one and several per call, against the portable lane code
  const auto stream = ddim::detail::make_noise_stream(99, 5, 17);
  std::vector<TestType> simd(5 * 64), portable(5 * 64);
  ddim::detail::normal_chunks<TestType>(stream, 0xFFFFFFE0u, 5, simd.data());  // wraps past 2^32
  for (std::uint32_t chunk = 0; chunk < 5; ++chunk) {
    ddim::detail::normal_chunk_portable<TestType>(stream, 0xFFFFFFE0u + 16 * chunk, portable.data() + 64 * chunk);
  }
  for (std::size_t i = 0; i < simd.size(); ++i) CHECK(bits_of(simd[i]) == bits_of(portable[i]));
}

TEMPLATE_TEST_CASE("a stream's values do not depend on how many are drawn or where drawing starts", "[noise]", float,
                   double) {
  std::vector<TestType> all(1000), part(333);
  ddim::detail::normal_fill<TestType>(7, 3, 5, 0, all.data(), all.size());
  ddim::detail::normal_fill<TestType>(7, 3, 5, 0, part.data(), part.size());
  CHECK(std::equal(part.begin(), part.end(), all.begin()));  // prefix
  for (std::uint64_t begin : {1u, 2u, 3u, 61u, 64u, 65u, 500u}) {
    for (std::uint64_t count : {1u, 2u, 3u, 17u, 63u, 64u, 97u, 200u}) {
      std::vector<TestType> window(count);
      ddim::detail::normal_fill<TestType>(7, 3, 5, begin, window.data(), window.size());
      INFO("begin " << begin << ", count " << count);
      CHECK(std::equal(window.begin(), window.end(), all.begin() + static_cast<std::ptrdiff_t>(begin)));
    }
  }
  // the block counter is 32 bits: value 2^34 + e is value e
  std::vector<TestType> wrapped(500);
  ddim::detail::normal_fill<TestType>(7, 3, 5, std::uint64_t{1} << 34, wrapped.data(), wrapped.size());
  CHECK(std::equal(wrapped.begin(), wrapped.end(), all.begin()));
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
  // neighbours are uncorrelated, and so are the values 16, 32 and 48 apart within a chunk (the
  // two values of a Box-Muller pair are 16 apart, the two pairs of a Philox block 32)
  std::vector<TestType> stream(n);
  ddim::detail::normal_fill<TestType>(9, 0, 0, 0, stream.data(), n);
  for (std::size_t lag : {1u, 2u, 3u, 4u, 5u, 16u, 32u, 48u, 64u}) {
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
  // The two values of a pair are 16 apart: values 16 g + lane and 16 (g + 1) + lane of a chunk, g = 0, 2.
  std::vector<float> single(64 * 1600);
  std::vector<double> precise(64 * 1600);
  ddim::detail::normal_fill<float>(3, 0, 0, 0, single.data(), single.size());
  ddim::detail::normal_fill<double>(3, 0, 0, 0, precise.data(), precise.size());
  const double du = std::ldexp(1.0, -24);
  for (std::size_t i = 0; i < single.size(); ++i) {
    if (i % 32 >= 16) continue;  // i is the first value of its pair, i + 16 the second
    const double r = std::hypot(precise[i], precise[i + 16]);
    const double bound = du / (std::exp(-r * r / 2) * std::max(r, 1e-3)) + 6.2831853 * r * du + 8 * 6e-8 * r;
    INFO("value " << i << ", radius " << r);
    CHECK(std::abs(static_cast<double>(single[i]) - precise[i]) <= bound);
    CHECK(std::abs(static_cast<double>(single[i + 16]) - precise[i + 16]) <= bound);
  }
}

TEMPLATE_TEST_CASE("the Box-Muller pieces are accurate", "[noise]", float, double) {
  // Not needed for reproducibility, but for quality: -2 log u, the radius, (cos, sin) of the
  // angle and the outputs against long double references (where long double is wider than
  // double; the bounds allow for a double-precision reference elsewhere). Measured worst cases
  // (float exhaustively over all 2^24 uniforms, double over 2 * 10^7 random words), in units
  // of eps = 2^-24 (float) or 2^-53 (double): -2 log u 3.49 / 3.01 relative, radius 2.63 / 2.34
  // relative, cos and sin 1.64 / 1.61 absolute, outputs 3.61 / 3.45 times the radius.
  constexpr bool single = std::is_same_v<TestType, float>;
  const bool wide_reference = std::numeric_limits<long double>::digits > 60;
  const long double eps = std::ldexp(1.0L, single ? -24 : -53);
  const long double slack = single || wide_reference ? 0.0L : 4.0L;
  const long double two_pi = 6.283185307179586476925286766559L;
  long double worst_log = 0, worst_radius = 0, worst_circle = 0, worst_output = 0;
  std::mt19937_64 random(7);
  for (int i = 0; i < 300000; ++i) {
    // every 64th float radius uniform in order, then random words; angles at quarter-turn
    // boundaries first, then random
    const std::uint32_t a = i < (1 << 18) && single ? static_cast<std::uint32_t>(i) << 14 : static_cast<std::uint32_t>(random());
    const std::uint32_t b = i < 4096 ? static_cast<std::uint32_t>(i) << 20 : static_cast<std::uint32_t>(random());
    const long double u = single ? static_cast<long double>((a >> 8) + 1) / 16777216.0L : (static_cast<long double>(a) + 1) / 4294967296.0L;
    const long double v = single ? static_cast<long double>(b >> 8) / 16777216.0L : static_cast<long double>(b) / 4294967296.0L;
    const long double squared = -2 * std::log(u);
    const long double radius = std::sqrt(std::max(squared, static_cast<long double>(std::numeric_limits<TestType>::min())));
    if (squared > 0) {
      worst_log = std::max(worst_log, std::abs(ddim::detail::minus_two_log_uniform<TestType>(a) - squared) / (squared * eps));
    }
    worst_radius = std::max(worst_radius, std::abs(ddim::detail::box_muller_radius<TestType>(a) - radius) / (radius * eps));
    TestType c = 0, s = 0;
    ddim::detail::unit_circle<TestType>(b, c, s);
    const long double cos_v = std::cos(two_pi * v), sin_v = std::sin(two_pi * v);
    worst_circle = std::max({worst_circle, std::abs(c - cos_v) / eps, std::abs(s - sin_v) / eps});
    TestType z0 = 0, z1 = 0;
    ddim::detail::box_muller<TestType>(a, b, z0, z1);
    worst_output = std::max({worst_output, std::abs(z0 - radius * cos_v) / (radius * eps), std::abs(z1 - radius * sin_v) / (radius * eps)});
  }
  INFO("worst errors in eps: -2 log u " << static_cast<double>(worst_log) << ", radius " << static_cast<double>(worst_radius)
                                          << ", circle " << static_cast<double>(worst_circle) << ", outputs " << static_cast<double>(worst_output));
  CHECK(worst_log < 3.6L + slack);
  CHECK(worst_radius < 2.7L + slack);
  CHECK(worst_circle < 1.7L + slack);
  CHECK(worst_output < 3.7L + slack);
  // and the floor: u = 1 gives the smallest normal number as radius^2, never a zero radius
  CHECK(ddim::detail::box_muller_radius<TestType>(0xFFFFFFFFu) == std::sqrt(std::numeric_limits<TestType>::min()));
}

TEST_CASE("a batch of empty samples (0 rows) is filled without touching memory", "[noise]") {
  // Regression: fill() took the address of element (0, j) of a 0-row tensor (undefined
  // behaviour, reported by UBSan through the sampling loop).
  Eigen::ArrayXXf empty(0, 3);
  ddim::PhiloxNoise(1).initial_latent(empty);
  ddim::PhiloxNoise(1).fill(5, empty);
  CHECK(empty.size() == 0);
}
