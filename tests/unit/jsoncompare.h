// JSON helpers shared by test suites: compare values as compact JSON text, so a failed
// comparison prints both sides and the number 3 never equals the string "3".
#pragma once

#include <QByteArray>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonValue>

namespace SandflowTest {

/// Compact JSON of any value (including scalars, which QJsonDocument cannot hold alone).
inline QByteArray json(const QJsonValue &value)
{
    const QByteArray wrapped = QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact);
    return wrapped.sliced(1, wrapped.size() - 2);
}

/// `text` as compact JSON, so expectations may be written with spaces.
inline QByteArray normalized(const QByteArray &text)
{
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson('[' + text + ']', &error);
    if (error.error != QJsonParseError::NoError)
        return "invalid expectation: " + text;
    return json(document.array().first());
}

} // namespace SandflowTest
