// paper_experiments.hpp: the computations behind the `paper_experiments` program and the
// `test_paper_claims` test. They re-run the sampler experiments of the DDIM paper's section 5
// (table 1, the consistency of figures 4-5, table 2 and the interpolation of section 5.3) on a
// Gaussian mixture, whose exact noise prediction ddim::GaussianMixture::model provides. With an
// exact model the only error left is the sampler's own discretisation, so the paper's claims about
// samplers can be checked without a network.
//
// Everything here is deterministic given its seeds (ddim's Philox noise and a splitmix64 stream,
// both bit-reproducible), double precision, single-threaded. Not part of the library.
#ifndef DDIM_EXPERIMENTS_PAPER_EXPERIMENTS_HPP
#define DDIM_EXPERIMENTS_PAPER_EXPERIMENTS_HPP

#include <ddim/ddim.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace ddim_experiments {

using Index = Eigen::Index;

// ---------------------------------------------------------------------------------------------
// Seeds and uniform numbers

/// splitmix64 (Steele, Lea, Flood 2014): a portable 64-bit mixer; advances `state`.
inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// A uniform double in [0, 1) from the top 53 bits of the next splitmix64 output.
inline double uniform01(std::uint64_t& state) {
  return static_cast<double>(splitmix64(state) >> 11) * 0x1p-53;
}

/// The seed of one independent random stream of an experiment: distinct (seed, replica, purpose)
/// triples give unrelated 64-bit seeds for ddim::PhiloxNoise and GaussianMixture::sample.
inline std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t replica, std::uint64_t purpose) {
  std::uint64_t state = seed;
  std::uint64_t mixed = splitmix64(state);
  state = mixed ^ (replica * 0xD1B54A32D192ED03ull);
  mixed = splitmix64(state);
  state = mixed ^ (purpose * 0x8CB92BA72F3D8DD7ull);
  return splitmix64(state);
}

// ---------------------------------------------------------------------------------------------
// The data

/// The shape of the experiments' data distribution (see paper_mixture).
struct MixtureShape {
  int components = 8;
  double radius = 1.0;         ///< radius of the ring the means form in coordinates 0 and 1
  double offset_scale = 0.5;   ///< standard deviation of the means' coordinates 2 ... d-1
  double min_stddev = 0.05;    ///< the components' per-coordinate standard deviations are
  double max_stddev = 0.2;     ///< log-uniform in [min_stddev, max_stddev]
  std::uint64_t seed = 2021;   ///< fixes the offsets and the standard deviations
};

/// The experiments' data: `components` equally weighted Gaussians with diagonal covariances in
/// `dimension` >= 2 coordinates. Their means lie on a ring of radius `radius` in the first two
/// coordinates (the classic 2-D toy) and have independent N(0, offset_scale^2) coordinates in the
/// other d - 2, so that in d > 2 every coordinate carries information about the component; each
/// component has its own per-coordinate standard deviations, log-uniform in [min, max], so the
/// data has detail at several scales. With the paper's schedule the noise-to-signal ratio
/// sqrt((1 - alpha_bar) / alpha_bar) falls below 0.2 only at t = 58 and below 0.05 at t = 11, so
/// the components' shapes form in the last 60 of the T = 1000 timesteps (S = 10 uniform steps
/// cross them in one step, 100 -> 0), the ring's layout (spacing 0.77) by t = 260. The data's
/// scale is that of images in [-1, 1]: per-coordinate standard deviation about 0.45-0.7 (d = 16).
/// Deterministic in `shape.seed`.
inline ddim::GaussianMixture paper_mixture(int dimension, const MixtureShape& shape = MixtureShape{}) {
  if (dimension < 2) throw std::invalid_argument("ddim_experiments::paper_mixture: dimension must be >= 2");
  const Index d = dimension, k_count = shape.components;
  Eigen::MatrixXd means = Eigen::MatrixXd::Zero(d, k_count);
  const double two_pi = 6.283185307179586476925;
  for (Index k = 0; k < k_count; ++k) {
    const double angle = two_pi * static_cast<double>(k) / static_cast<double>(k_count);
    means(0, k) = shape.radius * std::cos(angle);
    means(1, k) = shape.radius * std::sin(angle);
  }
  if (d > 2) {
    const Eigen::ArrayXXd offsets = ddim::gaussian<double>(d - 2, k_count, derive_seed(shape.seed, 0, 1));
    means.bottomRows(d - 2) = shape.offset_scale * offsets.matrix();
  }
  Eigen::MatrixXd variances(d, k_count);
  std::uint64_t state = derive_seed(shape.seed, 0, 2);
  const double log_min = std::log(shape.min_stddev), log_max = std::log(shape.max_stddev);
  for (Index k = 0; k < k_count; ++k) {
    for (Index i = 0; i < d; ++i) {
      const double stddev = std::exp(log_min + (log_max - log_min) * uniform01(state));
      variances(i, k) = stddev * stddev;
    }
  }
  return ddim::GaussianMixture(std::vector<double>(static_cast<std::size_t>(k_count), 1.0), std::move(means),
                               std::move(variances));
}

