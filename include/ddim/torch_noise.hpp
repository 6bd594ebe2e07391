// ddim: header-only DDIM/DDPM samplers. MIT licence.
//
// torch_noise.hpp: noise sources for the sampling loop that draw from PyTorch-compatible
// generators (torch_generator.hpp) in the order HuggingFace diffusers' pipelines and schedulers
// draw, so that a seed gives the same x_T and the same per-step noise as the Python pipeline:
//
//   * TorchCpuNoise  - `generator = torch.Generator("cpu").manual_seed(seed)` (or torch.manual_seed)
//   * TorchCudaNoise - `generator = torch.Generator("cuda").manual_seed(seed)`
//
// Both have the interface of PhiloxNoise: initial_latent(x) draws x_T, step_noise(k, t, z) a
// step's noise, and skip_step(k, t, rows, cols) draws and discards the tensor that diffusers'
// scheduler draws at a step whose noise the update does not use (see sample.hpp). Each draw is
// one `torch.randn` call over the whole batch (`randn_tensor(shape, generator=g)`), or, with
// per_sample(...), one call per sample on that sample's own generator (`generator=[g0, g1, ...]`).
//
// Layout: ddim stores a batch as one column per sample, each column holding the sample's C*H*W
// values in C order. The column-major memory order of that rows x cols array is the row-major
// order of torch's (B, C, H, W) tensor, so element (i, j) receives value j * rows + i of the
// call: the very value torch puts at flat index j * C*H*W + i. Any Eigen storage order or stride
// is accepted; values are assigned by that logical (i, j) order.
//
// Precision: the dtype of the draws is a choice of its own (TorchDtype), independent of the
// Eigen scalar type of the state. float32 draws (the default, what a float32 or float16 pipeline
// asks torch for) are widened exactly into a double state, so a float and a double state receive
// the same noise values; float64 draws (`dtype=torch.float64`) are different numbers, not more
// precise versions of the float32 ones, and are rounded to nearest for a float state (as
// `.float()` would).
#ifndef DDIM_TORCH_NOISE_HPP
#define DDIM_TORCH_NOISE_HPP

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "config.hpp"
#include "detail/validate.hpp"
#include "torch_generator.hpp"

namespace ddim {

/// The dtype a PyTorch pipeline passes to `torch.randn` for its noise. It decides the values
/// drawn, not only their precision: float32 and float64 draws consume the generator differently.
enum class TorchDtype {
  float32,  ///< `torch.float32`: one value per 32-bit draw on CPU (also what CUDA float32 uses)
  float64   ///< `torch.float64`: CPU only (53-bit uniforms from two draws)
};

namespace detail {

/// The generators of a torch-compatible noise source and its staging buffers: either one
/// generator for the whole batch (one torch.randn call per draw) or one per sample (one call per
/// column, on that column's generator).
template <class Generator>
class TorchStreams {
 public:
  TorchStreams(std::vector<Generator> generators, bool per_sample)
      : generators_(std::move(generators)), per_sample_(per_sample) {}

  bool per_sample() const { return per_sample_; }
  std::size_t size() const { return generators_.size(); }
  Generator& at(const std::string& where, std::size_t sample) {
    check_index(where, sample);
    return generators_[sample];
  }
  const Generator& at(const std::string& where, std::size_t sample) const {
    check_index(where, sample);
    return generators_[sample];
  }

  /// Throws std::invalid_argument if a rows x cols batch does not fit: a per-sample source
  /// needs cols equal to its number of generators; one call may hold at most max_per_call values.
  void check_batch(const std::string& where, Index rows, Index cols, std::size_t max_per_call) const {
    if (rows < 0 || cols < 0) {
      fail_text(where, "batch shape", std::to_string(rows) + "x" + std::to_string(cols), "non-negative sizes");
    }
    if (per_sample_ && static_cast<std::size_t>(cols) != generators_.size()) {
      fail(where, "batch size (columns of x)", cols,
           "equal to the number of per-sample generators = " + std::to_string(generators_.size()));
    }
    const std::size_t per_call = values_per_call(rows, cols);
    if (per_call > max_per_call) {
      fail(where, "values per torch.randn call (rows" + std::string(per_sample_ ? "" : " * cols") + ")", per_call,
           "at most " + std::to_string(max_per_call));
    }
  }

