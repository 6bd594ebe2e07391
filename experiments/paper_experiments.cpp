// paper_experiments: re-runs the sampler experiments of the DDIM paper's section 5 on Gaussian
// mixture data with the exact noise prediction, so that the only error measured is the samplers'
// own discretisation:
//   - table 1: the distance (MMD^2 against the exact mixture) between sampled and true
//     distributions for eta = 0, 0.2, 0.5, 1 and DDPM's sigma-hat, S = 10 ... 1000 steps;
//   - consistency (figures 4-5): one x_T decoded by DDIM with S = 10 ... 1000;
//   - table 2: the reconstruction error of decode(encode(x0)) for S = 10 ... 1000;
//   - interpolation (section 5.3): decoded slerp and straight-line paths between latents.
// Prints Markdown tables on stdout and writes PNG plots. docs/experiments.md shows and discusses
// the output; its regeneration command is
//   build/release/experiments/paper_experiments --output docs/images
//
// usage: paper_experiments [--dimensions 2,16] [--samples 2500] [--replicas 8] [--seed 1]
//                          [--output DIR] [--quick]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "paper_experiments.hpp"
#include "support/plot.hpp"

namespace {

using ddim_experiments::Estimate;
using ddim_experiments::Index;

struct Settings {
  std::vector<int> dimensions{2, 16};
  Index samples = 2500;
  int replicas = 8;
  std::uint64_t seed = 1;
  std::filesystem::path output = "paper_experiments_output";
  bool quick = false;
  // the other experiments' sizes (--quick shrinks them)
  Index consistency_samples = 2000;
  Index reconstruction_samples = 1000;
  int interpolation_pairs = 64;
};

void usage(std::FILE* to) {
  std::fprintf(to,
               "usage: paper_experiments [options]\n"
               "  --dimensions LIST  comma-separated data dimensions, each >= 2 (default 2,16)\n"
               "  --samples N        table 1: samples per replica (default 2500)\n"
               "  --replicas R       table 1: independent replicas, >= 2 (default 8)\n"
               "  --seed S           base seed of every random stream (default 1)\n"
               "  --output DIR       where the PNG plots go (default paper_experiments_output)\n"
               "  --quick            a small configuration for a smoke run: 500 samples x 4 replicas,\n"
               "                     smaller consistency, reconstruction and interpolation sets\n"
               "Prints Markdown tables on stdout.\n");
}

Settings parse(int argc, char** argv) {
  Settings settings;
  bool samples_given = false, replicas_given = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      usage(stdout);
      std::exit(0);
    } else if (arg == "--dimensions") {
      settings.dimensions.clear();
      std::stringstream list(value());
      for (std::string item; std::getline(list, item, ',');) settings.dimensions.push_back(std::stoi(item));
    } else if (arg == "--samples") {
      settings.samples = std::stol(value());
      samples_given = true;
    } else if (arg == "--replicas") {
      settings.replicas = std::stoi(value());
      replicas_given = true;
    } else if (arg == "--seed") {
      settings.seed = std::stoull(value());
    } else if (arg == "--output") {
      settings.output = value();
    } else if (arg == "--quick") {
      settings.quick = true;
    } else {
      throw std::invalid_argument("unknown option " + arg);
    }
  }
  if (settings.quick) {
    if (!samples_given) settings.samples = 500;
    if (!replicas_given) settings.replicas = 4;
    settings.consistency_samples = 300;
    settings.reconstruction_samples = 200;
    settings.interpolation_pairs = 16;
  }
  if (settings.dimensions.empty()) throw std::invalid_argument("--dimensions: no dimension given");
  for (int d : settings.dimensions) {
    if (d < 2) throw std::invalid_argument("--dimensions: every dimension must be >= 2");
  }
  if (settings.samples < 2) throw std::invalid_argument("--samples must be >= 2");
  if (settings.replicas < 2) throw std::invalid_argument("--replicas must be >= 2 (standard errors need two)");
  return settings;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string format(const char* pattern, double a) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, pattern, a);
  return buffer;
}

std::string format(const char* pattern, double a, double b) {
  char buffer[96];
  std::snprintf(buffer, sizeof buffer, pattern, a, b);
  return buffer;
}

// A sampler's name in the Markdown tables ("eta = 0.2" -> "η = 0.2", "sigma-hat" -> "σ̂").
std::string pretty(const std::string& name) {
  if (name == "sigma-hat") return "σ̂";
  if (name.rfind("eta", 0) == 0) return "η" + name.substr(3);
  return name;
}

