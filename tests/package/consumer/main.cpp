// A consumer's sampler: includes ddim through the target it was given, samples, checks.
#include <ddim/ddim.hpp>

#include <cstdio>

#if DDIM_CONSUMER_OWN_FLAG != 1
#error "the parent project's own compile flag did not reach this file"
#endif

int main() {
  const auto schedule = ddim::NoiseSchedule<float>::linear(1000);
  const auto steps = ddim::Timesteps::leading(1000, 20);
  const auto mixture = ddim::GaussianMixture::ring(4, 2.0, 0.2);
  auto model = mixture.model(schedule);
  Eigen::ArrayXXf x = ddim::gaussian<float>(2, 200, 1);
  const auto result = ddim::sample(schedule, steps, ddim::Options{}, x, model);
  const float radius = x.matrix().colwise().norm().mean();
  std::printf("consumer: ddim %s, %d steps, mean radius %.3f (modes at 2)\n", DDIM_VERSION_STRING, result.steps_taken,
              static_cast<double>(radius));
  return result.steps_taken == 20 && radius > 1.8f && radius < 2.2f ? 0 : 1;
}
