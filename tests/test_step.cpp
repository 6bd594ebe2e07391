// The step: the fused update against the paper's formulas written out literally, in place against
// out of place, the exact-model property of eta = 0, eta = 1 == DDPM along whole trajectories,
// clipping, dynamic thresholding, the learned variance, and the step that generates its own noise.
#include <ddim/forward.hpp>
#include <ddim/noise.hpp>
#include <ddim/step.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "support/catch.hpp"
#include "support/oracle.hpp"

namespace {

using oracle::Real;

template <class Scalar>
const ddim::NoiseSchedule<Scalar>& schedule() {
  static const auto s = ddim::NoiseSchedule<Scalar>::linear(1000, 1e-4, 0.02);
  return s;
}

struct Config {
  ddim::Options options;
  const char* name;
};

std::vector<Config> configurations() {
  std::vector<Config> out;
  const ddim::Clipping clippings[] = {ddim::Clipping::none(), ddim::Clipping::clip(1.0),
                                      ddim::Clipping::dynamic_threshold(0.9, 1.5)};
  const ddim::Prediction predictions[] = {ddim::Prediction::epsilon, ddim::Prediction::x0, ddim::Prediction::v};
  std::vector<ddim::Options> bases = {ddim::Options::ddim(0.0), ddim::Options::ddim(0.5), ddim::Options::ddim(1.0),
                                      ddim::Options::ddpm(ddim::Variance::fixed_small),
                                      ddim::Options::ddpm(ddim::Variance::fixed_large),
                                      ddim::Options::ddpm(ddim::Variance::learned_range)};
  for (const auto& base : bases) {
    for (const auto& prediction : predictions) {
      for (const auto& clipping : clippings) {
        for (bool use_clipped : {false, true}) {
          Config config{base, "config"};
          config.options.prediction = prediction;
          config.options.clipping = clipping;
          config.options.use_clipped_model_output = use_clipped;
          out.push_back(config);
        }
      }
    }
  }
  return out;
}

std::string describe(const ddim::Options& o) {
  return std::string(o.method == ddim::Method::ddim ? "ddim eta " + std::to_string(o.eta)
                                                    : "ddpm variance " + std::to_string(static_cast<int>(o.variance))) +
         ", prediction " + ddim::to_string(o.prediction) + ", clip kind " +
         std::to_string(static_cast<int>(o.clipping.kind)) + ", use_clipped " + std::to_string(o.use_clipped_model_output);
}

// The literal update for one column: split (eq. 9 and friends), clip or threshold x0 (torch's
// quantile on a sorted copy), re-derive eps if asked, then eq. 12 or DDPM eq. 7 plus noise.
template <class Scalar>
std::vector<Real> reference_column(const ddim::Options& o, double a_t, double a_s, bool last,
                                   const std::vector<Real>& x, const std::vector<Real>& m,
                                   const std::vector<Real>& v, const std::vector<Real>& z,
                                   std::vector<Real>* magnitude) {
  const std::size_t n = x.size();
  std::vector<Real> x0(n), eps(n), out(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto s = oracle::split(o.prediction, a_t, x[i], m[i]);
    x0[i] = s.x0;
    eps[i] = s.eps;
  }
  Real bound = std::numeric_limits<Real>::infinity(), scale = 1;
  if (o.clipping.kind == ddim::Clipping::Kind::range) bound = static_cast<Real>(o.clipping.range);
  if (o.clipping.kind == ddim::Clipping::Kind::dynamic_threshold) {
    std::vector<Real> sorted(n);
    for (std::size_t i = 0; i < n; ++i) sorted[i] = std::fabs(x0[i]);
    std::sort(sorted.begin(), sorted.end());
    const Real rank = static_cast<Real>(o.clipping.ratio) * static_cast<Real>(n - 1);
    const auto below = static_cast<std::size_t>(std::floor(rank));
    const std::size_t above = std::min(below + 1, n - 1);
    const Real q = sorted[below] + (rank - static_cast<Real>(below)) * (sorted[above] - sorted[below]);
    bound = std::min<Real>(std::max<Real>(q, 1), static_cast<Real>(o.clipping.max_value));
    scale = 1 / bound;
  }
  for (std::size_t i = 0; i < n; ++i) {
    Real x0c = std::min(std::max(x0[i], -bound), bound) * scale;
    Real e = eps[i];
    if (o.clipping.kind != ddim::Clipping::Kind::none && o.use_clipped_model_output) {
      e = (x[i] - std::sqrt(Real(a_t)) * x0c) / std::sqrt(1 - Real(a_t));
    }
    Real noise = 0, mean = 0, size = 0;
    if (o.method == ddim::Method::ddim) {
      const Real sigma = oracle::ddim_sigma(a_t, a_s, o.eta);
      mean = oracle::ddim_update(a_s, sigma, x0c, e, 0);  // eq. 12
      noise = sigma * z[i];
      size = std::fabs(std::sqrt(Real(a_s)) * x0c) + std::fabs(std::sqrt(1 - Real(a_s)) * e);
    } else {
      mean = oracle::ddpm_mean(a_t, a_s, x0c, x[i]);  // DDPM eq. 7
      const Real beta = 1 - Real(a_t) / Real(a_s);
      const Real beta_tilde = oracle::ddpm_posterior_variance(a_t, a_s);
      Real variance = 0;
      if (!last) {
        if (o.variance == ddim::Variance::fixed_small) variance = beta_tilde;
        if (o.variance == ddim::Variance::fixed_large) variance = beta;
        if (o.variance == ddim::Variance::learned_range) {
          const Real f = (std::min<Real>(std::max<Real>(v[i], -1), 1) + 1) / 2;
          variance = std::exp(f * std::log(beta) + (1 - f) * std::log(beta_tilde));  // improved DDPM eq. 15
        }
      }
      noise = std::sqrt(variance) * z[i];
      size = std::fabs(mean) + std::fabs(x[i]);
    }
    out[i] = mean + noise;
    (*magnitude)[i] = size + std::fabs(noise) + std::fabs(x[i]) + std::fabs(m[i]) * 4;
  }
  return out;
}

template <class Scalar>
void check_against_reference(int t, int t_prev, std::uint64_t seed) {
  using Array = Eigen::Array<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  const auto& s = schedule<Scalar>();
  const double a_t = s.alpha_bars_double()(t);
  const double a_s = t_prev < 0 ? 1.0 : s.alpha_bars_double()(t_prev);
  const Eigen::Index rows = 40, cols = 3;
  oracle::Normal normal(seed);
  Array x(rows, cols), m(2 * rows, cols), z(rows, cols);
  normal.fill(x);
  normal.fill(m);
  normal.fill(z);
  x *= Scalar(2);  // x0_pred then exceeds the clip range for a good share of elements
  Eigen::Array<Scalar, Eigen::Dynamic, 1> scratch(rows);
  for (const auto& config : configurations()) {
    const ddim::Options& o = config.options;
    const bool learned = o.method == ddim::Method::ddpm && o.variance == ddim::Variance::learned_range;
    const auto c = ddim::step_coefficients<Scalar>(a_t, a_s, o, t_prev < 0);
    Array out(rows, cols);
    const auto output = m.topRows(learned ? 2 * rows : rows);
    if (o.clipping.kind == ddim::Clipping::Kind::dynamic_threshold) ddim::step_thresholded(c, x, output, z, out, scratch);
    else ddim::step(c, x, output, z, out);
    for (Eigen::Index j = 0; j < cols; ++j) {
      const auto n = static_cast<std::size_t>(rows);
      std::vector<Real> xs(n), ms(n), vs(n), zs(n), size(n);
      for (std::size_t i = 0; i < n; ++i) {
        const auto r = static_cast<Eigen::Index>(i);
        xs[i] = x(r, j);
        ms[i] = m(r, j);
        vs[i] = m(rows + r, j);
        zs[i] = z(r, j);
      }
      const auto expected = reference_column<Scalar>(o, a_t, a_s, t_prev < 0, xs, ms, vs, zs, &size);
      for (std::size_t i = 0; i < n; ++i) {
        const auto r = static_cast<Eigen::Index>(i);
        // Each fused coefficient is the double value rounded once to Scalar (half an ulp), the
        // pass then does ~6 Scalar operations: 16 ulp of the largest term bounds the difference.
        // The coefficients reach ~1e2 at t = 999 (1 / sqrt(alpha_bar)), which `size` includes.
        const double tolerance = 16.0 * std::numeric_limits<Scalar>::epsilon() * static_cast<double>(size[i]) *
                                 (1.0 / std::sqrt(a_t));
        INFO(describe(o) << ", t " << t << " -> " << t_prev << ", element " << i << ", sample " << j);
        CHECK_THAT(static_cast<double>(out(r, j)), WithinAbs(static_cast<double>(expected[i]), tolerance));
      }
    }
  }
}

}  // namespace

