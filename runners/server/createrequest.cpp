// POST /sandboxes: a CreateSandboxRequest body, judged in the order the real server judges
// it. Its model validation runs first and reports every member of the wrong type or shape at
// once (422); its rules across members run only on a body that passed (422 again, one
// failure); its handler's checks come last, each a 400 with a code.
#include "lifecyclewire_p.h"

#include "jsonbody_p.h"
#include "labelrules_p.h"
#include "resourcelimits_p.h"

#include <QSet>
#include <QSysInfo>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;
using Need = BodyReader::Need;

namespace {

constexpr qint64 ShortestTimeoutSeconds = 60;
// Seconds from 1970 to the end of 9999: a longer timeout gives an expiry the server cannot
// represent, which it refuses like a timeout above its cap.
constexpr qint64 LongestTimeoutSeconds = 253'402'300'799;
constexpr qsizetype MaxVolumeNameLength = 63;
constexpr qsizetype MaxClaimNameLength = 253;
constexpr int ShortestRenewExtension = 300;
constexpr int LongestRenewExtension = 86'400;

const FieldPattern &dnsLabel()
{
    static const FieldPattern pattern(u"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"_s);
    return pattern;
}

ApiError invalidParameter(const QString &message)
{
    return ApiError::coded(400, u"SANDBOX::INVALID_PARAMETER"_s, message);
}

// The members of a create request, each of the right type and shape, not yet judged
// together.
struct Fields
{
    QString imageUri;                       ///< blank counts as absent
    QString imageUsername;                  ///< image.auth, for the image's registry
    QString imagePassword;
    std::optional<QString> snapshotId;
    std::optional<QString> os;              ///< set with `arch` when `platform` is given
    std::optional<QString> arch;
    std::optional<qint64> timeout;
    std::optional<QJsonObject> resourceLimits;
    QMap<QString, QString> env;
    QMap<QString, QString> metadata;
    std::optional<QStringList> entrypoint;
    std::optional<SandboxNetworkPolicy> network;
    bool credentialProxy = false;
    bool secureAccess = false;
    QList<SandboxVolume> volumes;
    QMap<QString, QString> extensions;
    QStringList warnings;
};

QMap<QString, QString> stringMap(const std::optional<QJsonObject> &object)
{
    QMap<QString, QString> map;
    if (!object)
        return map;
    for (auto it = object->constBegin(); it != object->constEnd(); ++it) {
        // A null value in `env` means "do not set".
        if (!it->isNull())
            map.insert(it.key(), it->toString());
    }
    return map;
}

std::optional<SandboxNetworkPolicy::Action> readAction(BodyReader &reader, const QJsonObject &object,
                                                       const QString &key, const QJsonArray &loc, Need need)
{
    const std::optional<QString> action = reader.string(object, key, loc, need);
    if (!action || !reader.oneOf(*action, {u"allow"_s, u"deny"_s}, locAt(loc, key)))
        return std::nullopt;
    return *action == u"allow"_s ? SandboxNetworkPolicy::Action::Allow : SandboxNetworkPolicy::Action::Deny;
}

std::optional<SandboxNetworkPolicy> readNetworkPolicy(BodyReader &reader, const QJsonObject &body)
{
    const std::optional<QJsonObject> object = reader.model(body, u"networkPolicy"_s, bodyLoc());
    if (!object)
        return std::nullopt;
    const QJsonArray loc = locAt(bodyLoc(), u"networkPolicy"_s);
    SandboxNetworkPolicy policy;
    // Without `defaultAction` the egress sidecar denies: `{}` is deny-all, not allow-all.
    policy.defaultAction = readAction(reader, *object, u"defaultAction"_s, loc, Need::Optional)
                               .value_or(SandboxNetworkPolicy::Action::Deny);
    const std::optional<QJsonArray> egress = reader.list(*object, u"egress"_s, loc);
    for (qsizetype i = 0; egress && i < egress->size(); ++i) {
        const QJsonArray ruleLoc = locAt(locAt(loc, u"egress"_s), i);
        const std::optional<QJsonObject> rule = reader.model(egress->at(i), ruleLoc);
        if (!rule)
            continue;
        const auto action = readAction(reader, *rule, u"action"_s, ruleLoc, Need::Required);
        const std::optional<QString> target = reader.string(*rule, u"target"_s, ruleLoc, Need::Required);
        if (action && target)
            policy.egress.append({*action, *target});
    }
    return policy;
}

void readStringList(BodyReader &reader, const QJsonObject &object, const QString &key, const QJsonArray &loc)
{
    const std::optional<QJsonArray> list = reader.list(object, key, loc);
    for (qsizetype i = 0; list && i < list->size(); ++i)
        reader.string(list->at(i), locAt(locAt(loc, key), i));
}

void readHost(BodyReader &reader, const QJsonObject &host, const QJsonArray &loc, SandboxVolume *volume)
{
    static const FieldPattern hostPath(u"^(/|[A-Za-z]:[\\\\/])"_s);
    volume->kind = SandboxVolume::Kind::Host;
    if (const std::optional<QString> path = reader.string(host, u"path"_s, loc, Need::Required)) {
        reader.matches(*path, hostPath, locAt(loc, u"path"_s));
        volume->hostPath = *path;
    }
}

void readPvc(BodyReader &reader, const QJsonObject &pvc, const QJsonArray &loc, SandboxVolume *volume,
             QStringList *warnings)
{
    static const FieldPattern storage(u"^\\d+(\\.\\d+)?(Ki|Mi|Gi|Ti|Pi|Ei)?$"_s);
    volume->kind = SandboxVolume::Kind::Pvc;
    if (const std::optional<QString> claim = reader.string(pvc, u"claimName"_s, loc, Need::Required)) {
        const QJsonArray claimLoc = locAt(loc, u"claimName"_s);
        if (reader.atMost(*claim, MaxClaimNameLength, claimLoc))
            reader.matches(*claim, dnsLabel(), claimLoc);
        volume->claimName = *claim;
    }
    const std::optional<bool> create = reader.boolean(pvc, u"createIfNotExists"_s, loc);
    const std::optional<bool> remove = reader.boolean(pvc, u"deleteOnSandboxTermination"_s, loc);
    reader.string(pvc, u"storageClass"_s, loc);
    if (const std::optional<QString> size = reader.string(pvc, u"storage"_s, loc))
        reader.matches(*size, storage, locAt(loc, u"storage"_s));
    readStringList(reader, pvc, u"accessModes"_s, loc);
    // SandboxVolume has no room for these; the runner keeps named volumes its own way.
    if (create == false || remove == true) {
        warnings->append(u"Volume '%1': pvc.createIfNotExists and pvc.deleteOnSandboxTermination are not passed "
                         u"to the runner; they are ignored."_s.arg(volume->name));
    }
}

void readOssfs(BodyReader &reader, const QJsonObject &ossfs, const QJsonArray &loc, SandboxVolume *volume)
{
    volume->kind = SandboxVolume::Kind::Ossfs;
    if (const std::optional<QString> bucket = reader.string(ossfs, u"bucket"_s, loc, Need::Required)) {
        const QJsonArray bucketLoc = locAt(loc, u"bucket"_s);
        if (reader.atLeast(*bucket, 3, bucketLoc))
            reader.atMost(*bucket, 63, bucketLoc);
    }
    for (const QString &key : {u"endpoint"_s, u"accessKeyId"_s, u"accessKeySecret"_s}) {
        if (const std::optional<QString> value = reader.string(ossfs, key, loc, Need::Required))
            reader.atLeast(*value, 1, locAt(loc, key));
    }
    if (const std::optional<QString> version = reader.string(ossfs, u"version"_s, loc))
        reader.oneOf(*version, {u"1.0"_s, u"2.0"_s}, locAt(loc, u"version"_s));
    readStringList(reader, ossfs, u"options"_s, loc);
}

void readVolume(BodyReader &reader, const QJsonValue &value, const QJsonArray &loc, Fields *fields)
{
    static const FieldPattern mountPath(u"^/.*"_s);
    const qsizetype issuesBefore = reader.issueCount();
    const std::optional<QJsonObject> object = reader.model(value, loc);
    if (!object)
        return;

    SandboxVolume volume;
    if (const std::optional<QString> name = reader.string(*object, u"name"_s, loc, Need::Required)) {
        const QJsonArray nameLoc = locAt(loc, u"name"_s);
        if (reader.atMost(*name, MaxVolumeNameLength, nameLoc))
            reader.matches(*name, dnsLabel(), nameLoc);
        volume.name = *name;
    }
    if (const std::optional<QString> path = reader.string(*object, u"mountPath"_s, loc, Need::Required)) {
        reader.matches(*path, mountPath, locAt(loc, u"mountPath"_s));
        volume.mountPath = *path;
    }
    volume.readOnly = reader.boolean(*object, u"readOnly"_s, loc).value_or(false);
    volume.subPath = reader.string(*object, u"subPath"_s, loc).value_or(QString());

    int backends = 0;
    if (const std::optional<QJsonObject> host = reader.model(*object, u"host"_s, loc)) {
        ++backends;
        readHost(reader, *host, locAt(loc, u"host"_s), &volume);
    }
    if (const std::optional<QJsonObject> pvc = reader.model(*object, u"pvc"_s, loc)) {
        ++backends;
        readPvc(reader, *pvc, locAt(loc, u"pvc"_s), &volume, &fields->warnings);
    }
    if (const std::optional<QJsonObject> ossfs = reader.model(*object, u"ossfs"_s, loc)) {
        ++backends;
        readOssfs(reader, *ossfs, locAt(loc, u"ossfs"_s), &volume);
    }
    // A rule of the volume as a whole, checked once its members fit.
    if (reader.issueCount() == issuesBefore && backends != 1)
        reader.valueError(u"Exactly one backend (host, pvc or ossfs) must be specified"_s, loc, *object);
    fields->volumes.append(volume);
}

Fields readFields(BodyReader &reader, const QJsonObject &body)
{
    Fields fields;
    const QJsonArray &loc = bodyLoc();

    if (const std::optional<QJsonObject> image = reader.model(body, u"image"_s, loc)) {
        const QJsonArray imageLoc = locAt(loc, u"image"_s);
        const std::optional<QString> uri = reader.string(*image, u"uri"_s, imageLoc, Need::Required);
        if (uri && !uri->trimmed().isEmpty())
            fields.imageUri = *uri;
        if (const std::optional<QJsonObject> auth = reader.model(*image, u"auth"_s, imageLoc)) {
            fields.imageUsername = reader.string(*auth, u"username"_s, locAt(imageLoc, u"auth"_s)).value_or(QString());
            fields.imagePassword = reader.string(*auth, u"password"_s, locAt(imageLoc, u"auth"_s)).value_or(QString());
        }
    }
    fields.snapshotId = reader.string(body, u"snapshotId"_s, loc);

    if (const std::optional<QJsonObject> platform = reader.model(body, u"platform"_s, loc)) {
        const QJsonArray platformLoc = locAt(loc, u"platform"_s);
        fields.os = reader.string(*platform, u"os"_s, platformLoc, Need::Required);
        fields.arch = reader.string(*platform, u"arch"_s, platformLoc, Need::Required);
    }

    fields.timeout = reader.integer(body, u"timeout"_s, loc);
    if (fields.timeout
        && !reader.atLeast(*fields.timeout, ShortestTimeoutSeconds, locAt(loc, u"timeout"_s), body[u"timeout"_s])) {
        fields.timeout.reset();
    }

    fields.resourceLimits = reader.stringMap(body, u"resourceLimits"_s, loc);
    fields.env = stringMap(reader.stringMap(body, u"env"_s, loc, Need::Optional, true));
    fields.metadata = stringMap(reader.stringMap(body, u"metadata"_s, loc));

    if (const std::optional<QJsonArray> entrypoint = reader.list(body, u"entrypoint"_s, loc)) {
        fields.entrypoint = QStringList();
        const QJsonArray entrypointLoc = locAt(loc, u"entrypoint"_s);
        for (qsizetype i = 0; i < entrypoint->size(); ++i) {
            if (const std::optional<QString> part = reader.string(entrypoint->at(i), locAt(entrypointLoc, i)))
                fields.entrypoint->append(*part);
        }
    }

    fields.network = readNetworkPolicy(reader, body);
    if (const std::optional<QJsonObject> proxy = reader.model(body, u"credentialProxy"_s, loc))
        fields.credentialProxy = reader.boolean(*proxy, u"enabled"_s, locAt(loc, u"credentialProxy"_s)).value_or(false);
    fields.secureAccess = reader.boolean(body, u"secureAccess"_s, loc).value_or(false);

    const std::optional<QJsonArray> volumes = reader.list(body, u"volumes"_s, loc);
    for (qsizetype i = 0; volumes && i < volumes->size(); ++i)
        readVolume(reader, volumes->at(i), locAt(locAt(loc, u"volumes"_s), i), &fields);

    fields.extensions = stringMap(reader.stringMap(body, u"extensions"_s, loc));
    return fields;
}

bool isPoolRequest(const Fields &fields)
{
    return !fields.extensions.value(u"poolRef"_s).isEmpty();
}

// The model's rules across members; the first one broken.
std::optional<ApiError> checkModelRules(const Fields &fields, const QJsonObject &body)
{
    BodyReader reader;
    const auto broken = [&](const QString &message) {
        reader.valueError(message, bodyLoc(), body);
        return reader.error();
    };
    if (isPoolRequest(fields)) {
        if (fields.snapshotId)
            return broken(u"snapshotId cannot be combined with extensions.poolRef"_s);
        if (fields.credentialProxy)
            return broken(u"credentialProxy cannot be combined with extensions.poolRef"_s);
    } else {
        if (fields.imageUri.isEmpty() == !fields.snapshotId)
            return broken(u"Exactly one of image or snapshotId must be provided"_s);
        if (!fields.imageUri.isEmpty() && !fields.entrypoint)
            return broken(u"entrypoint is required when image is provided"_s);
        if (!fields.resourceLimits)
            return broken(u"resourceLimits is required unless extensions.poolRef is set"_s);
    }
    if (fields.credentialProxy && !fields.network)
        return broken(u"credentialProxy.enabled requires networkPolicy"_s);
    return std::nullopt;
}

std::optional<ApiError> checkExtensions(const Fields &fields)
{
    static const QString renewKey = u"access.renew.extend.seconds"_s;
    if (fields.extensions.contains(renewKey)) {
        static const QRegularExpression digits(QRegularExpression::anchoredPattern(u"[0-9]{1,9}"_s));
        const QString text = fields.extensions.value(renewKey);
        const int seconds = digits.match(text).hasMatch() ? text.toInt() : 0;
        if (seconds < ShortestRenewExtension || seconds > LongestRenewExtension) {
            return invalidParameter(u"extensions['%1'] must be a whole number of seconds from %2 to %3, not '%4'."_s
                                        .arg(renewKey)
                                        .arg(ShortestRenewExtension)
                                        .arg(LongestRenewExtension)
                                        .arg(text));
        }
    }
    if (isPoolRequest(fields)) {
        return ApiError::coded(400, u"SANDBOX::UNSUPPORTED_POOL_REF"_s,
                               u"extensions.poolRef is not supported: this server has no sandbox pools."_s);
    }
    return std::nullopt;
}

std::optional<ApiError> checkPlatform(const Fields &fields, const CreatePolicy &policy)
{
    if (!fields.os)
        return std::nullopt;
    if (*fields.os != u"linux"_s) {
        return invalidParameter(u"Unsupported platform.os '%1': this server runs linux sandboxes only."_s
                                    .arg(*fields.os));
    }
    if (*fields.arch != policy.hostArch) {
        return invalidParameter(u"Unsupported platform.arch '%1': sandboxes run on this machine, which is '%2'."_s
                                    .arg(*fields.arch, policy.hostArch));
    }
    return std::nullopt;
}

std::optional<ApiError> checkTimeout(const Fields &fields, const CreatePolicy &policy)
{
    if (!fields.timeout)
        return std::nullopt;
    if (policy.maxTimeoutSeconds && *fields.timeout > *policy.maxTimeoutSeconds) {
        return invalidParameter(u"timeout %1 exceeds the maximum of %2 seconds."_s.arg(*fields.timeout)
                                    .arg(*policy.maxTimeoutSeconds));
    }
    if (*fields.timeout > LongestTimeoutSeconds) {
        return invalidParameter(u"timeout %1 is too large: the sandbox would expire after the year 9999."_s
                                    .arg(*fields.timeout));
    }
    return std::nullopt;
}

// Why a host path cannot be mounted, before any allowlist: it must be an absolute path in its
// plainest spelling, with nothing that could lead out of it.
QString hostPathProblem(const QString &path)
{
    if (!path.startsWith(u'/'))
        return u"is not absolute"_s;
    if (path.contains(u"/.."_s))
        return u"contains '/..'"_s;
    if (path.contains(u"//"_s))
        return u"contains '//'"_s;
    if (path.endsWith(u'/'))
        return u"ends with '/'"_s;
    return {};
}

std::optional<ApiError> checkVolumes(const Fields &fields)
{
    QSet<QString> names;
    for (const SandboxVolume &volume : fields.volumes) {
        if (names.contains(volume.name)) {
            return ApiError::coded(400, u"VOLUME::DUPLICATE_NAME"_s,
                                   u"Volume name '%1' is used more than once."_s.arg(volume.name));
        }
        names.insert(volume.name);
    }
    for (const SandboxVolume &volume : fields.volumes) {
        if (volume.subPath.startsWith(u'/') || volume.subPath.split(u'/').contains(u".."_s)) {
            return ApiError::coded(400, u"VOLUME::INVALID_SUB_PATH"_s,
                                   u"Volume '%1': subPath '%2' must be a relative path without '..' segments."_s
                                       .arg(volume.name, volume.subPath));
        }
        if (volume.kind != SandboxVolume::Kind::Host)
            continue;
        if (const QString problem = hostPathProblem(volume.hostPath); !problem.isEmpty()) {
            return ApiError::coded(400, u"VOLUME::INVALID_HOST_PATH"_s,
                                   u"Volume '%1': host path '%2' %3."_s.arg(volume.name, volume.hostPath, problem));
        }
    }
    return std::nullopt;
}

// The handler's checks, in the order the real server makes them.
std::optional<ApiError> checkRequest(const Fields &fields, const CreatePolicy &policy)
{
    if (std::optional<ApiError> error = checkExtensions(fields))
        return error;
    if (fields.snapshotId) {
        // 404 SNAPSHOT::NOT_FOUND would suggest a mistyped id; the feature itself is missing.
        return ApiError::coded(400, u"SANDBOX::API_NOT_SUPPORTED"_s,
                               u"Restoring a snapshot is not supported: this server keeps no snapshots. "
                               u"Create the sandbox from an image."_s);
    }
    if (fields.entrypoint && fields.entrypoint->isEmpty())
        return ApiError::coded(400, u"DOCKER::INVALID_ENTRYPOINT"_s, u"entrypoint must not be empty."_s);
    for (auto it = fields.metadata.cbegin(); it != fields.metadata.cend(); ++it) {
        if (const QString problem = metadataEntryProblem(it.key(), it.value()); !problem.isEmpty())
            return ApiError::coded(400, u"SANDBOX::INVALID_METADATA_LABEL"_s, problem);
    }
    if (std::optional<ApiError> error = checkPlatform(fields, policy))
        return error;
    if (std::optional<ApiError> error = checkTimeout(fields, policy))
        return error;
    if (fields.secureAccess) {
        return invalidParameter(u"secureAccess is not supported: this server issues no access tokens; "
                                u"endpoints go through its proxy."_s);
    }
    return checkVolumes(fields);
}

// Upstream ignores what it cannot read and only logs it; here it also becomes a warning, so
// a sandbox without the limit its client asked for does not go unnoticed.
void applyResourceLimits(const QJsonObject &limits, SandboxRequest *request, QStringList *warnings)
{
    for (auto it = limits.constBegin(); it != limits.constEnd(); ++it) {
        const QString value = it->toString();
        if (it.key() == u"cpu"_s) {
            request->cpus = parseCpuLimit(value);
            if (!request->cpus) {
                warnings->append(u"resourceLimits.cpu '%1' is not a number of cores or millicores; "
                                 u"the sandbox has no CPU limit."_s.arg(value));
            }
        } else if (it.key() == u"memory"_s) {
            request->memoryBytes = parseMemoryLimit(value);
            if (!request->memoryBytes) {
                warnings->append(u"resourceLimits.memory '%1' is not a size such as 512Mi or 2G; "
                                 u"the sandbox gets the runner's default memory limit."_s.arg(value));
            }
        } else if (it.key() == u"gpu"_s) {
            warnings->append(u"resourceLimits.gpu is not supported; the sandbox has no GPU."_s);
        } else {
            warnings->append(u"resourceLimits.%1 is not a resource this server limits; it is ignored."_s.arg(it.key()));
        }
    }
}

} // namespace

