#include "names_p.h"

#include <QRegularExpression>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

bool isDnsName(const QString &name, qsizetype maxLength)
{
    static const QRegularExpression pattern(u"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"_s);
    return name.size() <= maxLength && pattern.match(name).hasMatch();
}

bool isValidName(const QString &name, NameKind kind)
{
    static const QRegularExpression id(u"^[A-Za-z_][A-Za-z0-9_-]*$"_s);
    static const QRegularExpression variable(u"^[A-Za-z_][A-Za-z0-9_]*$"_s);
    return (kind == NameKind::Id ? id : variable).match(name).hasMatch();
}

} // namespace Sandflow::Internal