  /// Allocates the staging buffer of draw type Real for a rows x cols batch (so that neither
  /// drawing nor discarding allocates afterwards).
  template <class Real>
  void reserve(Index rows, Index cols) {
    std::vector<Real>& buffer = scratch<Real>();
    const std::size_t needed = values_per_call(rows, cols);
    if (buffer.size() < needed) buffer.resize(needed);
  }

  /// One torch.randn call of draw type Real per generator over z (see the file comment for the
  /// element order). The batch must have been checked.
  template <class Real, class Derived>
  void fill(Derived& z) {
    const Index cols = z.cols();
    if (per_sample_) {
      DDIM_ASSERT(static_cast<std::size_t>(cols) == generators_.size());
      for (Index j = 0; j < cols; ++j) fill_columns<Real>(generators_[static_cast<std::size_t>(j)], z, j, 1);
    } else {
      fill_columns<Real>(generators_.front(), z, 0, cols);
    }
  }

  /// Draws what fill would draw for a rows x cols batch and discards it.
  template <class Real>
  void discard(Index rows, Index cols) {
    std::vector<Real>& buffer = scratch<Real>();
    const std::size_t n = values_per_call(rows, cols);
    if (buffer.size() < n) buffer.resize(n);  // reserve() normally did this already
    if (per_sample_) {
      DDIM_ASSERT(static_cast<std::size_t>(cols) == generators_.size());
      for (Generator& generator : generators_) generator.randn(buffer.data(), n);
    } else {
      generators_.front().randn(buffer.data(), n);
    }
  }

 private:
  std::size_t values_per_call(Index rows, Index cols) const {
    return static_cast<std::size_t>(rows) * static_cast<std::size_t>(per_sample_ ? Index(1) : cols);
  }

  void check_index(const std::string& where, std::size_t sample) const {
    if (sample >= generators_.size()) {
      fail(where, "sample", sample, "below the number of generators = " + std::to_string(generators_.size()));
    }
  }

  template <class Real>
  std::vector<Real>& scratch() {
    if constexpr (std::is_same_v<Real, float>) {
      return scratch_float_;
    } else {
      static_assert(std::is_same_v<Real, double>, "draws are float or double");
      return scratch_double_;
    }
  }

  // Columns [first, first + count) of z from one randn call: straight into z's memory when it is
  // a contiguous column-major block of the draw type, through the staging buffer otherwise.
  template <class Real, class Derived>
  void fill_columns(Generator& generator, Derived& z, Index first, Index count) {
    using Scalar = typename Derived::Scalar;
    static_assert(std::is_same_v<Scalar, float> || std::is_same_v<Scalar, double>,
                  "ddim: torch-compatible noise fills float or double tensors");
    const Index rows = z.rows();
    const std::size_t n = static_cast<std::size_t>(rows) * static_cast<std::size_t>(count);
    if (n == 0) {
      generator.randn(static_cast<Real*>(nullptr), 0);  // torch draws nothing for an empty tensor
      return;
    }
    constexpr bool direct_access = (static_cast<unsigned>(Derived::Flags) & Eigen::DirectAccessBit) != 0u;
    if constexpr (std::is_same_v<Scalar, Real> && direct_access && !Derived::IsRowMajor) {
      if (z.innerStride() == 1 && (count == 1 || z.outerStride() == rows)) {
        generator.randn(&z.coeffRef(0, first), n);
        return;
      }
    }
    std::vector<Real>& buffer = scratch<Real>();
    if (buffer.size() < n) buffer.resize(n);  // reserve() normally did this already
    generator.randn(buffer.data(), n);
    for (Index j = 0; j < count; ++j) {
      const Real* column = buffer.data() + static_cast<std::size_t>(j) * static_cast<std::size_t>(rows);
      for (Index i = 0; i < rows; ++i) z.coeffRef(i, first + j) = static_cast<Scalar>(column[i]);
    }
  }

