// ddim: header-only DDIM/DDPM samplers. MIT licence.
//
// observer.hpp: progress reporting for the sampling loop. After every step the loop calls
//   observer(info, x, x0_pred)
// with the step's StepInfo, the state after the step (x at t_prev) and the x0 prediction the step
// used (after clipping or thresholding). Returning `false` stops the loop after this step;
// returning void or `true` continues. NullObserver is recognised at compile time: with it the
// loop does not even compute x0_pred.
#ifndef DDIM_OBSERVER_HPP
#define DDIM_OBSERVER_HPP

#include <type_traits>
#include <vector>

#include "config.hpp"

namespace ddim {

/// Where a sampling (or encoding) loop is: step `step_index` of `num_steps` went from train
/// timestep `t` to `t_prev` (-1 = the final point). For an encoding loop t is the source and
/// t_prev the destination of the step, and `model_t` the timestep the model was evaluated at.
struct StepInfo {
  int step_index;  ///< 0 ... num_steps - 1, the loop counter (not a timestep)
  int num_steps;   ///< the loop's number of steps
  int t;           ///< the train timestep x was at before the step (-1: the clean start of an encoding)
  int t_prev;      ///< the train timestep x is at after the step (-1: the final point of a sampling loop)
  int model_t;     ///< the train timestep the model was called with
};

/// The observer that does nothing, at no cost.
struct NullObserver {
  template <class State, class X0>
  void operator()(const StepInfo&, const State&, const X0&) const {}
};

/// Records the trajectory: x after every step and the x0 prediction of every step, with their
/// StepInfo. Each call copies two tensors (this observer allocates; use it for inspection and
/// plots, not inside a real-time loop).
template <class Scalar>
class TrajectoryRecorder {
 public:
  /// One recorded tensor (a copy, in the recorder's scalar type).
  using Tensor = Eigen::Array<Scalar, Eigen::Dynamic, Eigen::Dynamic>;

  /// Records one step (the observer call); allocates two copies.

  template <class State, class X0>
  void operator()(const StepInfo& info, const State& x, const X0& x0_pred) {
    steps_.push_back(info);
    samples_.emplace_back(x.template cast<Scalar>());
    x0_predictions_.emplace_back(x0_pred.template cast<Scalar>());
  }

  /// The StepInfo of each recorded step, in order.
  const std::vector<StepInfo>& steps() const { return steps_; }
  /// x after each step (samples()[k] is x at steps()[k].t_prev).
  const std::vector<Tensor>& samples() const { return samples_; }
  /// The x0 prediction of each step.
  const std::vector<Tensor>& x0_predictions() const { return x0_predictions_; }
  /// Number of recorded steps.
  std::size_t size() const { return steps_.size(); }
  /// Forgets everything recorded (the vectors keep their capacity).
  void clear() {
    steps_.clear();
    samples_.clear();
    x0_predictions_.clear();
  }

 private:
  std::vector<StepInfo> steps_;
  std::vector<Tensor> samples_;
  std::vector<Tensor> x0_predictions_;
};

namespace detail {

template <class Observer>
constexpr bool is_null_observer_v = std::is_same_v<std::decay_t<Observer>, NullObserver>;

/// Calls the observer; true means "continue".
template <class Observer, class State, class X0>
bool notify(Observer& observer, const StepInfo& info, const State& x, const X0& x0_pred) {
  static_assert(std::is_invocable_v<Observer&, const StepInfo&, const State&, const X0&>,
                "ddim: an observer must be callable as observer(const ddim::StepInfo&, const State& x, "
                "const Eigen::Array<Scalar, Dynamic, Dynamic>& x0_pred), returning void or bool "
                "(false stops the loop). See docs/concepts.md.");
  using Result = std::invoke_result_t<Observer&, const StepInfo&, const State&, const X0&>;
  if constexpr (std::is_void_v<Result>) {
    observer(info, x, x0_pred);
    return true;
  } else {
    static_assert(std::is_convertible_v<Result, bool>, "ddim: an observer returns void or bool");
    return static_cast<bool>(observer(info, x, x0_pred));
  }
}

}  // namespace detail

}  // namespace ddim

#endif  // DDIM_OBSERVER_HPP
