#include "httpwaitplugin.h"

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

} // namespace Sandflow::Internal
