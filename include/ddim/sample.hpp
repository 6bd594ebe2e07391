// ddim: header-only DDIM/DDPM samplers. MIT licence.
//
// sample.hpp: the sampling loop, x_T -> x_0, around the user's model:
//   for each step k: output = model(x, t(k)); [z = noise(k)]; x = step(x, output, z); observer(...)
// A SamplingPlan holds the validated coefficients of every step (all configuration errors are
// thrown when it is built); a Sampler adds the working buffers, allocated once, so that a real-time
// caller can sample again and again without any heap allocation. `ddim::sample` does both in one
// call for the common case.
#ifndef DDIM_SAMPLE_HPP
#define DDIM_SAMPLE_HPP

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "coefficients.hpp"
#include "config.hpp"
#include "detail/no_noise.hpp"
#include "detail/validate.hpp"
#include "observer.hpp"
#include "options.hpp"
#include "parallel.hpp"
#include "predictor.hpp"
#include "schedule.hpp"
#include "step.hpp"
#include "timesteps.hpp"

namespace ddim {

/// Where the model is evaluated during encoding (inversion), for the step from noise level s to
/// the next larger train timestep t. Both conventions are in use; neither is a default.
enum class ModelTime {
  /// At the step's source s (the paper's ODE, eq. 14, integrated backwards by explicit Euler:
  /// eps(x_s, s)). The first step starts from the clean x0, which has no train timestep; the
  /// model is evaluated at timestep 0 there, the nearest level it was trained on.
  source,
  /// At the step's destination t, on the sample that is still at level s: what diffusers'
  /// DDIMInverseScheduler and the pipelines built on it (DDIM inversion, prompt-to-prompt,
  /// null-text inversion) do, so that encoding evaluates the model at the very (x-level, t) pairs
  /// decoding will use, on the sample one level below.
  destination
};

/// The validated, precomputed configuration of a loop: per step, its coefficients, the
/// timesteps it goes from and to, and the timestep the model is evaluated at. Building it throws
/// std::invalid_argument (naming the parameter, and the step where it matters) for every invalid
/// combination: options, a schedule and timesteps of different T, epsilon-prediction at a
/// zero-SNR timestep, eta above its bound, ...
template <class Scalar>
class SamplingPlan {
 public:
  /// One step of the loop.
  struct Step {
    StepCoefficients<Scalar> coefficients;  ///< the validated scalars of the step (eq. 12 / DDPM eq. 7)
    int t;        ///< the train timestep x is at before the step (-1: the clean end, encoding only)
    int t_prev;   ///< the train timestep x is at after the step (-1: the final point, decoding only)
    int model_t;  ///< the timestep passed to the model
    /// Whether diffusers' scheduler draws a noise tensor at this step, used or not: DDIMScheduler
    /// at every step when eta > 0 (also where sigma = 0), DDPMScheduler whenever t > 0.
    bool reference_draws_noise;
  };

  /// Decoding (sampling): x at t(k) -> x at t_prev(k) for every step of `timesteps`, the model
  /// evaluated at t(k). Throws std::invalid_argument (see the class comment).
  SamplingPlan(const NoiseSchedule<Scalar>& schedule, const Timesteps& timesteps, const Options& options)
      : options_(options) {
    const std::string where = "ddim::SamplingPlan";
    check(where, schedule, timesteps, options);
    steps_.reserve(static_cast<std::size_t>(timesteps.num_steps()));
    for (int k = 0; k < timesteps.num_steps(); ++k) {
      const int t = timesteps.t(k);
      const bool reference_draws = options.method == Method::ddim ? options.eta > 0.0 : t > 0;
      steps_.push_back(Step{step_coefficients(schedule, timesteps, k, options), t, timesteps.t_prev(k), t, reference_draws});
      adds_noise_ = adds_noise_ || steps_.back().coefficients.adds_noise();
    }
    check_growth(where);
  }