QString CreatePolicy::hostPlatformArch()
{
    const QString cpu = QSysInfo::currentCpuArchitecture();
    if (cpu == u"x86_64"_s)
        return u"amd64"_s;
    if (cpu == u"arm64"_s)
        return u"arm64"_s;
    return {};
}

Parsed<CreateRequest> parseCreateRequest(const QByteArray &body, const CreatePolicy &policy)
{
    const Parsed<QJsonObject> parsed = parseModelBody(body);
    if (!parsed)
        return parsed.error();
    const QJsonObject &object = parsed.value();
    BodyReader reader;

    Fields fields = readFields(reader, object);
    if (reader.hasIssues())
        return reader.error();
    if (std::optional<ApiError> error = checkModelRules(fields, object))
        return *error;
    if (std::optional<ApiError> error = checkRequest(fields, policy))
        return *error;

    CreateRequest result;
    SandboxRequest &sandbox = result.sandbox;
    sandbox.image = fields.imageUri;
    sandbox.imageUsername = fields.imageUsername;
    sandbox.imagePassword = fields.imagePassword;
    sandbox.entrypoint = fields.entrypoint.value_or(QStringList());
    sandbox.env = fields.env;
    sandbox.metadata = fields.metadata;
    if (fields.timeout)
        sandbox.timeoutMs = *fields.timeout * 1000;
    if (fields.network)
        sandbox.network = *fields.network;
    sandbox.volumes = fields.volumes;
    result.warnings = fields.warnings;
    applyResourceLimits(fields.resourceLimits.value_or(QJsonObject()), &sandbox, &result.warnings);
    if (fields.credentialProxy) {
        result.warnings.append(u"credentialProxy is not supported; the sandbox's requests are not intercepted "
                               u"for credential injection."_s);
    }
    if (fields.extensions.contains(u"access.renew.extend.seconds"_s))
        result.renewOnAccessSeconds = fields.extensions.value(u"access.renew.extend.seconds"_s).toInt();
    return result;
}

} // namespace Sandflow::Internal
