// Catch2's main for integration_tests; the tests are in test_*.cpp.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
