// Keeps secret values out of everything a run writes: each sink sees events only after a
// SecretMasker has replaced every secret in them with `***`.
#pragma once

#include "runevent.h"

#include <QJsonValue>
#include <QString>
#include <QStringList>

namespace Sandflow {

class SecretMasker
{
public:
    /// Masks nothing.
    SecretMasker() = default;
    /// Empty secrets are ignored. A secret of several lines is also masked line by line
    /// (each line that is not blank), because step output arrives one line at a time.
    explicit SecretMasker(const QStringList &secrets);

    bool isEmpty() const { return m_patterns.isEmpty(); }

    /// `text` with every occurrence of every secret replaced by `***`. Overlapping or
    /// nested occurrences become one `***`, so no part of a longer secret stays visible.
    QString mask(const QString &text) const;
    /// Every string in a JSON value, keys included, masked.
    QJsonValue mask(const QJsonValue &value) const;
    /// The event with its job, stepName, text and every string in details masked.
    RunEvent mask(const RunEvent &event) const;

private:
    QStringList m_patterns;   ///< longest first
};

} // namespace Sandflow
