// ddim::detail kernels: the step's elementwise update on raw contiguous memory. Eigen's
// expression templates reach the memory bandwidth on large tensors but carry a fixed cost per
// evaluation (alignment peeling, runtime dispatch) that dominates at robot-policy sizes (~100
// values); these loops are what the compiler vectorizes directly. They use the association order
// of the Eigen path in step.hpp, so both give the same bits wherever the compiler does not fuse
// multiply-adds differently between them.
#ifndef DDIM_DETAIL_KERNELS_HPP
#define DDIM_DETAIL_KERNELS_HPP

#include <type_traits>
#include <utility>

#include "../config.hpp"

namespace ddim {
namespace detail {

/// The scalars of one update in the precision of the tensors:
///   x_prev = ((k0 clamp(ax x + am m, -bound, bound) + kx x) + km m) + sigma z   (clipped)
///   x_prev = (kx x + km m) + sigma z                                              (not clipped)
template <class Scalar>
struct UpdateScalars {
  Scalar kx, km, k0, ax, am, bound, sigma;
};

template <class Scalar, bool Clip, bool Noise>
DDIM_ALWAYS_INLINE Scalar update_value(const UpdateScalars<Scalar>& k, Scalar x, Scalar m, Scalar z) {
  Scalar value;
  if constexpr (Clip) {
    Scalar x0 = k.ax * x + k.am * m;
    x0 = x0 < -k.bound ? -k.bound : x0;
    x0 = x0 > k.bound ? k.bound : x0;
    value = k.k0 * x0 + k.kx * x;
    value = value + k.km * m;
  } else {
    value = k.kx * x + k.km * m;
  }
  if constexpr (Noise) value = value + k.sigma * z;
  return value;
}

/// out[i] = update(x[i], m[i], z[i]) for i < n, where out is x itself (in place) or overlaps
/// none of x, m and z. Either way no iteration reads what another one writes, which the pragma
/// tells the compiler: one loop, vectorized without runtime alias checks, serves both cases.
template <class Scalar, bool Clip, bool Noise>
DDIM_ALWAYS_INLINE void update_values(Index n, const Scalar* x, const Scalar* m, const Scalar* z, Scalar* out,
                                      const UpdateScalars<Scalar>& k) {
  const UpdateScalars<Scalar> local = k;  // a local copy: its fields stay in registers across the stores
#if defined(__clang__)
  // Clang's form of the hint also requests vectorization, and warns where it cannot vectorize
  // (-O1, -fno-vectorize: a fuzzing or debugging build); the loop is correct either way.
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wpass-failed"
#endif
  DDIM_INDEPENDENT_ITERATIONS
  for (Index i = 0; i < n; ++i) out[i] = update_value<Scalar, Clip, Noise>(local, x[i], m[i], Noise ? z[i] : Scalar(0));
#if defined(__clang__)
#pragma clang diagnostic pop
#endif
}

/// Runs the update over n contiguous values, in place when out == x. Returns false (doing
/// nothing) when the arrays overlap in any other way, so the caller can take its general path.
template <class Scalar, bool Clip, bool Noise>
DDIM_ALWAYS_INLINE bool update_contiguous(Index n, const Scalar* x, const Scalar* m, const Scalar* z, Scalar* out,
                                          const UpdateScalars<Scalar>& k) {
  const auto overlaps = [n](const Scalar* a, const Scalar* b) {
    return a != nullptr && b != nullptr && a < b + n && b < a + n;
  };
  if (overlaps(m, out) || (Noise && overlaps(z, out)) || (out != x && overlaps(x, out))) return false;
  update_values<Scalar, Clip, Noise>(n, x, m, z, out, k);
  return true;
}

/// Detects Eigen objects with directly addressable storage (Array, Matrix, Map, Ref, blocks).
template <class D, class = void>
struct has_direct_storage : std::false_type {};
template <class D>
struct has_direct_storage<D, std::void_t<decltype(std::declval<const D&>().data()),
                                         decltype(std::declval<const D&>().innerStride()),
                                         decltype(std::declval<const D&>().outerStride())>> : std::true_type {};

/// True when the object's values fill one contiguous range of memory in its storage order.
template <class D>
bool is_contiguous(const D& d) {
  if (d.size() <= 1) return true;
  if (d.innerStride() != 1) return false;
  return d.outerSize() == 1 || d.outerStride() == d.innerSize();
}

/// True when two objects of the same shape walk their elements in the same memory order.
template <class A, class B>
constexpr bool same_storage_order_v = static_cast<bool>(std::decay_t<A>::IsRowMajor) ==
                                      static_cast<bool>(std::decay_t<B>::IsRowMajor);

template <class D>
bool is_vector_shaped(const D& d) {
  return d.rows() == 1 || d.cols() == 1;
}

/// True when the object's values fill one contiguous range in column-major element order (the
/// order of the Sampler's own buffers): contiguous and column-major, or a contiguous vector.
template <class D>
bool is_contiguous_column_order(const D& d) {
  return (!std::decay_t<D>::IsRowMajor || is_vector_shaped(d)) && is_contiguous(d);
}

}  // namespace detail
}  // namespace ddim

#endif  // DDIM_DETAIL_KERNELS_HPP
