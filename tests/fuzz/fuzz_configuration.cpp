// libFuzzer target: turns its input bytes into a noise schedule, a timestep subsequence and step
// options (any values, including NaN, infinities, negative and huge ones), builds sampling and
// encoding plans in float and double, and runs them on small tensors with a bounded model.
// The contract under test:
//   - building a configuration either succeeds or throws std::invalid_argument (nothing else);
//   - an accepted configuration never crashes, hangs or trips a sanitizer, and turns finite
//     input into finite output (a non-finite sample aborts the run, which libFuzzer reports).
// Build with Clang: -fsanitize=fuzzer,address,undefined (CMake option DDIM_BUILD_FUZZERS).
#include <ddim/ddim.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace {

// Reads the fuzzer's bytes as a stream of choices; past the end it returns zeros.
class Bytes {
 public:
  Bytes(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  std::uint8_t byte() { return at_ < size_ ? data_[at_++] : 0; }
  std::uint16_t u16() { return static_cast<std::uint16_t>(byte() | (byte() << 8)); }
  int choice(int count) { return byte() % count; }

  // A double: half the time any bit pattern (NaN, infinities, subnormals, huge), half the time
  // a value in a range where the interesting boundaries are.
  double real(double low, double high) {
    if (byte() & 1) {
      std::uint64_t bits = 0;
      for (int i = 0; i < 8; ++i) bits |= static_cast<std::uint64_t>(byte()) << (8 * i);
      double value;
      std::memcpy(&value, &bits, sizeof value);
      return value;
    }
    return low + (high - low) * (u16() / 65535.0);
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t at_ = 0;
};

ddim::NoiseSchedule<double> make_schedule(Bytes& in) {
  using S = ddim::NoiseSchedule<double>;
  const int steps = 1 + in.u16() % 400 - (in.byte() == 255 ? 401 : 0);  // mostly 1 ... 400, sometimes <= 0
  S schedule = [&] {
    switch (in.choice(6)) {
      case 0: return S::linear(steps, in.real(0, 0.05), in.real(0, 0.05));
      case 1: return S::scaled_linear(steps, in.real(0, 0.05), in.real(0, 0.05));
      case 2: return S::cosine(steps, in.real(-0.1, 1.1), in.real(0.5, 1.0));
      case 3: return S::sigmoid(steps, in.real(0, 0.05), in.real(0, 0.05));
      case 4: {
        std::vector<double> betas(static_cast<std::size_t>(steps > 0 && steps < 64 ? steps : 8));
        for (double& beta : betas) beta = in.real(0, 1);
        return S::from_betas(betas);
      }
      default: {
        std::vector<double> alpha_bar(static_cast<std::size_t>(steps > 0 && steps < 64 ? steps : 8));
        double value = 1.0;
        for (double& a : alpha_bar) a = value = value * in.real(0, 1);
        return S::from_alpha_bar(alpha_bar);
      }
    }
  }();
  if (in.choice(4) == 0) schedule = schedule.rescaled_to_zero_terminal_snr();
  return schedule;
}

ddim::Timesteps make_timesteps(Bytes& in, int num_train_steps) {
  const int steps = static_cast<int>(in.u16() % 420) - 10;  // also <= 0 and > T
  switch (in.choice(7)) {
    case 0: return ddim::Timesteps::leading(num_train_steps, steps, static_cast<int>(in.byte()) - 8);
    case 1: return ddim::Timesteps::trailing(num_train_steps, steps);
    case 2: return ddim::Timesteps::linspace(num_train_steps, steps);
    case 3: return ddim::Timesteps::uniform(num_train_steps, steps);
    case 4: return ddim::Timesteps::quadratic(num_train_steps, steps);
    case 5: {
      std::vector<int> list(static_cast<std::size_t>(in.choice(12)));
      for (int& t : list) t = static_cast<int>(in.u16()) - 100;
      return ddim::Timesteps::custom(num_train_steps, list);
    }
    default: {
      const auto base = ddim::Timesteps::leading(num_train_steps, steps);
      return base.with_prev_by_stride(static_cast<int>(in.byte()) - 2);
    }
  }
}

ddim::Options make_options(Bytes& in) {
  ddim::Options options;
  options.method = in.choice(2) ? ddim::Method::ddim : ddim::Method::ddpm;
  options.eta = in.real(-0.5, 3.0);
  options.clamp_sigma = in.choice(2) == 0;
  options.variance = static_cast<ddim::Variance>(in.choice(3));
  options.prediction = static_cast<ddim::Prediction>(in.choice(3));
  options.clipping.kind = static_cast<ddim::Clipping::Kind>(in.choice(3));
  options.clipping.range = in.real(-0.5, 3.0);
  options.clipping.ratio = in.real(-0.2, 1.2);
  options.clipping.max_value = in.real(0.0, 4.0);
  options.use_clipped_model_output = in.choice(2) == 0;
  options.final_alpha_bar = in.choice(2) ? ddim::FinalAlphaBar::one : ddim::FinalAlphaBar::alpha_bar_0;
  options.check_finite = in.choice(2) == 0;
  return options;
}

// With DDIM_FUZZ_VERBOSE set, the target describes the configuration it decoded (to reproduce a
// report: `DDIM_FUZZ_VERBOSE=1 ./fuzz_configuration crash-...`).
bool verbose() {
  static const bool on = std::getenv("DDIM_FUZZ_VERBOSE") != nullptr;
  return on;
}

template <class Scalar>
void describe(const ddim::NoiseSchedule<Scalar>& schedule, const ddim::Timesteps& steps, const ddim::Options& o) {
  std::fprintf(stderr, "T = %d, alpha_bar[0] = %.17g, alpha_bar[T-1] = %.17g\n", schedule.num_train_steps(),
               schedule.alpha_bars_double()(0), schedule.alpha_bars_double()(schedule.num_train_steps() - 1));
  std::fprintf(stderr, "steps (t -> t_prev):");
  for (int k = 0; k < steps.num_steps() && k < 40; ++k) std::fprintf(stderr, " %d->%d", steps.t(k), steps.t_prev(k));
  std::fprintf(stderr, "%s\n", steps.num_steps() > 40 ? " ..." : "");
  std::fprintf(stderr,
               "method %d, eta %.17g, clamp_sigma %d, variance %d, prediction %d, clip kind %d (range %.17g, ratio %.17g, "
               "max %.17g), use_clipped %d, final %d, %s\n",
               static_cast<int>(o.method), o.eta, o.clamp_sigma, static_cast<int>(o.variance), static_cast<int>(o.prediction),
               static_cast<int>(o.clipping.kind), o.clipping.range, o.clipping.ratio, o.clipping.max_value,
               o.use_clipped_model_output, static_cast<int>(o.final_alpha_bar), sizeof(Scalar) == 4 ? "float" : "double");
}

[[noreturn]] void report(const char* what) {
  std::fprintf(stderr, "fuzz_configuration: %s\n", what);
  std::abort();
}

// A bounded model: any prediction in [-2, 2] (and a variance value in [-1.5, 1.5] for the learned
// range, which the step clamps), as a trained network's output might be.
template <class Scalar>
void bounded_model(const Eigen::Array<Scalar, Eigen::Dynamic, Eigen::Dynamic>& x, int t, ddim::ModelOutput<Scalar>& out) {
  const Eigen::Index rows = x.rows();
  out.topRows(rows) = Scalar(2) * (x * Scalar(0.7) + static_cast<Scalar>(t % 7) * Scalar(0.1)).tanh();
  if (out.rows() > rows) out.bottomRows(rows) = Scalar(1.5) * x.sin();
}

template <class Scalar>
void run(const ddim::NoiseSchedule<double>& schedule64, const ddim::Timesteps& steps, const ddim::Options& options,
         std::uint64_t seed) {
  const auto schedule = schedule64.cast<Scalar>();
  if (verbose()) describe(schedule, steps, options);
  ddim::Sampler<Scalar> sampler(schedule, steps, options);  // may throw std::invalid_argument
  Eigen::Array<Scalar, Eigen::Dynamic, Eigen::Dynamic> x(3, 2);
  ddim::PhiloxNoise noise(seed);
  noise.initial_latent(x);
  sampler.sample(x, bounded_model<Scalar>, noise);
  if (verbose()) std::fprintf(stderr, "sampled: max |x| = %.17g\n", static_cast<double>(x.abs().maxCoeff()));
  if (!x.allFinite()) report("an accepted sampling configuration produced a non-finite sample");
  if (options.method == ddim::Method::ddim && options.eta == 0.0) {
    ddim::Sampler<Scalar> encoder(ddim::SamplingPlan<Scalar>::encoding(schedule, steps, options, ddim::ModelTime::source));
    encoder.sample(x, bounded_model<Scalar>);
    if (!x.allFinite()) report("an accepted encoding configuration produced a non-finite latent");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Bytes in(data, size);
  try {
    const auto schedule = make_schedule(in);
    const auto steps = make_timesteps(in, schedule.num_train_steps());
    const auto options = make_options(in);
    const std::uint64_t seed = in.u16();
    if (in.choice(2)) {
      run<float>(schedule, steps, options, seed);
    } else {
      run<double>(schedule, steps, options, seed);
    }
  } catch (const std::invalid_argument&) {
    // a rejected configuration: fine
  }
  return 0;
}
