#pragma once
// SLURM's compressed host lists, as in SLURM_JOB_NODELIST: `node[01-04,07]`, `a1,b2`,
// `rack[1-2]-n[01-02]`.
#include <string>
#include <string_view>
#include <vector>

namespace mlq {

// Every host name, in order; zero padding of a range is kept (`n[08-10]`: n08 n09 n10). Throws
// std::invalid_argument saying what is wrong (an unclosed bracket, a range that runs backwards).
std::vector<std::string> expand_nodelist(std::string_view nodelist);

}  // namespace mlq
