// torch_seed: the same seed gives the same result as a PyTorch/diffusers pipeline.
//
// Reproduces, seed for seed, two loops from diffusers' own scheduler tests, whose expected values
// diffusers asserts (to 1e-2 on the sum of |x|):
//   * DDPMScheduler, 1000 steps, noise from torch.manual_seed(0):         sum |x| = 258.9606
//   * DDIMScheduler, 10 steps, eta = 0.5, torch.Generator().manual_seed(0): sum |x| = 238.7260
// Their "model" is x * t / (t + 1) and their x_T a fixed tensor of shape (4, 3, 8, 8), so no
// network is needed; what must match is the noise: the same numbers (TorchCpuNoise reproduces
// torch.randn on CPU bit for bit) drawn in the same order as the Python schedulers draw them.
// A real pipeline would also draw x_T from the generator: noise.initial_latent(x), shown last.
#include <ddim/ddim.hpp>

#include <cmath>
#include <cstdio>
#include <vector>

namespace {

using Batch = Eigen::ArrayXXf;  // one column per batch element: (4, 3, 8, 8) -> 192 x 4

// diffusers' test sample: element (b, c, h, w) = (256 c + 32 h + 4 w + b) / 768, stored in
// torch's row-major (B, C, H, W) order, which is this array's column-major order.
Batch test_sample() {
  Batch x(3 * 8 * 8, 4);
  for (int b = 0; b < 4; ++b)
    for (int c = 0; c < 3; ++c)
      for (int h = 0; h < 8; ++h)
        for (int w = 0; w < 8; ++w) {
          x(((c * 8) + h) * 8 + w, b) = static_cast<float>(256 * c + 32 * h + 4 * w + b) / 768.0f;
        }
  return x;
}

// diffusers' test model, written like their dummy_model: x * t / (t + 1).
void test_model(const Batch& x_t, int t, ddim::ModelOutput<float>& eps) {
  eps = (x_t * static_cast<float>(t)) / static_cast<float>(t + 1);
}

bool report(const char* what, double sum, double expected) {
  const bool ok = std::abs(sum - expected) < 1e-2;
  std::printf("  %-52s sum |x| = %9.4f   diffusers: %9.4f   %s\n", what, sum, expected, ok ? "ok" : "MISMATCH");
  return ok;
}

}  // namespace

int main() {
  const auto schedule = ddim::NoiseSchedule<float>::linear(1000, 1e-4f, 0.02f);
  std::printf("torch_seed: diffusers' scheduler tests, seed for seed\n");
  bool ok = true;

  {  // DDPMScheduler without set_timesteps: t = 999, 998, ..., 0; noise where t > 0
    std::vector<int> all_timesteps;
    for (int t = 999; t >= 0; --t) all_timesteps.push_back(t);
    ddim::Options options = ddim::Options::ddpm(ddim::Variance::fixed_small);
    options.clipping = ddim::Clipping::clip(1.0);
    Batch x = test_sample();
    ddim::TorchCpuNoise noise(0);  // torch.manual_seed(0), PyTorch's AVX2 CPU kernel
    ddim::sample(schedule, ddim::Timesteps::custom(1000, all_timesteps), options, x, test_model, noise);
    ok = report("DDPM, 1000 steps, torch.manual_seed(0)", x.cast<double>().abs().sum(), 258.9606) && ok;
  }

  {  // DDIMScheduler, set_timesteps(10) (leading: 900, 800, ..., 0), eta = 0.5; it draws at every
     // step, also the last one where sigma = 0 (ddim skips that draw without using it)
    ddim::Options options = ddim::Options::ddim(0.5);
    options.clipping = ddim::Clipping::clip(1.0);
    Batch x = test_sample();
    ddim::TorchCpuNoise noise(0);
    ddim::sample(schedule, ddim::Timesteps::leading(1000, 10), options, x, test_model, noise);
    ok = report("DDIM eta 0.5, 10 steps, Generator().manual_seed(0)", x.cast<double>().abs().sum(), 238.7260) && ok;
  }

  {  // A pipeline's x_T: torch.randn((1, 4, 8, 8), generator=torch.manual_seed(0))
    Eigen::ArrayXXf x_T(4 * 8 * 8, 1);
    ddim::TorchCpuNoise noise(0);
    noise.initial_latent(x_T);
    std::printf("  x_T[0, 0, 0, :3] = %.4f %.4f %.4f (PyTorch prints -1.1258, -1.1524, -0.2506)\n", x_T(0, 0),
                x_T(1, 0), x_T(2, 0));
  }
  return ok ? 0 : 1;
}
