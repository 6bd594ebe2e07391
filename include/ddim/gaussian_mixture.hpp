// ddim: header-only DDIM/DDPM samplers. MIT licence.
//
// gaussian_mixture.hpp: an exact model to sample against. For data drawn from a Gaussian mixture
// (weights w_k, means mu_k, diagonal variances s_k^2) the noisy marginal at timestep t is again a
// mixture, sum_k w_k N(sqrt(ab) mu_k, ab s_k^2 + 1 - ab), so the optimal predictions are closed
// form:
//   eps*(x, t) = -sqrt(1 - ab) grad log p_t(x),    x0*(x, t) = E[x0 | x_t = x],
//   v* = sqrt(ab) eps* - sqrt(1 - ab) x0*.
// With it the only error left in a sampler is its own discretisation, which is what the tests and
// the paper-reproduction experiments measure. It is also the examples' built-in "network".
#ifndef DDIM_GAUSSIAN_MIXTURE_HPP
#define DDIM_GAUSSIAN_MIXTURE_HPP

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "config.hpp"
#include "detail/validate.hpp"
#include "noise.hpp"
#include "prediction.hpp"
#include "predictor.hpp"
#include "schedule.hpp"

namespace ddim {

/// A Gaussian mixture data distribution in `dimension()` dimensions with diagonal covariances.
/// Immutable once built; all arithmetic is in double.
class GaussianMixture {
 private:
  // Scratch and the per-column computation (log-sum-exp over components). No allocation after
  // construction.
  struct Evaluation {
    explicit Evaluation(const GaussianMixture& m)
        : mixture(&m), log_weight(m.num_components()), responsibility(m.num_components()),
          noisy_variance(m.dimension(), m.num_components()), log_det(m.num_components()),
          centred(m.dimension(), m.num_components()), x0(m.dimension()), score(m.dimension()) {
      for (Index k = 0; k < m.num_components(); ++k) log_weight(k) = std::log(m.weights_[static_cast<std::size_t>(k)]);
    }

    // The per-level quantities: noisy variances ab s_k^2 + 1 - ab and their log-determinants.
    void prepare(double alpha_bar) {
      signal = std::sqrt(alpha_bar);
      noisy_variance = alpha_bar * mixture->variances_.array() + (1.0 - alpha_bar);
      log_det = noisy_variance.log().colwise().sum().transpose();
    }

    // Posterior component probabilities for one column x at the prepared level, by log-sum-exp;
    // keeps the centred values x - sqrt(ab) mu_k for the caller.
    template <class Column>
    void responsibilities(const Column& x) {
      const GaussianMixture& m = *mixture;
      double largest = -HUGE_VAL;
      for (Index k = 0; k < m.num_components(); ++k) {
        centred.col(k) = x - signal * m.means_.col(k).array();
        responsibility(k) = log_weight(k) - 0.5 * ((centred.col(k).square() / noisy_variance.col(k)).sum() + log_det(k));
        largest = std::fmax(largest, responsibility(k));
      }
      log_normaliser = largest + std::log((responsibility - largest).exp().sum());
      responsibility = (responsibility - log_normaliser).exp();
    }

    template <class X, class Out>
    void predict(Prediction prediction, double alpha_bar, const X& x, Out& out) {
      const GaussianMixture& m = *mixture;
      prepare(alpha_bar);
      const double noise = std::sqrt(1.0 - alpha_bar);
      using OutScalar = typename Out::Scalar;
      for (Index j = 0; j < x.cols(); ++j) {
        responsibilities(x.col(j).template cast<double>().array());
        x0.setZero();
        score.setZero();
        for (Index k = 0; k < m.num_components(); ++k) {
          const double r = responsibility(k);
          // E[x0 | x, k] = mu_k + s_k^2 sqrt(ab) / (ab s_k^2 + 1 - ab) (x - sqrt(ab) mu_k)
          x0 += r * (m.means_.col(k).array() + signal * m.variances_.col(k).array() / noisy_variance.col(k) * centred.col(k));
          score -= r * centred.col(k) / noisy_variance.col(k);  // grad log p_t
        }
        switch (prediction) {
          case Prediction::epsilon: out.col(j) = (-noise * score).template cast<OutScalar>(); break;
          case Prediction::x0: out.col(j) = x0.template cast<OutScalar>(); break;
          case Prediction::v: out.col(j) = (signal * (-noise * score) - noise * x0).template cast<OutScalar>(); break;
        }
      }
    }

    const GaussianMixture* mixture;
    Eigen::ArrayXd log_weight;
    Eigen::ArrayXd responsibility;
    Eigen::ArrayXXd noisy_variance;
    Eigen::ArrayXd log_det;
    Eigen::ArrayXXd centred;
    Eigen::ArrayXd x0;
    Eigen::ArrayXd score;
    double signal = 1.0;
    double log_normaliser = 0.0;
  };

