// ddim: header-only DDIM/DDPM samplers. MIT licence.
//
// timesteps.hpp: the timestep subsequence tau (the paper's accelerated sampling, section 4.2) as
// validated data. Step k of a sampling loop goes from train timestep t(k) to t_prev(k), both read
// from the stored lists; the last step lands on "final" (t_prev = -1), whose alpha_bar is a
// sampler option. The previous timestep is never recomputed from a stride, which is what makes
// linspace and trailing spacings correct (diffusers' DDIMScheduler recomputes it and uses the
// wrong alpha_bar there; `with_prev_by_stride` reproduces that behaviour when it is wanted).
#ifndef DDIM_TIMESTEPS_HPP
#define DDIM_TIMESTEPS_HPP

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "config.hpp"
#include "detail/math.hpp"
#include "detail/validate.hpp"

namespace ddim {

/// A validated, strictly decreasing list of train timesteps tau_S > ... > tau_1, each in
/// [0, T-1], together with the timestep each sampling step lands on.
///
/// Sampling order: `t(0)` is the noisiest timestep; step k maps x at t(k) to x at t_prev(k), where
/// t_prev(k) = t(k+1) and t_prev(S-1) = -1 ("final": alpha_bar there is the sampler's
/// final_alpha_bar, 1 by default). `pairs` are data: a custom rule (`with_prev_by_stride`) may
/// replace them, and the sampler reads them, never a formula.
class Timesteps {
 public:
  /// diffusers `timestep_spacing="leading"` (its default): t_i = i * (T / S) + steps_offset for
  /// i = 0 ... S-1, with integer division T / S. With steps_offset = 0 this is also the list the
  /// paper code's "uniform" skip produces whenever S divides T.
  /// Examples: leading(1000, 10) = 900, 800, ..., 0; leading(1000, 5, 1) = 801, 601, 401, 201, 1.
  /// Throws unless 1 <= S <= T, steps_offset >= 0 and the largest timestep stays < T.
  static Timesteps leading(int num_train_steps, int num_steps, int steps_offset = 0) {
    const std::string where = "ddim::Timesteps::leading";
    check_counts(where, num_train_steps, num_steps);
    if (steps_offset < 0) detail::fail(where, "steps_offset", steps_offset, "steps_offset >= 0");
    const long long stride = num_train_steps / num_steps;
    const long long largest = (num_steps - 1) * stride + steps_offset;
    if (largest > num_train_steps - 1) {
      detail::fail(where, "steps_offset", steps_offset,
                   "small enough that the largest timestep (num_steps - 1) * (T / S) + steps_offset = " +
                       std::to_string(largest) + " stays <= T - 1 = " +
                       std::to_string(num_train_steps - 1));
    }
    std::vector<int> values(static_cast<std::size_t>(num_steps));
    for (int i = 0; i < num_steps; ++i) {
      values[static_cast<std::size_t>(i)] = static_cast<int>(i * stride + steps_offset);
    }
    return Timesteps(num_train_steps, values);
  }

  /// diffusers `timestep_spacing="trailing"` (Lin et al. 2023, table 2): t_i = round(T - i * T / S) - 1
  /// for i = 0 ... S-1, evaluated as numpy's arange does it and rounded half to even, so the list
  /// equals diffusers' wherever diffusers' own list is well formed. (For some (T, S), e.g.
  /// T = 999 and S = 13, numpy's arange yields one extra element and diffusers then samples an
  /// extra step at timestep -1; ddim always returns exactly S timesteps.) The list starts at
  /// T - 1 and ends near T / S - 1. Throws unless 1 <= S <= T.
  static Timesteps trailing(int num_train_steps, int num_steps) {
    const std::string where = "ddim::Timesteps::trailing";
    check_counts(where, num_train_steps, num_steps);
    const double start = static_cast<double>(num_train_steps);
    const double ratio = start / static_cast<double>(num_steps);
    const double delta = (start + -ratio) - start;  // numpy arange's fill step
    std::vector<int> values(static_cast<std::size_t>(num_steps));
    for (int i = 0; i < num_steps; ++i) {
      const double value = start + static_cast<double>(i) * delta;
      values[static_cast<std::size_t>(num_steps - 1 - i)] =
          static_cast<int>(detail::round_half_even(value)) - 1;
    }
    return Timesteps(num_train_steps, values);
  }

