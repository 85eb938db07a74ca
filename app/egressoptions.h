// The option `run` and `serve` share about the local runner's network policies: where the
// sandboxes' resolver looks allowed names up.
#pragma once

#include "localrunner.h"

#include <QCommandLineOption>
#include <QCommandLineParser>
#include <QList>

namespace Sandflow::Cli {

/// --dns-upstream ADDRESS[:PORT].
QList<QCommandLineOption> egressOptions();

/// Gives `options` the DNS server --dns-upstream names; without it the host's resolver is
/// asked. False with `error` set when the value is no address and port.
bool applyEgressOptions(const QCommandLineParser &parser, LocalRunner::Options *options, QString *error);

} // namespace Sandflow::Cli
