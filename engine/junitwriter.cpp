#include "junitwriter.h"

#include <QDir>
#include <QFileInfo>
#include <QSaveFile>
#include <QXmlStreamWriter>

namespace Sandflow {

using namespace Qt::StringLiterals;

static QString stepKey(const QString &job, const QString &step)
{
    return job + u'\n' + step;
}

// XML 1.0 cannot hold most control characters, not even escaped, and step output is full
// of them (colour codes): they become U+FFFD so that the report stays readable.
static QString xmlText(QString text)
{
    for (QChar &c : text) {
        if (c.unicode() < 0x20 && c != u'\t' && c != u'\n' && c != u'\r')
            c = QChar::ReplacementCharacter;
        else if (c.unicode() == 0xfffe || c.unicode() == 0xffff)
            c = QChar::ReplacementCharacter;
    }
    return text;
}

static QString seconds(qint64 milliseconds)
{
    return QString::number(double(milliseconds) / 1000, 'f', 3);
}

namespace {

struct Counts
{
    int tests = 0;
    int failures = 0;
    int skipped = 0;
    qint64 durationMs = 0;

    void add(const StepSummary &step)
    {
        ++tests;
        durationMs += step.durationMs;
        if (step.failed())
            ++failures;
        else if (step.conclusion == u"skipped"_s || step.conclusion == u"cancelled"_s)
            ++skipped;
    }

    void writeAttributes(QXmlStreamWriter &xml, qint64 timeMs) const
    {
        xml.writeAttribute(u"tests"_s, QString::number(tests));
        xml.writeAttribute(u"failures"_s, QString::number(failures));
        xml.writeAttribute(u"errors"_s, u"0"_s);
        xml.writeAttribute(u"skipped"_s, QString::number(skipped));
        xml.writeAttribute(u"time"_s, seconds(timeMs));
    }
};

} // namespace

JUnitWriter::JUnitWriter(const QString &filePath)
    : m_filePath(filePath)
{
}

void JUnitWriter::handle(const RunEvent &event)
{
    m_summary.add(event);
    if (event.type != RunEvent::Type::LogLine)
        return;
    Tails &tails = m_tails[stepKey(event.job, event.step)];
    QStringList &tail = event.stream == u"stderr"_s ? tails.err : tails.out;
    if (tail.size() == OutputLines)
        tail.removeFirst();
    tail.append(event.text);
}

void JUnitWriter::close()
{
    // One suite per job id, in the order the jobs appeared; instances are its classnames.
    QStringList jobIds;
    QHash<QString, QList<const JobSummary *>> instances;
    Counts total;
    for (const JobSummary &job : m_summary.jobs) {
        const QString id = job.jobId.isEmpty() ? job.name : job.jobId;
        if (!instances.contains(id))
            jobIds.append(id);
        instances[id].append(&job);
        for (const StepSummary &step : job.steps)
            total.add(step);
    }

    QDir().mkpath(QFileInfo(m_filePath).path());
    QSaveFile file(m_filePath);
    if (!file.open(QIODevice::WriteOnly)) {
        m_error = file.errorString();
        return;
    }
    QXmlStreamWriter xml(&file);
    xml.setAutoFormatting(true);
    xml.writeStartDocument();
    xml.writeStartElement(u"testsuites"_s);
    xml.writeAttribute(u"name"_s, xmlText(m_summary.workflow));
    total.writeAttributes(xml, m_summary.durationMs);
    for (const QString &id : std::as_const(jobIds)) {
        Counts suite;
        for (const JobSummary *job : instances.value(id)) {
            for (const StepSummary &step : job->steps)
                suite.add(step);
        }
        xml.writeStartElement(u"testsuite"_s);
        xml.writeAttribute(u"name"_s, xmlText(id));
        suite.writeAttributes(xml, suite.durationMs);
        for (const JobSummary *job : instances.value(id)) {
            for (const StepSummary &step : job->steps) {
                xml.writeStartElement(u"testcase"_s);
                xml.writeAttribute(u"classname"_s, xmlText(job->name));
                xml.writeAttribute(u"name"_s, xmlText(step.name.isEmpty() ? step.id : step.name));
                xml.writeAttribute(u"time"_s, seconds(step.durationMs));
                if (step.failed()) {
                    xml.writeStartElement(u"failure"_s);
                    xml.writeAttribute(u"message"_s, xmlText(step.error.isEmpty() ? step.conclusion : step.error));
                    xml.writeAttribute(u"type"_s, step.conclusion);
                    xml.writeEndElement();
                    const Tails tails = m_tails.value(stepKey(job->name, step.id));
                    if (!tails.out.isEmpty())
                        xml.writeTextElement(u"system-out"_s, xmlText(tails.out.join(u'\n') + u'\n'));
                    if (!tails.err.isEmpty())
                        xml.writeTextElement(u"system-err"_s, xmlText(tails.err.join(u'\n') + u'\n'));
                } else if (step.conclusion == u"skipped"_s || step.conclusion == u"cancelled"_s) {
                    xml.writeStartElement(u"skipped"_s);
                    xml.writeAttribute(u"message"_s, step.conclusion);
                    xml.writeEndElement();
                }
                xml.writeEndElement();
            }
        }
        xml.writeEndElement();
    }
    xml.writeEndElement();
    xml.writeEndDocument();
    if (xml.hasError() || !file.commit())
        m_error = file.errorString();
}

} // namespace Sandflow