// A sampler's label in the plots, whose font has no Greek ("eta = 0.2" -> "eta 0.2").
std::string ascii_label(const std::string& name) {
  if (name.rfind("eta = ", 0) == 0) return "eta " + name.substr(6);
  return name;
}

plot::Color sampler_color(std::size_t index) {
  static const plot::Color colors[] = {plot::blue, plot::green, plot::orange, plot::red, plot::purple};
  return colors[index % 5];
}

void print_header_row(const std::vector<int>& steps) {
  std::printf("| sampler |");
  for (int s : steps) std::printf(" S = %d |", s);
  std::printf("\n|---|");
  for (std::size_t k = 0; k < steps.size(); ++k) std::printf("---:|");
  std::printf("\n");
}

// ---------------------------------------------------------------------------------------------
// Table 1

void print_quality(const ddim_experiments::QualityTable& table, const std::vector<std::vector<double>>& radius,
                   double exact_radius, double seconds) {
  const auto replicas = static_cast<int>(table.floor.size());
  std::printf("### Table 1 analogue: MMD² to the exact distribution (×10⁻³), mean ± standard error\n\n");
  std::printf("%ld samples per estimate, %d independent replicas; lower is better; exact samples score 0 in "
              "expectation.\n\n",
              static_cast<long>(table.samples), replicas);
  print_header_row(table.steps);
  for (std::size_t i = 0; i < table.samplers.size(); ++i) {
    std::printf("| %s |", pretty(table.samplers[i]).c_str());
    for (std::size_t k = 0; k < table.steps.size(); ++k) {
      const Estimate e = table.cell(i, k);
      std::printf(" %s |", format("%.2f ± %.2f", 1e3 * e.mean, 1e3 * e.standard_error).c_str());
    }
    std::printf("\n");
  }
  const Estimate floor = table.floor_estimate();
  std::printf("\nNoise floor (the same estimate for exact samples of the mixture): %s ×10⁻³; one replica's "
              "estimate scatters by ± %.2f ×10⁻³.\n\n",
              format("%.2f ± %.2f", 1e3 * floor.mean, 1e3 * floor.standard_error).c_str(),
              1e3 * floor.standard_error * std::sqrt(static_cast<double>(replicas)));

  std::printf("Distance above the noise floor in standard errors, z = (cell − floor) / SE of the per-replica "
              "difference (|z| < 3: not distinguishable from exact sampling at this sample size):\n\n");
  print_header_row(table.steps);
  for (std::size_t i = 0; i < table.samplers.size(); ++i) {
    std::printf("| %s |", pretty(table.samplers[i]).c_str());
    for (std::size_t k = 0; k < table.steps.size(); ++k) {
      std::vector<double> differences;
      for (std::size_t r = 0; r < table.floor.size(); ++r) differences.push_back(table.distances[i][k][r] - table.floor[r]);
      const Estimate e = ddim_experiments::estimate(differences);
      std::printf(" %.1f |", e.mean / e.standard_error);
    }
    std::printf("\n");
  }

  std::printf("\nPaired comparisons (the same latents and noise in every replica), Δ in ×10⁻³:\n\n");
  std::printf("| comparison | S | Δ | z = Δ / SE |\n|---|---:|---:|---:|\n");
  const auto claim = [&](const std::string& what, std::size_t a, std::size_t ka, std::size_t b, std::size_t kb,
                         const std::string& steps) {
    const Estimate e = table.difference(a, ka, b, kb);
    std::printf("| %s | %s | %s | %.1f |\n", what.c_str(), steps.c_str(),
                format("%.2f ± %.2f", 1e3 * e.mean, 1e3 * e.standard_error).c_str(), e.mean / e.standard_error);
  };
  const std::size_t eta0 = 0, eta1 = 3, sigma_hat = 4;
  for (std::size_t k = 0; k < table.steps.size(); ++k) {
    claim("η = 1 minus η = 0", eta1, k, eta0, k, std::to_string(table.steps[k]));
  }
  for (std::size_t k = 0; k + 1 < table.steps.size(); ++k) {
    claim("η = 0: S minus the next S", eta0, k, eta0, k + 1,
          std::to_string(table.steps[k]) + " → " + std::to_string(table.steps[k + 1]));
  }
  for (std::size_t k = 0; k < table.steps.size(); ++k) {
    claim("σ̂ minus η = 1", sigma_hat, k, eta1, k, std::to_string(table.steps[k]));
  }

  std::printf("\nWhat the errors are: the median normalised radius of the samples around their most probable "
              "component, averaged over the replicas (%.3f for exact samples; smaller: samples concentrated too "
              "close to the modes' centres, larger: samples too spread or between the modes):\n\n",
              exact_radius);
  print_header_row(table.steps);
  for (std::size_t i = 0; i < table.samplers.size(); ++i) {
    std::printf("| %s |", pretty(table.samplers[i]).c_str());
    for (std::size_t k = 0; k < table.steps.size(); ++k) std::printf(" %.3f |", radius[i][k]);
    std::printf("\n");
  }
  std::printf("\n(computed in %.0f s)\n\n", seconds);
}

