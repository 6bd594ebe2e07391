// external_buffer: sampling memory you already own. An inference engine (LibTorch, ONNX Runtime,
// TensorRT) hands out raw float buffers; wrap them in Eigen::Map and ddim samples them in place,
// without a copy, calling your network on the same memory. Here the "network" reads the latents
// through a raw pointer too, as an engine binding would, and writes its prediction into the
// output buffer ddim provides.
#include <ddim/ddim.hpp>

#include <cmath>
#include <cstdio>
#include <vector>

namespace {

// Stand-in for an engine call: consumes `count` floats at `input`, writes `count` floats at
// `output`. It predicts eps for data concentrated around 1.5 (the closed form for Gaussian data
// N(1.5, 0.5^2)), so the result is easy to check.
void engine_run(const float* input, float* output, long count, float alpha_bar) {
  const float mean = 1.5f, variance = 0.25f;
  for (long i = 0; i < count; ++i) {
    output[i] = std::sqrt(1 - alpha_bar) * (input[i] - std::sqrt(alpha_bar) * mean) / (alpha_bar * variance + 1 - alpha_bar);
  }
}

}  // namespace

int main() {
  const long rows = 64, batch = 4;             // e.g. a flattened latent per sample, 4 samples
  std::vector<float> engine_memory(static_cast<std::size_t>(rows * batch));  // owned by "the engine"

  const auto schedule = ddim::NoiseSchedule<float>::scaled_linear(1000);  // Stable Diffusion's betas
  const auto steps = ddim::Timesteps::trailing(1000, 50);
  Eigen::Map<Eigen::ArrayXXf> x(engine_memory.data(), rows, batch);  // a view, no copy
  ddim::PhiloxNoise(42).initial_latent(x);                           // x_T written into engine memory

  const float* seen = nullptr;
  ddim::sample(schedule, steps, ddim::Options{}, x,
               [&](const Eigen::Map<Eigen::ArrayXXf>& x_t, int t, ddim::ModelOutput<float>& eps) {
                 seen = x_t.data();
                 engine_run(x_t.data(), eps.data(), x_t.size(), schedule.alpha_bar(t));
               });

  const float mean = x.mean();
  const float spread = std::sqrt((x - mean).square().mean());
  std::printf("external_buffer: sampled %ld x %ld floats in place at %p (the model saw %p)\n", rows, batch,
              static_cast<const void*>(engine_memory.data()), static_cast<const void*>(seen));
  std::printf("  sample mean %.4f (data mean 1.5), spread %.4f (data spread 0.5)\n", mean, spread);
  const bool ok = seen == engine_memory.data() && std::abs(mean - 1.5f) < 0.05f && std::abs(spread - 0.5f) < 0.05f;
  std::printf("  %s\n", ok ? "ok" : "MISMATCH");
  return ok ? 0 : 1;
}
