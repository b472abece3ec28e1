#pragma once
// The precompiled header of every LibTorch target in the tree (mlq_reuse_torch_pch): LibTorch and
// the heavy third-party headers most of them include.
#include <fmt/format.h>
#include <torch/torch.h>

#include <toml++/toml.h>
#include <nlohmann/json.hpp>

#include "mlq/util/cli.hpp"  // cxxopts, with the settings every includer must share
