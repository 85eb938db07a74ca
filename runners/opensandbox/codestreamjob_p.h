// Code run in a code interpreter context through execd's POST /code: a command stream
// whose `result` events carry what the code evaluated to, whose errors are the kernel's
// exceptions, and which is stopped by interrupting the context.
#pragma once

#include "commandstreamjob_p.h"

namespace Sandflow::Internal {

class CodeStreamJob final : public CommandStreamJob<CodeJob>
{
public:
    CodeStreamJob(Transport &transport, const OpenSandboxEndpoint &execd, const OpenSandboxCodeContext &context,
                  const QString &code);

protected:
    void otherEvent(const QString &type, const QJsonObject &event) override;
    std::optional<JobError> failure(const QJsonObject &error) const override;
};

} // namespace Sandflow::Internal
