// LocalRunner: reaching services that listen inside a sandbox. The agent's relay tool
// connects from inside the sandbox, so a service bound to the sandbox's loopback is reached
// the same way with the host's network and in a network namespace of its own.
#include "localrunner.h"

#include "agent/relaytool.h"
#include "agenttool_p.h"

namespace Sandflow {

using namespace Qt::StringLiterals;

FileReadJob *LocalRunner::relayToPort(const QString &sandboxId, quint16 port, QIODevice *request)
{
    auto failure = [sandboxId, port](const QJsonObject &status, const QByteArray &stderrBytes) {
        const QJsonObject context{{u"id"_s, sandboxId}, {u"port"_s, port}};
        const QString reported = QString::fromUtf8(stderrBytes.trimmed());
        switch (status.contains(u"exitCode"_s) ? status.value(u"exitCode"_s).toInt() : -1) {
        case Agent::Relay::ExitUnreachable:
            // A task error, not an invalid request: a service that is still starting is
            // reached by trying again.
            return JobError{JobError::Kind::Task, u"PORT_UNREACHABLE"_s,
                            u"nothing listens on port %1 in sandbox %2"_s.arg(port).arg(sandboxId), context};
        case Agent::Relay::ExitBroken:
            return JobError{JobError::Kind::Task, u"RELAY_FAILED"_s,
                            u"relaying to port %1 in sandbox %2 failed: %3"_s.arg(port).arg(sandboxId, reported),
                            context};
        default:
            return JobError{JobError::Kind::Infra, u"RELAY_TOOL_FAILED"_s,
                            u"the sandbox's relay tool failed: %1"_s.arg(reported), context};
        }
    };
    return new Internal::AgentReadJob(this, sandboxId, {u"relay"_s, QString::number(port)},
                                      std::unique_ptr<QIODevice>(request), std::move(failure));
}

} // namespace Sandflow
