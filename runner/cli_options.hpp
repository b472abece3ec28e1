#pragma once
// Overrides contain commas (sweeps a=1,2 and arrays [1,2]): cxxopts must not split vector
// values on them. Every runner source includes cxxopts through this header.
#define CXXOPTS_VECTOR_DELIMITER '\0'
#include <cxxopts.hpp>
