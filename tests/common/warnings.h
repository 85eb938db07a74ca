// Warnings as test failures, for suites in which no warning is expected.
#pragma once

#include <QRegularExpression>
#include <QTest>

namespace TestWarnings {

/// Makes any warning fail the current test. Call it in init(), so that it covers every test
/// function: in a suite that expects no warning, one is a bug that would otherwise only be
/// printed (a helper that could not do its part, a QObject misused, a timer on the wrong
/// thread), and the test would pass. Messages a test expects, it names with
/// QTest::ignoreMessage, which is checked first.
inline void failOnAnyWarning()
{
    static const QRegularExpression any(QStringLiteral(".*"));
    QTest::failOnWarning(any);
}

} // namespace TestWarnings
