// The Catch2 v2 main, compiled once for every test executable (v3 brings its own main library;
// this file then compiles to nothing).
#if DDIM_CATCH2_MAJOR < 3
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
#endif
