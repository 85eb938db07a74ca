#include "sandboxspecjson_p.h"

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

namespace {

/// A backend object from the volume's settings: the API types `createIfNotExists` and
/// `deleteOnSandboxTermination` as booleans and `accessModes` and `options` as lists.
QJsonObject backendJson(const SandboxVolume &volume)
{
    static const QStringList booleans = {u"createIfNotExists"_s, u"deleteOnSandboxTermination"_s};
    static const QStringList lists = {u"accessModes"_s, u"options"_s};
    QJsonObject backend;
    for (const auto &[key, value] : volume.settings) {
        if (booleans.contains(key)) {
            backend.insert(key, value == u"true"_s);
        } else if (lists.contains(key)) {
            QJsonArray items = backend.value(key).toArray();
            items.append(value);
            backend.insert(key, items);
        } else {
            backend.insert(key, value);
        }
    }
    return backend;
}

} // namespace

QJsonArray volumesJson(const QList<SandboxVolume> &volumes)
{
    QJsonArray array;
    for (const SandboxVolume &volume : volumes) {
        QJsonObject object{{u"name"_s, volume.name}, {u"mountPath"_s, volume.mountPath}, {u"readOnly"_s, volume.readOnly}};
        if (!volume.subPath.isEmpty())
            object.insert(u"subPath"_s, volume.subPath);
        QJsonObject backend = backendJson(volume);
        switch (volume.kind) {
        case SandboxVolume::Kind::Host:
            backend.insert(u"path"_s, volume.hostPath);
            object.insert(u"host"_s, backend);
            break;
        case SandboxVolume::Kind::Pvc:
            backend.insert(u"claimName"_s, volume.claimName);
            object.insert(u"pvc"_s, backend);
            break;
        case SandboxVolume::Kind::Ossfs:
            object.insert(u"ossfs"_s, backend);
            break;
        }
        array.append(object);
    }
    return array;
}

} // namespace Sandflow::Internal