/// The paper's setting: linear betas 1e-4 ... 0.02 over T = 1000 train timesteps.
inline ddim::NoiseSchedule<double> paper_schedule() { return ddim::NoiseSchedule<double>::linear(1000, 1e-4, 0.02); }

/// The most probable component of the clean data point x and its normalised Mahalanobis radius
/// sqrt(sum_i (x_i - mu_ki)^2 / s_ki^2 / d) from that component: about 1 for a sample of the
/// data (chi_d / sqrt(d)), well below 1 for a point "too close" to a mode's centre, above 1 for a
/// point between or outside the modes.
struct ComponentFit {
  Index component = 0;
  double radius = 0.0;
};

template <class Column>
ComponentFit fit_component(const ddim::GaussianMixture& mixture, const Column& x) {
  ComponentFit best;
  double best_log = -HUGE_VAL;
  const Index d = mixture.dimension();
  for (Index k = 0; k < mixture.num_components(); ++k) {
    const Eigen::ArrayXd variance = mixture.variances().col(k).array();
    const double mahalanobis = ((x.array() - mixture.means().col(k).array()).square() / variance).sum();
    const double log_p = std::log(mixture.weights()[static_cast<std::size_t>(k)]) - 0.5 * (mahalanobis + variance.log().sum());
    if (log_p > best_log) {
      best_log = log_p;
      best.component = k;
      best.radius = std::sqrt(mahalanobis / static_cast<double>(d));
    }
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// Statistics

/// A mean with its standard error.
struct Estimate {
  double mean = 0.0;
  double standard_error = 0.0;
};

/// The mean of `values` and its standard error, sd / sqrt(n) with the unbiased sd (0 for n < 2).
inline Estimate estimate(const std::vector<double>& values) {
  Estimate e;
  if (values.empty()) return e;
  const double n = static_cast<double>(values.size());
  for (double v : values) e.mean += v;
  e.mean /= n;
  if (values.size() < 2) return e;
  double sum_squares = 0.0;
  for (double v : values) sum_squares += (v - e.mean) * (v - e.mean);
  e.standard_error = std::sqrt(sum_squares / (n - 1.0) / n);
  return e;
}

/// The median of `values` (0 for none).
inline double median(std::vector<double> values) {
  if (values.empty()) return 0.0;
  const std::size_t n = values.size(), half = n / 2;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(half), values.end());
  const double upper = values[half];
  if (n % 2 == 1) return upper;
  return 0.5 * (*std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(half)) + upper);
}

/// The median normalised radius (fit_component) of the points x, one column each: chi_d / sqrt(d)
/// for exact samples (0.83 in 2-D, 0.98 in 16-D), smaller when a sampler concentrates its samples
/// too close to the modes' centres, larger when it spreads them.
inline double median_radius(const ddim::GaussianMixture& mixture, const Eigen::ArrayXXd& x) {
  std::vector<double> radii;
  for (Index j = 0; j < x.cols(); ++j) radii.push_back(fit_component(mixture, x.col(j)).radius);
  return median(std::move(radii));
}

// ---------------------------------------------------------------------------------------------
// The distance to the data distribution: MMD against the exact mixture