  std::vector<Generator> generators_;
  bool per_sample_;
  std::vector<float> scratch_float_;
  std::vector<double> scratch_double_;
};

template <class Generator, class Make>
std::vector<Generator> make_generators(const std::string& where, const std::vector<std::uint64_t>& seeds,
                                       Make make) {
  if (seeds.empty()) fail_text(where, "seeds", "{} (empty)", "one seed per sample");
  std::vector<Generator> generators;
  generators.reserve(seeds.size());
  for (std::uint64_t seed : seeds) generators.push_back(make(seed));
  return generators;
}

template <class Generator>
std::vector<Generator> checked_generators(const std::string& where, std::vector<Generator> generators) {
  if (generators.empty()) fail_text(where, "generators", "{} (empty)", "one generator per sample");
  return generators;
}

}  // namespace detail

/// Noise for the sampling loop from PyTorch's CPU generator: seed for seed the x_T and per-step
/// noise of a diffusers pipeline run with `generator=torch.Generator("cpu").manual_seed(seed)`
/// (or after `torch.manual_seed(seed)` without a generator), whatever device the pipeline's
/// model runs on (diffusers draws on the generator's device and moves the tensor).
///
/// Bit for bit with PyTorch 1.13 for float32 under the chosen TorchCpuCapability (avx2 by default:
/// what x86-64 CPUs run; scalar for `ATEN_CPU_CAPABILITY=default` and ARM) and for float64; see
/// TorchCpuGenerator and docs/noise.md. Stateful: every draw advances the generator(s), so use one
/// object for the whole pipeline (x_T first, then the loop) and pass it by reference.
/// Not thread-safe.
class TorchCpuNoise {
 public:
  /// One generator for the whole batch, as `torch.Generator().manual_seed(seed)`: each draw is
  /// one torch.randn over the batch's (B, C, H, W) elements. `dtype` is what the pipeline asks
  /// torch for (float32 unless it samples in float64); `capability` the CPU kernel PyTorch runs.
  /// Throws std::invalid_argument for an invalid capability.
  explicit TorchCpuNoise(std::uint64_t seed, TorchDtype dtype = TorchDtype::float32,
                         TorchCpuCapability capability = TorchCpuCapability::avx2)
      : TorchCpuNoise(TorchCpuGenerator(seed, capability), dtype) {}

  /// One generator for the whole batch, continuing from `generator`'s current state (e.g. after
  /// other values were drawn from it, as an img2img pipeline does before its loop).
  /// Throws std::invalid_argument for a dtype outside the enumeration.
  explicit TorchCpuNoise(TorchCpuGenerator generator, TorchDtype dtype = TorchDtype::float32)
      : streams_({std::move(generator)}, false), dtype_(checked(dtype)) {}

  /// One generator per sample (diffusers' `generator=[torch.Generator().manual_seed(s) for s in
  /// seeds]`): column j is drawn by its own torch.randn of C*H*W values on generator j, so that a
  /// sample's noise does not depend on the other samples of the batch. The batch must then have
  /// exactly seeds.size() columns (checked by prepare and initial_latent).
  /// Throws std::invalid_argument for an empty list or an invalid capability or dtype.
  static TorchCpuNoise per_sample(const std::vector<std::uint64_t>& seeds, TorchDtype dtype = TorchDtype::float32,
                                  TorchCpuCapability capability = TorchCpuCapability::avx2) {
    const std::string where = "ddim::TorchCpuNoise::per_sample";
    detail::check_capability(where, capability);
    return TorchCpuNoise(detail::make_generators<TorchCpuGenerator>(
                             where, seeds, [capability](std::uint64_t seed) { return TorchCpuGenerator(seed, capability); }),
                         dtype);
  }

  /// One generator per sample, continuing from the given generators' states (a separate name so
  /// that per_sample({seed, ...}) is never ambiguous). Throws std::invalid_argument for an empty
  /// list or an invalid dtype.
  static TorchCpuNoise per_sample_generators(std::vector<TorchCpuGenerator> generators,
                                             TorchDtype dtype = TorchDtype::float32) {
    return TorchCpuNoise(detail::checked_generators("ddim::TorchCpuNoise::per_sample_generators", std::move(generators)),
                         dtype);
  }

  /// The dtype of the draws.
  TorchDtype dtype() const { return dtype_; }
  /// True when each sample has its own generator.
  bool is_per_sample() const { return streams_.per_sample(); }
  /// Number of generators (1 unless per-sample).
  std::size_t num_generators() const { return streams_.size(); }
  /// Generator `sample` (0 for the batch's generator), e.g. to draw other values from the stream
  /// at the point where the Python pipeline does. Throws std::invalid_argument if out of range.
  TorchCpuGenerator& generator(std::size_t sample = 0) { return streams_.at("ddim::TorchCpuNoise::generator", sample); }
  /// Read-only access to generator `sample`. Throws std::invalid_argument if out of range.
  const TorchCpuGenerator& generator(std::size_t sample = 0) const {
    return streams_.at("ddim::TorchCpuNoise::generator", sample);
  }

