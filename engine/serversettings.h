// The workflow's `server` settings as the opensandbox runner needs them: with their
// expressions evaluated before the run starts.
#pragma once

#include "workflow.h"

#include <QMap>
#include <QString>

#include <optional>

namespace Sandflow {

struct ServerSettings
{
    QString url;                        ///< empty: not set in the workflow
    QString apiKey;                     ///< empty: not set in the workflow
    std::optional<bool> useServerProxy;
};

/// Evaluates `workflow.server` with the contexts it may read: `vars`, `secrets` (their
/// values), the workflow's `env`, and `run` (`runId`, `runDirectory`). std::nullopt, with
/// `error` saying where and why (`FILE:LINE:COL: message`), when an expression fails.
std::optional<ServerSettings> resolveServerSettings(const Workflow &workflow, const QMap<QString, QString> &secrets,
                                                    const QString &runId, const QString &runDirectory,
                                                    QString *error);

} // namespace Sandflow
