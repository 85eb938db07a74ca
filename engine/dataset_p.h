// The shared state behind Dataset; not part of the engine's API.
#pragma once

#include "dataset.h"

#include <QSharedData>

namespace Sandflow::Internal {

/// The rows of one load, held once and shared by every copy of the Dataset.
class DatasetData : public QSharedData
{
public:
    QString path;
    Dataset::Format format = Dataset::Format::JsonLines;
    QList<QJsonObject> rows;
    QStringList fields;
};

} // namespace Sandflow::Internal