  /// Encoding (DDIM inversion, eq. 14 run backwards with eta = 0): the mirror of `timesteps`,
  /// x at the final point (alpha_bar per options.final_alpha_bar) -> t(S-1) -> ... -> t(0), so that
  /// decoding the result with the same timesteps and options walks the same alpha_bar values in
  /// reverse. `model_time` says where the model is evaluated. Options must be Method::ddim with
  /// eta = 0; prediction, clipping and final_alpha_bar apply. Throws std::invalid_argument.
  static SamplingPlan encoding(const NoiseSchedule<Scalar>& schedule, const Timesteps& timesteps,
                               const Options& options, ModelTime model_time) {
    const std::string where = "ddim::SamplingPlan::encoding";
    SamplingPlan plan(options);
    check(where, schedule, timesteps, options);
    plan.encodes_ = true;
    const int num_steps = timesteps.num_steps();
    plan.steps_.reserve(static_cast<std::size_t>(num_steps));
    for (int j = 0; j < num_steps; ++j) {
      const int k = num_steps - 1 - j;  // the decoding step this one mirrors
      const int from = timesteps.t_prev(k), to = timesteps.t(k);
      const int model_t = model_time == ModelTime::destination ? to : (from < 0 ? 0 : from);
      plan.steps_.push_back(Step{inversion_coefficients<Scalar>(alpha_bar_at(schedule, from, options.final_alpha_bar),
                                                                alpha_bar_at(schedule, to, options.final_alpha_bar),
                                                                options,
                                                                where + " (step " + std::to_string(j) + ": t = " +
                                                                    std::to_string(from) + " -> " + std::to_string(to) + ")"),
                                 from, to, model_t, false});
    }
    plan.check_growth(where);
    return plan;
  }

  /// The number of steps (the timesteps' length).
  int num_steps() const { return static_cast<int>(steps_.size()); }
  /// The options the plan was built with.
  const Options& options() const { return options_; }
  /// Step k (0 <= k < num_steps()).
  const Step& step(int step_index) const {
    DDIM_ASSERT(step_index >= 0 && step_index < num_steps());
    return steps_[static_cast<std::size_t>(step_index)];
  }
  /// The coefficients of step k.
  const StepCoefficients<Scalar>& coefficients(int step_index) const { return step(step_index).coefficients; }
  /// True for an encoding (inversion) plan.
  bool encodes() const { return encodes_; }
  /// True when some step adds noise (the loop then needs a noise source).
  bool adds_noise() const { return adds_noise_; }
  /// True when the model output carries a variance half (Variance::learned_range).
  bool has_variance_output() const {
    return !encodes_ && options_.method == Method::ddpm && options_.variance == Variance::learned_range;
  }
  /// True when x0 is dynamically thresholded (the loop then needs a scratch column).
  bool thresholds() const { return options_.clipping.kind == Clipping::Kind::dynamic_threshold; }

 private:
  explicit SamplingPlan(const Options& options) : options_(options) {}

  // Along a list whose steps land where the next ones start, the x coefficients telescope (their
  // product is sqrt(alpha_bar_final / alpha_bar_first) for epsilon-prediction); landing elsewhere
  // (with_prev_by_stride with a stride unlike the list's spacing) can compound them without
  // bound. Refuses what would overflow the precision, like each single step's coefficients
  // (step_coefficients). x enters a step directly and, unless a clip bounds it, through x0_pred:
  // both terms count (on a consistent list they have one sign, so their sum still telescopes).
  void check_growth(const std::string& where) const {
    const double limit = std::sqrt(static_cast<double>(std::numeric_limits<Scalar>::max()));
    double growth = 1.0;
    for (std::size_t k = 0; k < steps_.size(); ++k) {
      const auto& c = steps_[k].coefficients;
      const double gain = std::fabs(static_cast<double>(c.prev_from_x)) +
                          std::fabs(static_cast<double>(c.prev_from_x0) * static_cast<double>(c.x0_from_x));
      growth *= std::max(1.0, gain);
      if (!(growth <= limit)) {
        detail::fail(where, "growth of |x| over the steps", growth,
                     "steps whose x coefficients compound to less than sqrt(largest value) = " +
                         detail::format_value(limit) + "; here step " + std::to_string(k) + " (t = " +
                         std::to_string(steps_[k].t) + " -> " + std::to_string(steps_[k].t_prev) +
                         ") already grows |x| by that much, because steps land below where the next ones start "
                         "(with_prev_by_stride with a stride unlike the list's spacing?)");
      }
    }
  }

