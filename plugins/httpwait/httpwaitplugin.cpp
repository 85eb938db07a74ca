#include "httpwaitplugin.h"

#include "httpwaitjob.h"

#include "units.h"

#include <QJsonValue>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

QList<std::pair<QString, QString>> HttpWaitPlugin::checkInputs(const QString &stepType,
                                                              const QJsonObject &literalInputs) const
{
    Q_UNUSED(stepType);
    QList<std::pair<QString, QString>> problems;
    if (literalInputs.contains(u"port"_s)) {
        const double port = literalInputs.value(u"port"_s).toDouble(-1);
        if (port < 1 || port > 65535 || port != double(qint64(port)))
            problems.append({u"port"_s, u"`port` must be a TCP port number from 1 to 65535"_s});
    }
    const QString path = literalInputs.value(u"path"_s).toString(u"/"_s);
    if (!path.startsWith(u'/'))
        problems.append({u"path"_s, u"`path` must start with `/`"_s});
    return problems;
}

namespace {

/// A step that cannot start, with why.
class RefusedStep final : public AsyncJob
{
public:
    explicit RefusedStep(QString message) : m_message(std::move(message)) {}

protected:
    void doStart() override
    {
        finish(JobError{JobError::Kind::Invalid, u"INVALID_INPUT"_s, m_message, {}});
    }

private:
    QString m_message;
};

} // namespace

AsyncJob *HttpWaitPlugin::createJob(const StepContext &context) const
{
    HttpWaitJob::Target target;
    bool ok = false;
    target.port = context.inputs.value(u"port"_s).toString().toInt(&ok);
    if (!ok || target.port < 1 || target.port > 65535)
        return new RefusedStep(u"`port` must be a TCP port number from 1 to 65535, not `%1`"_s
                                   .arg(context.inputs.value(u"port"_s).toString()));
    target.host = context.inputs.value(u"host"_s).toString(target.host);
    target.path = context.inputs.value(u"path"_s).toString(target.path);
    for (const auto &[key, value] : {std::pair{u"timeout"_s, &target.timeoutMs}, std::pair{u"interval"_s, &target.intervalMs}}) {
        if (!context.inputs.contains(key))
            continue;
        const std::optional<qint64> duration = parseDuration(context.inputs.value(key).toString());
        if (!duration)
            return new RefusedStep(u"`%1` must be a duration such as 30s, not `%2`"_s
                                       .arg(key, context.inputs.value(key).toString()));
        *value = *duration;
    }
    return new HttpWaitJob(context, target);
}

} // namespace Sandflow::Internal
