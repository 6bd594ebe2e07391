// ddim: header-only DDIM/DDPM samplers. MIT licence.
//
// predictor.hpp: the contract of the user's model (the "predictor" that the sampling loop calls
// once per step) and of noise sources, checked at compile time with readable messages.
//
// Predictor: any callable (lambda, functor, std::function, a wrapper around a LibTorch/ONNX
// network) usable in one of two forms, with x_t the loop's state (the user's own Eigen object,
// passed by const reference, one column per sample) and t the integer train timestep:
//   model(x_t, t, output);   // writes the prediction into `output` (preferred: no allocation)
//   output = model(x_t, t);  // returns an Eigen expression or array of x_t's shape
// `output` is an Eigen::Array<Scalar, Dynamic, Dynamic> that the loop allocates once, shaped like
// x_t (twice the rows with Variance::learned_range: prediction on top, variance value below).
// What the prediction is (eps, x0 or v) is Options::prediction.
//
// Noise source: `ddim::no_noise`, an object with a member step_noise(step_index, t, z), or a
// callable noise(step_index, t, z), filling z (shaped like x_t, standard normal) for the step.
// Optional members: prepare(rows, cols), called before the first step to validate the batch;
// skip_step(step_index, t, rows, cols), called for a step that adds no noise but where diffusers'
// scheduler would still have drawn (and discarded) a tensor of noise, so that a stateful source
// (a torch-compatible generator) keeps its stream where diffusers' would be.
#ifndef DDIM_PREDICTOR_HPP
#define DDIM_PREDICTOR_HPP

#include <string>
#include <type_traits>
#include <utility>

#include "config.hpp"
#include "detail/no_noise.hpp"
#include "detail/validate.hpp"