void plot_quality(const ddim_experiments::QualityTable& table, int dimension, const std::filesystem::path& file) {
  // values below twice the floor's standard error cannot be told from 0: drawn on that line
  const double noise_level = 2.0 * table.floor_estimate().standard_error;
  double largest = noise_level;
  for (std::size_t i = 0; i < table.samplers.size(); ++i)
    for (std::size_t k = 0; k < table.steps.size(); ++k) largest = std::max(largest, table.cell(i, k).mean);
  const double y_min = std::pow(10.0, std::floor(std::log10(noise_level * 0.9)));
  const double y_max = std::pow(10.0, std::ceil(std::log10(largest)));
  plot::Chart chart(480, 320, plot::Axis{7.0, 1400.0, true}, plot::Axis{y_min, y_max, true});
  for (int s : table.steps) chart.x_tick(s, std::to_string(s));
  for (double y = y_min; y <= y_max * 1.001; y *= 10.0) chart.y_tick(y, format("1e%.0f", std::log10(y)));
  chart.horizontal(noise_level, plot::black);
  const std::vector<double> xs(table.steps.begin(), table.steps.end());
  std::vector<plot::Chart::Entry> legend;
  for (std::size_t i = 0; i < table.samplers.size(); ++i) {
    std::vector<double> ys;
    for (std::size_t k = 0; k < table.steps.size(); ++k) {
      const Estimate e = table.cell(i, k);
      ys.push_back(std::max(e.mean, noise_level));
      chart.error_bar(table.steps[k], std::max(e.mean - e.standard_error, noise_level),
                      std::max(e.mean + e.standard_error, noise_level), sampler_color(i));
    }
    chart.series(xs, ys, sampler_color(i));
    legend.push_back({ascii_label(table.samplers[i]), sampler_color(i), false});
  }
  legend.push_back({"2 SE of floor", plot::black, true});
  chart.legend(legend);
  chart.x_title("S");
  chart.y_title("MMD2  d=" + std::to_string(dimension));
  chart.save(file.string());
}

// Scatter plots of the first two coordinates: exact samples, then every sampler, one row per step
// count. The grey circles have the radius 2 sqrt(mean variance) of each component.
void plot_scatter(const ddim::GaussianMixture& mixture, const Eigen::ArrayXXd& exact,
                  const std::vector<std::vector<Eigen::ArrayXXd>>& samples, const std::vector<std::string>& names,
                  const std::vector<int>& steps, const std::filesystem::path& file) {
  const int panel = 160;
  const auto columns = static_cast<int>(names.size()) + 1, rows = static_cast<int>(steps.size());
  const double half = 1.6;  // each panel shows [-1.6, 1.6]^2
  plot::Canvas canvas(panel * columns, panel * rows, 0.0, 2 * half * columns, -2 * half * rows, 0.0);
  const Index shown = std::min<Index>(exact.cols(), 1500);
  for (int row = 0; row < rows; ++row) {
    for (int column = 0; column < columns; ++column) {
      const double cx = 2 * half * column + half, cy = -2 * half * row - half;
      const auto c = static_cast<std::size_t>(std::max(column - 1, 0)), r = static_cast<std::size_t>(row);
      const Eigen::ArrayXXd& x = column == 0 ? exact : samples[c][r];
      for (Index k = 0; k < mixture.num_components(); ++k) {
        canvas.circle(cx + mixture.means()(0, k), cy + mixture.means()(1, k),
                      2 * std::sqrt(mixture.variances().col(k).head(2).mean()), plot::grey);
      }
      const plot::Color color = column == 0 ? plot::black : sampler_color(c);
      for (Index j = 0; j < std::min(shown, x.cols()); ++j) canvas.point(cx + x(0, j), cy + x(1, j), color, 1.0, 0.35);
      const std::string label = column == 0 ? std::string("exact") : ascii_label(names[c]) + " S=" + std::to_string(steps[r]);
      canvas.text(2 * half * column + 0.06, -2 * half * row - 0.06, label, plot::black);
      canvas.line(2 * half * column, -2 * half * rows, 2 * half * column, 0.0, plot::grey);
    }
    canvas.line(0.0, -2 * half * row, 2 * half * columns, -2 * half * row, plot::grey);
  }
  canvas.save(file.string());
}