 public:
  /// weights: K positive numbers (normalised to sum 1); means: dimension x K; variances:
  /// dimension x K, every entry finite and > 0. Throws std::invalid_argument naming the offending
  /// entry otherwise.
  GaussianMixture(std::vector<double> weights, Eigen::MatrixXd means, Eigen::MatrixXd variances)
      : weights_(std::move(weights)), means_(std::move(means)), variances_(std::move(variances)) {
    const std::string where = "ddim::GaussianMixture";
    const auto components = static_cast<Index>(weights_.size());
    if (components < 1) detail::fail(where, "weights.size()", weights_.size(), ">= 1");
    if (means_.cols() != components || means_.rows() < 1) {
      detail::fail_text(where, "means shape", std::to_string(means_.rows()) + "x" + std::to_string(means_.cols()),
                        "dimension x " + std::to_string(components) + " (one column per component), dimension >= 1");
    }
    if (variances_.rows() != means_.rows() || variances_.cols() != components) {
      detail::fail_text(where, "variances shape",
                        std::to_string(variances_.rows()) + "x" + std::to_string(variances_.cols()),
                        "the shape of means, " + std::to_string(means_.rows()) + "x" + std::to_string(components));
    }
    double total = 0.0;
    for (std::size_t k = 0; k < weights_.size(); ++k) {
      detail::require_in_range(where, detail::indexed("weights", static_cast<long long>(k)), weights_[k], 0.0, false,
                               HUGE_VAL, false);
      total += weights_[k];
    }
    for (double& w : weights_) w /= total;
    for (Index k = 0; k < components; ++k) {
      for (Index i = 0; i < means_.rows(); ++i) {
        if (!std::isfinite(means_(i, k))) {
          detail::fail(where, "means(" + std::to_string(i) + ", " + std::to_string(k) + ")", means_(i, k), "finite");
        }
        detail::require_in_range(where, "variances(" + std::to_string(i) + ", " + std::to_string(k) + ")",
                                 variances_(i, k), 0.0, false, HUGE_VAL, false);
      }
    }
  }

  /// Isotropic components: component k has variance variances[k] in every dimension. Throws
  /// std::invalid_argument as the constructor does, and when variances.size() != weights.size().
  static GaussianMixture isotropic(std::vector<double> weights, Eigen::MatrixXd means, const std::vector<double>& variances) {
    if (variances.size() != weights.size()) {
      detail::fail("ddim::GaussianMixture::isotropic", "variances.size()", variances.size(),
                   "equal to weights.size() = " + std::to_string(weights.size()));
    }
    Eigen::MatrixXd full(means.rows(), means.cols());
    for (Index k = 0; k < full.cols(); ++k) full.col(k).setConstant(variances[static_cast<std::size_t>(k)]);
    return GaussianMixture(std::move(weights), std::move(means), std::move(full));
  }

  /// `components` equally weighted isotropic Gaussians (standard deviation `stddev`) with means
  /// evenly spaced on a circle of radius `radius` in the first two coordinates (the other
  /// coordinates of the means are 0): the classic "ring of Gaussians" toy distribution.
  /// Throws std::invalid_argument unless components >= 1, dimension >= 2 and stddev > 0.
  static GaussianMixture ring(int components, double radius, double stddev, int dimension = 2) {
    const std::string where = "ddim::GaussianMixture::ring";
    if (components < 1) detail::fail(where, "components", components, "components >= 1");
    if (dimension < 2) detail::fail(where, "dimension", dimension, "dimension >= 2");
    detail::require_in_range(where, "stddev", stddev, 0.0, false, HUGE_VAL, false);
    Eigen::MatrixXd means = Eigen::MatrixXd::Zero(dimension, components);
    const double two_pi = 6.283185307179586476925;
    for (int k = 0; k < components; ++k) {
      means(0, k) = radius * std::cos(two_pi * k / components);
      means(1, k) = radius * std::sin(two_pi * k / components);
    }
    return isotropic(std::vector<double>(static_cast<std::size_t>(components), 1.0), std::move(means),
                     std::vector<double>(static_cast<std::size_t>(components), stddev * stddev));
  }

  /// The data dimension d.
  Index dimension() const { return means_.rows(); }
  /// The number of components K.
  Index num_components() const { return means_.cols(); }
  /// The K weights, normalised to sum 1.
  const std::vector<double>& weights() const { return weights_; }
  /// The means, d x K, one column per component.
  const Eigen::MatrixXd& means() const { return means_; }
  /// The diagonal variances s_k^2, d x K, one column per component.
  const Eigen::MatrixXd& variances() const { return variances_; }

  /// The mixture's mean, sum_k w_k mu_k.
  Eigen::VectorXd mean() const {
    Eigen::VectorXd m = Eigen::VectorXd::Zero(dimension());
    for (Index k = 0; k < num_components(); ++k) m += weights_[static_cast<std::size_t>(k)] * means_.col(k);
    return m;
  }

  /// The mixture's covariance, sum_k w_k (diag(s_k^2) + mu_k mu_k^T) - mean mean^T.
  Eigen::MatrixXd covariance() const {
    const Eigen::VectorXd m = mean();
    Eigen::MatrixXd c = -m * m.transpose();
    for (Index k = 0; k < num_components(); ++k) {
      const double w = weights_[static_cast<std::size_t>(k)];
      c += w * (means_.col(k) * means_.col(k).transpose());
      c.diagonal() += w * variances_.col(k);
    }
    return c;
  }

