// The version macros in config.hpp agree with the CMake project version.
#include <ddim/config.hpp>

#include <string>

#include "support/catch.hpp"

TEST_CASE("version macros equal the CMake project version", "[version]") {
  const std::string from_parts = std::to_string(DDIM_VERSION_MAJOR) + "." +
                                 std::to_string(DDIM_VERSION_MINOR) + "." +
                                 std::to_string(DDIM_VERSION_PATCH);
  CHECK(from_parts == DDIM_PROJECT_VERSION);
  CHECK(std::string(DDIM_VERSION_STRING) == DDIM_PROJECT_VERSION);
  CHECK(DDIM_VERSION == DDIM_VERSION_MAJOR * 10000 + DDIM_VERSION_MINOR * 100 + DDIM_VERSION_PATCH);
}