// ---------------------------------------------------------------------------------------------
// Consistency, table 2, interpolation

void print_consistency(const ddim_experiments::ConsistencyResult& result, Index samples, double seconds) {
  const int reference = result.steps.back();
  std::printf("### Consistency (figures 4-5): one x_T decoded by DDIM (η = 0) with different S\n\n");
  std::printf("%ld latents; distances to the decoding of the same latent with S = %d.\n\n", static_cast<long>(samples),
              reference);
  std::printf("| S | mean ‖x₀(S) − x₀(%d)‖ | same component as S = %d |\n|---:|---:|---:|\n", reference, reference);
  for (std::size_t k = 0; k < result.steps.size(); ++k) {
    std::printf("| %d | %s | %.1f%% |\n", result.steps[k],
                format("%.4f ± %.4f", result.distance[k].mean, result.distance[k].standard_error).c_str(),
                100.0 * result.same_component[k]);
  }
  std::printf("\nFor scale: two independent exact samples are %s apart on average.\n\n(computed in %.0f s)\n\n",
              format("%.3f ± %.3f", result.independent_distance.mean, result.independent_distance.standard_error).c_str(),
              seconds);
}

void print_reconstruction(const ddim_experiments::ReconstructionResult& result, Index samples, double seconds) {
  std::printf("### Table 2 analogue: reconstruction error of decode(encode(x₀)), DDIM (η = 0)\n\n");
  std::printf("Per-element mean squared error over %ld exact samples (mean ± standard error, and the median); "
              "\"switched\": reconstructions whose most probable component differs from the original's. "
              "Source: the encoder evaluates the model at each step's start (the paper's ODE, eq. 14, run "
              "backwards); destination: at its end (diffusers' DDIMInverseScheduler).\n\n",
              static_cast<long>(samples));
  std::printf("| S | source: mean | median | switched | destination: mean | median | switched |\n"
              "|---:|---:|---:|---:|---:|---:|---:|\n");
  for (std::size_t k = 0; k < result.steps.size(); ++k) {
    const auto& s = result.source[k];
    const auto& d = result.destination[k];
    std::printf("| %d | %s | %.1e | %d | %s | %.1e | %d |\n", result.steps[k],
                format("%.2e ± %.1e", s.mean.mean, s.mean.standard_error).c_str(), s.median, s.switched,
                format("%.2e ± %.1e", d.mean.mean, d.mean.standard_error).c_str(), d.median, d.switched);
  }
  std::printf("\n(computed in %.0f s)\n\n", seconds);
}

