// Tests for include/ddim/torch_noise.hpp: the torch-compatible noise sources draw exactly what
// the generators of torch_generator.hpp draw, one torch.randn call per draw (per generator), in
// diffusers' (B, C, H, W) element order, and keep the stream where diffusers keeps it. Agreement
// of whole sampling loops with diffusers is in test_diffusers_parity.cpp.
#include <ddim/ddim.hpp>

#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "support/catch.hpp"

namespace {

using ddim::CudaDeviceProperties;
using ddim::TorchCpuCapability;
using ddim::TorchCpuGenerator;
using ddim::TorchCpuNoise;
using ddim::TorchCudaGenerator;
using ddim::TorchCudaNoise;
using ddim::TorchDtype;

template <class Real, class Generator>
std::vector<Real> randn(Generator& generator, std::size_t n) {
  std::vector<Real> values(n);
  generator.randn(values.data(), n);
  return values;
}

// Element (i, j) of `tensor` against value j * rows + i of `values` (column-major logical order),
// compared exactly after converting the value to the tensor's scalar type.
template <class Tensor, class Real>
bool equals_in_column_order(const Tensor& tensor, const std::vector<Real>& values) {
  using Scalar = typename Tensor::Scalar;
  if (static_cast<std::size_t>(tensor.size()) != values.size()) return false;
  for (ddim::Index j = 0; j < tensor.cols(); ++j) {
    for (ddim::Index i = 0; i < tensor.rows(); ++i) {
      const auto k = static_cast<std::size_t>(j * tensor.rows() + i);
      if (tensor(i, j) != static_cast<Scalar>(values[k])) return false;
    }
  }
  return true;
}

// Equal stream positions give equal next raw draws.
bool same_position(TorchCpuGenerator a, TorchCpuGenerator b) {
  if (a.cached_normal() != b.cached_normal()) return false;
  for (int k = 0; k < 4; ++k) {
    if (a.next_uint32() != b.next_uint32()) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("TorchCpuNoise draws x_T as one torch.randn over the batch in (B, C, H, W) order, then continues the stream",
          "[torch][noise]") {
  for (TorchCpuCapability capability : {TorchCpuCapability::scalar, TorchCpuCapability::avx2}) {
    TorchCpuNoise noise(42, TorchDtype::float32, capability);
    TorchCpuGenerator reference(42, capability);
    Eigen::ArrayXXf x(50, 3);  // 3 samples of 50 values: torch shape (3, 50)
    noise.initial_latent(x);
    CHECK(equals_in_column_order(x, randn<float>(reference, 150)));
    ddim::ModelOutput<float> z(50, 3);
    noise.step_noise(0, 999, z);
    CHECK(equals_in_column_order(z, randn<float>(reference, 150)));
    // fewer than 16 values per call: PyTorch's scalar path with its cached normal
    Eigen::ArrayXXf small(3, 2);
    noise.fill(small);
    noise.fill(small);
    randn<float>(reference, 6);
    CHECK(equals_in_column_order(small, randn<float>(reference, 6)));
    CHECK(same_position(noise.generator(), reference));
  }
}

TEST_CASE("float32 draws reach a double state widened exactly, and float64 draws are torch.randn(dtype=torch.float64)",
          "[torch][noise]") {
  // float32 (the default): a float and a double state receive the same numbers
  Eigen::ArrayXXf as_float(40, 2);
  Eigen::ArrayXXd as_double(40, 2);
  TorchCpuNoise(7).initial_latent(as_float);
  TorchCpuNoise(7).initial_latent(as_double);
  CHECK((as_double == as_float.cast<double>()).all());

  // float64: other numbers (two 32-bit draws per uniform), the double values themselves ...
  TorchCpuNoise wide(7, TorchDtype::float64);
  CHECK(wide.dtype() == TorchDtype::float64);
  wide.initial_latent(as_double);
  TorchCpuGenerator reference(7);
  const auto doubles = randn<double>(reference, 80);
  CHECK(equals_in_column_order(as_double, doubles));
  CHECK_FALSE((as_double == as_float.cast<double>()).all());
  // ... rounded to nearest for a float state, as torch's .float() would
  TorchCpuNoise(7, TorchDtype::float64).initial_latent(as_float);
  CHECK(equals_in_column_order(as_float, doubles));
}

TEST_CASE("any Eigen layout receives the value of its logical (element, sample) position", "[torch][noise]") {
  Eigen::ArrayXXf contiguous(24, 3);
  TorchCpuNoise(3).initial_latent(contiguous);

  Eigen::Array<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> row_major(24, 3);
  TorchCpuNoise(3).initial_latent(row_major);
  CHECK((row_major == contiguous).all());

  Eigen::ArrayXXf parent = Eigen::ArrayXXf::Constant(30, 5, 9.0f);  // a block with an outer stride of 30
  TorchCpuNoise(3).initial_latent(parent.block(2, 1, 24, 3));
  CHECK((parent.block(2, 1, 24, 3) == contiguous).all());
  CHECK((parent.col(0) == 9.0f).all());
  CHECK((parent.topRows(2) == 9.0f).all());

  std::vector<float> buffer(72);
  TorchCpuNoise(3).initial_latent(Eigen::Map<Eigen::ArrayXXf>(buffer.data(), 24, 3));
  CHECK(std::memcmp(buffer.data(), contiguous.data(), buffer.size() * sizeof(float)) == 0);
}

TEST_CASE("per-sample generators give each column its own torch.randn call, independent of the rest of the batch",
          "[torch][noise]") {
  const std::vector<std::uint64_t> seeds = {11, 12, 13};
  TorchCpuNoise noise = TorchCpuNoise::per_sample(seeds);
  CHECK(noise.is_per_sample());
  CHECK(noise.num_generators() == 3);
  Eigen::ArrayXXf x(20, 3);
  noise.initial_latent(x);
  ddim::ModelOutput<float> z(20, 3);
  noise.prepare(20, 3);
  noise.step_noise(0, 999, z);
  for (std::size_t j = 0; j < seeds.size(); ++j) {
    TorchCpuGenerator reference(seeds[j]);
    const auto column = static_cast<ddim::Index>(j);
    INFO("sample " << j);
    CHECK(equals_in_column_order(x.col(column), randn<float>(reference, 20)));
    CHECK(equals_in_column_order(z.col(column), randn<float>(reference, 20)));
  }
  // sample 1 alone gets what it got inside the batch
  Eigen::ArrayXf alone(20);
  TorchCpuNoise::per_sample({12}).initial_latent(alone);
  CHECK((alone == x.col(1)).all());
  // continuing from existing generator states
  TorchCpuGenerator advanced(12);
  randn<float>(advanced, 20);
  TorchCpuNoise::per_sample_generators({advanced}).initial_latent(alone);
  CHECK((alone == z.col(1)).all());
}

TEST_CASE("skip_step advances every stream exactly as drawing the same batch would", "[torch][noise]") {
  for (TorchDtype dtype : {TorchDtype::float32, TorchDtype::float64}) {
    for (ddim::Index rows : {3, 17, 64}) {  // 3 x 2 = 6 values: the small path, with its cached normal
      INFO("dtype " << static_cast<int>(dtype) << ", rows " << rows);
      TorchCpuNoise skipping(5, dtype), drawing(5, dtype);
      skipping.prepare(rows, 2);
      skipping.skip_step(0, 999, rows, 2);
      Eigen::ArrayXXd z(rows, 2);
      drawing.step_noise(0, 999, z);
      CHECK(same_position(skipping.generator(), drawing.generator()));

      auto per_sample_skipping = TorchCpuNoise::per_sample({1, 2}, dtype);
      auto per_sample_drawing = TorchCpuNoise::per_sample({1, 2}, dtype);
      per_sample_skipping.prepare(rows, 2);
      per_sample_skipping.skip_step(0, 999, rows, 2);
      per_sample_drawing.step_noise(0, 999, z);
      CHECK(same_position(per_sample_skipping.generator(0), per_sample_drawing.generator(0)));
      CHECK(same_position(per_sample_skipping.generator(1), per_sample_drawing.generator(1)));
    }
  }
  TorchCudaNoise cuda(5);
  cuda.prepare(100, 4);
  cuda.skip_step(0, 999, 100, 4);
  CHECK(cuda.generator().philox_offset() == 4);
}

TEST_CASE("the torch sources reject batches they cannot draw, naming the parameter", "[torch][noise]") {
  TorchCpuNoise per_sample = TorchCpuNoise::per_sample({1, 2, 3});
  CHECK_THROWS_WITH(per_sample.prepare(10, 2), ddim_test::contains("batch size (columns of x) = 2") &&
                                                   ddim_test::contains("number of per-sample generators = 3"));
  Eigen::ArrayXXf x(10, 4);
  CHECK_THROWS_AS(per_sample.initial_latent(x), std::invalid_argument);
  CHECK_THROWS_WITH(TorchCpuNoise::per_sample(std::vector<std::uint64_t>{}), ddim_test::contains("seeds = {} (empty)"));
  CHECK_THROWS_WITH(TorchCpuNoise::per_sample_generators({}),
                    ddim_test::contains("generators = {} (empty)"));
  CHECK_THROWS_WITH(TorchCpuNoise(1, static_cast<TorchDtype>(5)), ddim_test::contains("dtype = 5"));
  CHECK_THROWS_AS(TorchCpuNoise(1, TorchDtype::float32, static_cast<TorchCpuCapability>(9)), std::invalid_argument);
  CHECK_THROWS_WITH(per_sample.generator(3), ddim_test::contains("sample = 3"));
  CHECK_THROWS_WITH(per_sample.prepare(-1, 3), ddim_test::contains("batch shape = -1x3"));

  // one CUDA launch holds at most 2^29 values (checked before anything is allocated)
  TorchCudaNoise cuda(1);
  CHECK_THROWS_WITH(cuda.prepare(ddim::Index{1} << 15, (ddim::Index{1} << 14) + 1),
                    ddim_test::contains("values per torch.randn call (rows * cols) = 536903680"));
  CHECK_THROWS_WITH(TorchCudaNoise::per_sample({1, 2}).prepare(10, 3), ddim_test::contains("= 2"));
  CHECK_THROWS_AS(TorchCudaNoise(1, CudaDeviceProperties{0, 2048}), std::invalid_argument);
  CHECK(cuda.generator().philox_offset() == 0);  // nothing was drawn
}

TEST_CASE("TorchCudaNoise draws one CUDA torch.randn per draw and advances the Philox offset per call", "[torch][noise]") {
  TorchCudaNoise noise(2024, CudaDeviceProperties::h100_sxm());
  TorchCudaGenerator reference(2024, CudaDeviceProperties::h100_sxm());
  Eigen::ArrayXXd x(4 * 8 * 8, 2);  // double state: the float32 draws widened
  noise.initial_latent(x);
  CHECK(equals_in_column_order(x, randn<float>(reference, 512)));
  ddim::ModelOutput<float> z(256, 2);
  noise.step_noise(0, 999, z);
  CHECK(equals_in_column_order(z, randn<float>(reference, 512)));
  CHECK(noise.generator().philox_offset() == 8);

  TorchCudaNoise per_sample = TorchCudaNoise::per_sample({5, 6});
  Eigen::ArrayXXf y(300, 2);
  per_sample.initial_latent(y);
  for (std::uint64_t seed : {5u, 6u}) {
    TorchCudaGenerator alone(seed);
    CHECK(equals_in_column_order(y.col(static_cast<ddim::Index>(seed - 5)), randn<float>(alone, 300)));
  }
}

TEST_CASE("in the loop, a DDPM with trailing spacing still draws at its last step (t > 0) as diffusers does",
          "[torch][noise][sample]") {
  // DDPMScheduler draws whenever t > 0; ddim's last step (t = 99 -> the clean end) adds no noise
  // but must consume the draw: 10 draws, 40 Philox offsets.
  const auto schedule = ddim::NoiseSchedule<float>::linear(1000);
  Eigen::ArrayXXf x(16, 2);
  TorchCudaNoise noise(0);
  noise.initial_latent(x);
  const auto model = [](const Eigen::ArrayXXf& x_t, int, ddim::ModelOutput<float>& eps) { eps = 0.1f * x_t; };
  ddim::sample(schedule, ddim::Timesteps::trailing(1000, 10), ddim::Options::ddpm(), x, model, noise);
  CHECK(noise.generator().philox_offset() == 4 * (1 + 10));  // x_T and ten steps
  // leading spacing ends at t = 0: diffusers draws nothing there, neither does ddim
  TorchCudaNoise leading(0);
  ddim::sample(schedule, ddim::Timesteps::leading(1000, 10), ddim::Options::ddpm(), x, model, leading);
  CHECK(leading.generator().philox_offset() == 4 * 9);
  // a temporary source works too (the loop owns it for the call)
  CHECK_NOTHROW(ddim::sample(schedule, ddim::Timesteps::leading(1000, 10), ddim::Options::ddim(1.0), x, model,
                             TorchCpuNoise(0)));
}
