#include "labelrules_p.h"

#include <QRegularExpression>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

constexpr qsizetype MaxNameLength = 63;
constexpr qsizetype MaxPrefixLength = 253;

bool isLabelName(const QString &text)
{
    static const QRegularExpression name(
        QRegularExpression::anchoredPattern(u"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?"_s));
    return name.match(text).hasMatch();
}

bool isDnsSubdomain(const QString &text)
{
    static const QRegularExpression subdomain(QRegularExpression::anchoredPattern(
        u"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"_s));
    return text.size() <= MaxPrefixLength && subdomain.match(text).hasMatch();
}

const QString &nameRule()
{
    static const QString rule =
        u"begin and end with a letter or digit and contain only letters, digits, '-', '_' and '.'"_s;
    return rule;
}

QString reservedMessage(const QString &key)
{
    return u"Metadata key '%1' is reserved: keys starting with 'opensandbox.io/' belong to the server."_s.arg(key);
}

} // namespace

bool isReservedLabelKey(const QString &key)
{
    return key.startsWith(u"opensandbox.io/"_s);
}

QString labelKeyProblem(const QString &key)
{
    const qsizetype slash = key.indexOf(u'/');
    const QString name = slash < 0 ? key : key.sliced(slash + 1);
    if (slash >= 0) {
        const QString prefix = key.first(slash);
        if (name.contains(u'/'))
            return u"a key has at most one '/'"_s;
        if (!isDnsSubdomain(prefix))
            return u"the prefix before '/' must be a lowercase DNS subdomain of at most 253 characters"_s;
    }
    if (name.isEmpty())
        return u"the name part is empty"_s;
    if (name.size() > MaxNameLength)
        return u"the name part is longer than 63 characters"_s;
    if (!isLabelName(name))
        return u"the name part must "_s + nameRule();
    return {};
}

QString labelValueProblem(const QString &value)
{
    if (value.isEmpty())
        return {};
    if (value.size() > MaxNameLength)
        return u"it is longer than 63 characters"_s;
    if (!isLabelName(value))
        return u"it must be empty, or "_s + nameRule();
    return {};
}

QString metadataEntryProblem(const QString &key, const QString &value)
{
    if (isReservedLabelKey(key))
        return reservedMessage(key);
    if (const QString problem = labelKeyProblem(key); !problem.isEmpty())
        return u"Metadata key '%1' is not a valid label key: %2."_s.arg(key, problem);
    if (const QString problem = labelValueProblem(value); !problem.isEmpty())
        return u"Metadata value '%1' of key '%2' is not a valid label value: %3."_s.arg(value, key, problem);
    return {};
}

QString metadataRemovalProblem(const QString &key)
{
    return isReservedLabelKey(key) ? reservedMessage(key) : QString();
}

} // namespace Sandflow::Internal
