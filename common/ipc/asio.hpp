#pragma once
// The one way to include Boost.Asio: with GCC 12 in C++20 mode, Boost 1.74's asio.hpp does not
// compile unless <utility> comes first.
#include <utility>
// clang-format off
#include <boost/asio.hpp>
// clang-format on
