// Feeds arbitrary files to the dataset readers: the first input byte chooses the format
// (JSON Lines, a JSON array or CSV), the rest is the file. A dataset is a file the user gives,
// often made by another program; its problems must be reported, never crash, hang or leak.
// What loads must be what Dataset promises: every row with a non-empty string `id` no other
// row has, CSV values all strings, the fields exactly the union of the rows' keys, no two
// alike; an error for a file that gives no rows; errors located in the file, on its lines.
#include "dataset.h"
#include "diagnostics.h"
#include "fuzzrequire.h"

#include <QFile>
#include <QJsonObject>
#include <QSet>
#include <QTemporaryDir>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iterator>

namespace {

using namespace Sandflow;
using namespace Qt::StringLiterals;

struct Candidate
{
    const char *name;
    Dataset::Format format;
};

constexpr Candidate candidates[] = {
    {"rows.jsonl", Dataset::Format::JsonLines},
    {"rows.json", Dataset::Format::JsonArray},
    {"rows.csv", Dataset::Format::Csv},
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    // One folder for the process's whole run; each input is written over the last.
    static const QTemporaryDir folder;
    require(folder.isValid());
    if (size == 0)
        return 0;
    const Candidate &candidate = candidates[data[0] % std::size(candidates)];
    const QString path = folder.filePath(QString::fromLatin1(candidate.name));
    const QByteArray contents(reinterpret_cast<const char *>(data + 1), qsizetype(size - 1));
    {
        QFile file(path);
        require(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
        require(file.write(contents) == contents.size());
    }

    Diagnostics diagnostics;
    const Dataset dataset = Dataset::load(path, &diagnostics);
    require(dataset.format() == candidate.format);
    require(dataset.path() == path);

    QSet<QString> ids;
    QSet<QString> keys;
    for (qsizetype i = 0; i < dataset.size(); ++i) {
        const QJsonObject row = dataset.row(i);
        require(row.value(u"id"_s).isString());
        const QString id = dataset.id(i);
        require(!id.isEmpty() && !ids.contains(id));
        ids.insert(id);
        for (auto it = row.begin(); it != row.end(); ++it) {
            keys.insert(it.key());
            if (candidate.format == Dataset::Format::Csv)
                require(it.value().isString());
        }
    }
    const QStringList fields = dataset.fields();
    require(QSet<QString>(fields.cbegin(), fields.cend()) == keys);
    require(qsizetype(keys.size()) == fields.size());

    if (dataset.size() == 0)
        require(diagnostics.errorCount() > 0);
    const qsizetype lines = contents.count('\n') + 1;
    for (const Diagnostic &diagnostic : diagnostics.items()) {
        require(diagnostic.file == path && !diagnostic.message.isEmpty());
        require(diagnostic.pos.line >= 0 && diagnostic.pos.line <= lines && diagnostic.pos.column >= 0);
        (void)diagnostic.toString();
    }
    return 0;
}