TEMPLATE_TEST_CASE("the fused step equals the paper's formulas applied one by one", "[step]", float, double) {
  check_against_reference<TestType>(500, 480, 1);
  check_against_reference<TestType>(999, 899, 2);
  check_against_reference<TestType>(20, 0, 3);
  check_against_reference<TestType>(100, -1, 4);  // the last step, landing on alpha_bar = 1
}

TEMPLATE_TEST_CASE("a step in place gives the same bits as out of place", "[step]", float, double) {
  using Array = Eigen::Array<TestType, Eigen::Dynamic, Eigen::Dynamic>;
  const auto& s = schedule<TestType>();
  oracle::Normal normal(11);
  Array x(33, 4), m(66, 4), z(33, 4);
  normal.fill(x);
  normal.fill(m);
  normal.fill(z);
  Eigen::Array<TestType, Eigen::Dynamic, 1> scratch(33);
  for (const auto& config : configurations()) {
    const bool learned = config.options.method == ddim::Method::ddpm &&
                         config.options.variance == ddim::Variance::learned_range;
    const auto c = ddim::step_coefficients<TestType>(s.alpha_bars_double()(300), s.alpha_bars_double()(250),
                                                     config.options, false);
    const auto output = m.topRows(learned ? 66 : 33);
    Array out(33, 4);
    Array in_place = x;
    if (config.options.clipping.kind == ddim::Clipping::Kind::dynamic_threshold) {
      ddim::step_thresholded(c, x, output, z, out, scratch);
      ddim::step_thresholded(c, in_place, output, z, in_place, scratch);
    } else {
      ddim::step(c, x, output, z, out);
      ddim::step(c, in_place, output, z, in_place);
    }
    INFO(describe(config.options));
    CHECK((in_place == out).all());
  }
}

