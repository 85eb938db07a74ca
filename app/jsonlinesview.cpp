#include "jsonlinesview.h"

#include <QIODevice>
#include <QJsonDocument>

namespace Sandflow::Cli {

JsonLinesView::JsonLinesView(QIODevice *device)
    : m_device(device)
{
}

void JsonLinesView::handle(const RunEvent &event)
{
    m_device->write(QJsonDocument(event.toJson()).toJson(QJsonDocument::Compact) + '\n');
}

} // namespace Sandflow::Cli
