#include "imageoptions.h"

#include <QDir>
#include <QFile>
#include <QUrl>

namespace Sandflow::Cli {

using namespace Qt::StringLiterals;

QList<QCommandLineOption> imageOptions()
{
    return QList<QCommandLineOption>{QCommandLineOption(u"host-image"_s,
                               u"Run sandboxes of images matching PATTERN (a glob such as `debian:*`, `*` for all) on "
                               u"this machine's read-only system tree instead of pulling them (repeatable; also "
                               u"$SANDFLOW_HOST_IMAGES, comma-separated; local runner)"_s,
                               u"PATTERN"_s),
            QCommandLineOption(u"pull"_s,
                               u"When images are pulled: missing (default), always, never (local runner)"_s,
                               u"WHEN"_s, u"missing"_s)}
           + registryOptions();
}

QList<QCommandLineOption> registryOptions()
{
    return {QCommandLineOption(u"insecure-registry"_s,
                               u"A registry (HOST[:PORT]) to pull from over plain HTTP, as loopback ones are "
                               u"(repeatable; local runner)"_s,
                               u"HOST"_s),
            QCommandLineOption(u"registry-mirror"_s,
                               u"A mirror to pull Docker Hub's images from first, or REGISTRY=URL for another "
                               u"registry's (repeatable; local runner)"_s,
                               u"URL"_s)};
}

bool applyImageOptions(const QCommandLineParser &parser, LocalRunner::Options *options, QString *error)
{
    const std::optional<PullPolicy> pull = pullPolicyFromString(parser.value(u"pull"_s));
    if (!pull) {
        *error = u"--pull wants missing, always or never, not `%1`"_s.arg(parser.value(u"pull"_s));
        return false;
    }
    options->pull = *pull;
    options->hostImages = parser.values(u"host-image"_s);
    for (const QString &pattern : qEnvironmentVariable("SANDFLOW_HOST_IMAGES").split(u',', Qt::SkipEmptyParts))
        options->hostImages.append(pattern.trimmed());
    return applyRegistryOptions(parser, &options->pullOptions, error);
}

bool applyRegistryOptions(const QCommandLineParser &parser, PullOptions *options, QString *error)
{
    options->insecureRegistries = parser.values(u"insecure-registry"_s);
    for (const QString &mirror : parser.values(u"registry-mirror"_s)) {
        // REGISTRY=URL, or a URL alone for Docker Hub, as Docker's registry-mirrors.
        const qsizetype equals = mirror.indexOf(u'=');
        const QString registry = equals > 0 ? mirror.left(equals) : u"docker.io"_s;
        const QUrl url(equals > 0 ? mirror.mid(equals + 1) : mirror);
        if (!url.isValid() || (url.scheme() != u"http"_s && url.scheme() != u"https"_s) || url.host().isEmpty()) {
            *error = u"--registry-mirror wants [REGISTRY=]URL with an http or https URL, not `%1`"_s.arg(mirror);
            return false;
        }
        options->mirrors[registry].append(url.toString());
    }
    // Docker's credentials, as `docker login` left them (credential helpers are not run).
    const QString dockerConfigDirectory = qEnvironmentVariableIsSet("DOCKER_CONFIG")
                                              ? qEnvironmentVariable("DOCKER_CONFIG")
                                              : QDir::homePath() + u"/.docker"_s;
    QFile dockerConfig(dockerConfigDirectory + u"/config.json"_s);
    if (dockerConfig.open(QIODevice::ReadOnly))
        options->dockerConfig = dockerConfig.read(1 << 20);
    return true;
}

} // namespace Sandflow::Cli