TEMPLATE_TEST_CASE("the noise-free step is the step with z = 0", "[step]", float, double) {
  using Array = Eigen::Array<TestType, Eigen::Dynamic, 1>;
  const auto& s = schedule<TestType>();
  oracle::Normal normal(5);
  Array x(50), m(50), scratch(50);
  normal.fill(x);
  normal.fill(m);
  const Array zero = Array::Zero(50);
  for (const auto& config : configurations()) {
    if (config.options.method == ddim::Method::ddpm && config.options.variance == ddim::Variance::learned_range) continue;
    const auto c = ddim::step_coefficients<TestType>(s.alpha_bars_double()(700), s.alpha_bars_double()(600),
                                                     config.options, false);
    Array with_zero(50), without(50);
    if (config.options.clipping.kind == ddim::Clipping::Kind::dynamic_threshold) {
      ddim::step_thresholded(c, x, m, zero, with_zero, scratch);
      ddim::step_thresholded(c, x, m, without, scratch);
    } else {
      ddim::step(c, x, m, zero, with_zero);
      ddim::step(c, x, m, without);
    }
    INFO(describe(config.options));
    CHECK((with_zero == without).all());
  }
}

TEMPLATE_TEST_CASE("eta 0 with the exact eps of a known x0 recovers x0 at every step", "[step]", float, double) {
  using Array = Eigen::Array<TestType, Eigen::Dynamic, 1>;
  const auto& s = schedule<TestType>();
  oracle::Normal normal(21);
  Array x0(64), eps0(64);
  normal.fill(x0);
  normal.fill(eps0);
  const auto spacing = GENERATE(0, 1, 2);
  const int num_steps = GENERATE(10, 50, 1000);
  const auto steps = spacing == 0 ? ddim::Timesteps::leading(1000, num_steps)
                   : spacing == 1 ? ddim::Timesteps::trailing(1000, num_steps)
                                  : ddim::Timesteps::linspace(1000, num_steps);
  // x_T = sqrt(ab) x0 + sqrt(1 - ab) eps0 (eq. 4), then every step with the exact model
  // eps*(x, t) = (x - sqrt(ab_t) x0) / sqrt(1 - ab_t) must land on sqrt(ab_s) x0 + sqrt(1 - ab_s) eps0.
  Array x(64), eps(64), expected(64);
  ddim::add_noise(s, steps.t(0), x0, eps0, x);
  for (int k = 0; k < steps.num_steps(); ++k) {
    const int t = steps.t(k), t_prev = steps.t_prev(k);
    eps = (x - s.sqrt_alpha_bar(t) * x0) / s.sqrt_one_minus_alpha_bar(t);
    const auto c = ddim::step_coefficients(s, steps, k, ddim::Options::ddim(0.0));
    ddim::step(c, x, eps, x);
    if (t_prev >= 0) expected = s.sqrt_alpha_bar(t_prev) * x0 + s.sqrt_one_minus_alpha_bar(t_prev) * eps0;
    else expected = x0;
    // The exact model re-reads the error of x at every step and a step never amplifies it
    // (its x_t coefficient sqrt((1 - ab_s)/(1 - ab_t)) < 1), so the error stays a few ulp of |x|
    // per step plus the model's own rounding: 64 ulp of max|x| ~ 4 covers it in both precisions.
    const double tolerance = 64 * std::numeric_limits<TestType>::epsilon() * 4.0 * (1.0 + std::sqrt(static_cast<double>(k + 1)));
    INFO("spacing " << spacing << ", S " << num_steps << ", step " << k << " (t " << t << " -> " << t_prev << ")");
    REQUIRE(static_cast<double>((x - expected).abs().maxCoeff()) < tolerance);
  }
}

