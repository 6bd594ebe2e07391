// ddim: header-only DDIM/DDPM samplers. MIT licence.
//
// schedule.hpp: the noise schedule, i.e. the tables beta_t and alpha_bar_t = prod_{i<=t}(1 - beta_i)
// for the train timesteps t = 0 ... T-1, built from the named families people port from
// (diffusers' `beta_schedule`, the paper code's `get_beta_schedule`) or supplied by the user.
#ifndef DDIM_SCHEDULE_HPP
#define DDIM_SCHEDULE_HPP

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "config.hpp"
#include "detail/math.hpp"
#include "detail/validate.hpp"

namespace ddim {

/// A validated noise schedule over T train timesteps, indexed t = 0 ... T-1.
///
/// All tables are computed in double precision whatever `Scalar` is, then exposed in `Scalar`
/// (`float` or `double`); the double tables stay available (`betas_double()`,
/// `alpha_bars_double()`) because step coefficients are always computed from them.
///
/// Invariants (checked when the schedule is built; violations throw std::invalid_argument
/// naming the parameter, the index, the value and the allowed range):
///  - T >= 1;
///  - every beta_t is finite with 0 < beta_t < 1, except that the last one may be exactly 1
///    (a zero-terminal-SNR schedule, alpha_bar_{T-1} = 0);
///  - alpha_bar is strictly decreasing and lies in (0, 1), except alpha_bar_{T-1} = 0 for a
///    zero-terminal-SNR schedule.
/// A schedule is immutable once built; copies are cheap to share (a few tables of T values).
template <class Scalar>
class NoiseSchedule {
 public:
  /// The precision of the exposed tables (float or double).
  using scalar_type = Scalar;
  /// Column of T values in the exposed precision.
  using Table = Eigen::Array<Scalar, Eigen::Dynamic, 1>;

  /// Linear betas: beta_t = linspace(beta_start, beta_end, T)[t].
  /// diffusers `beta_schedule="linear"`; paper code `beta_schedule: linear`; the DDPM paper's
  /// defaults 1e-4 ... 0.02 (diffusers' DDIMScheduler/DDPMScheduler defaults too).
  /// Throws unless T >= 1 and both ends lie in (0, 1).
  static NoiseSchedule linear(int num_train_steps, double beta_start = 1e-4, double beta_end = 0.02) {
    const std::string where = "ddim::NoiseSchedule::linear";
    check_num_train_steps(where, num_train_steps);
    detail::require_in_range(where, "beta_start", beta_start, 0.0, false, 1.0, false);
    detail::require_in_range(where, "beta_end", beta_end, 0.0, false, 1.0, false);
    return NoiseSchedule(where, detail::linspace(beta_start, beta_end, num_train_steps));
  }

  /// Scaled-linear betas: beta_t = linspace(sqrt(beta_start), sqrt(beta_end), T)[t]^2.
  /// diffusers `beta_schedule="scaled_linear"` (latent diffusion / Stable Diffusion); the defaults
  /// are Stable Diffusion's 0.00085 ... 0.012. Throws unless T >= 1 and both ends lie in (0, 1).
  static NoiseSchedule scaled_linear(int num_train_steps, double beta_start = 0.00085,
                                     double beta_end = 0.012) {
    const std::string where = "ddim::NoiseSchedule::scaled_linear";
    check_num_train_steps(where, num_train_steps);
    detail::require_in_range(where, "beta_start", beta_start, 0.0, false, 1.0, false);
    detail::require_in_range(where, "beta_end", beta_end, 0.0, false, 1.0, false);
    std::vector<double> table = detail::linspace(std::sqrt(beta_start), std::sqrt(beta_end), num_train_steps);
    for (double& value : table) value = value * value;
    return NoiseSchedule(where, table);
  }

  /// Cosine schedule of Nichol & Dhariwal (2021): with f(u) = cos^2((u + s) / (1 + s) * pi / 2),
  /// beta_t = min(1 - f((t + 1) / T) / f(t / T), max_beta).
  /// diffusers `beta_schedule="squaredcos_cap_v2"` (s = 0.008, max_beta = 0.999).
  /// Because of the cap, alpha_bar_t is the product of the capped betas, not f((t+1)/T)/f(0).
  /// Throws unless T >= 1, 0 <= s <= 1 and 0 < max_beta < 1.
  static NoiseSchedule cosine(int num_train_steps, double offset = 0.008, double max_beta = 0.999) {
    const std::string where = "ddim::NoiseSchedule::cosine";
    check_num_train_steps(where, num_train_steps);
    detail::require_in_range(where, "offset", offset, 0.0, true, 1.0, true);
    detail::require_in_range(where, "max_beta", max_beta, 0.0, false, 1.0, false);
    const double half_pi = 1.57079632679489661923;
    const auto f = [&](double u) {
      const double c = std::cos((u + offset) / (1.0 + offset) * half_pi);
      return c * c;
    };
    std::vector<double> table(static_cast<std::size_t>(num_train_steps));
    const double steps = static_cast<double>(num_train_steps);
    for (int t = 0; t < num_train_steps; ++t) {
      const double value = 1.0 - f((t + 1) / steps) / f(t / steps);
      table[static_cast<std::size_t>(t)] = value < max_beta ? value : max_beta;
    }
    return NoiseSchedule(where, table);
  }

