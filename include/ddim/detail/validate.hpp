// ddim::detail validation helpers: every configuration error goes through here, so that all
// messages share one shape: "<where>: <parameter> = <value>; allowed: <range>".
#ifndef DDIM_DETAIL_VALIDATE_HPP
#define DDIM_DETAIL_VALIDATE_HPP

#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace ddim {
namespace detail {

/// Formats a number for an error message: integers exactly, floating point with enough digits
/// to round-trip (%.17g), so the user sees the value that was actually rejected.
template <class T>
std::string format_value(T value) {
  if constexpr (std::is_same_v<T, bool>) {
    return value ? "true" : "false";
  } else if constexpr (std::is_integral_v<T>) {
    return std::to_string(value);
  } else {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.17g", static_cast<double>(value));
    return buffer;
  }
}

/// "name[index]" for messages about one entry of a list.
inline std::string indexed(const std::string& name, long long index) {
  return name + "[" + std::to_string(index) + "]";
}

/// Throws std::invalid_argument("<where>: <parameter> = <value>; allowed: <allowed>").
template <class T>
[[noreturn]] void fail(const std::string& where, const std::string& parameter, T value,
                       const std::string& allowed) {
  throw std::invalid_argument(where + ": " + parameter + " = " + format_value(value) +
                              "; allowed: " + allowed);
}

/// Throws the same shape of message when the offending value is a description, not a number.
[[noreturn]] inline void fail_text(const std::string& where, const std::string& parameter,
                                   const std::string& value, const std::string& allowed) {
  throw std::invalid_argument(where + ": " + parameter + " = " + value + "; allowed: " + allowed);
}

/// Checks that value is finite and inside [low, high] (bounds included or excluded as asked).
inline void require_in_range(const std::string& where, const std::string& parameter, double value,
                             double low, bool low_inclusive, double high, bool high_inclusive) {
  const bool low_ok = low_inclusive ? value >= low : value > low;
  const bool high_ok = high_inclusive ? value <= high : value < high;
  if (!std::isfinite(value) || !low_ok || !high_ok) {
    fail(where, parameter, value,
         format_value(low) + (low_inclusive ? " <= " : " < ") + parameter +
             (high_inclusive ? " <= " : " < ") + format_value(high));
  }
}

/// Checks low <= value <= high for an integer parameter.
inline void require_int_in_range(const std::string& where, const std::string& parameter,
                                 long long value, long long low, long long high) {
  if (value < low || value > high) {
    fail(where, parameter, value,
         format_value(low) + " <= " + parameter + " <= " + format_value(high));
  }
}

}  // namespace detail
}  // namespace ddim

#endif  // DDIM_DETAIL_VALIDATE_HPP
