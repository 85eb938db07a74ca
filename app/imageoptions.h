// The options `run` and `serve` share about the local runner's images: which run on the host's
// system tree instead (`--host-image`, SANDFLOW_HOST_IMAGES) and when images are pulled.
#pragma once

#include "localrunner.h"

#include <QCommandLineOption>
#include <QCommandLineParser>
#include <QList>

namespace Sandflow::Cli {

/// --host-image PATTERN (repeatable), --pull missing|always|never, --insecure-registry HOST and
/// --registry-mirror [REGISTRY=]URL (repeatable).
QList<QCommandLineOption> imageOptions();

/// Gives `options` what the command line and SANDFLOW_HOST_IMAGES (comma-separated patterns)
/// say, and the credentials of Docker's config.json ($DOCKER_CONFIG, else ~/.docker). False
/// with `error` set when --pull names no policy or a mirror is no URL.
bool applyImageOptions(const QCommandLineParser &parser, LocalRunner::Options *options, QString *error);

} // namespace Sandflow::Cli