  static void check(const std::string& where, const NoiseSchedule<Scalar>& schedule, const Timesteps& timesteps,
                    const Options& options) {
    options.validate(where);
    if (timesteps.num_train_steps() != schedule.num_train_steps()) {
      detail::fail(where, "timesteps.num_train_steps()", timesteps.num_train_steps(),
                   "equal to schedule.num_train_steps() = " + std::to_string(schedule.num_train_steps()));
    }
  }

  Options options_;
  std::vector<Step> steps_;
  bool adds_noise_ = false;
  bool encodes_ = false;
};

/// What a sampling or encoding loop reports.
struct SampleResult {
  int steps_taken = 0;         ///< steps completed (num_steps unless an observer stopped the loop)
  bool stopped_early = false;  ///< an observer returned false
};

namespace detail {

template <class D>
decltype(auto) as_array(Eigen::ArrayBase<D>& x) {
  return x.derived();
}
template <class D>
auto as_array(Eigen::MatrixBase<D>& x) {
  return x.array();
}

template <class State, class Scalar>
void check_state_type() {
  using Plain = std::remove_reference_t<State>;
  static_assert(std::is_base_of_v<Eigen::DenseBase<std::decay_t<State>>, std::decay_t<State>>,
                "ddim: the state x must be an Eigen array, matrix, Map or Ref (one column per sample)");
  static_assert(!std::is_const_v<Plain>, "ddim: the state x must be writable: the loop updates it in place");
  static_assert(std::is_same_v<typename std::decay_t<State>::Scalar, Scalar>,
                "ddim: the state's scalar type must be the schedule's (NoiseSchedule<float> with float tensors, "
                "NoiseSchedule<double> with double tensors)");
}

}  // namespace detail

/// How a Sampler spreads its elementwise passes (the step, and the noise generated inside it)
/// over threads. Results are bit-identical for any thread count. The thresholds keep small
/// tensors on the calling thread, where waking the workers (a few microseconds) would cost more
/// than it saves; they are in values (rows x columns) and were chosen from bench/ measurements.
struct Parallelism {
  int threads = 1;                             ///< threads per pass, the caller included (>= 1)
  Index min_step_values = Index(1) << 18;      ///< smallest tensor whose plain step is split
  Index min_noise_values = Index(1) << 16;     ///< smallest tensor whose generated-noise step is split
};

/// A sampling loop with its working buffers: the model output, the noise, the x0 prediction for
/// observers, and a scratch column for thresholding. They are allocated before the first step of
/// `sample` (or by `reserve`) and reused while the batch shape stays the same, so repeated calls
/// do not allocate. Not thread-safe: use one Sampler per thread.
template <class Scalar>
class Sampler {
 public:
  /// A sampling loop over `timesteps`: builds and validates its SamplingPlan (throws
  /// std::invalid_argument as SamplingPlan does). Allocates the plan, no tensor buffers yet.
  Sampler(const NoiseSchedule<Scalar>& schedule, const Timesteps& timesteps, const Options& options)
      : plan_(schedule, timesteps, options) {}
  /// A loop over an existing plan (e.g. SamplingPlan::encoding, for inversion).
  explicit Sampler(SamplingPlan<Scalar> plan) : plan_(std::move(plan)) {}

  /// The validated plan: per step, its coefficients and timesteps.
  const SamplingPlan<Scalar>& plan() const { return plan_; }

  /// Allocates the working buffers for a batch of `cols` samples of `rows` values now (a
  /// real-time caller does this once, outside its control loop): the model output, the noise
  /// tensor if the plan adds noise, the thresholding scratch column and the observers' x0_pred,
  /// so that no later `sample` call of that shape allocates, observed or not.
  void reserve(Index rows, Index cols) { reserve(rows, cols, true, true); }

  /// Runs the elementwise passes of large tensors on `parallelism.threads` threads (started
  /// here, once, and kept until the Sampler is destroyed or this is called again). Results do
  /// not depend on the thread count. Throws std::invalid_argument unless 1 <= threads <= 1024
  /// and both thresholds are >= 1.
  void set_parallelism(const Parallelism& parallelism) {
    const std::string where = "ddim::Sampler::set_parallelism";
    detail::require_int_in_range(where, "threads", parallelism.threads, 1, 1024);
    if (parallelism.min_step_values < 1) detail::fail(where, "min_step_values", parallelism.min_step_values, ">= 1");
    if (parallelism.min_noise_values < 1) detail::fail(where, "min_noise_values", parallelism.min_noise_values, ">= 1");
    parallelism_ = parallelism;
    team_.reset();
    if (parallelism.threads > 1) team_ = std::make_unique<ThreadTeam>(parallelism.threads);
  }
  /// The current parallelism settings (threads = 1 unless set_parallelism was called).
  const Parallelism& parallelism() const { return parallelism_; }

