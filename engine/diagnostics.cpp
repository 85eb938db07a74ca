#include "diagnostics.h"

#include <algorithm>
#include <vector>

namespace Sandflow {

using namespace Qt::StringLiterals;

QString Diagnostic::toString() const
{
    const QString kind = severity == Severity::Error ? u"error"_s : u"warning"_s;
    if (pos.line <= 0)
        return u"%1: %2: %3"_s.arg(file, kind, message);
    return u"%1:%2:%3: %4: %5"_s.arg(file).arg(pos.line).arg(std::max(pos.column, 1)).arg(kind, message);
}

void Diagnostics::error(const QString &file, SourcePos pos, const QString &message)
{
    m_items.append({Diagnostic::Severity::Error, file, pos, message});
}

void Diagnostics::warning(const QString &file, SourcePos pos, const QString &message)
{
    m_items.append({Diagnostic::Severity::Warning, file, pos, message});
}

void Diagnostics::add(const Diagnostic &diagnostic)
{
    m_items.append(diagnostic);
}

bool Diagnostics::hasErrors() const
{
    return errorCount() > 0;
}

int Diagnostics::errorCount() const
{
    return int(std::count_if(m_items.cbegin(), m_items.cend(), [](const Diagnostic &d) {
        return d.severity == Diagnostic::Severity::Error;
    }));
}

void Diagnostics::sort()
{
    const auto key = [](const Diagnostic &d) {
        return std::tie(d.file, d.pos.line, d.pos.column);
    };
    std::stable_sort(m_items.begin(), m_items.end(),
                     [&](const Diagnostic &a, const Diagnostic &b) { return key(a) < key(b); });
    const auto same = [](const Diagnostic &a, const Diagnostic &b) {
        return a.file == b.file && a.pos == b.pos && a.message == b.message;
    };
    m_items.erase(std::unique(m_items.begin(), m_items.end(), same), m_items.end());
}

// Optimal string alignment distance: a swap of two neighbours counts as one edit, the
// most common typo ("biuld"), besides insertions, deletions and substitutions.
static int editDistance(QStringView a, QStringView b)
{
    const qsizetype rows = a.size() + 1;
    const qsizetype columns = b.size() + 1;
    std::vector<int> d(size_t(rows * columns));
    const auto at = [&](qsizetype i, qsizetype j) -> int & { return d[size_t(i * columns + j)]; };
    for (qsizetype i = 0; i < rows; ++i)
        at(i, 0) = int(i);
    for (qsizetype j = 0; j < columns; ++j)
        at(0, j) = int(j);
    for (qsizetype i = 1; i < rows; ++i) {
        for (qsizetype j = 1; j < columns; ++j) {
            const int cost = a[i - 1].toLower() == b[j - 1].toLower() ? 0 : 1;
            at(i, j) = std::min({at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                at(i, j) = std::min(at(i, j), at(i - 2, j - 2) + 1);
        }
    }
    return at(rows - 1, columns - 1);
}

QString closestMatch(const QString &word, const QStringList &candidates)
{
    // A typo changes about a third of a word at most; beyond that a hint misleads, and a
    // word of one or two letters only matches a different spelling of case.
    const int limit = int(word.size()) / 3;
    QString best;
    int bestDistance = limit + 1;
    for (const QString &candidate : candidates) {
        const int distance = editDistance(word, candidate);
        if (distance < bestDistance) {
            bestDistance = distance;
            best = candidate;
        }
    }
    return best;
}

QString didYouMean(const QString &word, const QStringList &candidates)
{
    const QString match = closestMatch(word, candidates);
    return match.isEmpty() ? QString() : u" (did you mean `%1`?)"_s.arg(match);
}

} // namespace Sandflow
