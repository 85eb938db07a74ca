#include "matrix.h"

#include <QStringList>

#include <algorithm>

namespace Sandflow {

namespace {

/// Whether `combination` has every key of `entry` with a deeply equal value.
bool hasAll(const QJsonObject &combination, const QJsonObject &entry)
{
    for (auto it = entry.begin(); it != entry.end(); ++it) {
        if (combination.value(it.key()) != it.value())
            return false;
    }
    return true;
}

/// Whether `entry` keeps every value `combination` has for the same key. `combination` holds
/// only axis values here, so keys that are no axis never conflict.
bool keepsValues(const QJsonObject &combination, const QJsonObject &entry)
{
    for (auto it = entry.begin(); it != entry.end(); ++it) {
        const QJsonValue original = combination.value(it.key());
        if (!original.isUndefined() && original != it.value())
            return false;
    }
    return true;
}

void mergeInto(QJsonObject &combination, const QJsonObject &entry)
{
    for (auto it = entry.begin(); it != entry.end(); ++it)
        combination.insert(it.key(), it.value());
}

/// The first axis varies slowest, as in GitHub Actions (and nested loops in file order).
QList<QJsonObject> cartesianProduct(const QList<QPair<QString, QJsonArray>> &axes)
{
    if (axes.isEmpty())
        return {};
    QList<QJsonObject> combinations{QJsonObject()};
    for (const auto &[name, values] : axes) {
        QList<QJsonObject> extended;
        extended.reserve(combinations.size() * values.size());
        for (const QJsonObject &partial : combinations) {
            for (const QJsonValue &value : values) {
                QJsonObject combination = partial;
                combination.insert(name, value);
                extended.append(combination);
            }
        }
        combinations = std::move(extended);
    }
    return combinations;
}

QList<QJsonObject> withoutExcluded(QList<QJsonObject> combinations, const QList<QJsonObject> &exclude)
{
    combinations.removeIf([&](const QJsonObject &combination) {
        return std::any_of(exclude.cbegin(), exclude.cend(),
                           [&](const QJsonObject &entry) { return hasAll(combination, entry); });
    });
    return combinations;
}

void appendUnique(QStringList &list, const QString &value)
{
    if (!list.contains(value))
        list.append(value);
}

} // namespace

QList<QJsonObject> expandMatrix(const MatrixSpec &spec)
{
    // Include entries are matched against the product's own values, never against what
    // earlier entries merged in or appended, so keep those apart.
    const QList<QJsonObject> product = withoutExcluded(cartesianProduct(spec.axes), spec.exclude);
    QList<QJsonObject> merged = product;
    QList<QJsonObject> appended;
    for (const QJsonObject &entry : spec.include) {
        bool fitted = false;
        for (qsizetype i = 0; i < product.size(); ++i) {
            if (keepsValues(product.at(i), entry)) {
                mergeInto(merged[i], entry);
                fitted = true;
            }
        }
        if (!fitted)
            appended.append(entry);
    }
    return merged + appended;
}

QStringList matrixKeys(const MatrixSpec &spec)
{
    QStringList keys;
    for (const auto &axis : spec.axes)
        appendUnique(keys, axis.first);
    for (const QJsonObject &entry : spec.include) {
        for (auto it = entry.begin(); it != entry.end(); ++it)
            appendUnique(keys, it.key());
    }
    return keys;
}

} // namespace Sandflow