  /// Runs the loop on x in place: x_T in, x_0 (or the state where an observer stopped) out.
  /// `x` is any writable Eigen object (Array, Matrix, Map over your buffer, Ref) with one column
  /// per sample; the model is called once per step for the whole batch. `noise` is required when
  /// the plan adds noise (eta > 0, DDPM variances), `observer` is optional.
  /// Throws before the first step if the noise source is missing or rejects the batch; during the
  /// loop only if the model misbehaves (an output of the wrong shape, or NaN/Inf with
  /// Options::check_finite). Exceptions thrown by the model, the noise source or the observer
  /// propagate; x then holds the state after the last completed step. The step itself never
  /// throws or allocates; with reserved buffers the whole call allocates nothing unless the
  /// callables do.
  template <class State, class Model, class Noise = NoNoise, class Observer = NullObserver>
  SampleResult sample(State&& x, Model&& model, Noise&& noise = Noise{}, Observer&& observer = Observer{}) {
    detail::check_state_type<State, Scalar>();
    static_assert(is_noise_source_v<Noise, Scalar>,
                  "ddim: the noise source must be ddim::no_noise, an object with step_noise(step_index, t, z), or "
                  "a callable noise(step_index, t, z) filling z (an Eigen::Array<Scalar, Dynamic, Dynamic>)");
    const char* const where = "ddim::sample";
    using NoiseType = std::decay_t<Noise>;
    const Index rows = x.rows(), cols = x.cols();
    if constexpr (std::is_same_v<NoiseType, NoNoise>) {
      if (plan_.adds_noise()) {
        detail::fail_text(where, "noise", "ddim::no_noise",
                          "a noise source (e.g. ddim::PhiloxNoise(seed)): these options add noise (eta = " +
                              detail::format_value(plan_.options().eta) + ", method " +
                              (plan_.options().method == Method::ddim ? "ddim" : "ddpm") + ")");
      }
    } else {
      detail::prepare_noise(noise, rows, cols);
    }
    // Noise sources that produce any range on demand (PhiloxNoise) feed the fused step: no noise
    // tensor, the noise generated in L1-sized chunks and consumed at once.
    bool fused_noise = false;
    if constexpr (generates_noise_ranges_v<NoiseType, Scalar> && detail::has_direct_storage<std::decay_t<State>>::value) {
      fused_noise = !plan_.thresholds() && !plan_.has_variance_output() && !std::decay_t<State>::IsRowMajor &&
                    x.innerStride() == 1;
    }
    reserve(rows, cols, !fused_noise, false);
    if constexpr (!detail::is_null_observer_v<Observer>) {
      if (x0_.rows() != rows || x0_.cols() != cols) x0_.resize(rows, cols);
    }

    if constexpr (detail::is_null_observer_v<Observer> && detail::has_direct_storage<std::decay_t<State>>::value) {
      if (plain_loop_applies(x)) return plain_loop(x, model, noise, where);
    }

    auto& state = x;
    auto&& state_array = detail::as_array(state);
    SampleResult result;
    const Index output_rows = output_.rows();
    for (int k = 0; k < plan_.num_steps(); ++k) {
      const auto& planned = plan_.step(k);
      const StepCoefficients<Scalar>& c = planned.coefficients;
      const int t = planned.model_t;
      const StepInfo info{k, plan_.num_steps(), planned.t, planned.t_prev, t};
      detail::call_model<Scalar>(model, std::as_const(state), t, k, output_, output_rows, where);
      if (plan_.options().check_finite && !output_.allFinite()) {
        throw_not_finite(where, k, t);
      }
      if constexpr (!detail::is_null_observer_v<Observer>) {
        if (plan_.thresholds()) predicted_x0_thresholded(c, state_array, output_, x0_, scratch_);
        else predicted_x0(c, state_array, output_, x0_);
      }
      bool stepped = false;
      if constexpr (!std::is_same_v<NoiseType, NoNoise>) {
        if (c.adds_noise()) {
          if constexpr (generates_noise_ranges_v<NoiseType, Scalar>) {
            if (fused_noise) {
              if (!parallel_fused_step(c, state_array, noise, k)) step(c, state_array, output_, noise, k, state_array);
              stepped = true;
            }
          }
          if (!stepped) {
            detail::draw_noise(noise, k, t, noise_);
            if (plan_.thresholds()) step_thresholded(c, state_array, output_, noise_, state_array, scratch_);
            else if (!parallel_step(c, state_array, noise_.data())) step(c, state_array, output_, noise_, state_array);
            stepped = true;
          }
        }
      }
      if (!stepped) {
        DDIM_ASSERT(!c.adds_noise());  // a plan that adds noise was refused without a source above
        if constexpr (!std::is_same_v<NoiseType, NoNoise>) {
          if (planned.reference_draws_noise) detail::skip_noise(noise, k, t, rows, cols);
        }
        if (plan_.thresholds()) step_thresholded(c, state_array, output_, state_array, scratch_);
        else if (!parallel_step(c, state_array, nullptr)) step(c, state_array, output_, state_array);
      }
      result.steps_taken = k + 1;
      if constexpr (!detail::is_null_observer_v<Observer>) {
        if (!detail::notify(observer, info, std::as_const(state), std::as_const(x0_))) {
          result.stopped_early = result.steps_taken < plan_.num_steps();
          break;
        }
      }
    }
    return result;
  }