namespace ddim {

/// The buffer the loop hands to a predictor of the writing form.
template <class Scalar>
using ModelOutput = Eigen::Array<Scalar, Eigen::Dynamic, Eigen::Dynamic>;

namespace detail {

template <class T, class = void>
struct is_eigen_dense : std::false_type {};
template <class T>
struct is_eigen_dense<T, std::enable_if_t<std::is_base_of_v<Eigen::DenseBase<std::decay_t<T>>, std::decay_t<T>>>>
    : std::true_type {};

template <class Model, class State, class Scalar>
constexpr bool writes_prediction_v = std::is_invocable_v<Model&, const State&, int, ModelOutput<Scalar>&>;

template <class Model, class State, class = void>
struct returns_prediction : std::false_type {};
template <class Model, class State>
struct returns_prediction<Model, State, std::enable_if_t<std::is_invocable_v<Model&, const State&, int>>>
    : is_eigen_dense<std::invoke_result_t<Model&, const State&, int>> {};

template <class Noise, class Z, class = void>
struct has_step_noise_member : std::false_type {};
template <class Noise, class Z>
struct has_step_noise_member<Noise, Z,
                             std::void_t<decltype(std::declval<Noise&>().step_noise(0, 0, std::declval<Z&>()))>>
    : std::true_type {};

template <class Noise, class = void>
struct has_skip_step_member : std::false_type {};
template <class Noise>
struct has_skip_step_member<Noise, std::void_t<decltype(std::declval<Noise&>().skip_step(0, 0, Index(0), Index(0)))>>
    : std::true_type {};

template <class Noise, class = void>
struct has_prepare_member : std::false_type {};
template <class Noise>
struct has_prepare_member<Noise, std::void_t<decltype(std::declval<Noise&>().prepare(Index(0), Index(0)))>>
    : std::true_type {};

}  // namespace detail

/// True when `Model` fits the predictor contract for states of type `State` and scalar `Scalar`.
template <class Model, class State, class Scalar>
constexpr bool is_predictor_v = detail::writes_prediction_v<Model, State, Scalar> ||
                                detail::returns_prediction<Model, State>::value;

/// True when `Noise` is no_noise, has step_noise(step_index, t, z), or is callable as
/// noise(step_index, t, z) for z of type ModelOutput<Scalar>.
template <class Noise, class Scalar>
constexpr bool is_noise_source_v = std::is_same_v<std::decay_t<Noise>, NoNoise> ||
                                   detail::has_step_noise_member<std::decay_t<Noise>, ModelOutput<Scalar>>::value ||
                                   std::is_invocable_v<Noise&, int, int, ModelOutput<Scalar>&>;

namespace detail {

inline std::string shape(Index rows, Index cols, int step_index, int t) {
  return std::to_string(rows) + "x" + std::to_string(cols) + " at step " + std::to_string(step_index) +
         " (t = " + std::to_string(t) + ")";
}

/// Throws the model-output shape error (kept out of line so that call_model, on every step of
/// the loop, stays small enough to inline).
[[noreturn]] DDIM_NOINLINE inline void fail_model_output_shape(const char* where, Index rows, Index cols, int step_index,
                                                               int t, Index expected_rows, Index expected_cols,
                                                               const char* expected_what) {
  fail_text(where, "model output shape", shape(rows, cols, step_index, t),
            std::to_string(expected_rows) + "x" + std::to_string(expected_cols) + expected_what);
}

/// Calls the model in whichever form it supports, then checks the output's shape (a wrong shape
/// throws std::invalid_argument naming the step and the expected shape).
template <class Scalar, class Model, class State>
void call_model(Model& model, const State& x_t, int t, int step_index, ModelOutput<Scalar>& output,
                Index expected_rows, const char* where) {
  static_assert(is_predictor_v<Model, State, Scalar>,
                "ddim: the model must be callable as model(x_t, t, output) -> void, writing its prediction "
                "into `output` (an Eigen::Array<Scalar, Dynamic, Dynamic> shaped like x_t), or as "
                "model(x_t, t) returning an Eigen expression shaped like x_t; x_t is passed as a const "
                "reference to your state and t as int (the train timestep). See docs/concepts.md.");
  const Index cols = x_t.cols();
  if constexpr (writes_prediction_v<Model, State, Scalar>) {
    model(x_t, t, output);
    if (output.rows() != expected_rows || output.cols() != cols) {
      fail_model_output_shape(where, output.rows(), output.cols(), step_index, t, expected_rows, cols,
                              ", the shape of the buffer it was given (the model resized it)");
    }
  } else {
    decltype(auto) result = model(x_t, t);
    if (result.rows() != expected_rows || result.cols() != cols) {
      fail_model_output_shape(where, result.rows(), result.cols(), step_index, t, expected_rows, cols,
                              ", the shape of x_t");
    }
    output = result;
  }
}

/// Fills z for a step from any kind of noise source.
template <class Noise, class Z>
void draw_noise(Noise& noise, int step_index, int t, Z& z) {
  if constexpr (has_step_noise_member<Noise, Z>::value) {
    noise.step_noise(step_index, t, z);
  } else {
    noise(step_index, t, z);
  }
}

/// Tells a stateful noise source that diffusers would have drawn (and discarded) a step's noise
/// here, so that it can advance its stream the same way; counter-based sources ignore it.
template <class Noise>
void skip_noise(Noise& noise, int step_index, int t, Index rows, Index cols) {
  if constexpr (has_skip_step_member<Noise>::value) noise.skip_step(step_index, t, rows, cols);
  (void)noise;
  (void)step_index;
  (void)t;
  (void)rows;
  (void)cols;
}

/// Lets a noise source validate the batch shape before the first step, if it wants to.
template <class Noise>
void prepare_noise(Noise& noise, Index rows, Index cols) {
  if constexpr (has_prepare_member<Noise>::value) noise.prepare(rows, cols);
  (void)noise;
  (void)rows;
  (void)cols;
}

}  // namespace detail

}  // namespace ddim

#endif  // DDIM_PREDICTOR_HPP
