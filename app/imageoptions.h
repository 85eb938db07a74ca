// The options `run` and `serve` share about the local runner's images: which run on the host's
// system tree instead (`--host-image`, SANDFLOW_HOST_IMAGES) and when images are pulled.
#pragma once

#include "localrunner.h"

#include <QCommandLineOption>
#include <QCommandLineParser>
#include <QList>

namespace Sandflow::Cli {

/// --host-image PATTERN (repeatable), --pull missing|always|never, and registryOptions().
QList<QCommandLineOption> imageOptions();
/// --insecure-registry HOST and --registry-mirror [REGISTRY=]URL (repeatable).
QList<QCommandLineOption> registryOptions();

/// Gives `options` what the command line and SANDFLOW_HOST_IMAGES (comma-separated patterns)
/// say, and applyRegistryOptions(). False with `error` set when --pull names no policy.
bool applyImageOptions(const QCommandLineParser &parser, LocalRunner::Options *options, QString *error);
/// Gives `options` the registries' options and the credentials of Docker's config.json
/// ($DOCKER_CONFIG, else ~/.docker). False with `error` set when a mirror is no URL.
bool applyRegistryOptions(const QCommandLineParser &parser, PullOptions *options, QString *error);

} // namespace Sandflow::Cli
