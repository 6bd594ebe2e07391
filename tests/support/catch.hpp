// Include shim: the parts of Catch2 ddim's tests use, from v3's split headers or v2's single
// header. Tests use only what both versions share (TEST_CASE, TEMPLATE_TEST_CASE, GENERATE,
// SECTION, the WithinAbs/WithinRel/WithinULP matchers) plus the aliases below.
#ifndef DDIM_TESTS_SUPPORT_CATCH_HPP
#define DDIM_TESTS_SUPPORT_CATCH_HPP

#if DDIM_CATCH2_MAJOR >= 3
#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/generators/catch_generators_range.hpp>
#include <catch2/matchers/catch_matchers_floating_point.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
namespace ddim_test {
/// Matches an exception message that contains `text`.
inline auto contains(const std::string& text) { return Catch::Matchers::ContainsSubstring(text); }
}  // namespace ddim_test
#else
#include <catch2/catch.hpp>
namespace ddim_test {
/// Matches an exception message that contains `text`.
inline auto contains(const std::string& text) { return Catch::Matchers::Contains(text); }
}  // namespace ddim_test
#endif

using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using Catch::Matchers::WithinULP;

#endif  // DDIM_TESTS_SUPPORT_CATCH_HPP
