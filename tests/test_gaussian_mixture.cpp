// The exact Gaussian-mixture model: its predictions against the score computed by finite
// differences of the noisy log density, the identities between eps, x0 and v, its samples'
// moments, and validation.
#include <ddim/gaussian_mixture.hpp>

#include <cmath>

#include "support/catch.hpp"

namespace {

ddim::GaussianMixture three_components() {
  Eigen::MatrixXd means(2, 3), variances(2, 3);
  means << -2.0, 1.0, 3.0, 0.5, -1.5, 2.0;
  variances << 0.3, 0.5, 0.2, 0.4, 0.1, 0.6;
  return ddim::GaussianMixture({0.5, 0.3, 0.2}, means, variances);
}

}  // namespace

TEST_CASE("eps* is -sqrt(1 - ab) times the gradient of the noisy log density", "[mixture]") {
  const auto mixture = three_components();
  Eigen::ArrayXXd x(2, 5);
  x << -2.0, 0.0, 1.0, 3.5, 10.0, 0.5, 0.3, -1.0, 2.0, -4.0;
  for (double alpha_bar : {0.999, 0.7, 0.2, 0.01}) {
    const Eigen::ArrayXXd eps = mixture.predict(ddim::Prediction::epsilon, alpha_bar, x);
    // central differences with h = 1e-5: truncation O(h^2 |d3 log p|) and rounding
    // O(eps_machine |log p| / h) ~ 1e-10 here; 1e-6 leaves room for both
    const double h = 1e-5;
    for (int j = 0; j < 5; ++j) {
      for (int i = 0; i < 2; ++i) {
        Eigen::ArrayXXd plus = x.col(j), minus = x.col(j);
        plus(i) += h;
        minus(i) -= h;
        const double gradient = (mixture.log_density(alpha_bar, plus)(0) - mixture.log_density(alpha_bar, minus)(0)) / (2 * h);
        INFO("alpha_bar " << alpha_bar << ", column " << j << ", coordinate " << i);
        CHECK_THAT(eps(i, j), WithinAbs(-std::sqrt(1 - alpha_bar) * gradient, 1e-6));
      }
    }
  }
}

TEST_CASE("the exact x0, eps and v predictions satisfy the parameterization identities", "[mixture]") {
  const auto mixture = three_components();
  const Eigen::ArrayXXd x = mixture.sample<double>(20, 3) * 0.7 + 0.3;
  for (double alpha_bar : {0.95, 0.5, 0.05}) {
    const Eigen::ArrayXXd eps = mixture.predict(ddim::Prediction::epsilon, alpha_bar, x);
    const Eigen::ArrayXXd x0 = mixture.predict(ddim::Prediction::x0, alpha_bar, x);
    const Eigen::ArrayXXd v = mixture.predict(ddim::Prediction::v, alpha_bar, x);
    // Tweedie: E[x0 | x] = (x + (1 - ab) grad log p) / sqrt(ab) = (x - sqrt(1 - ab) eps*) / sqrt(ab)
    CHECK(((x - std::sqrt(1 - alpha_bar) * eps) / std::sqrt(alpha_bar) - x0).abs().maxCoeff() < 1e-12);
    CHECK((std::sqrt(alpha_bar) * eps - std::sqrt(1 - alpha_bar) * x0 - v).abs().maxCoeff() < 1e-12);
  }
  // at zero SNR the data is forgotten: x0* is the mixture mean, eps* = x
  const Eigen::ArrayXXd x0_at_zero = mixture.predict(ddim::Prediction::x0, 0.0, x);
  CHECK((x0_at_zero.colwise() - mixture.mean().array()).abs().maxCoeff() < 1e-12);
  CHECK((mixture.predict(ddim::Prediction::epsilon, 0.0, x) - x).abs().maxCoeff() < 1e-12);
}

TEST_CASE("far from every component the log-sum-exp keeps the prediction finite", "[mixture]") {
  const auto mixture = ddim::GaussianMixture::ring(8, 4.0, 0.05);
  Eigen::ArrayXXd x(2, 2);
  x << 1e3, -40.0, 1e3, 35.0;  // exp(-|x|^2 / (2 * 0.0025)) underflows for every component
  const Eigen::ArrayXXd eps = mixture.predict(ddim::Prediction::epsilon, 0.9999, x);
  CHECK(eps.allFinite());
  CHECK(mixture.predict(ddim::Prediction::x0, 0.9999, x).allFinite());
}

TEST_CASE("samples of the mixture have its mean and covariance", "[mixture][statistical]") {
  // 20 000 samples; 5 standard errors of each estimate (Gaussian approximation for the
  // covariance entries: sqrt((C_ii C_jj + C_ij^2) / n)).
  const auto mixture = three_components();
  const Eigen::Index n = 20000;
  const Eigen::ArrayXXd x = mixture.sample<double>(n, 11);
  const Eigen::VectorXd mean = x.rowwise().mean().matrix();
  const Eigen::MatrixXd centred = x.matrix().colwise() - mean;
  const Eigen::MatrixXd cov = centred * centred.transpose() / static_cast<double>(n - 1);
  const Eigen::MatrixXd truth = mixture.covariance();
  for (int i = 0; i < 2; ++i) {
    CHECK(std::abs(mean(i) - mixture.mean()(i)) < 5 * std::sqrt(truth(i, i) / n));
    for (int j = 0; j < 2; ++j) {
      CHECK(std::abs(cov(i, j) - truth(i, j)) < 5 * std::sqrt((truth(i, i) * truth(j, j) + truth(i, j) * truth(i, j)) / n));
    }
  }
  CHECK((mixture.sample<float>(5, 11) == x.leftCols(5).cast<float>()).all());  // same stream, rounded
}

TEST_CASE("the ring helper places equal-weight components on a circle", "[mixture]") {
  const auto ring = ddim::GaussianMixture::ring(4, 2.0, 0.1, 3);
  CHECK(ring.dimension() == 3);
  CHECK(ring.num_components() == 4);
  CHECK_THAT(ring.means()(0, 1), WithinAbs(0.0, 1e-15));
  CHECK_THAT(ring.means()(1, 1), WithinAbs(2.0, 1e-15));
  CHECK(ring.means().row(2).isZero());
  CHECK_THAT(ring.weights()[2], WithinAbs(0.25, 1e-15));
  CHECK_THAT(ring.variances()(0, 0), WithinRel(0.01, 1e-15));
}


TEST_CASE("a model may outlive the mixture it was made from", "[mixture]") {
  // the model keeps its own copy: building it from a temporary is safe (AddressSanitizer would
  // report a use after scope otherwise)
  const auto schedule = ddim::NoiseSchedule<double>::linear(1000);
  auto model = ddim::GaussianMixture::ring(4, 2.0, 0.3).model(schedule);
  auto copy = model;  // copies share the mixture, each with its own scratch
  Eigen::ArrayXXd x = Eigen::ArrayXXd::Constant(2, 3, 0.5);
  ddim::ModelOutput<double> a(2, 3), b(2, 3);
  model(x, 500, a);
  copy(x, 500, b);
  CHECK(a.allFinite());
  CHECK((a == b).all());
  CHECK(model.mixture().num_components() == 4);
}