  /// Sigmoid betas: beta_t = sigmoid(linspace(-6, 6, T)[t]) * (beta_end - beta_start) + beta_start.
  /// diffusers DDPMScheduler `beta_schedule="sigmoid"`; paper code `beta_schedule: sigmoid`.
  /// Throws unless T >= 1 and both ends lie in (0, 1).
  static NoiseSchedule sigmoid(int num_train_steps, double beta_start = 1e-4, double beta_end = 0.02) {
    const std::string where = "ddim::NoiseSchedule::sigmoid";
    check_num_train_steps(where, num_train_steps);
    detail::require_in_range(where, "beta_start", beta_start, 0.0, false, 1.0, false);
    detail::require_in_range(where, "beta_end", beta_end, 0.0, false, 1.0, false);
    std::vector<double> table = detail::linspace(-6.0, 6.0, num_train_steps);
    for (double& value : table) {
      value = 1.0 / (1.0 + std::exp(-value)) * (beta_end - beta_start) + beta_start;
    }
    return NoiseSchedule(where, table);
  }

  /// A user-supplied beta table (diffusers `trained_betas`). betas.size() is T; alpha_bar_t =
  /// prod_{i<=t} (1 - beta_i) is accumulated in double.
  /// Throws std::invalid_argument unless the table is non-empty, every beta is finite in (0, 1)
  /// (the last may be exactly 1: zero terminal SNR) and the resulting alpha_bar is strictly
  /// decreasing in double precision.
  static NoiseSchedule from_betas(const std::vector<double>& betas) {
    const std::string where = "ddim::NoiseSchedule::from_betas";
    check_num_train_steps(where, static_cast<long long>(betas.size()), "betas.size()");
    return NoiseSchedule(where, betas);
  }

  /// A user-supplied alpha_bar table (e.g. exported from a training framework, or diffusers'
  /// float32 `alphas_cumprod` to reproduce its tables exactly); kept exactly as given, and the
  /// betas are derived as beta_0 = 1 - alpha_bar_0, beta_t = 1 - alpha_bar_t / alpha_bar_{t-1}.
  /// Throws std::invalid_argument unless the table is non-empty and every value is finite, in
  /// (0, 1) and strictly decreasing; the last may be 0 (zero terminal SNR).
  static NoiseSchedule from_alpha_bar(const std::vector<double>& alpha_bar) {
    const std::string where = "ddim::NoiseSchedule::from_alpha_bar";
    check_num_train_steps(where, static_cast<long long>(alpha_bar.size()), "alpha_bar.size()");
    check_alpha_bar(where, alpha_bar);
    std::vector<double> betas(alpha_bar.size());
    betas[0] = 1.0 - alpha_bar[0];
    for (std::size_t t = 1; t < alpha_bar.size(); ++t) betas[t] = 1.0 - alpha_bar[t] / alpha_bar[t - 1];
    return NoiseSchedule(where, betas, alpha_bar);
  }

  /// This schedule rescaled to zero terminal SNR (Lin et al. 2023, "Common Diffusion Noise
  /// Schedules and Sample Steps are Flawed", Algorithm 1; diffusers `rescale_betas_zero_snr`):
  /// sqrt(alpha_bar) is shifted so that its last value is 0 and scaled so that its first value is
  /// unchanged; the betas are re-derived, so beta_{T-1} = 1 and alpha_bar_{T-1} = 0.
  /// Pair it with v- or x0-prediction: epsilon-prediction cannot recover x0 at alpha_bar = 0, and
  /// configurations that would need it are rejected. Throws if T < 2.
  NoiseSchedule rescaled_to_zero_terminal_snr() const {
    const std::string where = "ddim::NoiseSchedule::rescaled_to_zero_terminal_snr";
    if (num_train_steps() < 2) {
      detail::fail(where, "num_train_steps", num_train_steps(), "num_train_steps >= 2");
    }
    const Eigen::Index count = alpha_bar_double_.size();
    Eigen::ArrayXd root = alpha_bar_double_.sqrt();
    const double first = root(0);
    const double last = root(count - 1);
    root = (root - last) * (first / (first - last));
    std::vector<double> alpha_bar(static_cast<std::size_t>(count));
    for (Eigen::Index t = 0; t < count; ++t) alpha_bar[static_cast<std::size_t>(t)] = root(t) * root(t);
    alpha_bar.back() = 0.0;
    std::vector<double> betas(alpha_bar.size());
    betas[0] = 1.0 - alpha_bar[0];
    for (std::size_t t = 1; t < alpha_bar.size(); ++t) betas[t] = 1.0 - alpha_bar[t] / alpha_bar[t - 1];
    return NoiseSchedule(where, betas, alpha_bar);
  }

