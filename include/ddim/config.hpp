// ddim: header-only DDIM/DDPM samplers. MIT licence.
//
// config.hpp: the one header every ddim header includes first. It pulls in Eigen's core module,
// defines the version macros and the assertion hook, and checks the language level.
#ifndef DDIM_CONFIG_HPP
#define DDIM_CONFIG_HPP

#if defined(_MSVC_LANG)
#define DDIM_CPLUSPLUS _MSVC_LANG
#else
#define DDIM_CPLUSPLUS __cplusplus
#endif
#if DDIM_CPLUSPLUS < 201703L
#error "ddim needs C++17 or newer (compile with -std=c++17 or link the ddim::ddim CMake target)."
#endif

#include <Eigen/Core>

/// Library version: major.minor.patch (kept equal to the CMake project version; a test checks it).
#define DDIM_VERSION_MAJOR 0
#define DDIM_VERSION_MINOR 1
#define DDIM_VERSION_PATCH 0
/// The version as one integer, major * 10000 + minor * 100 + patch, for `#if` comparisons.
#define DDIM_VERSION (DDIM_VERSION_MAJOR * 10000 + DDIM_VERSION_MINOR * 100 + DDIM_VERSION_PATCH)
/// The version as a string literal, "major.minor.patch".
#define DDIM_VERSION_STRING "0.1.0"

/// Internal consistency checks on the hot path (preconditions that the configuration step has
/// already validated). Defaults to Eigen's assertion, so `NDEBUG`/`EIGEN_NO_DEBUG` turn it off.
/// Define DDIM_ASSERT before including ddim to route it elsewhere.
#ifndef DDIM_ASSERT
#define DDIM_ASSERT(condition) eigen_assert(condition)
#endif

/// Compiler hints for the hot path. DDIM_ALWAYS_INLINE: inline whatever the compiler's size
/// heuristics say (the step's kernel, so a step on ~100 values is its loop and a few compares).
/// DDIM_NOINLINE: keep out of line (error paths, so their string building does not bloat the
/// functions that call them). DDIM_INDEPENDENT_ITERATIONS: no iteration of the next loop reads
/// what another writes, so it vectorizes without runtime alias checks. DDIM_RESTRICT: no alias.
#if defined(_MSC_VER)
#define DDIM_RESTRICT __restrict
#define DDIM_ALWAYS_INLINE __forceinline
#define DDIM_NOINLINE __declspec(noinline)
#define DDIM_INDEPENDENT_ITERATIONS __pragma(loop(ivdep))
#elif defined(__clang__)
#define DDIM_RESTRICT __restrict__
#define DDIM_ALWAYS_INLINE inline __attribute__((always_inline))
#define DDIM_NOINLINE __attribute__((noinline))
#define DDIM_INDEPENDENT_ITERATIONS _Pragma("clang loop vectorize(assume_safety)")
#elif defined(__GNUC__)
#define DDIM_RESTRICT __restrict__
#define DDIM_ALWAYS_INLINE inline __attribute__((always_inline))
#define DDIM_NOINLINE __attribute__((noinline))
#define DDIM_INDEPENDENT_ITERATIONS _Pragma("GCC ivdep")
#else
#define DDIM_RESTRICT
#define DDIM_ALWAYS_INLINE inline
#define DDIM_NOINLINE
#define DDIM_INDEPENDENT_ITERATIONS
#endif

namespace ddim {

/// Index type used for tensor sizes (Eigen's signed index type).
using Index = Eigen::Index;

}  // namespace ddim

#endif  // DDIM_CONFIG_HPP
