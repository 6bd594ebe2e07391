// quick_start: the README's example, verbatim (tests/readme_snippets.cmake checks that every C++
// block of README.md appears between a pair of "// [readme]" lines in examples/, so the README's
// code is built with the project and never typed twice).
//
// A schedule, 50 of its 1000 timesteps, a model, x_T, then deterministic DDIM and its stochastic
// version (eta = 1, which is DDPM) from the same x_T. The model is the exact noise predictor of a
// ring of 8 Gaussians (radius 4), so both samplers should put their samples at distance ~4 from
// the origin; the program prints that distance.
// [readme]
#include <ddim/ddim.hpp>
#include <cstdio>

int main() {
  const auto schedule = ddim::NoiseSchedule<float>::linear(1000);  // DDPM's betas, T = 1000
  const auto steps = ddim::Timesteps::trailing(1000, 50);          // 50 sampling steps
  const auto data = ddim::GaussianMixture::ring(8, 4.0, 0.25);     // 8 Gaussians on a circle, radius 4
  auto exact = data.model(schedule);                               // their exact noise predictor
  auto model = [&](const Eigen::ArrayXXf& x_t, int t, ddim::ModelOutput<float>& eps) {
    exact(x_t, t, eps);  // your network goes here: eps = net(x_t, t), one column per sample
  };
  Eigen::ArrayXXf x = ddim::gaussian<float>(2, 1000, /*seed=*/42), y = x;  // x_T: 1000 samples in 2-D
  ddim::sample(schedule, steps, ddim::Options::ddim(0.0), x, model);  // deterministic DDIM
  ddim::sample(schedule, steps, ddim::Options::ddim(1.0), y, model, ddim::PhiloxNoise(7));  // eta 1: DDPM
  std::printf("mean distance from the origin (modes at 4): DDIM %.3f, DDPM %.3f\n",
              x.matrix().colwise().norm().mean(), y.matrix().colwise().norm().mean());
}
// [readme]