void plot_reconstruction(const ddim_experiments::ReconstructionResult& result, int dimension,
                         const std::filesystem::path& file) {
  double low = HUGE_VAL, high = 0.0;
  for (const auto* errors : {&result.source, &result.destination}) {
    for (const auto& e : *errors) {
      low = std::min({low, e.median, e.mean.mean});
      high = std::max(high, e.mean.mean + e.mean.standard_error);
    }
  }
  const double y_min = std::pow(10.0, std::floor(std::log10(low))), y_max = std::pow(10.0, std::ceil(std::log10(high)));
  plot::Chart chart(480, 320, plot::Axis{7.0, 1400.0, true}, plot::Axis{y_min, y_max, true});
  for (int s : result.steps) chart.x_tick(s, std::to_string(s));
  for (double y = y_min; y <= y_max * 1.001; y *= 10.0) chart.y_tick(y, format("1e%.0f", std::log10(y)));
  const std::vector<double> xs(result.steps.begin(), result.steps.end());
  struct Encoder {
    const std::vector<ddim_experiments::ReconstructionErrors>* errors;
    plot::Color color;
    std::string name;
  };
  const Encoder encoders[] = {{&result.source, plot::blue, "source"}, {&result.destination, plot::orange, "destination"}};
  std::vector<plot::Chart::Entry> legend;
  for (const auto& encoder : encoders) {
    std::vector<double> means, medians;
    for (std::size_t k = 0; k < xs.size(); ++k) {
      const auto& e = (*encoder.errors)[k];
      means.push_back(e.mean.mean);
      medians.push_back(e.median);
      chart.error_bar(xs[k], std::max(e.mean.mean - e.mean.standard_error, y_min), e.mean.mean + e.mean.standard_error,
                      encoder.color);
    }
    chart.series(xs, means, encoder.color);
    chart.series(xs, medians, encoder.color, false, true);
    legend.push_back({encoder.name + " mean", encoder.color, false});
    legend.push_back({encoder.name + " median", encoder.color, true});
  }
  chart.legend(legend);
  chart.x_title("S");
  chart.y_title("MSE  d=" + std::to_string(dimension));
  chart.save(file.string());
}

void print_interpolation(const std::vector<std::pair<int, ddim_experiments::InterpolationResult>>& results, int pairs,
                         int num_steps, double seconds) {
  std::printf("### Interpolation (section 5.3): decoded paths between two latents, DDIM with S = %d\n\n", num_steps);
  std::printf("%d pairs of latents; per path, the largest distance between neighbouring decoded points (overall, "
              "and between neighbours decoded into the same component) and how often neighbours fall into "
              "different components, mean ± standard error over the pairs; the median over the pairs of the "
              "decoded points' normalised radius (%.2f for exact samples; at the path's ends, w = 0 and 1, the "
              "points are plain DDIM samples); and the largest latent norm along a path over the larger of its "
              "ends' norms, median and largest over the pairs.\n\n",
              pairs, results.front().second.data_radius);
  std::printf("| path | points | largest jump | largest jump inside a component | component changes | radius at the "
              "ends | radius at w = 1/2 | latent norm / ends' |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const auto& [points, result] : results) {
    for (const auto* stats : {&result.slerp, &result.linear}) {
      const auto& profile = stats->radius_profile;
      const double ends = 0.5 * (profile.front() + profile.back());
      std::printf("| %s | %d | %s | %s | %s | %.2f | %.2f | %s |\n", stats == &result.slerp ? "slerp" : "linear",
                  points, format("%.3f ± %.3f", stats->largest_jump.mean, stats->largest_jump.standard_error).c_str(),
                  format("%.3f ± %.3f", stats->largest_jump_within.mean, stats->largest_jump_within.standard_error).c_str(),
                  format("%.2f ± %.2f", stats->component_changes.mean, stats->component_changes.standard_error).c_str(),
                  ends, profile[profile.size() / 2],
                  format("%.2f (max %.2f)", stats->latent_norm_ratio_median, stats->latent_norm_ratio_max).c_str());
    }
  }
  std::printf("\n(computed in %.0f s)\n\n", seconds);
}

