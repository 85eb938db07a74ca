// The names Sandflow checks: workflow ids, environment variable names and DNS names. One
// definition for the loader and the runners, so that what a workflow may name is what a
// runner accepts.
#pragma once

#include <QString>

namespace Sandflow::Internal {

/// Lowercase alphanumerics and `-`, starting and ending with an alphanumeric, at most
/// `maxLength` characters: a DNS label with 63, a Kubernetes object name with 253.
bool isDnsName(const QString &name, qsizetype maxLength = 63);

/// The names of the format. Ids (jobs, steps) may hold `-`, as in GitHub Actions;
/// environment variable names may not, or a shell could not export them.
enum class NameKind { Id, EnvironmentVariable };
bool isValidName(const QString &name, NameKind kind);

} // namespace Sandflow::Internal
