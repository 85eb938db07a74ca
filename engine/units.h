// Durations and Kubernetes quantities as workflows write them.
#pragma once

#include <QString>

#include <optional>

namespace Sandflow {

/// `500ms`, `30s`, `5m`, `2h` or a bare number of seconds (fractions allowed),
/// as milliseconds. std::nullopt when the text is not a duration.
std::optional<qint64> parseDuration(const QString &text);

/// A number with no unit (`30`, `1.5`): a workflow file must say which unit it means.
bool isBareNumber(const QString &text);

/// Formats milliseconds the way a user would write them: `1h30m`, `45s`, `250ms`.
QString formatDuration(qint64 milliseconds);

/// A Kubernetes quantity (`512Mi`, `2Gi`, `1.5`, `500m`, `1e3`) as a number in base units.
/// std::nullopt when the text is not a quantity.
std::optional<double> parseQuantity(const QString &text);

} // namespace Sandflow
