#include "execdupload_p.h"

#include "execdjsonreader_p.h"
#include "multipartform_p.h"

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

ApiError invalidFile(const QString &message)
{
    return execdError(400, u"INVALID_FILE"_s, message);
}

ApiError invalidMetadata(const QString &message)
{
    return execdError(400, u"INVALID_FILE_METADATA"_s, message);
}

} // namespace

Parsed<QList<UploadItem>> parseUpload(QByteArrayView contentType, const QByteArray &body)
{
    const MultipartForm form = parseMultipartForm(contentType, body);
    if (!form.ok())
        return invalidFile(u"invalid multipart form: "_s + form.error);

    QList<MultipartPart> metadata;
    QList<MultipartPart> files;
    for (const MultipartPart &part : form.parts) {
        if (part.name == u"metadata"_s) {
            if (!part.fileName)
                return invalidMetadata(u"metadata file is missing: a `metadata` part needs a filename, "
                                       "such as filename=\"metadata\""_s);
            metadata.append(part);
        } else if (part.name == u"file"_s) {
            if (!part.fileName)
                return invalidFile(u"file %1 has no filename, so it is not a file"_s.arg(files.size() + 1));
            files.append(part);
        }
    }
    if (metadata.isEmpty())
        return invalidMetadata(u"metadata file is missing"_s);
    if (metadata.size() != files.size())
        return invalidFile(u"%1 metadata parts but %2 file parts; each file needs its metadata"_s
                               .arg(metadata.size())
                               .arg(files.size()));

    QList<UploadItem> items;
    for (qsizetype i = 0; i < metadata.size(); ++i) {
        const QString where = u"metadata %1"_s.arg(i + 1);
        QString error;
        const std::optional<QJsonValue> json = parseExecdJson(body.mid(metadata[i].offset, metadata[i].length), &error);
        if (!json)
            return invalidMetadata(where + u": "_s + error);
        if (!json->isObject())
            return invalidMetadata(where + u": must be a JSON object {path, owner, group, mode}"_s);
        ExecdFieldReader fields(json->toObject(), where);
        UploadItem item;
        item.path = fields.string("path"_L1);
        item.permissions = fields.permissions();
        if (fields.ok() && item.path.isEmpty())
            fields.fail(u"`path` is required"_s);
        if (!fields.ok())
            return invalidMetadata(fields.error());
        item.offset = files[i].offset;
        item.length = files[i].length;
        items.append(item);
    }
    return items;
}

} // namespace Sandflow::Internal
