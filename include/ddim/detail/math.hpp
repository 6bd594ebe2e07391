// ddim::detail scalar helpers shared by the schedule, timestep and coefficient code. All of them
// run at configuration time in double precision.
#ifndef DDIM_DETAIL_MATH_HPP
#define DDIM_DETAIL_MATH_HPP

#include <cmath>
#include <vector>

namespace ddim {
namespace detail {

/// numpy.linspace(start, stop, num) for num >= 1, reproduced operation for operation so that
/// sequences derived from it (spacings, schedules) round exactly as numpy's do: element i is
/// i * step + start with step = (stop - start) / (num - 1), and the last element is stop itself.
inline std::vector<double> linspace(double start, double stop, int num) {
  std::vector<double> values(static_cast<std::size_t>(num > 0 ? num : 0));
  if (num <= 0) return values;
  if (num == 1) {
    values[0] = start;
    return values;
  }
  const double step = (stop - start) / static_cast<double>(num - 1);
  for (int i = 0; i < num; ++i) values[static_cast<std::size_t>(i)] = static_cast<double>(i) * step + start;
  values.back() = stop;
  return values;
}

/// numpy.round / torch.round: round half to even (std::nearbyint in the default rounding mode
/// would depend on the caller's floating-point environment, so the tie rule is spelled out).
inline double round_half_even(double value) {
  const double floor_value = std::floor(value);
  const double fraction = value - floor_value;
  if (fraction < 0.5) return floor_value;
  if (fraction > 0.5) return floor_value + 1.0;
  return std::fmod(floor_value, 2.0) == 0.0 ? floor_value : floor_value + 1.0;
}

/// sqrt of a quantity that is mathematically >= 0 but may come out a few ulp negative after
/// cancellation (e.g. 1 - alpha_bar_prev - sigma^2 at eta = 1): negative rounding noise maps to 0.
inline double sqrt_clamped(double value) { return value > 0.0 ? std::sqrt(value) : 0.0; }

}  // namespace detail
}  // namespace ddim

#endif  // DDIM_DETAIL_MATH_HPP
