#include "stepoutputs_p.h"

#include <QList>

namespace Sandflow::Internal {

QJsonObject parseStepOutputs(const QByteArray &file)
{
    QJsonObject outputs;
    QList<QByteArray> lines = file.split('\n');
    if (!lines.isEmpty() && lines.last().isEmpty())
        lines.removeLast();
    for (qsizetype i = 0; i < lines.size(); ++i) {
        QByteArray line = lines[i];
        if (line.endsWith('\r'))
            line.chop(1);
        const qsizetype heredoc = line.indexOf("<<");
        const qsizetype equals = line.indexOf('=');
        if (heredoc > 0 && (equals < 0 || heredoc < equals)) {
            const QByteArray delimiter = line.mid(heredoc + 2);
            QList<QByteArray> value;
            for (++i; i < lines.size(); ++i) {
                QByteArray next = lines[i];
                if (next.endsWith('\r'))
                    next.chop(1);
                if (next == delimiter)
                    break;
                value.append(next);
            }
            outputs.insert(QString::fromUtf8(line.left(heredoc)), QString::fromUtf8(value.join('\n')));
        } else if (equals > 0) {
            outputs.insert(QString::fromUtf8(line.left(equals)), QString::fromUtf8(line.mid(equals + 1)));
        }
    }
    return outputs;
}

} // namespace Sandflow::Internal
