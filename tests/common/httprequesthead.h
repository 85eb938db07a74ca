// The head of an HTTP/1.1 request as the scripted test servers read it off the wire.
#pragma once

#include <QByteArray>
#include <QList>
#include <QMap>

#include <optional>

struct HttpRequestHead
{
    QByteArray method;
    QByteArray target;                      ///< path and query, as sent
    QMap<QByteArray, QByteArray> headers;   ///< names in lower case
    qsizetype size = 0;                     ///< bytes up to the body, the blank line included

    /// The head at the start of `buffer`; std::nullopt until all of it has arrived.
    static std::optional<HttpRequestHead> read(const QByteArray &buffer)
    {
        const qsizetype end = buffer.indexOf("\r\n\r\n");
        if (end < 0)
            return std::nullopt;
        HttpRequestHead head;
        head.size = end + 4;
        const QList<QByteArray> lines = buffer.left(end).split('\n');
        const QList<QByteArray> first = lines.first().trimmed().split(' ');
        head.method = first.value(0);
        head.target = first.value(1);
        for (qsizetype i = 1; i < lines.size(); ++i) {
            const qsizetype colon = lines.at(i).indexOf(':');
            head.headers.insert(lines.at(i).left(colon).trimmed().toLower(), lines.at(i).mid(colon + 1).trimmed());
        }
        return head;
    }
};