 private:
  [[noreturn]] DDIM_NOINLINE static void throw_not_finite(const char* where, int step_index, int t) {
    throw std::runtime_error(std::string(where) + ": the model output contains NaN or Inf at step " +
                             std::to_string(step_index) + " (t = " + std::to_string(t) + ")");
  }

  // The common real-time case (no noise added, no thresholding, no learned variance, no observer,
  // a contiguous state, one thread) in a loop of its own: per step only the model call, its shape
  // check and the raw kernel, with every other decision made once before the first step. The
  // output buffer is the Sampler's own, so it never overlaps x and the kernel needs no overlap
  // check. Same arithmetic as the general loop (update_contiguous runs the same kernel).
  template <class State>
  bool plain_loop_applies(const State& x) const {
    if (plan_.adds_noise() || plan_.thresholds() || plan_.has_variance_output()) return false;
    return detail::is_contiguous_column_order(x) && (!team_ || x.size() < parallelism_.min_step_values);
  }

  template <class State, class Model, class Noise>
  DDIM_NOINLINE SampleResult plain_loop(State& x, Model& model, Noise& noise, const char* where) {
    Scalar* const data = x.data();
    const Index rows = x.rows(), cols = x.cols(), n = x.size();
    const bool clips = plan_.options().clipping.kind != Clipping::Kind::none;
    const bool check_finite = plan_.options().check_finite;
    const int num_steps = plan_.num_steps();
    // The output buffer moves into a local for the loop (no allocation: the pointer moves) and
    // back when it ends, thrown out or not. A member written by the model through a reference
    // lives in memory the compiler must reload after every call; a local it can keep in
    // registers (about 2 ns of the ~12 ns of a step at 16x7 floats in bench_sample).
    struct Restore {
      ModelOutput<Scalar>& home;
      ModelOutput<Scalar>& local;
      ~Restore() { home.swap(local); }
    };
    ModelOutput<Scalar> output;
    output.swap(output_);
    const Restore restore{output_, output};
    for (int k = 0; k < num_steps; ++k) {
      const auto& planned = plan_.step(k);
      detail::call_model<Scalar>(model, std::as_const(x), planned.model_t, k, output, rows, where);
      if (check_finite && !output.allFinite()) throw_not_finite(where, k, planned.model_t);
      if constexpr (!std::is_same_v<std::decay_t<Noise>, NoNoise>) {
        if (planned.reference_draws_noise) detail::skip_noise(noise, k, planned.model_t, rows, cols);
      }
      const detail::UpdateScalars<Scalar> u = detail::update_scalars(planned.coefficients);
      if (clips) detail::update_values<Scalar, true, false>(n, data, output.data(), nullptr, data, u);
      else detail::update_values<Scalar, false, false>(n, data, output.data(), nullptr, data, u);
    }
    (void)noise;
    (void)cols;
    return SampleResult{num_steps, false};
  }