void plot_interpolation(const ddim_experiments::InterpolationResult& result, int dimension,
                        const std::filesystem::path& file) {
  const std::size_t n = result.slerp.radius_profile.size();
  std::vector<double> w;
  for (std::size_t i = 0; i < n; ++i) w.push_back(static_cast<double>(i) / static_cast<double>(n - 1));
  plot::Chart chart(480, 320, plot::Axis{0.0, 1.0}, plot::Axis{0.0, 1.6});
  for (int i = 0; i <= 4; ++i) chart.x_tick(0.25 * i, format("%.2f", 0.25 * i));
  for (int i = 0; i <= 8; ++i) chart.y_tick(0.2 * i, format("%.1f", 0.2 * i));
  chart.horizontal(result.data_radius, plot::black);
  chart.series(w, result.slerp.radius_profile, plot::blue, false);
  chart.series(w, result.linear.radius_profile, plot::orange, false);
  chart.legend({{"slerp", plot::blue, false}, {"linear", plot::orange, false}, {"exact samples", plot::black, true}});
  chart.x_title("w");
  chart.y_title("radius  d=" + std::to_string(dimension));
  chart.save(file.string());
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  try {
    settings = parse(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "paper_experiments: %s\n", e.what());
    usage(stderr);
    return 2;
  }
  std::filesystem::create_directories(settings.output);
  const auto start = std::chrono::steady_clock::now();
  std::printf("## DDIM paper experiments on an exact model\n\n");
  std::printf("Linear betas 1e-4 … 0.02, T = 1000, the paper's uniform spacing range(0, T, T // S); the exact ε* "
              "of the data (a Gaussian mixture) in place of a network; base seed %llu%s.\n\n",
              static_cast<unsigned long long>(settings.seed), settings.quick ? ", quick configuration" : "");

  for (int dimension : settings.dimensions) {
    const auto mixture = ddim_experiments::paper_mixture(dimension);
    const auto stream = static_cast<std::uint64_t>(dimension);
    const std::string suffix = "_d" + std::to_string(dimension);
    std::printf("## d = %d\n\n", dimension);

    // table 1; the callback keeps every sample set's mean radius and, for 2-D data, replica 0's
    // samples at two step counts for the scatter plots
    auto clock = std::chrono::steady_clock::now();
    ddim_experiments::QualityConfig quality;
    quality.samples = settings.samples;
    quality.replicas = settings.replicas;
    quality.seed = ddim_experiments::derive_seed(settings.seed, stream, 1);
    const std::vector<int> scatter_steps{10, 50};
    std::vector<std::vector<Eigen::ArrayXXd>> scatter(quality.samplers.size(),
                                                      std::vector<Eigen::ArrayXXd>(scatter_steps.size()));
    std::vector<std::vector<double>> radius(quality.samplers.size(), std::vector<double>(quality.steps.size(), 0.0));
    quality.on_samples = [&](std::size_t sampler, std::size_t step, int replica, const Eigen::ArrayXXd& x) {
      radius[sampler][step] += ddim_experiments::median_radius(mixture, x) / settings.replicas;
      const auto at = std::find(scatter_steps.begin(), scatter_steps.end(), quality.steps[step]);
      if (replica == 0 && dimension == 2 && at != scatter_steps.end()) {
        scatter[sampler][static_cast<std::size_t>(at - scatter_steps.begin())] = x;
      }
    };
    const auto table = ddim_experiments::sample_quality(mixture, quality);
    const Eigen::ArrayXXd exact =
        mixture.sample<double>(settings.samples, ddim_experiments::derive_seed(settings.seed, stream, 5));
    print_quality(table, radius, ddim_experiments::median_radius(mixture, exact), seconds_since(clock));
    plot_quality(table, dimension, settings.output / ("quality" + suffix + ".png"));
    if (dimension == 2) {
      plot_scatter(mixture, exact, scatter, table.samplers, scatter_steps, settings.output / "samples_d2.png");
    }

    clock = std::chrono::steady_clock::now();
    ddim_experiments::ConsistencyConfig consistency;
    consistency.samples = settings.consistency_samples;
    consistency.seed = ddim_experiments::derive_seed(settings.seed, stream, 2);
    print_consistency(ddim_experiments::consistency(mixture, consistency), consistency.samples, seconds_since(clock));

    clock = std::chrono::steady_clock::now();
    ddim_experiments::ReconstructionConfig reconstruction;
    reconstruction.samples = settings.reconstruction_samples;
    reconstruction.seed = ddim_experiments::derive_seed(settings.seed, stream, 3);
    const auto reconstructed = ddim_experiments::reconstruction(mixture, reconstruction);
    print_reconstruction(reconstructed, reconstruction.samples, seconds_since(clock));
    plot_reconstruction(reconstructed, dimension, settings.output / ("reconstruction" + suffix + ".png"));

    clock = std::chrono::steady_clock::now();
    std::vector<std::pair<int, ddim_experiments::InterpolationResult>> paths;
    ddim_experiments::InterpolationConfig interpolation;
    interpolation.pairs = settings.interpolation_pairs;
    interpolation.seed = ddim_experiments::derive_seed(settings.seed, stream, 4);
    for (int points : {33, 257}) {
      interpolation.points = points;
      paths.emplace_back(points, ddim_experiments::interpolation(mixture, interpolation));
    }
    print_interpolation(paths, interpolation.pairs, interpolation.num_steps, seconds_since(clock));
    plot_interpolation(paths.back().second, dimension, settings.output / ("interpolation" + suffix + ".png"));
  }
  std::printf("Total time %.0f s. Plots written to %s.\n", seconds_since(start), settings.output.string().c_str());
  return 0;
}
