// The `http-wait` step type: wait for a server inside the sandbox to answer.
#pragma once

#include "stepplugin.h"

#include <QObject>

namespace Sandflow::Internal {

class HttpWaitPlugin final : public QObject, public StepPlugin
{
    Q_OBJECT
    Q_PLUGIN_METADATA(IID SandflowStepPlugin_iid FILE "httpwait.json")
    Q_INTERFACES(Sandflow::StepPlugin)

public:
    QList<std::pair<QString, QString>> checkInputs(const QString &stepType,
                                                   const QJsonObject &literalInputs) const override;
    AsyncJob *createJob(const StepContext &context) const override;
};

} // namespace Sandflow::Internal
