// Times Dataset::load on generated 10,000-row JSON Lines and CSV files. The baseline, measured
// in the same run on the same machine, is the least any loader does: read the JSON Lines file
// line by line and parse each line. Each format takes turns with the baseline over several
// rounds (rounds.h). Prints figures; not a test.
#include "dataset.h"
#include "rounds.h"

#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QTemporaryDir>

#include <cstdio>
#include <functional>

#ifdef Q_OS_UNIX
#include <sys/resource.h>
#endif

namespace {

using namespace Qt::StringLiterals;

constexpr int RowCount = 10'000;
constexpr int Runs = 9;

/// An instruction of a realistic length, with a comma and quotes that both formats escape.
const QString Instruction = u"Fix \"bug\" #%1, then make the failing test in tests/test_io.py pass without "
                            u"changing the test; keep the public API and the on-disk format as they are."_s;

QByteArray jsonLines()
{
    QByteArray content;
    for (int i = 0; i < RowCount; ++i) {
        const QString instruction = Instruction.arg(i).replace(u'"', u"\\\""_s);
        content += u"{\"id\": \"task-%1\", \"instruction\": \"%2\", \"image\": \"python:3.11\", \"level\": %3}\n"_s
                       .arg(QString::number(i), instruction, QString::number(i % 5)).toUtf8();
    }
    return content;
}

QByteArray csv()
{
    QByteArray content = "id,instruction,image,level\n";
    for (int i = 0; i < RowCount; ++i) {
        const QString instruction = Instruction.arg(i).replace(u'"', u"\"\""_s);
        content += u"task-%1,\"%2\",python:3.11,%3\n"_s
                       .arg(QString::number(i), instruction, QString::number(i % 5)).toUtf8();
    }
    return content;
}

bool writeFile(const QString &path, const QByteArray &content)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(content) == content.size();
}

/// The rows `path` yields, or -1 when loading it reports a problem.
int loadRows(const QString &path)
{
    Sandflow::Diagnostics diagnostics;
    const Sandflow::Dataset dataset = Sandflow::Dataset::load(path, &diagnostics);
    return diagnostics.hasErrors() ? -1 : int(dataset.size());
}

/// The baseline: the objects among the lines of `path`.
int parseLines(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return -1;
    int objects = 0;
    while (!file.atEnd())
        objects += QJsonDocument::fromJson(file.readLine()).isObject() ? 1 : 0;
    return objects;
}

/// The time of `run` in milliseconds; a run that does not produce every row clears `complete`.
double milliseconds(const std::function<int()> &run, bool &complete)
{
    QElapsedTimer timer;
    timer.start();
    complete = run() == RowCount && complete;
    return double(timer.nsecsElapsed()) / 1e6;
}

double peakRssMiB()
{
#ifdef Q_OS_UNIX
    rusage usage{};
    if (getrusage(RUSAGE_SELF, &usage) == 0)
        return double(usage.ru_maxrss) / 1024; // KiB on Linux
#endif
    return -1;
}

double mebibytes(qint64 bytes)
{
    return double(bytes) / (1024 * 1024);
}

} // namespace

int main()
{
    QTemporaryDir dir;
    const QString jsonlPath = dir.filePath(u"tasks.jsonl"_s);
    const QString csvPath = dir.filePath(u"tasks.csv"_s);
    if (!dir.isValid() || !writeFile(jsonlPath, jsonLines()) || !writeFile(csvPath, csv())) {
        std::fprintf(stderr, "bench_dataset: cannot write the datasets to a temporary directory\n");
        return 1;
    }

    bool complete = true;
    const auto baseline = [&] { return milliseconds([&] { return parseLines(jsonlPath); }, complete); };
    const Bench::Rounds jsonl = Bench::alternate(
        Runs, baseline, [&] { return milliseconds([&] { return loadRows(jsonlPath); }, complete); });
    const Bench::Rounds csvLoad = Bench::alternate(
        Runs, baseline, [&] { return milliseconds([&] { return loadRows(csvPath); }, complete); });
    if (!complete) {
        std::fprintf(stderr, "bench_dataset: a run did not yield %d rows\n", RowCount);
        return 1;
    }

    std::printf("bench_dataset: %d rows, %d rounds against the baseline in alternating order after one untimed "
                "run of each; medians\n", RowCount, Runs);
    std::printf("  files: JSONL %.2f MiB, CSV %.2f MiB\n", mebibytes(QFileInfo(jsonlPath).size()),
                mebibytes(QFileInfo(csvPath).size()));
    Bench::printComparison(jsonl, "ms", "baseline, readLine + fromJson per JSONL line:", "Dataset::load JSONL:");
    Bench::printComparison(csvLoad, "ms", "baseline, readLine + fromJson per JSONL line:", "Dataset::load CSV:");
    std::printf("  peak RSS: %.1f MiB\n", peakRssMiB());
    return 0;
}