TEST_CASE("eta 1 and the DDPM posterior give the same trajectory from the same noise", "[step]") {
  using Array = Eigen::ArrayXd;
  const auto& s = schedule<double>();
  // a deterministic, non-linear test model
  const auto model = [](const Array& x, int t, Array& out) {
    out = x * (t / (t + 1.0)) + 0.1 * (x * (1.0 + t / 1000.0)).sin();
  };
  for (int num_steps : {1000, 50, 10}) {
    const auto steps = ddim::Timesteps::leading(1000, num_steps);
    oracle::Normal normal(3);
    Array x_ddim(32), noise(32 * num_steps);
    normal.fill(x_ddim);
    normal.fill(noise);
    Array x_ddpm = x_ddim, out(32);
    for (int k = 0; k < num_steps; ++k) {
      const auto z = noise.segment(32 * k, 32);
      model(x_ddim, steps.t(k), out);
      ddim::step(ddim::step_coefficients(s, steps, k, ddim::Options::ddim(1.0)), x_ddim, out, z, x_ddim);
      model(x_ddpm, steps.t(k), out);
      ddim::step(ddim::step_coefficients(s, steps, k, ddim::Options::ddpm(ddim::Variance::fixed_small)), x_ddpm, out, z,
                 x_ddpm);
    }
    // the per-step coefficients agree to ~1e-12 relative; over up to 1000 steps of a contracting
    // map the trajectories stay within 1e-10
    INFO("S = " << num_steps);
    CHECK((x_ddim - x_ddpm).abs().maxCoeff() < 1e-10);
  }
}

