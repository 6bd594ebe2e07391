// inversion: DDIM's deterministic encoder. Encodes samples of a 2-D Gaussian mixture to latents x_T
// (ddim::invert), decodes them again (ddim::sample) and prints the reconstruction error against the
// number of steps S, for both places the encoder can evaluate the model: the step's source (the
// paper's ODE) and its destination (diffusers' DDIMInverseScheduler). The error is the sampler's
// discretisation alone, since the model is exact: it falls as S grows (the paper's table 2).
#include <ddim/ddim.hpp>

#include <cstdio>

int main() {
  const auto mixture = ddim::GaussianMixture::ring(8, 4.0, 0.25);
  const auto schedule = ddim::NoiseSchedule<double>::linear(1000, 1e-4, 0.02);
  auto model = mixture.model(schedule);
  const Eigen::ArrayXXd x0 = mixture.sample<double>(1000, 3);  // data to encode, one column each

  std::printf("inversion: decode(encode(x0)) for 1000 samples of the 8-Gaussian ring\n");
  std::printf("%6s  %22s  %22s\n", "S", "MSE (model at source)", "MSE (at destination)");
  double first = 0, last = 0;
  for (int num_steps : {10, 20, 50, 100, 200, 500, 1000}) {
    const auto steps = ddim::Timesteps::uniform(1000, num_steps);
    const double source = ddim::reconstruction_error(schedule, steps, ddim::Options{}, ddim::ModelTime::source, x0, model);
    const double destination =
        ddim::reconstruction_error(schedule, steps, ddim::Options{}, ddim::ModelTime::destination, x0, model);
    std::printf("%6d  %22.3e  %22.3e\n", num_steps, source, destination);
    if (num_steps == 10) first = source;
    last = source;
  }
  // the latent itself: encode once more and look at it
  Eigen::ArrayXXd latent = x0;
  ddim::invert(schedule, ddim::Timesteps::uniform(1000, 100), ddim::Options{}, ddim::ModelTime::source, latent, model);
  const double mean = latent.mean(), variance = (latent - mean).square().mean();
  std::printf("latents x_T (S = 100): mean %.3f, variance %.3f (a standard normal has 0 and 1)\n", mean, variance);
  return last < first ? 0 : 1;
}
