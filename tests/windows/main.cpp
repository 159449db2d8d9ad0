// The Windows test executable's entry (Catch2); CI runs it under Wine.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