  /// diffusers `timestep_spacing="linspace"`: round(linspace(0, T-1, S)), rounded half to even
  /// as numpy does. Both ends are sampled (T-1 and 0). Throws unless 1 <= S <= T.
  static Timesteps linspace(int num_train_steps, int num_steps) {
    const std::string where = "ddim::Timesteps::linspace";
    check_counts(where, num_train_steps, num_steps);
    const std::vector<double> points = detail::linspace(0.0, num_train_steps - 1.0, num_steps);
    std::vector<int> values(points.size());
    for (std::size_t i = 0; i < points.size(); ++i) {
      values[i] = static_cast<int>(detail::round_half_even(points[i]));
    }
    return Timesteps(num_train_steps, values);
  }

  /// The paper code's `skip_type="uniform"`: range(0, T, T // S). When S does not divide T this
  /// yields ceil(T / (T // S)) timesteps, which can be more than S (T = 1000, S = 300 gives 334);
  /// num_steps() reports the actual count. Throws unless 1 <= S <= T.
  static Timesteps uniform(int num_train_steps, int num_steps) {
    const std::string where = "ddim::Timesteps::uniform";
    check_counts(where, num_train_steps, num_steps);
    const int skip = num_train_steps / num_steps;
    std::vector<int> values;
    values.reserve(static_cast<std::size_t>(num_train_steps / skip + 1));
    for (int t = 0; t < num_train_steps; t += skip) values.push_back(t);
    return Timesteps(num_train_steps, values);
  }

  /// The paper code's `skip_type="quad"`: int(linspace(0, sqrt(0.8 T), S)^2), truncated toward
  /// zero. Small timesteps collide (T = 1000, S = 100 gives 0, 0, 0, 0, 1, ...); the paper code
  /// would run such duplicates as extra steps that leave x unchanged under DDIM, ddim drops them,
  /// so num_steps() can be smaller than S. Throws unless 1 <= S <= T.
  static Timesteps quadratic(int num_train_steps, int num_steps) {
    const std::string where = "ddim::Timesteps::quadratic";
    check_counts(where, num_train_steps, num_steps);
    const std::vector<double> roots =
        detail::linspace(0.0, std::sqrt(num_train_steps * 0.8), num_steps);
    std::vector<int> values;
    values.reserve(roots.size());
    for (double root : roots) {
      const int t = static_cast<int>(root * root);
      if (values.empty() || t != values.back()) values.push_back(t);
    }
    return Timesteps(num_train_steps, values);
  }

  /// A user-supplied list, in either order (diffusers `set_timesteps(timesteps=[...])`).
  /// Throws unless the list is non-empty, every entry is in [0, T-1] and the entries are strictly
  /// monotone (no duplicates).
  static Timesteps custom(int num_train_steps, std::vector<int> timesteps) {
    const std::string where = "ddim::Timesteps::custom";
    if (num_train_steps < 1) detail::fail(where, "num_train_steps", num_train_steps, "num_train_steps >= 1");
    if (timesteps.empty()) {
      detail::fail_text(where, "timesteps", "{} (empty)", "at least one timestep");
    }
    const auto count = static_cast<long long>(timesteps.size());
    for (long long i = 0; i < count; ++i) {
      detail::require_int_in_range(where, detail::indexed("timesteps", i),
                                   timesteps[static_cast<std::size_t>(i)], 0, num_train_steps - 1);
    }
    const bool increasing = count < 2 || timesteps[1] > timesteps[0];
    for (long long i = 1; i < count; ++i) {
      const int previous = timesteps[static_cast<std::size_t>(i - 1)];
      const int current = timesteps[static_cast<std::size_t>(i)];
      if (increasing ? !(current > previous) : !(current < previous)) {
        detail::fail(where, detail::indexed("timesteps", i), current,
                     std::string("strictly ") + (increasing ? "increasing" : "decreasing") +
                         " like the entries before it (timesteps[" + std::to_string(i - 1) +
                         "] = " + std::to_string(previous) + "), no duplicates");
      }
    }
    if (!increasing) std::reverse(timesteps.begin(), timesteps.end());
    return Timesteps(num_train_steps, timesteps);
  }

