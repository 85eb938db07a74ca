#include "downloadtree_p.h"

#include "hostdirectory_p.h"

#include <QSet>

#include <algorithm>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

JobError listingError(const QString &code, const QString &message, const QString &source, const QString &entry)
{
    return {JobError::Kind::Invalid, code, message, {{u"source"_s, source}, {u"entry"_s, entry}}};
}

} // namespace

std::optional<JobError> downloadTreeFromListing(const QString &source, const QList<FileInfo> &listing, int depth,
                                                DownloadTree *tree)
{
    const QString prefix = source.endsWith(u'/') ? source : source + u'/';
    QSet<QString> listed;
    QSet<QString> directories;
    for (const FileInfo &entry : listing) {
        const QStringList names = entry.path.startsWith(prefix) ? entry.path.sliced(prefix.size()).split(u'/')
                                                                : QStringList();
        if (names.isEmpty() || !std::all_of(names.cbegin(), names.cend(), isPlainName))
            return listingError(u"DOWNLOAD_UNSAFE_PATH"_s,
                                u"the listing of `%1` names `%2`, which is not a path below it: nothing was "
                                u"downloaded"_s.arg(source, entry.path),
                                source, entry.path);
        const QString relative = names.join(u'/');
        if (names.size() > depth)
            return listingError(u"DOWNLOAD_BAD_LISTING"_s,
                                u"the listing of `%1` names `%2`, deeper than the %3 levels asked for"_s
                                    .arg(source, entry.path)
                                    .arg(depth),
                                source, entry.path);
        if (listed.contains(relative))
            return listingError(u"DOWNLOAD_BAD_LISTING"_s,
                                u"the listing of `%1` names `%2` twice"_s.arg(source, entry.path), source, entry.path);
        if (names.size() > 1 && !directories.contains(names.first(names.size() - 1).join(u'/')))
            return listingError(u"DOWNLOAD_BAD_LISTING"_s,
                                u"the listing of `%1` names `%2`, which is not in a directory listed before it"_s
                                    .arg(source, entry.path),
                                source, entry.path);
        listed.insert(relative);
        if (entry.type == FileInfo::Type::Directory) {
            directories.insert(relative);
            tree->directories.append(names);
        } else if (entry.type == FileInfo::Type::File) {
            tree->files.append({entry.path, names, downloadedMode(entry.mode)});
        }
    }
    return std::nullopt;
}

int downloadedMode(int sandboxMode)
{
    const int permissions = sandboxMode & 0777;
    return permissions == 0 ? 0644 : permissions;
}

} // namespace Sandflow::Internal