  /// The same schedule exposed in another scalar type (the double tables are copied as they are,
  /// so both give identical step coefficients). Does not throw beyond allocation.
  template <class OtherScalar>
  NoiseSchedule<OtherScalar> cast() const {
    return NoiseSchedule<OtherScalar>(beta_double_, alpha_bar_double_);
  }

  /// T, the number of train timesteps.
  int num_train_steps() const { return static_cast<int>(beta_double_.size()); }
  /// True when alpha_bar_{T-1} = 0 (the signal is fully destroyed at the last timestep).
  bool zero_terminal_snr() const { return alpha_bar_double_(alpha_bar_double_.size() - 1) == 0.0; }

  // The per-timestep accessors take a train timestep 0 <= t < T (checked by Eigen's assertion in
  // debug builds only, like any Eigen index) and return the value rounded once from double.

  /// beta_t, in (0, 1) (beta_{T-1} may be 1).
  Scalar beta(int t) const { return betas_(t); }
  /// alpha_t = 1 - beta_t (the per-step factor; not alpha_bar).
  Scalar alpha(int t) const { return alphas_(t); }
  /// alpha_bar_t = prod_{i<=t} alpha_i, in (0, 1) and decreasing in t (the DDIM paper writes
  /// alpha_t for this; DDPM section 2).
  Scalar alpha_bar(int t) const { return alpha_bars_(t); }
  /// sqrt(alpha_bar_t), the signal scale of q(x_t | x_0) (eq. 4).
  Scalar sqrt_alpha_bar(int t) const { return sqrt_alpha_bars_(t); }
  /// sqrt(1 - alpha_bar_t), the noise scale of q(x_t | x_0) (eq. 4).
  Scalar sqrt_one_minus_alpha_bar(int t) const { return sqrt_one_minus_alpha_bars_(t); }
  /// Signal-to-noise ratio alpha_bar_t / (1 - alpha_bar_t), in [0, infinity).
  Scalar snr(int t) const { return snrs_(t); }

  /// The table of beta_t, t = 0 ... T-1.
  const Table& betas() const { return betas_; }
  /// The table of alpha_t = 1 - beta_t.
  const Table& alphas() const { return alphas_; }
  /// The table of alpha_bar_t (diffusers `alphas_cumprod`).
  const Table& alpha_bars() const { return alpha_bars_; }
  /// The table of sqrt(alpha_bar_t).
  const Table& sqrt_alpha_bars() const { return sqrt_alpha_bars_; }
  /// The table of sqrt(1 - alpha_bar_t).
  const Table& sqrt_one_minus_alpha_bars() const { return sqrt_one_minus_alpha_bars_; }
  /// The table of alpha_bar_t / (1 - alpha_bar_t).
  const Table& snrs() const { return snrs_; }

  /// beta_t in double precision: the table everything else is derived from.
  const Eigen::ArrayXd& betas_double() const { return beta_double_; }
  /// alpha_bar_t in double precision: step coefficients are always computed from this table.
  const Eigen::ArrayXd& alpha_bars_double() const { return alpha_bar_double_; }

 private:
  template <class>
  friend class NoiseSchedule;

  static void check_num_train_steps(const std::string& where, long long value,
                                    const std::string& name = "num_train_steps") {
    if (value < 1) detail::fail(where, name, value, name + " >= 1");
  }

