#include "shellquote.h"

namespace Sandflow {

using namespace Qt::StringLiterals;

QString shellQuoted(const QString &text)
{
    QString quoted = text;
    quoted.replace(u"'"_s, u"'\\''"_s);
    return u'\'' + quoted + u'\'';
}

} // namespace Sandflow
