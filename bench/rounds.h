// How a benchmark sets a figure against its baseline on a shared, loaded machine: the two
// sides take turns over several rounds, after one untimed run of each, so that neither is
// always first, always cold, or alone with a burst of load; each side is reported as the
// median of its rounds with its lowest and highest, so that the noise shows beside the ratio.
#pragma once

#include <algorithm>
#include <cstdio>
#include <functional>
#include <vector>

namespace Bench {

/// What each side measured, one value a round.
struct Rounds
{
    std::vector<double> baseline;
    std::vector<double> measured;
};

struct Spread
{
    double median = 0;
    double min = 0;
    double max = 0;
};

inline Spread spread(std::vector<double> values)
{
    if (values.empty())
        return {};
    std::sort(values.begin(), values.end());
    return {values[values.size() / 2], values.front(), values.back()};
}

/// Runs each side once untimed, then `rounds` rounds in the order A B, B A, A B, ...
inline Rounds alternate(int rounds, const std::function<double()> &baseline, const std::function<double()> &measured)
{
    baseline();
    measured();
    Rounds result;
    for (int round = 0; round < rounds; ++round) {
        if (round % 2 == 0) {
            result.baseline.push_back(baseline());
            result.measured.push_back(measured());
        } else {
            result.measured.push_back(measured());
            result.baseline.push_back(baseline());
        }
    }
    return result;
}

/// One line a side: the median in `unit`, the range, and for the measured side the ratio
/// of the medians.
inline void printComparison(const Rounds &rounds, const char *unit, const char *baselineLabel, const char *measuredLabel)
{
    const Spread baseline = spread(rounds.baseline);
    const Spread measured = spread(rounds.measured);
    std::printf("  %-46s %9.1f %-4s (min %.1f, max %.1f)\n", baselineLabel, baseline.median, unit, baseline.min,
                baseline.max);
    std::printf("  %-46s %9.1f %-4s (min %.1f, max %.1f)  %.2fx baseline\n", measuredLabel, measured.median, unit,
                measured.min, measured.max, measured.median / baseline.median);
}

} // namespace Bench