/// The squared maximum mean discrepancy between the distribution of a sample set x_1 ... x_n and
/// the exact mixture P, for the kernel k(x, y) = sum_h exp(-|x - y|^2 / (2 h^2)) (a sum of
/// Gaussian kernels, characteristic, so MMD is a metric on distributions):
///   MMD^2 = E k(x, x') - 2 E k(x, y) + E k(y, y'),   x, x' ~ the sampler, y, y' ~ P.
/// Because P is a Gaussian mixture, the two terms involving y are closed form (a Gaussian kernel
/// integrated against a Gaussian), so the estimate
///   1/(n(n-1)) sum_{i != j} k(x_i, x_j) - 2/n sum_i E_y k(x_i, y) + E k(y, y')
/// is unbiased and needs no reference sample: its expectation is exactly 0 for exact samples of P
/// (the noise floor), under P its standard deviation falls like 1/n (a degenerate U-statistic),
/// and no reference sample adds noise of its own. (A sliced Wasserstein distance to a fresh
/// reference sample, tried first, has a positive floor whose scatter at 2000 samples exceeded the
/// differences between the samplers at S >= 20.)
class ExactMmd {
 public:
  ExactMmd(const ddim::GaussianMixture& mixture, std::vector<double> bandwidths)
      : mixture_(mixture), bandwidths_(std::move(bandwidths)) {
    if (bandwidths_.empty()) throw std::invalid_argument("ddim_experiments::ExactMmd: no bandwidths");
    const Index d = mixture.dimension(), k_count = mixture.num_components();
    const double dimension = static_cast<double>(d);
    for (double h : bandwidths_) {
      if (!(h > 0.0)) throw std::invalid_argument("ddim_experiments::ExactMmd: bandwidths must be > 0");
      // E_{y ~ N(mu, diag s^2)} exp(-|x - y|^2 / (2 h^2)) = prod_i sqrt(h^2 / v_i) exp(-(x_i - mu_i)^2 / (2 v_i)),
      // v_i = h^2 + s_i^2
      Eigen::ArrayXXd v = mixture.variances().array() + h * h;
      kernel_variance_.push_back(v);
      log_scale_.push_back(0.5 * (dimension * std::log(h * h) - v.log().colwise().sum().transpose()));
      for (Index a = 0; a < k_count; ++a) {
        for (Index b = 0; b < k_count; ++b) {
          // the same with both points random: v_i = h^2 + s_ai^2 + s_bi^2
          const Eigen::ArrayXd w = mixture.variances().col(a).array() + mixture.variances().col(b).array() + h * h;
          const double log_value = 0.5 * (dimension * std::log(h * h) - w.log().sum()) -
                                   0.5 * ((mixture.means().col(a) - mixture.means().col(b)).array().square() / w).sum();
          population_term_ += mixture.weights()[static_cast<std::size_t>(a)] *
                              mixture.weights()[static_cast<std::size_t>(b)] * std::exp(log_value);
        }
      }
    }
  }

  /// The kernel's bandwidths.
  const std::vector<double>& bandwidths() const { return bandwidths_; }

  /// The unbiased MMD^2 estimate for the sample set x (dimension x n, n >= 2).
  double squared_distance(const Eigen::ArrayXXd& x) const {
    const Index n = x.cols();
    if (x.rows() != mixture_.dimension() || n < 2) {
      throw std::invalid_argument("ddim_experiments::ExactMmd: x must have dimension() rows and >= 2 columns");
    }
    // cross term: mean over the points of the kernel integrated against the mixture
    double cross = 0.0;
    for (std::size_t b = 0; b < bandwidths_.size(); ++b) {
      for (Index k = 0; k < mixture_.num_components(); ++k) {
        const double weight = mixture_.weights()[static_cast<std::size_t>(k)];
        const auto v = kernel_variance_[b].col(k);
        const auto mean = mixture_.means().col(k).array();
        for (Index j = 0; j < n; ++j) {
          cross += weight * std::exp(log_scale_[b](k) - 0.5 * ((x.col(j) - mean).square() / v).sum());
        }
      }
    }
    cross /= static_cast<double>(n);
    // within term: pairs i < j, squared distances from blocks of the Gram matrix
    std::vector<double> inverse_two_h2;
    for (double h : bandwidths_) inverse_two_h2.push_back(1.0 / (2.0 * h * h));
    const Eigen::VectorXd squared_norm = x.matrix().colwise().squaredNorm().transpose();
    const Index block = 256;
    double within = 0.0;
    Eigen::MatrixXd gram;
    for (Index first = 0; first < n; first += block) {
      const Index width = std::min(block, n - first);
      gram.noalias() = x.matrix().leftCols(first + width).transpose() * x.matrix().middleCols(first, width);
      for (Index jj = 0; jj < width; ++jj) {
        const Index j = first + jj;
        for (Index i = 0; i < j; ++i) {
          const double squared_distance = std::max(0.0, squared_norm(i) + squared_norm(j) - 2.0 * gram(i, jj));
          for (double c : inverse_two_h2) within += std::exp(-squared_distance * c);
        }
      }
    }
    within *= 2.0 / (static_cast<double>(n) * static_cast<double>(n - 1));
    return within - 2.0 * cross + population_term_;
  }