  /// `count` exact samples of the mixture, one column each, reproducible by seed: sample j picks
  /// its component with the Philox stream (seed, j) and draws its Gaussian part from
  /// PhiloxNoise(seed) sample j (slot 0).
  template <class Scalar>
  Eigen::Array<Scalar, Eigen::Dynamic, Eigen::Dynamic> sample(Index count, std::uint64_t seed) const {
    Eigen::Array<double, Eigen::Dynamic, Eigen::Dynamic> x(dimension(), count);
    PhiloxNoise(seed).initial_latent(x);
    for (Index j = 0; j < count; ++j) {
      const auto index = static_cast<std::uint64_t>(j);
      const detail::PhiloxBlock r = detail::philox4x32_10(
          detail::PhiloxBlock{{static_cast<std::uint32_t>(index), static_cast<std::uint32_t>(index >> 32), 0u,
                               0xFFFFFFFFu}},
          static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32));
      const double u = (static_cast<double>(r.word[0]) + 0.5) * 0x1p-32;  // in (0, 1)
      Index k = 0;
      double cumulative = weights_[0];
      while (u > cumulative && k + 1 < num_components()) cumulative += weights_[static_cast<std::size_t>(++k)];
      x.col(j) = means_.col(k).array() + variances_.col(k).array().sqrt() * x.col(j);
    }
    return x.cast<Scalar>();
  }

  /// log of the mixture density at timestep level alpha_bar (the noisy marginal p_t), for each
  /// column of x. Allocates; for tests and diagnostics.
  template <class Derived>
  Eigen::ArrayXd log_density(double alpha_bar, const Eigen::DenseBase<Derived>& x) const {
    Evaluation evaluation(*this);
    evaluation.prepare(alpha_bar);
    Eigen::ArrayXd out(x.cols());
    for (Index j = 0; j < x.cols(); ++j) {
      evaluation.responsibilities(x.derived().col(j).template cast<double>().array());
      out(j) = evaluation.log_normaliser - 0.5 * static_cast<double>(dimension()) * std::log(6.283185307179586476925);
    }
    return out;
  }

  /// The exact prediction of `prediction` type for every column of x at level alpha_bar
  /// (0 <= alpha_bar < 1). Allocates; the sampling loop uses `model` instead.
  template <class Derived>
  Eigen::Array<typename Derived::Scalar, Eigen::Dynamic, Eigen::Dynamic> predict(Prediction prediction, double alpha_bar,
                                                                                  const Eigen::DenseBase<Derived>& x) const {
    Evaluation evaluation(*this);
    Eigen::Array<typename Derived::Scalar, Eigen::Dynamic, Eigen::Dynamic> out(x.rows(), x.cols());
    evaluation.predict(prediction, alpha_bar, x.derived(), out);
    return out;
  }

  /// The predictor for the sampling loop: model(x_t, t, output) writes the exact prediction of
  /// type `prediction` at the schedule's alpha_bar_t. Owns its scratch space (allocated here, not
  /// per call): one Model per thread. It keeps its own (shared, immutable) copy of the mixture, so
  /// it may outlive the GaussianMixture it came from (`ring(...).model(schedule)` is fine); copies
  /// of a Model share the mixture and have their own scratch.
  template <class Scalar>
  class Model {
   public:
    Model(const GaussianMixture& mixture, const NoiseSchedule<Scalar>& schedule, Prediction prediction)
        : mixture_(std::make_shared<const GaussianMixture>(mixture)), evaluation_(*mixture_),
          alpha_bar_(schedule.alpha_bars_double()), prediction_(prediction) {}

    /// Writes the exact prediction for every column of x_t at train timestep 0 <= t < T
    /// (DDIM_ASSERT) into output, shaped like x_t. No allocation, no exception.
    template <class State>
    void operator()(const State& x_t, int t, ModelOutput<Scalar>& output) {
      DDIM_ASSERT(t >= 0 && t < alpha_bar_.size());
      evaluation_.predict(prediction_, alpha_bar_(t), x_t, output);
    }

    /// The mixture this model predicts for.
    const GaussianMixture& mixture() const { return *mixture_; }

   private:
    std::shared_ptr<const GaussianMixture> mixture_;  // a stable address for evaluation_
    typename GaussianMixture::Evaluation evaluation_;
    Eigen::ArrayXd alpha_bar_;
    Prediction prediction_;
  };

  /// The exact predictor of this mixture for `schedule`, predicting `prediction` (eps*, x0* or
  /// v*, see the header comment). The Model keeps its own copy of the mixture.
  template <class Scalar>
  Model<Scalar> model(const NoiseSchedule<Scalar>& schedule, Prediction prediction = Prediction::epsilon) const {
    return Model<Scalar>(*this, schedule, prediction);
  }

 private:
  std::vector<double> weights_;
  Eigen::MatrixXd means_;
  Eigen::MatrixXd variances_;
};

}  // namespace ddim

#endif  // DDIM_GAUSSIAN_MIXTURE_HPP
