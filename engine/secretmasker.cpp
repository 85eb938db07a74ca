#include "secretmasker.h"

#include <QJsonArray>
#include <QJsonObject>

#include <algorithm>

namespace Sandflow {

using namespace Qt::StringLiterals;

SecretMasker::SecretMasker(const QStringList &secrets)
{
    for (const QString &secret : secrets) {
        if (secret.isEmpty())
            continue;
        m_patterns.append(secret);
        if (!secret.contains(u'\n'))
            continue;
        for (QString line : secret.split(u'\n')) {
            if (line.endsWith(u'\r'))
                line.chop(1);
            // A blank line would mask every run of spaces in every log.
            if (!line.trimmed().isEmpty())
                m_patterns.append(line);
        }
    }
    std::sort(m_patterns.begin(), m_patterns.end(),
              [](const QString &a, const QString &b) { return a.size() > b.size(); });
    m_patterns.erase(std::unique(m_patterns.begin(), m_patterns.end()), m_patterns.end());
}

QString SecretMasker::mask(const QString &text) const
{
    // Mark every character that belongs to some occurrence first, then replace each run of
    // marked characters: replacing one secret after the other could leave a piece of a
    // secret that overlaps another one in the clear.
    QList<bool> secret;
    for (const QString &pattern : m_patterns) {
        for (qsizetype at = text.indexOf(pattern); at >= 0; at = text.indexOf(pattern, at + 1)) {
            if (secret.isEmpty())
                secret.resize(text.size(), false);
            std::fill(secret.begin() + at, secret.begin() + at + pattern.size(), true);
        }
    }
    if (secret.isEmpty())
        return text;
    QString masked;
    masked.reserve(text.size());
    for (qsizetype i = 0; i < text.size(); ++i) {
        if (!secret[i])
            masked.append(text[i]);
        else if (i == 0 || !secret[i - 1])
            masked.append(u"***"_s);
    }
    return masked;
}

QJsonValue SecretMasker::mask(const QJsonValue &value) const
{
    if (value.isString())
        return mask(value.toString());
    if (value.isArray()) {
        QJsonArray array;
        for (const QJsonValue &item : value.toArray())
            array.append(mask(item));
        return array;
    }
    if (value.isObject()) {
        const QJsonObject object = value.toObject();
        QJsonObject masked;
        for (auto it = object.begin(); it != object.end(); ++it)
            masked.insert(mask(it.key()), mask(it.value()));
        return masked;
    }
    return value;
}

RunEvent SecretMasker::mask(const RunEvent &event) const
{
    if (isEmpty())
        return event;
    RunEvent masked = event;
    masked.job = mask(event.job);
    masked.stepName = mask(event.stepName);
    masked.text = mask(event.text);
    masked.details = mask(QJsonValue(event.details)).toObject();
    return masked;
}

} // namespace Sandflow