 private:
  ddim::GaussianMixture mixture_;
  std::vector<double> bandwidths_;
  std::vector<Eigen::ArrayXXd> kernel_variance_;  // per bandwidth: h^2 + s_ki^2, d x K
  std::vector<Eigen::ArrayXd> log_scale_;         // per bandwidth, per component: log prod_i sqrt(h^2 / v_i)
  double population_term_ = 0.0;                  // E k(y, y'), y, y' ~ P independent
};

/// The experiments' kernel bandwidths in `dimension` coordinates: sqrt(d) x {0.05, 0.1, 0.2, 0.4},
/// from the finest per-coordinate scale of the data (component standard deviations 0.05 ... 0.2)
/// to the spacing of the modes (0.77 between neighbours on the ring). Distances between points
/// grow like sqrt(d), hence the factor.
inline std::vector<double> default_bandwidths(Index dimension) {
  const double root = std::sqrt(static_cast<double>(dimension));
  return {0.05 * root, 0.1 * root, 0.2 * root, 0.4 * root};
}

// ---------------------------------------------------------------------------------------------
// Samplers

/// A named sampler configuration.
struct SamplerSpec {
  std::string name;
  ddim::Options options;
};

/// The rows of the paper's table 1: DDIM's eq. 16 family at eta = 0, 0.2, 0.5, 1 (eta = 1 is
/// DDPM's ancestral step with the posterior variance) and DDPM's larger variance sigma-hat^2 =
/// 1 - alpha_bar_t / alpha_bar_prev, no noise at the last step (the paper's "sigma-hat" row).
inline std::vector<SamplerSpec> table1_samplers() {
  return {{"eta = 0.0", ddim::Options::ddim(0.0)},
          {"eta = 0.2", ddim::Options::ddim(0.2)},
          {"eta = 0.5", ddim::Options::ddim(0.5)},
          {"eta = 1.0", ddim::Options::ddim(1.0)},
          {"sigma-hat", ddim::Options::ddpm(ddim::Variance::fixed_large)}};
}

/// Decodes the latents x (x_T in, x_0 out) with `options` over the paper's uniform spacing of S
/// steps (Timesteps::uniform: range(0, T, T // S)), drawing step noise from `noise` (ddim::no_noise
/// for the deterministic samplers).
template <class Noise>
void decode(const ddim::NoiseSchedule<double>& schedule, ddim::GaussianMixture::Model<double>& model,
            const ddim::Options& options, int num_steps, Eigen::ArrayXXd& x, const Noise& noise) {
  ddim::sample(schedule, ddim::Timesteps::uniform(schedule.num_train_steps(), num_steps), options, x, model, noise);
}

// ---------------------------------------------------------------------------------------------
// Table 1: sample quality against (eta, S)

struct QualityConfig {
  std::vector<int> steps{10, 20, 50, 100, 1000};
  std::vector<SamplerSpec> samplers = table1_samplers();
  Index samples = 2500;  ///< generated samples per replica (and per floor estimate)
  int replicas = 8;      ///< independent repetitions (latents, step noise, floor samples)
  std::vector<double> bandwidths;  ///< of the MMD kernel; empty: default_bandwidths(dimension)
  std::uint64_t seed = 1;
  /// Optional: called with every generated sample set (sampler index, step index, replica, x_0).
  std::function<void(std::size_t, std::size_t, int, const Eigen::ArrayXXd&)> on_samples;
};

/// MMD^2 of every sampler at every S in every replica, and the noise floor per replica (the same
/// estimate for a set of exact samples of the mixture). Within a replica every sampler decodes the
/// same latents x_T with the same noise stream (common random numbers), so differences between
/// cells are estimated from paired per-replica differences.
struct QualityTable {
  std::vector<std::string> samplers;
  std::vector<int> steps;
  Index samples = 0;
  /// distances[sampler][step][replica]
  std::vector<std::vector<std::vector<double>>> distances;
  /// floor[replica]: the MMD^2 estimate for exact samples (expectation 0)
  std::vector<double> floor;