TEMPLATE_TEST_CASE("clipping bounds x0_pred before the update", "[step][clipping]", float, double) {
  using Array = Eigen::Array<TestType, Eigen::Dynamic, 1>;
  const auto& s = schedule<TestType>();
  ddim::Options options = ddim::Options::ddim(0.0);
  options.prediction = ddim::Prediction::x0;  // the output is x0_pred itself
  options.clipping = ddim::Clipping::clip(1.0);
  Array x = Array::Zero(4), m(4), out(4);
  m << TestType(-3), TestType(-0.5), TestType(0.25), TestType(7);
  // landing on alpha_bar = 1 makes x_prev = clip(x0_pred)
  const auto c = ddim::step_coefficients<TestType>(s.alpha_bars_double()(10), 1.0, options, true);
  ddim::step(c, x, m, out);
  CHECK(out(0) == TestType(-1));
  CHECK_THAT(static_cast<double>(out(1)), WithinAbs(-0.5, 1e-6));
  CHECK_THAT(static_cast<double>(out(2)), WithinAbs(0.25, 1e-6));
  CHECK(out(3) == TestType(1));
}

TEMPLATE_TEST_CASE("dynamic thresholding divides each sample by its own threshold", "[step][clipping]", float, double) {
  using Array = Eigen::Array<TestType, Eigen::Dynamic, Eigen::Dynamic>;
  const auto& s = schedule<TestType>();
  ddim::Options options = ddim::Options::ddim(0.0);
  options.prediction = ddim::Prediction::x0;
  options.clipping = ddim::Clipping::dynamic_threshold(0.5, 10.0);
  // column 0: |x0| median 2 -> s = 2; column 1: all small -> s = 1 (floor)
  Array m(5, 2);
  m << TestType(-3), TestType(0.1), TestType(4), TestType(-0.2), TestType(0.5), TestType(0.3), TestType(-1), TestType(0.4),
      TestType(2), TestType(-0.5);
  Array x = Array::Zero(5, 2), out(5, 2);
  Eigen::Array<TestType, Eigen::Dynamic, 1> scratch(5);
  const auto c = ddim::step_coefficients<TestType>(s.alpha_bars_double()(10), 1.0, options, true);
  ddim::step_thresholded(c, x, m, out, scratch);
  const TestType tol = 4 * std::numeric_limits<TestType>::epsilon();
  // column 0: clamp to [-2, 2], then / 2
  CHECK_THAT(static_cast<double>(out(0, 0)), WithinAbs(-1.0, tol));
  CHECK_THAT(static_cast<double>(out(1, 0)), WithinAbs(1.0, tol));
  CHECK_THAT(static_cast<double>(out(2, 0)), WithinAbs(0.25, tol));
  CHECK_THAT(static_cast<double>(out(3, 0)), WithinAbs(-0.5, tol));
  CHECK_THAT(static_cast<double>(out(4, 0)), WithinAbs(1.0, tol));
  // column 1 is unchanged by a threshold of 1
  for (int i = 0; i < 5; ++i) CHECK_THAT(static_cast<double>(out(i, 1)), WithinAbs(static_cast<double>(m(i, 1)), tol));
  // thresholding a batch equals thresholding each sample alone
  Array single(5, 1);
  ddim::step_thresholded(c, x.col(1), m.col(1), single, scratch);
  CHECK((single.col(0) == out.col(1)).all());
}

