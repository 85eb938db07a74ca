// Expansion of `strategy.matrix` into combinations, with GitHub Actions semantics.
#pragma once

#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QPair>
#include <QString>

namespace Sandflow {

/// A literal matrix as written: the axes in file order, then include and exclude.
struct MatrixSpec
{
    QList<QPair<QString, QJsonArray>> axes;
    QList<QJsonObject> include;
    QList<QJsonObject> exclude;

    bool isEmpty() const { return axes.isEmpty() && include.isEmpty(); }
};

/// The combinations, as GitHub Actions computes them:
/// 1. the cartesian product of the axes, the first axis varying slowest (no axes: none);
/// 2. every combination matching all key/values of an `exclude` entry is dropped;
/// 3. every `include` entry is merged into each product combination whose original axis
///    values it does not change (values it added earlier may be overwritten); an entry
///    that fits no combination is appended as a combination of its own.
QList<QJsonObject> expandMatrix(const MatrixSpec &spec);

/// Every key a combination can have: the axes, then keys that only `include` adds.
QStringList matrixKeys(const MatrixSpec &spec);

} // namespace Sandflow