  Estimate cell(std::size_t sampler, std::size_t step) const { return estimate(distances[sampler][step]); }
  Estimate floor_estimate() const { return estimate(floor); }
  /// cell(a, step_a) - cell(b, step_b): mean and standard error of the per-replica differences.
  Estimate difference(std::size_t sampler_a, std::size_t step_a, std::size_t sampler_b, std::size_t step_b) const {
    std::vector<double> d;
    for (std::size_t r = 0; r < floor.size(); ++r) d.push_back(distances[sampler_a][step_a][r] - distances[sampler_b][step_b][r]);
    return estimate(d);
  }
};

inline QualityTable sample_quality(const ddim::GaussianMixture& mixture, const QualityConfig& config) {
  const auto schedule = paper_schedule();
  auto model = mixture.model(schedule);
  const Index d = mixture.dimension();
  const ExactMmd mmd(mixture, config.bandwidths.empty() ? default_bandwidths(d) : config.bandwidths);
  QualityTable table;
  table.steps = config.steps;
  table.samples = config.samples;
  for (const auto& s : config.samplers) table.samplers.push_back(s.name);
  table.distances.assign(config.samplers.size(), std::vector<std::vector<double>>(config.steps.size()));
  for (int r = 0; r < config.replicas; ++r) {
    const auto replica = static_cast<std::uint64_t>(r);
    table.floor.push_back(mmd.squared_distance(mixture.sample<double>(config.samples, derive_seed(config.seed, replica, 1))));
    const ddim::PhiloxNoise noise(derive_seed(config.seed, replica, 2));  // x_T (slot 0) and the step noise
    for (std::size_t i = 0; i < config.samplers.size(); ++i) {
      for (std::size_t k = 0; k < config.steps.size(); ++k) {
        Eigen::ArrayXXd x(d, config.samples);
        noise.initial_latent(x);
        decode(schedule, model, config.samplers[i].options, config.steps[k], x, noise);
        table.distances[i][k].push_back(mmd.squared_distance(x));
        if (config.on_samples) config.on_samples(i, k, r, x);
      }
    }
  }
  return table;
}

// ---------------------------------------------------------------------------------------------
// Consistency (figures 4-5): the same x_T decoded by DDIM with different S

struct ConsistencyConfig {
  std::vector<int> steps{10, 20, 50, 100, 1000};  ///< the last entry is the reference
  Index samples = 2000;
  std::uint64_t seed = 2;
};

struct ConsistencyResult {
  std::vector<int> steps;
  /// Euclidean distance |x0(S) - x0(S_ref)| per latent: mean and standard error
  std::vector<Estimate> distance;
  /// distance[k] - distance[k + 1] latent by latent (paired: the same x_T at both step counts),
  /// mean and standard error; one entry fewer than distance
  std::vector<Estimate> shrink;
  /// fraction of latents whose decoded point has the same most probable component as at S_ref
  std::vector<double> same_component;
  /// for scale: the distance between two independent exact samples, mean and standard error
  Estimate independent_distance;
};