TEMPLATE_TEST_CASE("the learned variance clamps v to [-1, 1]", "[step]", float, double) {
  using Array = Eigen::Array<TestType, Eigen::Dynamic, 1>;
  const auto& s = schedule<TestType>();
  const auto c = ddim::step_coefficients<TestType>(s.alpha_bars_double()(400), s.alpha_bars_double()(390),
                                                   ddim::Options::ddpm(ddim::Variance::learned_range), false);
  Array x = Array::Zero(3), z = Array::Ones(3), out(3), mean(3);
  Array output(6);
  output << TestType(0), TestType(0), TestType(0), TestType(-7), TestType(1), TestType(30);
  ddim::step(c, x, output, z, out);
  ddim::step(c, x, output, mean);
  CHECK((mean == TestType(0)).all());
  const double beta = 1 - s.alpha_bars_double()(400) / s.alpha_bars_double()(390);
  const double beta_tilde = ddim::posterior_variance(s.alpha_bars_double()(400), s.alpha_bars_double()(390));
  const double rel = 8 * std::numeric_limits<TestType>::epsilon();
  CHECK_THAT(static_cast<double>(out(0)), WithinRel(std::sqrt(beta_tilde), rel));  // v = -7 acts as -1
  CHECK_THAT(static_cast<double>(out(1)), WithinRel(std::sqrt(beta), rel));
  CHECK(out(2) == out(1));  // v = 30 acts as +1
}