  /// A copy whose steps land on t - stride (or on "final" where that is negative) instead of on
  /// the next listed timestep. This is diffusers' DDIMScheduler rule with stride = T / S
  /// (`prev_timestep = timestep - T // num_inference_steps`): use it only to reproduce diffusers'
  /// numbers; for linspace and trailing spacings it samples with an alpha_bar_prev that does not
  /// belong to the list. Throws unless stride >= 1.
  Timesteps with_prev_by_stride(int stride) const {
    const std::string where = "ddim::Timesteps::with_prev_by_stride";
    if (stride < 1) detail::fail(where, "stride", stride, "stride >= 1");
    Timesteps copy = *this;
    for (std::size_t k = 0; k < copy.t_.size(); ++k) {
      const int landing = copy.t_[k] - stride;
      copy.t_prev_[k] = landing >= 0 ? landing : -1;
    }
    return copy;
  }

  /// T, the number of train timesteps the list indexes into.
  int num_train_steps() const { return num_train_steps_; }
  /// S, the number of sampling steps (the list's length).
  int num_steps() const { return static_cast<int>(t_.size()); }
  /// The train timestep step k starts from (k = 0 is the noisiest), 0 <= k < S.
  int t(int step_index) const { return t_[index(step_index)]; }
  /// The train timestep step k lands on; -1 at the last step ("final").
  int t_prev(int step_index) const { return t_prev_[index(step_index)]; }
  /// The timesteps in sampling order (strictly decreasing).
  const std::vector<int>& values() const { return t_; }
  /// The landing timesteps in sampling order (-1 = final).
  const std::vector<int>& prev_values() const { return t_prev_; }

  /// Equal when T, the timesteps and the landing timesteps are all equal.
  friend bool operator==(const Timesteps& a, const Timesteps& b) {
    return a.num_train_steps_ == b.num_train_steps_ && a.t_ == b.t_ && a.t_prev_ == b.t_prev_;
  }
  /// The negation of ==.
  friend bool operator!=(const Timesteps& a, const Timesteps& b) { return !(a == b); }

 private:
  // ascending: a validated increasing list; stored in sampling (decreasing) order.
  Timesteps(int num_train_steps, const std::vector<int>& ascending)
      : num_train_steps_(num_train_steps), t_(ascending.rbegin(), ascending.rend()) {
    t_prev_.resize(t_.size());
    for (std::size_t k = 0; k < t_.size(); ++k) t_prev_[k] = k + 1 < t_.size() ? t_[k + 1] : -1;
  }

  static void check_counts(const std::string& where, int num_train_steps, int num_steps) {
    if (num_train_steps < 1) detail::fail(where, "num_train_steps", num_train_steps, "num_train_steps >= 1");
    detail::require_int_in_range(where, "num_steps", num_steps, 1, num_train_steps);
  }

  std::size_t index(int step_index) const {
    DDIM_ASSERT(step_index >= 0 && step_index < num_steps());
    return static_cast<std::size_t>(step_index);
  }

  int num_train_steps_;
  std::vector<int> t_;
  std::vector<int> t_prev_;
};

}  // namespace ddim

#endif  // DDIM_TIMESTEPS_HPP
