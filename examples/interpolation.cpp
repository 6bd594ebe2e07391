// interpolation: decodes paths between two latents x_T (the paper's section 5.3). In d dimensions
// a Gaussian latent has norm close to sqrt(d); spherical interpolation keeps every point of the
// path at that norm, so each decodes to a typical sample, while the straight line shrinks the
// middle latents to norm ~ sqrt(d / 2) and decodes them to atypical, "too smooth" samples (the
// blurry middle images of linear interpolation in image models).
//
// Data: 8 Gaussians on a ring in the first two of 32 coordinates (sigma 0.25 in every coordinate).
// Typicality of a decoded point: its distance to the nearest mode divided by sigma sqrt(32), which
// is about 1 for a sample of the data. Prints it along both paths and plots the first two
// coordinates of both decoded paths.
//
// usage: interpolation [output directory]     (default: ./ddim_example_output)
#include <ddim/ddim.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "support/plot.hpp"

namespace {

constexpr int kDimension = 32;
constexpr double kStddev = 0.25;

// distance to the nearest mode in units of sigma sqrt(d): ~1 for typical samples
double typicality(const ddim::GaussianMixture& mixture, const Eigen::ArrayXd& x) {
  return std::sqrt((mixture.means().colwise() - x.matrix()).colwise().squaredNorm().minCoeff()) /
         (kStddev * std::sqrt(static_cast<double>(kDimension)));
}

}  // namespace

int main(int argc, char** argv) {
  const std::filesystem::path output = argc > 1 ? argv[1] : "ddim_example_output";
  std::filesystem::create_directories(output);
  const auto mixture = ddim::GaussianMixture::ring(8, 4.0, kStddev, kDimension);
  const auto schedule = ddim::NoiseSchedule<double>::linear(1000, 1e-4, 0.02);
  const auto steps = ddim::Timesteps::uniform(1000, 50);
  auto model = mixture.model(schedule);

  const Eigen::ArrayXd a = ddim::gaussian<double>(kDimension, 11), b = ddim::gaussian<double>(kDimension, 12);
  const int points = 11;
  Eigen::ArrayXXd spherical = ddim::slerp_path(a, b, points);  // one column per point: one batch
  Eigen::ArrayXXd straight = ddim::linear_path(a, b, points);
  std::printf("interpolation: %d points between two latents in %d dimensions, decoded with %d DDIM steps\n", points,
              kDimension, steps.num_steps());
  std::printf("  latent norms: |a| = %.2f, |b| = %.2f (sqrt(d) = %.2f), middle of the straight line %.2f\n",
              a.matrix().norm(), b.matrix().norm(), std::sqrt(double(kDimension)), straight.col(points / 2).matrix().norm());
  ddim::sample(schedule, steps, ddim::Options{}, spherical, model);
  ddim::sample(schedule, steps, ddim::Options{}, straight, model);

  std::printf("  typicality along the path (1 = like a data sample):\n  %-7s", "w");
  for (int i = 0; i < points; ++i) std::printf(" %5.2f", static_cast<double>(i) / (points - 1));
  double slerp_low = 1e9, slerp_high = 0, linear_low = 1e9;
  for (const auto& [path, name] : {std::pair{&spherical, "slerp"}, std::pair{&straight, "linear"}}) {
    std::printf("\n  %-7s", name);
    for (int i = 0; i < points; ++i) {
      const double value = typicality(mixture, path->col(i));
      std::printf(" %5.2f", value);
      if (path == &spherical) {
        slerp_low = std::min(slerp_low, value);
        slerp_high = std::max(slerp_high, value);
      } else {
        linear_low = std::min(linear_low, value);
      }
    }
  }
  std::printf("\n");

  plot::Canvas canvas(480, 480, -6.0, 6.0, -6.0, 6.0);
  canvas.axes();
  for (Eigen::Index k = 0; k < mixture.num_components(); ++k) {
    canvas.circle(mixture.means()(0, k), mixture.means()(1, k), 3 * kStddev, plot::grey);
  }
  for (const auto& [path, color] : {std::pair{&spherical, plot::blue}, std::pair{&straight, plot::orange}}) {
    for (Eigen::Index i = 0; i < points; ++i) {
      if (i > 0) canvas.line((*path)(0, i - 1), (*path)(1, i - 1), (*path)(0, i), (*path)(1, i), color, 0.8);
      canvas.point((*path)(0, i), (*path)(1, i), color, 3.0, 0.9);
    }
  }
  const auto file = output / "interpolation.png";
  canvas.save(file.string());
  std::printf("  plot of the first two coordinates (slerp blue, linear orange): %s\n", file.string().c_str());
  // slerp stays typical along the whole path; the straight line dips below it in the middle
  return slerp_low > 0.8 && slerp_high < 1.25 && linear_low < slerp_low ? 0 : 1;
}
