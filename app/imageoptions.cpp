#include "imageoptions.h"

namespace Sandflow::Cli {

using namespace Qt::StringLiterals;

QList<QCommandLineOption> imageOptions()
{
    return {QCommandLineOption(u"host-image"_s,
                               u"Run sandboxes of images matching PATTERN (a glob such as `debian:*`, `*` for all) on "
                               u"this machine's read-only system tree instead of pulling them (repeatable; also "
                               u"$SANDFLOW_HOST_IMAGES, comma-separated; local runner)"_s,
                               u"PATTERN"_s),
            QCommandLineOption(u"pull"_s,
                               u"When images are pulled: missing (default), always, never (local runner)"_s,
                               u"WHEN"_s, u"missing"_s)};
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
    return true;
}

} // namespace Sandflow::Cli