  // The plain step (no noise, or the noise tensor z) on the thread team, split at multiples of 64
  // values; false when it does not apply (one thread, a small or non-contiguous tensor, a learned
  // variance or thresholding), in which case the caller runs the step itself.
  template <class StateArray>
  bool parallel_step(const StepCoefficients<Scalar>& c, StateArray& x, const Scalar* z) {
    if constexpr (detail::has_direct_storage<std::decay_t<StateArray>>::value) {
      if (!team_ || c.learned_range || plan_.thresholds() || x.size() < parallelism_.min_step_values) return false;
      if (!detail::is_contiguous_column_order(x) || output_.rows() != x.rows()) return false;
      Scalar* data = x.data();
      const Scalar* output = output_.data();
      bool ok = true;
      team_->parallel_for(x.size(), detail::kNoiseChunk, [&](Index begin, Index end) {
        if (!detail::update_range(c, end - begin, data + begin, output + begin, z ? z + begin : nullptr, data + begin)) ok = false;
      });
      DDIM_ASSERT(ok);
      return ok;
    } else {
      (void)c, (void)x, (void)z;
      return false;
    }
  }

  // The fused generate-and-step pass on the thread team, split over (column, 64-value chunk)
  // units; false when it does not apply.
  template <class StateArray, class Noise>
  bool parallel_fused_step(const StepCoefficients<Scalar>& c, StateArray& x, const Noise& noise, int step_index) {
    if (!team_ || x.size() < parallelism_.min_noise_values) return false;
    const Index rows = x.rows();
    Scalar* data = x.data();
    const Index stride = x.outerStride();
    const Scalar* output = output_.data();
    const Index output_stride = output_.outerStride();
    team_->parallel_for(x.cols() * detail::noise_chunks_per_column(rows), 1, [&](Index begin, Index end) {
      detail::fused_noise_units(c, data, stride, output, output_stride, data, stride, rows, noise, step_index, begin, end);
    });
    return true;
  }

  void reserve(Index rows, Index cols, bool noise_tensor, bool x0_tensor) {
    const Index output_rows = plan_.has_variance_output() ? 2 * rows : rows;
    if (output_.rows() != output_rows || output_.cols() != cols) output_.resize(output_rows, cols);
    if (noise_tensor && plan_.adds_noise() && (noise_.rows() != rows || noise_.cols() != cols)) noise_.resize(rows, cols);
    if (plan_.thresholds() && scratch_.size() < rows) scratch_.resize(rows);
    if (x0_tensor && (x0_.rows() != rows || x0_.cols() != cols)) x0_.resize(rows, cols);  // for observers
  }

  SamplingPlan<Scalar> plan_;
  ModelOutput<Scalar> output_;
  ModelOutput<Scalar> noise_;
  ModelOutput<Scalar> x0_;
  Eigen::Array<Scalar, Eigen::Dynamic, 1> scratch_;
  Parallelism parallelism_;
  std::unique_ptr<ThreadTeam> team_;
};

/// Samples x_T -> x_0 in place in one call: builds the plan (validating everything), allocates
/// the working buffers once, then runs the loop (see Sampler::sample for the arguments and what
/// throws). It allocates on every call; to sample repeatedly without allocating, keep a Sampler.
///   auto schedule = ddim::NoiseSchedule<float>::linear(1000);
///   auto steps = ddim::Timesteps::leading(1000, 50);
///   Eigen::ArrayXf x = ddim::gaussian<float>(n, seed);
///   ddim::sample(schedule, steps, ddim::Options{}, x, [&](const auto& x_t, int t, auto& eps) { eps = net(x_t, t); });
template <class Scalar, class State, class Model, class Noise = NoNoise, class Observer = NullObserver>
SampleResult sample(const NoiseSchedule<Scalar>& schedule, const Timesteps& timesteps, const Options& options,
                    State&& x, Model&& model, Noise&& noise = Noise{}, Observer&& observer = Observer{}) {
  Sampler<Scalar> sampler(schedule, timesteps, options);
  return sampler.sample(std::forward<State>(x), std::forward<Model>(model), std::forward<Noise>(noise),
                        std::forward<Observer>(observer));
}

}  // namespace ddim

#endif  // DDIM_SAMPLE_HPP