  /// Checks a batch of `cols` samples of `rows` values and allocates the staging buffer for it.
  /// Called by the sampling loop before its first step. Throws std::invalid_argument when a
  /// per-sample source has a different number of generators than cols.
  void prepare(Index rows, Index cols) {
    streams_.check_batch("ddim::TorchCpuNoise", rows, cols, std::numeric_limits<std::size_t>::max());
    if (dtype_ == TorchDtype::float32) streams_.reserve<float>(rows, cols);
    else streams_.reserve<double>(rows, cols);
  }

  /// Draws x_T into x (one column per sample): `randn_tensor((B, C, H, W), generator, dtype)`.
  /// Throws std::invalid_argument as prepare does.
  template <class Derived>
  void initial_latent(Eigen::DenseBase<Derived>& x) {
    fill(x);
  }
  template <class Derived>
  void initial_latent(Eigen::DenseBase<Derived>&& x) {
    fill(x);
  }

  /// Draws the noise of a sampling step into z (one torch.randn per generator). The step index
  /// and timestep do not matter: the stream position does. Does not throw or allocate once
  /// prepare() has seen the batch shape.
  template <class Derived>
  void step_noise(int step_index, int t, Eigen::DenseBase<Derived>& z) {
    (void)step_index;
    (void)t;
    draw(z.derived());
  }

  /// Draws and discards what step_noise would draw for a rows x cols batch: diffusers' scheduler
  /// draws a tensor here that the update does not use. Does not throw or allocate once prepare()
  /// has seen the batch shape.
  void skip_step(int step_index, int t, Index rows, Index cols) {
    (void)step_index;
    (void)t;
    if (dtype_ == TorchDtype::float32) streams_.discard<float>(rows, cols);
    else streams_.discard<double>(rows, cols);
  }

  /// One torch.randn call per generator over `tensor` (any writable Eigen object of float or
  /// double, one column per sample). Throws std::invalid_argument as prepare does.
  template <class Derived>
  void fill(Eigen::DenseBase<Derived>& tensor) {
    streams_.check_batch("ddim::TorchCpuNoise", tensor.rows(), tensor.cols(), std::numeric_limits<std::size_t>::max());
    draw(tensor.derived());
  }
  template <class Derived>
  void fill(Eigen::DenseBase<Derived>&& tensor) {
    fill(tensor);
  }

 private:
  static TorchDtype checked(TorchDtype dtype) {
    if (dtype != TorchDtype::float32 && dtype != TorchDtype::float64) {
      detail::fail("ddim::TorchCpuNoise", "dtype", static_cast<int>(dtype), "TorchDtype::float32 or ::float64");
    }
    return dtype;
  }

  TorchCpuNoise(std::vector<TorchCpuGenerator> generators, TorchDtype dtype)
      : streams_(std::move(generators), true), dtype_(checked(dtype)) {}

  template <class Derived>
  void draw(Derived& z) {
    if (dtype_ == TorchDtype::float32) streams_.fill<float>(z);
    else streams_.fill<double>(z);
  }

  detail::TorchStreams<TorchCpuGenerator> streams_;
  TorchDtype dtype_;
};

/// Noise for the sampling loop from PyTorch's CUDA generator: the x_T and per-step noise of a
/// diffusers pipeline run with `generator=torch.Generator("cuda").manual_seed(seed)` (float32
/// draws; a double state receives them widened exactly).
///
/// Exact in the Philox stream, the element-to-counter mapping and the offsets; each value agrees
/// with a GPU to about 2^-21 times its Box-Muller radius (a few 1e-6), because the GPU's sine,
/// cosine and log are approximate (see TorchCudaGenerator and docs/noise.md: what was and was not
/// checked against real GPUs). Tensors above 256 * SMs * (threads per SM / 256) values map to
/// counters by the GPU's SM count: give the device's CudaDeviceProperties. Not thread-safe.
class TorchCudaNoise {
 public:
  /// One generator for the whole batch, as `torch.Generator("cuda").manual_seed(seed)` on a
  /// device with `properties`. Throws std::invalid_argument for invalid properties.
  explicit TorchCudaNoise(std::uint64_t seed, CudaDeviceProperties properties = {})
      : TorchCudaNoise(TorchCudaGenerator(seed, properties)) {}

