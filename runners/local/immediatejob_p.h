// A job whose answer is at hand when it starts (a lookup in the runner's own tables): it
// still goes through the one job contract, so callers treat it like any remote call.
#pragma once

#include "runner.h"

#include <functional>
#include <variant>

namespace Sandflow::Internal {

template <typename Result>
class ImmediateJob final : public ResultJob<Result>
{
public:
    /// Fills in the result, or returns the error.
    using Work = std::function<std::optional<JobError>(Result &result)>;

    explicit ImmediateJob(Work work) : m_work(std::move(work)) {}

protected:
    void doStart() override { this->finish(m_work(this->m_result)); }

private:
    Work m_work;
};

/// For operations with nothing to return.
using ImmediateActionJob = ImmediateJob<std::monostate>;

} // namespace Sandflow::Internal
