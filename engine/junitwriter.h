// The run as a JUnit XML report, the test result format CI systems read: each job is a
// test suite, each step of each job instance a test case.
//
//     <testsuites name="WORKFLOW" tests failures errors skipped time>
//       <testsuite name="JOB ID" tests failures errors skipped time>
//         <testcase classname="JOB INSTANCE" name="STEP NAME" time="1.234">
//           <failure message="ERROR" type="failure|timed_out"/>   conclusion failure, timed_out
//           <skipped message="skipped|cancelled"/>                skipped, cancelled
//           <system-out>last 50 lines of a failed step's stdout</system-out>
//           <system-err>last 50 lines of its stderr</system-err>
//         </testcase>
//
// A step allowed to fail (continue-on-error) passes. Times are seconds; `errors` is always
// 0, since a step that could not run fails.
#pragma once

#include "runsummary.h"

#include <QHash>
#include <QString>
#include <QStringList>

namespace Sandflow {

class JUnitWriter final : public RunEventSink
{
public:
    static constexpr qsizetype OutputLines = 50;

    /// Writes the report to `filePath` on close().
    explicit JUnitWriter(const QString &filePath);

    void handle(const RunEvent &event) override;
    void close() override;

    QString filePath() const { return m_filePath; }
    /// Why the report could not be written; empty when it was.
    QString errorString() const { return m_error; }

private:
    QString m_filePath;
    RunSummary m_summary;
    /// The last lines of each step's stdout and stderr, by job and step.
    struct Tails
    {
        QStringList out;
        QStringList err;
    };
    QHash<QString, Tails> m_tails;
    QString m_error;
};

} // namespace Sandflow