inline ConsistencyResult consistency(const ddim::GaussianMixture& mixture, const ConsistencyConfig& config) {
  const auto schedule = paper_schedule();
  auto model = mixture.model(schedule);
  const Index d = mixture.dimension(), n = config.samples;
  const ddim::PhiloxNoise noise(derive_seed(config.seed, 0, 4));
  std::vector<Eigen::ArrayXXd> decoded;
  for (int num_steps : config.steps) {
    Eigen::ArrayXXd x(d, n);
    noise.initial_latent(x);
    decode(schedule, model, ddim::Options::ddim(0.0), num_steps, x, ddim::no_noise);
    decoded.push_back(std::move(x));
  }
  ConsistencyResult result;
  result.steps = config.steps;
  const Eigen::ArrayXXd& reference = decoded.back();
  std::vector<Index> reference_component(static_cast<std::size_t>(n));
  for (Index j = 0; j < n; ++j) reference_component[static_cast<std::size_t>(j)] = fit_component(mixture, reference.col(j)).component;
  std::vector<std::vector<double>> per_latent;
  for (const auto& x : decoded) {
    std::vector<double> distances;
    double same = 0.0;
    for (Index j = 0; j < n; ++j) {
      distances.push_back((x.col(j) - reference.col(j)).matrix().norm());
      same += fit_component(mixture, x.col(j)).component == reference_component[static_cast<std::size_t>(j)] ? 1.0 : 0.0;
    }
    result.distance.push_back(estimate(distances));
    result.same_component.push_back(same / static_cast<double>(n));
    per_latent.push_back(std::move(distances));
  }
  for (std::size_t k = 0; k + 1 < per_latent.size(); ++k) {
    std::vector<double> differences;
    for (std::size_t j = 0; j < per_latent[k].size(); ++j) differences.push_back(per_latent[k][j] - per_latent[k + 1][j]);
    result.shrink.push_back(estimate(differences));
  }
  const Eigen::ArrayXXd a = mixture.sample<double>(n, derive_seed(config.seed, 0, 5));
  const Eigen::ArrayXXd b = mixture.sample<double>(n, derive_seed(config.seed, 0, 6));
  std::vector<double> independent;
  for (Index j = 0; j < n; ++j) independent.push_back((a.col(j) - b.col(j)).matrix().norm());
  result.independent_distance = estimate(independent);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Table 2: reconstruction error of decode(encode(x0))

struct ReconstructionConfig {
  std::vector<int> steps{10, 20, 50, 100, 200, 500, 1000};
  Index samples = 1000;
  std::uint64_t seed = 3;
};

/// The per-element squared error of decode(encode(x0)) over the samples, for one encoder.
struct ReconstructionErrors {
  Estimate mean;       ///< the paper's table 2 quantity, with its standard error
  double median = 0.0;
  /// samples whose reconstruction's most probable component differs from the original's
  int switched = 0;
  /// per-sample errors, in the order of the samples
  std::vector<double> errors;
};

struct ReconstructionResult {
  std::vector<int> steps;
  /// the encoder evaluating the model at each step's source (the paper's ODE, eq. 14, run
  /// backwards) and at its destination (diffusers' DDIMInverseScheduler)
  std::vector<ReconstructionErrors> source, destination;
};

/// decode(encode(x0)) with DDIM (eta = 0) over S uniform steps, compared with x0.
inline ReconstructionErrors reconstruction_errors(const ddim::GaussianMixture& mixture,
                                                  const ddim::NoiseSchedule<double>& schedule,
                                                  ddim::GaussianMixture::Model<double>& model, int num_steps,
                                                  ddim::ModelTime model_time, const Eigen::ArrayXXd& x0) {
  const auto steps = ddim::Timesteps::uniform(schedule.num_train_steps(), num_steps);
  Eigen::ArrayXXd x = x0;
  ddim::invert(schedule, steps, ddim::Options{}, model_time, x, model);
  ddim::sample(schedule, steps, ddim::Options{}, x, model);
  ReconstructionErrors result;
  for (Index j = 0; j < x.cols(); ++j) {
    result.errors.push_back((x.col(j) - x0.col(j)).square().mean());
    if (fit_component(mixture, x.col(j)).component != fit_component(mixture, x0.col(j)).component) ++result.switched;
  }
  result.mean = estimate(result.errors);
  result.median = median(result.errors);
  return result;
}

inline ReconstructionResult reconstruction(const ddim::GaussianMixture& mixture, const ReconstructionConfig& config) {
  const auto schedule = paper_schedule();
  auto model = mixture.model(schedule);
  const Eigen::ArrayXXd x0 = mixture.sample<double>(config.samples, derive_seed(config.seed, 0, 1));
  ReconstructionResult result;
  result.steps = config.steps;
  for (int num_steps : config.steps) {
    result.source.push_back(reconstruction_errors(mixture, schedule, model, num_steps, ddim::ModelTime::source, x0));
    result.destination.push_back(
        reconstruction_errors(mixture, schedule, model, num_steps, ddim::ModelTime::destination, x0));
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Interpolation (section 5.3): decoded slerp and straight-line paths between two latents

struct InterpolationConfig {
  int num_steps = 50;  ///< DDIM steps used to decode (the paper's figure 6 uses 50)
  int pairs = 64;      ///< independent pairs of latents
  int points = 33;     ///< points per path, ends included
  std::uint64_t seed = 4;
};

/// What the decoded points of one kind of path do, over all pairs.
struct PathStatistics {
  /// per path, the largest |x0(i+1) - x0(i)|: mean and standard error over pairs
  Estimate largest_jump;
  /// the same over neighbours decoded into the same component (the motion inside a mode)
  Estimate largest_jump_within;
  /// per path, how often neighbours are decoded into different components
  Estimate component_changes;
  /// per path, the largest latent norm along it over the larger of its ends' norms: the median
  /// and the largest over the pairs (1 for a path that never leaves the ends' shell)
  double latent_norm_ratio_median = 0.0, latent_norm_ratio_max = 0.0;
  /// the median over pairs of the normalised Mahalanobis radius (fit_component) of the decoded
  /// point at each position: below the data's value for points too close to a mode's centre
  std::vector<double> radius_profile;
};

struct InterpolationResult {
  PathStatistics slerp;
  PathStatistics linear;
  /// the median radius of exact samples (chi_d / sqrt(d): 0.83 in 2-D, 0.98 in 16-D)
  double data_radius = 0.0;
  /// the decoded paths of the first pair (d x points), for plots
  Eigen::ArrayXXd first_slerp, first_linear;
};

inline InterpolationResult interpolation(const ddim::GaussianMixture& mixture, const InterpolationConfig& config) {
  const auto schedule = paper_schedule();
  auto model = mixture.model(schedule);
  const Index d = mixture.dimension();
  InterpolationResult result;
  result.data_radius = median_radius(mixture, mixture.sample<double>(4000, derive_seed(config.seed, 0, 1)));
  const Eigen::ArrayXXd a = ddim::gaussian<double>(d, config.pairs, derive_seed(config.seed, 0, 2));
  const Eigen::ArrayXXd b = ddim::gaussian<double>(d, config.pairs, derive_seed(config.seed, 0, 3));
  for (int kind = 0; kind < 2; ++kind) {
    PathStatistics& stats = kind == 0 ? result.slerp : result.linear;
    std::vector<std::vector<double>> radii(static_cast<std::size_t>(config.points));
    std::vector<double> largest, largest_within, changes, norm_ratio;
    for (Index p = 0; p < config.pairs; ++p) {
      Eigen::ArrayXXd path = kind == 0 ? ddim::slerp_path(a.col(p), b.col(p), config.points)
                                       : ddim::linear_path(a.col(p), b.col(p), config.points);
      norm_ratio.push_back(path.matrix().colwise().norm().maxCoeff() /
                           std::max(a.col(p).matrix().norm(), b.col(p).matrix().norm()));
      decode(schedule, model, ddim::Options::ddim(0.0), config.num_steps, path, ddim::no_noise);
      std::vector<ComponentFit> fits;
      for (Index i = 0; i < path.cols(); ++i) {
        fits.push_back(fit_component(mixture, path.col(i)));
        radii[static_cast<std::size_t>(i)].push_back(fits.back().radius);
      }
      double biggest = 0.0, biggest_within = 0.0, count = 0.0;
      for (Index i = 0; i + 1 < path.cols(); ++i) {
        const double jump = (path.col(i + 1) - path.col(i)).matrix().norm();
        biggest = std::max(biggest, jump);
        if (fits[static_cast<std::size_t>(i)].component == fits[static_cast<std::size_t>(i + 1)].component) {
          biggest_within = std::max(biggest_within, jump);
        } else {
          count += 1.0;
        }
      }
      largest.push_back(biggest);
      largest_within.push_back(biggest_within);
      changes.push_back(count);
      if (p == 0) (kind == 0 ? result.first_slerp : result.first_linear) = path;
    }
    for (auto& at_position : radii) stats.radius_profile.push_back(median(std::move(at_position)));
    stats.largest_jump = estimate(largest);
    stats.largest_jump_within = estimate(largest_within);
    stats.component_changes = estimate(changes);
    stats.latent_norm_ratio_max = *std::max_element(norm_ratio.begin(), norm_ratio.end());
    stats.latent_norm_ratio_median = median(std::move(norm_ratio));
  }
  return result;
}

}  // namespace ddim_experiments

#endif  // DDIM_EXPERIMENTS_PAPER_EXPERIMENTS_HPP