  // alpha_bar must be finite, strictly decreasing, in (0, 1); the last value may be 0.
  static void check_alpha_bar(const std::string& where, const std::vector<double>& alpha_bar) {
    const auto count = static_cast<long long>(alpha_bar.size());
    for (long long t = 0; t < count; ++t) {
      const double value = alpha_bar[static_cast<std::size_t>(t)];
      const bool last = t == count - 1;
      const bool in_range = last ? (value >= 0.0 && value < 1.0) : (value > 0.0 && value < 1.0);
      if (!std::isfinite(value) || !in_range) {
        detail::fail(where, detail::indexed("alpha_bar", t), value,
                     last ? "0 <= alpha_bar[T-1] < 1 (0 means zero terminal SNR)"
                          : "0 < alpha_bar[t] < 1");
      }
      if (t > 0 && !(value < alpha_bar[static_cast<std::size_t>(t - 1)])) {
        detail::fail(where, detail::indexed("alpha_bar", t), value,
                     "strictly decreasing in t, i.e. less than alpha_bar[" + std::to_string(t - 1) +
                         "] = " + detail::format_value(alpha_bar[static_cast<std::size_t>(t - 1)]));
      }
    }
  }

  // From betas: validates them and accumulates alpha_bar = cumprod(1 - beta) in double.
  NoiseSchedule(const std::string& where, const std::vector<double>& betas) {
    const auto count = static_cast<long long>(betas.size());
    std::vector<double> alpha_bar(betas.size());
    double product = 1.0;
    for (long long t = 0; t < count; ++t) {
      const double beta = betas[static_cast<std::size_t>(t)];
      const bool last = t == count - 1;
      const bool in_range = last ? (beta > 0.0 && beta <= 1.0) : (beta > 0.0 && beta < 1.0);
      if (!std::isfinite(beta) || !in_range) {
        detail::fail(where, detail::indexed("beta", t), beta,
                     last ? "0 < beta[T-1] <= 1 (1 means zero terminal SNR)" : "0 < beta[t] < 1");
      }
      const double next = product * (1.0 - beta);
      if (!(next < product)) {
        detail::fail(where, detail::indexed("beta", t), beta,
                     "large enough to make alpha_bar strictly decreasing in double precision "
                     "(alpha_bar[t] = alpha_bar[t-1] * (1 - beta[t]) must be < alpha_bar[t-1])");
      }
      product = next;
      alpha_bar[static_cast<std::size_t>(t)] = product;
    }
    assign(betas, alpha_bar);
  }

  // From validated betas and alpha_bar (alpha_bar kept exactly).
  NoiseSchedule(const std::string& where, const std::vector<double>& betas, const std::vector<double>& alpha_bar) {
    const auto count = static_cast<long long>(betas.size());
    for (long long t = 0; t < count; ++t) {
      const double beta = betas[static_cast<std::size_t>(t)];
      const bool last = t == count - 1;
      if (!std::isfinite(beta) || !(beta > 0.0) || !(last ? beta <= 1.0 : beta < 1.0)) {
        detail::fail(where, detail::indexed("beta", t), beta,
                     last ? "0 < beta[T-1] <= 1" : "0 < beta[t] < 1");
      }
    }
    check_alpha_bar(where, alpha_bar);
    assign(betas, alpha_bar);
  }

  // From another instantiation's already validated tables.
  NoiseSchedule(const Eigen::ArrayXd& betas, const Eigen::ArrayXd& alpha_bar)
      : beta_double_(betas), alpha_bar_double_(alpha_bar) {
    derive_tables();
  }

  void assign(const std::vector<double>& betas, const std::vector<double>& alpha_bar) {
    const auto count = static_cast<Eigen::Index>(betas.size());
    beta_double_ = Eigen::Map<const Eigen::ArrayXd>(betas.data(), count);
    alpha_bar_double_ = Eigen::Map<const Eigen::ArrayXd>(alpha_bar.data(), count);
    derive_tables();
  }

  void derive_tables() {
    const Eigen::ArrayXd one_minus_alpha_bar = 1.0 - alpha_bar_double_;
    betas_ = beta_double_.template cast<Scalar>();
    alphas_ = (1.0 - beta_double_).template cast<Scalar>();
    alpha_bars_ = alpha_bar_double_.template cast<Scalar>();
    sqrt_alpha_bars_ = alpha_bar_double_.sqrt().template cast<Scalar>();
    sqrt_one_minus_alpha_bars_ = one_minus_alpha_bar.sqrt().template cast<Scalar>();
    snrs_ = (alpha_bar_double_ / one_minus_alpha_bar).template cast<Scalar>();
  }

  Eigen::ArrayXd beta_double_;
  Eigen::ArrayXd alpha_bar_double_;
  Table betas_, alphas_, alpha_bars_, sqrt_alpha_bars_, sqrt_one_minus_alpha_bars_, snrs_;
};

}  // namespace ddim

#endif  // DDIM_SCHEDULE_HPP