TEST_CASE("steps run on Eigen maps over raw buffers and on matrices", "[step]") {
  const auto& s = schedule<float>();
  const auto c = ddim::step_coefficients<float>(s.alpha_bars_double()(500), s.alpha_bars_double()(400),
                                                ddim::Options::ddim(0.0), false);
  float x_buffer[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  const float eps_buffer[8] = {0.5f, -0.5f, 0.25f, 0, 1, -1, 2, -2};
  Eigen::ArrayXf copy = Eigen::Map<Eigen::ArrayXf>(x_buffer, 8);
  Eigen::ArrayXf expected(8);
  ddim::step(c, copy, Eigen::Map<const Eigen::ArrayXf>(eps_buffer, 8), expected);
  ddim::step(c, Eigen::Map<Eigen::ArrayXf>(x_buffer, 8), Eigen::Map<const Eigen::ArrayXf>(eps_buffer, 8),
             Eigen::Map<Eigen::ArrayXf>(x_buffer, 8));
  CHECK((Eigen::Map<Eigen::ArrayXf>(x_buffer, 8) == expected).all());
  Eigen::MatrixXf matrix = Eigen::Map<Eigen::MatrixXf>(copy.data(), 4, 2);
  const Eigen::MatrixXf eps_matrix = Eigen::Map<const Eigen::MatrixXf>(eps_buffer, 4, 2);
  ddim::step(c, matrix.array(), eps_matrix.array(), matrix.array());
  CHECK((Eigen::Map<Eigen::ArrayXf>(matrix.data(), 8) == expected).all());
}

TEST_CASE("predicted_x0 is eq. 9 for epsilon-prediction", "[step]") {
  const auto& s = schedule<double>();
  const auto c = ddim::step_coefficients<double>(s.alpha_bars_double()(250), s.alpha_bars_double()(200),
                                                 ddim::Options::ddim(0.0), false);
  Eigen::ArrayXd x(3), eps(3), x0(3);
  x << 0.5, -1.0, 2.0;
  eps << 0.1, 0.2, -0.3;
  ddim::predicted_x0(c, x, eps, x0);
  const Eigen::ArrayXd expected = (x - s.sqrt_one_minus_alpha_bar(250) * eps) / s.sqrt_alpha_bar(250);
  CHECK((x0 - expected).abs().maxCoeff() < 1e-15);
}

TEMPLATE_TEST_CASE("contiguous and strided operands give the same step", "[step]", float, double) {
  // Contiguous arrays take the raw-memory kernel, views with a stride take Eigen's expression
  // path; both use one association order, so without fused multiply-add contraction (this
  // build's flags) they agree bit for bit.
  using Array = Eigen::Array<TestType, Eigen::Dynamic, Eigen::Dynamic>;
  const auto& s = schedule<TestType>();
  oracle::Normal normal(14);
  Array big_x(20, 6), big_m(20, 6), big_z(20, 6);
  normal.fill(big_x);
  normal.fill(big_m);
  normal.fill(big_z);
  for (const auto& config : configurations()) {
    if (config.options.clipping.kind == ddim::Clipping::Kind::dynamic_threshold) continue;
    if (config.options.method == ddim::Method::ddpm && config.options.variance == ddim::Variance::learned_range) continue;
    const auto c = ddim::step_coefficients<TestType>(s.alpha_bars_double()(600), s.alpha_bars_double()(560), config.options, false);
    const Array x = big_x.topRows(13), m = big_m.topRows(13), z = big_z.topRows(13);  // contiguous copies
    Array contiguous(13, 6), strided_out = Array::Zero(20, 6);
    ddim::step(c, x, m, z, contiguous);
    ddim::step(c, big_x.topRows(13), big_m.topRows(13), big_z.topRows(13), strided_out.topRows(13));  // outer stride 20
    INFO(describe(config.options));
    CHECK((strided_out.topRows(13) == contiguous).all());
  }
}

TEMPLATE_TEST_CASE("the step with generated noise equals the step with the noise tensor", "[step][noise]", float, double) {
  // The fused overload generates z in chunks of detail::kNoiseChunk values and consumes each at
  // once; it must equal step_noise's tensor fed to the ordinary step, bit for bit, for columns
  // shorter than a chunk, exactly a chunk, and crossing chunk boundaries, in place and out of
  // place, and into a view with an outer stride.
  using Array = Eigen::Array<TestType, Eigen::Dynamic, Eigen::Dynamic>;
  const auto& s = schedule<TestType>();
  const ddim::PhiloxNoise noise(2024, 3);
  oracle::Normal normal(21);
  for (const Eigen::Index rows : {Eigen::Index{1}, Eigen::Index{100}, ddim::detail::kNoiseChunk - 1, ddim::detail::kNoiseChunk,
                                  ddim::detail::kNoiseChunk + 1, 3 * ddim::detail::kNoiseChunk - 65}) {
    Array x(rows, 3), m(rows, 3), z(rows, 3);
    normal.fill(x);
    normal.fill(m);
    noise.step_noise(7, 140, z);
    for (const auto& options : {ddim::Options::ddim(0.5), ddim::Options::ddpm(ddim::Variance::fixed_large)}) {
      for (const auto& clipping : {ddim::Clipping::none(), ddim::Clipping::clip(1.0)}) {
        ddim::Options configured = options;
        configured.clipping = clipping;
        const auto c = ddim::step_coefficients<TestType>(s.alpha_bars_double()(160), s.alpha_bars_double()(140), configured, false);
        Array expected(rows, 3), generated(rows, 3), in_place = x, wide = Array::Zero(rows + 5, 3);
        ddim::step(c, x, m, z, expected);
        ddim::step(c, x, m, noise, 7, generated);
        ddim::step(c, in_place, m, noise, 7, in_place);
        ddim::step(c, x, m, noise, 7, wide.topRows(rows));
        INFO("rows " << rows << ", " << describe(configured));
        CHECK((generated == expected).all());
        CHECK((in_place == expected).all());
        CHECK((wide.topRows(rows) == expected).all());
      }
    }
  }
}

TEMPLATE_TEST_CASE("the raw kernel handles every tail length, in place and out of place", "[step][kernel]", float, double) {
  // detail::update_contiguous runs one loop for both cases (the loop is declared free of
  // iteration-to-iteration dependences, so it vectorizes without alias checks), with a vector
  // body and a tail that depend on n. Against the update written out per element: the two may
  // differ only where a compiler fuses a multiply-add in one and not the other, and each of the
  // at most four roundings of the sum then moves by at most half an ulp of the partial sum, so
  // |difference| <= 4 eps (|k0 x0| + |kx x| + |km m| + |sigma z|).
  using Vector = Eigen::Array<TestType, Eigen::Dynamic, 1>;
  const auto& s = schedule<TestType>();
  const TestType eps = std::numeric_limits<TestType>::epsilon();
  oracle::Normal normal(31);
  for (const bool clip : {false, true}) {
    ddim::Options options = ddim::Options::ddim(0.7);
    if (clip) options.clipping = ddim::Clipping::clip(0.5);
    const auto c = ddim::step_coefficients<TestType>(s.alpha_bars_double()(400), s.alpha_bars_double()(380), options, false);
    const auto k = ddim::detail::update_scalars(c);
    for (Eigen::Index n = 1; n <= 1100; n += (n < 80 ? 1 : 97)) {
      Vector x(n), m(n), z(n);
      normal.fill(x);
      normal.fill(m);
      normal.fill(z);
      const auto update = [&](const TestType* from, TestType* to) {
        return clip ? ddim::detail::update_contiguous<TestType, true, true>(n, from, m.data(), z.data(), to, k)
                    : ddim::detail::update_contiguous<TestType, false, true>(n, from, m.data(), z.data(), to, k);
      };
      Vector out = Vector::Zero(n), in_place = x;
      REQUIRE(update(x.data(), out.data()));
      REQUIRE(update(in_place.data(), in_place.data()));
      INFO("n " << n << ", clip " << clip);
      CHECK((in_place == out).all());
      int bad = 0;
      for (Eigen::Index i = 0; i < n; ++i) {
        const TestType x0 = std::clamp(k.ax * x(i) + k.am * m(i), -k.bound, k.bound);
        const TestType terms[] = {clip ? k.k0 * x0 : TestType(0), k.kx * x(i), k.km * m(i), k.sigma * z(i)};
        TestType expected = 0, magnitude = 0;
        for (const TestType term : terms) {
          expected += term;
          magnitude += std::fabs(term);
        }
        if (!(std::fabs(out(i) - expected) <= 4 * eps * magnitude)) ++bad;
      }
      CHECK(bad == 0);
    }
  }
}

TEST_CASE("the raw kernel refuses arrays that overlap other than exactly", "[step][kernel]") {
  // A partial overlap (x_prev shifted against x_t or the model output) would read values the
  // same pass has already overwritten: the kernel leaves those to Eigen's general path.
  const auto& s = schedule<float>();
  const auto k = ddim::detail::update_scalars(
      ddim::step_coefficients<float>(s.alpha_bars_double()(400), s.alpha_bars_double()(380), ddim::Options::ddim(0.0), false));
  std::vector<float> buffer(64, 0.5f), other(64, 0.25f);
  float* const base = buffer.data();
  const float* const m = other.data();
  CHECK(ddim::detail::update_contiguous<float, false, false>(32, base, m, nullptr, base, k));           // exactly in place
  CHECK(ddim::detail::update_contiguous<float, false, false>(32, base, m, nullptr, base + 32, k));      // disjoint
  CHECK_FALSE(ddim::detail::update_contiguous<float, false, false>(32, base, m, nullptr, base + 1, k));  // x ahead of out
  CHECK_FALSE(ddim::detail::update_contiguous<float, false, false>(32, base + 1, m, nullptr, base, k));  // out ahead of x
  CHECK_FALSE(ddim::detail::update_contiguous<float, false, false>(32, base, base + 8, nullptr, base + 16, k));  // m under out
  CHECK_FALSE(ddim::detail::update_contiguous<float, false, true>(32, base, m, base + 20, base, k));    // z under out
  CHECK(ddim::detail::update_contiguous<float, false, true>(32, base, m, base + 32, base, k));          // z beside out
}
