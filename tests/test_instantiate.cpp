// Explicit instantiation of every class template in float and double (each member function is
// then compiled, used or not), and one call of every function template on the tensor types users
// pass (Array, Matrix through .array(), Map, blocks). A compile-coverage test (Sophus's idiom) that
// also runs; and, being free of the test framework, the translation unit the static analysis
// (.ci/static-analysis, clang-tidy) reads.
#include <ddim/ddim.hpp>

#include <cstdio>
#include <exception>

template class ddim::NoiseSchedule<float>;
template class ddim::NoiseSchedule<double>;
template struct ddim::StepCoefficients<float>;
template struct ddim::StepCoefficients<double>;
template class ddim::SamplingPlan<float>;
template class ddim::SamplingPlan<double>;
template class ddim::Sampler<float>;
template class ddim::Sampler<double>;
template class ddim::TrajectoryRecorder<float>;
template class ddim::TrajectoryRecorder<double>;
template class ddim::GaussianMixture::Model<float>;
template class ddim::GaussianMixture::Model<double>;

namespace {

template <class Scalar>
int exercise() {
  using Tensor = Eigen::Array<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  using Vector = Eigen::Array<Scalar, Eigen::Dynamic, 1>;
  const auto schedule = ddim::NoiseSchedule<Scalar>::cosine(100);
  const auto steps = ddim::Timesteps::trailing(100, 5);
  const auto mixture = ddim::GaussianMixture::ring(3, 1.0, 0.3);
  auto model = mixture.model(schedule, ddim::Prediction::v);
  const ddim::PhiloxNoise noise(1);

  // the loop, observed and not, deterministic and stochastic; inversion; reconstruction
  Tensor x = ddim::gaussian<Scalar>(2, 4, 1);
  ddim::TrajectoryRecorder<Scalar> recorder;
  ddim::Options options = ddim::Options::ddim(0.5);
  options.prediction = ddim::Prediction::v;
  ddim::sample(schedule, steps, options, x, model, noise, recorder);
  ddim::Sampler<Scalar> sampler(schedule, steps, ddim::Options::ddpm(ddim::Variance::fixed_large));
  sampler.set_parallelism({2, 1, 1});
  Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> matrix = x.matrix();
  sampler.sample(matrix, [](const auto& x_t, int, ddim::ModelOutput<Scalar>& out) { out = x_t.array() * Scalar(0.1); }, noise);
  ddim::Options deterministic;
  deterministic.prediction = ddim::Prediction::v;
  ddim::invert(schedule, steps, deterministic, ddim::ModelTime::destination, x, model);
  const double error = ddim::reconstruction_error(schedule, steps, deterministic, ddim::ModelTime::source, x, model);

  // the step family on several tensor kinds
  const auto c = ddim::step_coefficients(schedule, steps, 1, ddim::Options::ddim(1.0));
  Vector v = ddim::gaussian<Scalar>(10, 2), m = ddim::gaussian<Scalar>(10, 3), z = ddim::gaussian<Scalar>(10, 4), scratch(10);
  Scalar buffer[10] = {};
  ddim::step(c, v, m, z, v);
  ddim::step(c, v, m, Eigen::Map<Vector>(buffer, 10));
  ddim::step(c, v, m, noise, 2, v);
  ddim::predicted_x0(c, v, m, Eigen::Map<Vector>(buffer, 10));
  ddim::Options thresholded = ddim::Options::ddim(0.0);
  thresholded.clipping = ddim::Clipping::dynamic_threshold();
  const auto t = ddim::step_coefficients(schedule, steps, 1, thresholded);
  ddim::step_thresholded(t, v, m, z, v, scratch);
  ddim::predicted_x0_thresholded(t, v, m, Eigen::Map<Vector>(buffer, 10), scratch);
  ddim::add_noise(schedule, 3, v, z, m);
  ddim::velocity(schedule, 3, v, z, m);
  ddim::forward_process_step(0.5, 0.6, 0.1, v, m, z, v);
  const Vector converted = ddim::convert_prediction(ddim::Prediction::v, ddim::Prediction::epsilon, 0.5, v, m);
  const Tensor path = ddim::slerp_path(v, m, 3);
  const Tensor straight = ddim::linear_path(v, m, 3);
  const Tensor truth = mixture.sample<Scalar>(5, 2);
  return (x.allFinite() && v.allFinite() && converted.allFinite() && path.allFinite() && straight.allFinite() &&
          truth.allFinite() && error >= 0.0 && recorder.size() == 5)
             ? 0
             : 1;
}

}  // namespace

int main() {
  try {
    const int failures = exercise<float>() + exercise<double>();
    std::printf("test_instantiate: %s\n", failures == 0 ? "every template instantiated and ran" : "FAILED");
    return failures;
  } catch (const std::exception& error) {
    std::printf("test_instantiate: unexpected exception: %s\n", error.what());
    return 1;
  }
}
