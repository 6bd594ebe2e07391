// ddim: header-only DDIM/DDPM samplers. MIT licence.
//
// step.hpp: the tensor half of a step. Given coefficients from coefficients.hpp, one elementwise
// pass over Eigen arrays turns (x_t, model output, noise z) into x_prev. Pure and stateless: it
// does not allocate, does not throw, and may write in place (x_prev aliasing x_t).
//
// Tensors are Eigen arrays of any shape; one column per sample is the convention for batches
// (dynamic thresholding works per column). Use `.array()` on matrices and `Eigen::Map` over
// foreign buffers (LibTorch, ONNX Runtime) to step them without copying.
#ifndef DDIM_STEP_HPP
#define DDIM_STEP_HPP

#include <type_traits>

#include "coefficients.hpp"
#include "config.hpp"
#include "detail/kernels.hpp"
#include "detail/no_noise.hpp"
#include "prediction.hpp"

namespace ddim {

namespace detail {

struct NoVariance {};  // no learned variance output: the noise scale is the coefficient's sigma

template <class Out>
constexpr bool is_writable_array_v =
    std::is_base_of_v<Eigen::ArrayBase<std::decay_t<Out>>, std::decay_t<Out>> &&
    !std::is_const_v<std::remove_reference_t<Out>>;

// clamp(v, -bound, bound) as a scalar functor. Eigen's vectorized max/min would do, but GCC 12
// reports a false -Wuninitialized inside its own AVX-512 intrinsics for them under
// -march=native, which would break users' -Werror builds; the contiguous fast path
// (detail/kernels.hpp) clamps with its own vectorized code, so only strided views use this.
template <class Scalar>
struct Clamp {
  Scalar bound;
  Scalar operator()(Scalar value) const { return value < -bound ? -bound : (value > bound ? bound : value); }
};

// std * z: a constant sigma, or exp(center + half_range * clamp(v, -1, 1)) per element.
template <class Scalar, class V, class Z>
auto noise_term(const StepCoefficients<Scalar>& c, const V& variance_value, const Z& z) {
  if constexpr (std::is_same_v<V, NoVariance>) {
    return c.noise_scale * z;
  } else {
    return (c.log_std_center + c.log_std_half_range * variance_value.unaryExpr(Clamp<Scalar>{Scalar(1)})).exp() * z;
  }
}

// The raw-memory fast path of apply_update (detail/kernels.hpp): taken when every operand is one
// contiguous range in the same element order and the noise scale is a constant. Returns false
// when it does not apply.
template <class Scalar, class X, class P, class V, class Z, class Out>
DDIM_ALWAYS_INLINE bool try_contiguous_update(const StepCoefficients<Scalar>& c, const X& x_t, const P& prediction,
                                              const V&, const Z& z, Out& x_prev, Scalar bound, Scalar x0_scale) {
  constexpr bool has_noise = !std::is_same_v<Z, ddim::NoNoise>;
  if constexpr (std::is_same_v<V, NoVariance> && has_direct_storage<X>::value && has_direct_storage<P>::value &&
                has_direct_storage<std::decay_t<Out>>::value &&
                (!has_noise || has_direct_storage<std::conditional_t<has_noise, Z, X>>::value)) {
    const bool shapes_walk_alike =
        is_vector_shaped(x_t) ||
        (same_storage_order_v<X, P> && same_storage_order_v<X, Out> &&
         (!has_noise || same_storage_order_v<X, std::conditional_t<has_noise, Z, X>>));
    if (!shapes_walk_alike || !is_contiguous(x_t) || !is_contiguous(prediction) || !is_contiguous(x_prev)) return false;
    const Scalar* z_data = nullptr;
    if constexpr (has_noise) {
      if (!is_contiguous(z)) return false;
      z_data = z.data();
    }
    const UpdateScalars<Scalar> k{c.prev_from_x, c.prev_from_output, c.prev_from_x0 * x0_scale, c.x0_from_x,
                                  c.x0_from_output, bound, c.noise_scale};
    const Index n = x_t.size();
    if (c.clips()) return update_contiguous<Scalar, true, has_noise>(n, x_t.data(), prediction.data(), z_data, x_prev.data(), k);
    return update_contiguous<Scalar, false, has_noise>(n, x_t.data(), prediction.data(), z_data, x_prev.data(), k);
  } else {
    (void)c, (void)x_t, (void)prediction, (void)z, (void)x_prev, (void)bound, (void)x0_scale;
    return false;
  }
}

// One fused pass: x_prev = k0 * clamp(x0_pred, -bound, bound) + kx * x_t + km * prediction + std * z,
// with k0 = prev_from_x0 * x0_scale (the dynamic threshold divides the clipped x0 by s), through
// Eigen's expressions: any strides, storage orders and a learned variance.
template <class Scalar, class X, class P, class V, class Z, class Out>
void apply_update_expression(const StepCoefficients<Scalar>& c, const X& x_t, const P& prediction,
                             const V& variance_value, const Z& z, Out& x_prev, Scalar bound, Scalar x0_scale) {
  constexpr bool has_noise = !std::is_same_v<Z, ddim::NoNoise>;
  const Scalar kx = c.prev_from_x;
  const Scalar km = c.prev_from_output;
  if (!c.clips()) {
    if constexpr (has_noise) x_prev = kx * x_t + km * prediction + noise_term(c, variance_value, z);
    else x_prev = kx * x_t + km * prediction;
    return;
  }
  const Scalar k0 = c.prev_from_x0 * x0_scale;
  const auto x0_clipped = (c.x0_from_x * x_t + c.x0_from_output * prediction).unaryExpr(Clamp<Scalar>{bound});
  if constexpr (has_noise) x_prev = k0 * x0_clipped + kx * x_t + km * prediction + noise_term(c, variance_value, z);
  else x_prev = k0 * x0_clipped + kx * x_t + km * prediction;
}

// The update: the raw-memory kernel where it applies, Eigen's expressions otherwise. Forced
// inline (with the kernel) so that a step on ~100 values costs its loop and a few compares, not
// a call that saves registers and broadcasts coefficients before a handful of vector iterations.
template <class Scalar, class X, class P, class V, class Z, class Out>
DDIM_ALWAYS_INLINE void apply_update(const StepCoefficients<Scalar>& c, const X& x_t, const P& prediction,
                                     const V& variance_value, const Z& z, Out& x_prev, Scalar bound, Scalar x0_scale) {
  if (try_contiguous_update(c, x_t, prediction, variance_value, z, x_prev, bound, x0_scale)) return;
  apply_update_expression(c, x_t, prediction, variance_value, z, x_prev, bound, x0_scale);
}

// Splits the model output: with a learned variance its bottom half is the variance value v.
template <class Scalar, class X, class M, class Z, class Out>
DDIM_ALWAYS_INLINE void apply_step(const StepCoefficients<Scalar>& c, const X& x_t, const M& output, const Z& z,
                                   Out& x_prev, Scalar bound, Scalar x0_scale) {
  const Index rows = x_t.rows();
  if (output.rows() == rows) {
    // the common case: no block expression, so Eigen runs one linear vectorized loop
    apply_update(c, x_t, output, NoVariance{}, z, x_prev, bound, x0_scale);
  } else if (c.learned_range) {
    apply_update(c, x_t, output.topRows(rows), output.bottomRows(rows), z, x_prev, bound, x0_scale);
  } else {
    apply_update(c, x_t, output.topRows(rows), NoVariance{}, z, x_prev, bound, x0_scale);
  }
}

template <class Scalar, class DX, class DM, class Z, class Out>
void check_step_arguments(const StepCoefficients<Scalar>& c, const Eigen::ArrayBase<DX>& x_t,
                          const Eigen::ArrayBase<DM>& output, const Z& z, const Out& x_prev) {
  static_assert(std::is_same_v<typename DX::Scalar, Scalar> && std::is_same_v<typename DM::Scalar, Scalar>,
                "ddim::step: x_t, the model output and the coefficients must share one scalar type "
                "(build the coefficients with step_coefficients<Scalar>)");
  DDIM_ASSERT(x_prev.rows() == x_t.rows() && x_prev.cols() == x_t.cols());
  DDIM_ASSERT(output.cols() == x_t.cols());
  DDIM_ASSERT(c.has_variance_output ? output.rows() == 2 * x_t.rows() : output.rows() == x_t.rows());
  if constexpr (!std::is_same_v<Z, ddim::NoNoise>) {
    static_assert(std::is_same_v<typename Z::Scalar, Scalar>, "ddim::step: z must have the scalar type of x_t");
    DDIM_ASSERT(z.rows() == x_t.rows() && z.cols() == x_t.cols());
  }
  (void)c;
  (void)x_t;
  (void)output;
  (void)z;
  (void)x_prev;
}

}  // namespace detail

/// One step x_t -> x_prev with injected noise z (same shape as x_t, standard normal):
///   x_prev = prev_from_x0 * clip(x0_pred) + prev_from_x * x_t + prev_from_output * output + std * z
/// which is eq. 12 (Method::ddim) or DDPM eq. 7 plus noise (Method::ddpm), the prediction
/// conversion folded in. With Variance::learned_range, `model_output` has twice the rows of x_t:
/// the prediction on top, the variance value v on the bottom (diffusers' channel split).
/// x_prev may be x_t itself (in place). No allocation, no exception; shape mismatches are caught
/// by DDIM_ASSERT in debug builds. For dynamic thresholding use step_thresholded.
template <class Scalar, class DX, class DM, class DZ, class Out>
DDIM_ALWAYS_INLINE void step(const StepCoefficients<Scalar>& c, const Eigen::ArrayBase<DX>& x_t,
                             const Eigen::ArrayBase<DM>& model_output, const Eigen::ArrayBase<DZ>& z, Out&& x_prev) {
  static_assert(detail::is_writable_array_v<Out>,
                "ddim::step: x_prev must be a writable Eigen array expression (use .array() on matrices)");
  detail::check_step_arguments(c, x_t, model_output, z.derived(), x_prev);
  DDIM_ASSERT(c.clip_kind != Clipping::Kind::dynamic_threshold);
  detail::apply_step(c, x_t.derived(), model_output.derived(), z.derived(), x_prev, c.clip_range, Scalar(1));
}

/// The same step without its noise term: x_prev is the mean of p(x_prev | x_t) (exactly the
/// step when sigma = 0, e.g. deterministic DDIM). In place allowed; no allocation, no exception.
template <class Scalar, class DX, class DM, class Out>
DDIM_ALWAYS_INLINE void step(const StepCoefficients<Scalar>& c, const Eigen::ArrayBase<DX>& x_t,
                             const Eigen::ArrayBase<DM>& model_output, Out&& x_prev) {
  static_assert(detail::is_writable_array_v<Out>,
                "ddim::step: x_prev must be a writable Eigen array expression (use .array() on matrices)");
  detail::check_step_arguments(c, x_t, model_output, NoNoise{}, x_prev);
  DDIM_ASSERT(c.clip_kind != Clipping::Kind::dynamic_threshold);
  detail::apply_step(c, x_t.derived(), model_output.derived(), NoNoise{}, x_prev, c.clip_range, Scalar(1));
}

namespace detail {

template <class Scalar, class DX, class DM, class Z, class Out, class Scratch>
void step_thresholded_impl(const StepCoefficients<Scalar>& c, const Eigen::ArrayBase<DX>& x_t,
                           const Eigen::ArrayBase<DM>& model_output, const Z& z, Out& x_prev, Scratch& scratch) {
  const Index rows = x_t.rows();
  for (Index j = 0; j < x_t.cols(); ++j) {
    const auto x_col = x_t.derived().col(j);
    const auto out_col = model_output.derived().col(j);
    const Scalar threshold = dynamic_threshold(
        (c.x0_from_x * x_col + c.x0_from_output * out_col.topRows(rows)), c.threshold_ratio,
        c.threshold_max_value, scratch);
    auto prev_col = x_prev.col(j);
    if constexpr (std::is_same_v<Z, ddim::NoNoise>) {
      apply_step(c, x_col, out_col, z, prev_col, threshold, Scalar(1) / threshold);
    } else {
      apply_step(c, x_col, out_col, z.col(j), prev_col, threshold, Scalar(1) / threshold);
    }
  }
}

}  // namespace detail

/// The step with dynamic thresholding (Clipping::dynamic_threshold): for each column (sample) j,
/// s_j = dynamic_threshold(x0_pred column), x0_pred is clamped to [-s_j, s_j] and divided by s_j,
/// then the update proceeds as in `step`. `scratch` is any contiguous buffer of at least
/// x_t.rows() scalars with .data() and .size() (e.g. an Eigen::Array allocated once); it is
/// overwritten. In place allowed; no allocation, no exception.
template <class Scalar, class DX, class DM, class DZ, class Out, class Scratch>
void step_thresholded(const StepCoefficients<Scalar>& c, const Eigen::ArrayBase<DX>& x_t,
                      const Eigen::ArrayBase<DM>& model_output, const Eigen::ArrayBase<DZ>& z,
                      Out&& x_prev, Scratch& scratch) {
  static_assert(detail::is_writable_array_v<Out>,
                "ddim::step_thresholded: x_prev must be a writable Eigen array expression");
  detail::check_step_arguments(c, x_t, model_output, z.derived(), x_prev);
  DDIM_ASSERT(c.clip_kind == Clipping::Kind::dynamic_threshold);
  DDIM_ASSERT(static_cast<Index>(scratch.size()) >= x_t.rows());
  detail::step_thresholded_impl(c, x_t, model_output, z.derived(), x_prev, scratch);
}

/// The noise-free form of step_thresholded (the mean of p(x_prev | x_t)).
template <class Scalar, class DX, class DM, class Out, class Scratch>
void step_thresholded(const StepCoefficients<Scalar>& c, const Eigen::ArrayBase<DX>& x_t,
                      const Eigen::ArrayBase<DM>& model_output, Out&& x_prev, Scratch& scratch) {
  static_assert(detail::is_writable_array_v<Out>,
                "ddim::step_thresholded: x_prev must be a writable Eigen array expression");
  detail::check_step_arguments(c, x_t, model_output, NoNoise{}, x_prev);
  DDIM_ASSERT(c.clip_kind == Clipping::Kind::dynamic_threshold);
  DDIM_ASSERT(static_cast<Index>(scratch.size()) >= x_t.rows());
  detail::step_thresholded_impl(c, x_t, model_output, NoNoise{}, x_prev, scratch);
}

namespace detail {

template <class Noise, class Scalar, class = void>
struct has_step_noise_range : std::false_type {};
template <class Noise, class Scalar>
struct has_step_noise_range<Noise, Scalar,
                            std::void_t<decltype(std::declval<const Noise&>().step_noise_range(
                                0, Index(0), Index(0), Index(0), std::declval<Scalar*>()))>> : std::true_type {};

/// Values of noise generated and consumed at a time by the fused step: four of the generator's
/// 64-value chunks (1 KiB of float, 2 KiB of double), so the noise never leaves L1 and the SIMD
/// kernel runs its two-chunks-at-a-time path; a multiple of 64, so every call but a column's
/// last covers whole chunks.
inline constexpr Index kNoiseChunk = 256;

inline Index noise_chunks_per_column(Index rows) { return (rows + kNoiseChunk - 1) / kNoiseChunk; }

/// The update scalars of a step for the raw kernels.
template <class Scalar>
UpdateScalars<Scalar> update_scalars(const StepCoefficients<Scalar>& c, Scalar x0_scale = Scalar(1)) {
  return UpdateScalars<Scalar>{c.prev_from_x, c.prev_from_output, c.prev_from_x0 * x0_scale, c.x0_from_x,
                               c.x0_from_output, c.clip_range, c.noise_scale};
}

/// The update over n contiguous values (clipping and noise chosen at run time); z may be null
/// for a step without noise. Returns false on overlapping arguments (see update_contiguous).
template <class Scalar>
bool update_range(const StepCoefficients<Scalar>& c, Index n, const Scalar* x, const Scalar* m, const Scalar* z,
                  Scalar* out) {
  const UpdateScalars<Scalar> k = update_scalars(c);
  if (c.clips()) {
    return z ? update_contiguous<Scalar, true, true>(n, x, m, z, out, k) : update_contiguous<Scalar, true, false>(n, x, m, z, out, k);
  }
  return z ? update_contiguous<Scalar, false, true>(n, x, m, z, out, k) : update_contiguous<Scalar, false, false>(n, x, m, z, out, k);
}

/// The fused generate-and-step work units [unit_begin, unit_end): unit u is chunk
/// u % chunks_per_column of column u / chunks_per_column. Each unit is computed the same way
/// whoever computes it, which is what makes a parallel split bit-identical to one thread.
template <class Scalar, class Noise>
void fused_noise_units(const StepCoefficients<Scalar>& c, const Scalar* x, Index x_stride, const Scalar* m,
                       Index m_stride, Scalar* out, Index out_stride, Index rows, const Noise& noise, int step_index,
                       Index unit_begin, Index unit_end) {
  const UpdateScalars<Scalar> k = update_scalars(c);
  const Index chunks = noise_chunks_per_column(rows);
  alignas(64) Scalar z[kNoiseChunk];
  for (Index unit = unit_begin; unit < unit_end; ++unit) {
    const Index j = unit / chunks, begin = unit % chunks * kNoiseChunk;
    const Index count = rows - begin < kNoiseChunk ? rows - begin : kNoiseChunk;
    noise.step_noise_range(step_index, j, begin, count, z);
    const Scalar* xj = x + j * x_stride + begin;
    const Scalar* mj = m + j * m_stride + begin;
    Scalar* oj = out + j * out_stride + begin;
    const bool done = c.clips() ? update_contiguous<Scalar, true, true>(count, xj, mj, z, oj, k)
                                : update_contiguous<Scalar, false, true>(count, xj, mj, z, oj, k);
    DDIM_ASSERT(done);  // only partial overlaps between x_t, the output and x_prev refuse
    (void)done;
  }
}

}  // namespace detail

/// True when `Noise` can produce any range of a step's noise on demand (e.g. PhiloxNoise), which
/// is what the fused step overload below needs.
template <class Noise, class Scalar>
constexpr bool generates_noise_ranges_v = detail::has_step_noise_range<std::decay_t<Noise>, Scalar>::value;

/// One step whose noise z is generated on the fly by `noise` for sampling step `step_index`
/// (the same values noise.step_noise would write), in chunks of 256 values consumed at once, so
/// no noise tensor is ever stored: the step costs little more than generating its noise. The
/// result equals step(c, x_t, model_output, z, x_prev) with that z. Every column of x_t,
/// model_output and x_prev must be contiguous (true for Arrays, Matrices and Maps); Clipping
/// none or range, no learned variance (use the tensor overload for those). In place allowed;
/// no allocation, no exception.
template <class Scalar, class DX, class DM, class Noise, class Out>
void step(const StepCoefficients<Scalar>& c, const Eigen::ArrayBase<DX>& x_t, const Eigen::ArrayBase<DM>& model_output,
          const Noise& noise, int step_index, Out&& x_prev) {
  static_assert(detail::is_writable_array_v<Out>,
                "ddim::step: x_prev must be a writable Eigen array expression (use .array() on matrices)");
  static_assert(generates_noise_ranges_v<Noise, Scalar>,
                "ddim::step: this overload needs a noise source with step_noise_range (e.g. ddim::PhiloxNoise)");
  detail::check_step_arguments(c, x_t, model_output, NoNoise{}, x_prev);
  static_assert(!DX::IsRowMajor && !DM::IsRowMajor && !std::decay_t<Out>::IsRowMajor,
                "ddim::step with a noise source: tensors must store each sample (column) contiguously (column-major)");
  DDIM_ASSERT(c.clip_kind != Clipping::Kind::dynamic_threshold && !c.learned_range);
  DDIM_ASSERT(x_t.derived().innerStride() == 1 && model_output.derived().innerStride() == 1 && x_prev.innerStride() == 1);
  const Index rows = x_t.rows();
  const Index units = x_t.cols() * detail::noise_chunks_per_column(rows);
  detail::fused_noise_units(c, x_t.derived().data(), x_t.derived().outerStride(), model_output.derived().data(),
                            model_output.derived().outerStride(), x_prev.data(), x_prev.outerStride(), rows, noise,
                            step_index, Index(0), units);
}

/// x0_pred as the step uses it: the model output converted (eq. 9 for epsilon-prediction) and,
/// for Clipping::Kind::range, clamped; written into `x0_pred` (shaped like x_t). For dynamic
/// thresholding use predicted_x0_thresholded. No allocation, no exception.
template <class Scalar, class DX, class DM, class Out>
void predicted_x0(const StepCoefficients<Scalar>& c, const Eigen::ArrayBase<DX>& x_t,
                  const Eigen::ArrayBase<DM>& model_output, Out&& x0_pred) {
  static_assert(detail::is_writable_array_v<Out>,
                "ddim::predicted_x0: x0_pred must be a writable Eigen array expression");
  DDIM_ASSERT(x0_pred.rows() == x_t.rows() && x0_pred.cols() == x_t.cols());
  DDIM_ASSERT(c.clip_kind != Clipping::Kind::dynamic_threshold);
  const auto prediction = model_output.derived().topRows(x_t.rows());
  if (c.clip_kind == Clipping::Kind::range) {
    x0_pred = (c.x0_from_x * x_t.derived() + c.x0_from_output * prediction).unaryExpr(detail::Clamp<Scalar>{c.clip_range});
  } else {
    x0_pred = c.x0_from_x * x_t.derived() + c.x0_from_output * prediction;  // eq. 9
  }
}

/// x0_pred as a dynamically thresholded step uses it: per column, clamped to [-s, s] and divided
/// by s (Imagen section 2.3; see step_thresholded; `scratch` holds at least x_t.rows() scalars
/// and is overwritten). No allocation, no exception.
template <class Scalar, class DX, class DM, class Out, class Scratch>
void predicted_x0_thresholded(const StepCoefficients<Scalar>& c, const Eigen::ArrayBase<DX>& x_t,
                              const Eigen::ArrayBase<DM>& model_output, Out&& x0_pred, Scratch& scratch) {
  static_assert(detail::is_writable_array_v<Out>,
                "ddim::predicted_x0_thresholded: x0_pred must be a writable Eigen array expression");
  DDIM_ASSERT(x0_pred.rows() == x_t.rows() && x0_pred.cols() == x_t.cols());
  DDIM_ASSERT(c.clip_kind == Clipping::Kind::dynamic_threshold);
  const Index rows = x_t.rows();
  for (Index j = 0; j < x_t.cols(); ++j) {
    x0_pred.col(j) = c.x0_from_x * x_t.derived().col(j) + c.x0_from_output * model_output.derived().col(j).topRows(rows);
    auto column = x0_pred.col(j);
    const Scalar threshold = dynamic_threshold(column, c.threshold_ratio, c.threshold_max_value, scratch);
    column = column.unaryExpr(detail::Clamp<Scalar>{threshold}) / threshold;
  }
}

}  // namespace ddim

#endif  // DDIM_STEP_HPP
