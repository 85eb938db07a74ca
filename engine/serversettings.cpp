#include "serversettings.h"

#include "runscope_p.h"

namespace Sandflow {

using namespace Qt::StringLiterals;
using namespace Internal;

std::optional<ServerSettings> resolveServerSettings(const Workflow &workflow, const QMap<QString, QString> &secrets,
                                                    const QString &runId, const QString &runDirectory, QString *error)
{
    const RunConstants constants = runConstants(workflow, secrets, runId, runDirectory);
    InstanceScope scope(&constants);
    QJsonObject env;
    if (!scope.textMap(workflow.env, &env, error, true)) {
        *error = workflow.file + u':' + *error;
        return std::nullopt;
    }
    ServerSettings settings;
    settings.url = scope.text(workflow.server.url, error);
    if (error->isEmpty())
        settings.apiKey = scope.text(workflow.server.apiKey, error);
    if (!error->isEmpty()) {
        *error = workflow.file + u':' + *error;
        return std::nullopt;
    }
    settings.useServerProxy = workflow.server.useServerProxy;
    return settings;
}

} // namespace Sandflow