  /// One generator for the whole batch, continuing from `generator`'s current state.
  explicit TorchCudaNoise(TorchCudaGenerator generator) : streams_({std::move(generator)}, false) {}

  /// One generator per sample (diffusers' `generator=[torch.Generator("cuda").manual_seed(s) ...]`):
  /// column j is one torch.randn of C*H*W values on generator j. The batch must have exactly
  /// seeds.size() columns. Throws std::invalid_argument for an empty list or invalid properties.
  static TorchCudaNoise per_sample(const std::vector<std::uint64_t>& seeds, CudaDeviceProperties properties = {}) {
    return TorchCudaNoise(detail::make_generators<TorchCudaGenerator>(
        "ddim::TorchCudaNoise::per_sample", seeds,
        [properties](std::uint64_t seed) { return TorchCudaGenerator(seed, properties); }));
  }

  /// One generator per sample, continuing from the given generators' states.
  /// Throws std::invalid_argument for an empty list.
  static TorchCudaNoise per_sample_generators(std::vector<TorchCudaGenerator> generators) {
    return TorchCudaNoise(
        detail::checked_generators("ddim::TorchCudaNoise::per_sample_generators", std::move(generators)));
  }

  /// True when each sample has its own generator.
  bool is_per_sample() const { return streams_.per_sample(); }
  /// Number of generators (1 unless per-sample).
  std::size_t num_generators() const { return streams_.size(); }
  /// Generator `sample` (0 for the batch's generator). Throws std::invalid_argument if out of range.
  TorchCudaGenerator& generator(std::size_t sample = 0) { return streams_.at("ddim::TorchCudaNoise::generator", sample); }
  /// Read-only access to generator `sample`. Throws std::invalid_argument if out of range.
  const TorchCudaGenerator& generator(std::size_t sample = 0) const {
    return streams_.at("ddim::TorchCudaNoise::generator", sample);
  }

  /// Checks a batch of `cols` samples of `rows` values and allocates the staging buffer for it.
  /// Called by the sampling loop before its first step. Throws std::invalid_argument when a
  /// per-sample source has a different number of generators than cols, or when one call would
  /// exceed TorchCudaGenerator::max_elements values.
  void prepare(Index rows, Index cols) {
    streams_.check_batch("ddim::TorchCudaNoise", rows, cols, TorchCudaGenerator::max_elements);
    streams_.reserve<float>(rows, cols);
  }

  /// Draws x_T into x (one column per sample). Throws std::invalid_argument as prepare does.
  template <class Derived>
  void initial_latent(Eigen::DenseBase<Derived>& x) {
    fill(x);
  }
  template <class Derived>
  void initial_latent(Eigen::DenseBase<Derived>&& x) {
    fill(x);
  }

  /// Draws the noise of a sampling step into z. Does not throw or allocate once prepare() has
  /// seen the batch shape.
  template <class Derived>
  void step_noise(int step_index, int t, Eigen::DenseBase<Derived>& z) {
    (void)step_index;
    (void)t;
    streams_.fill<float>(z.derived());
  }

  /// Draws and discards what step_noise would draw (advances the Philox offset as the GPU
  /// would). Does not throw or allocate once prepare() has seen the batch shape.
  void skip_step(int step_index, int t, Index rows, Index cols) {
    (void)step_index;
    (void)t;
    streams_.discard<float>(rows, cols);
  }

  /// One torch.randn call per generator over `tensor` (float or double, one column per sample).
  /// Throws std::invalid_argument as prepare does.
  template <class Derived>
  void fill(Eigen::DenseBase<Derived>& tensor) {
    streams_.check_batch("ddim::TorchCudaNoise", tensor.rows(), tensor.cols(), TorchCudaGenerator::max_elements);
    streams_.fill<float>(tensor.derived());
  }
  template <class Derived>
  void fill(Eigen::DenseBase<Derived>&& tensor) {
    fill(tensor);
  }

 private:
  explicit TorchCudaNoise(std::vector<TorchCudaGenerator> generators) : streams_(std::move(generators), true) {}

  detail::TorchStreams<TorchCudaGenerator> streams_;
};

}  // namespace ddim

#endif  // DDIM_TORCH_NOISE_HPP
