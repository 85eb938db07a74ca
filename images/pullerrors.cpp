#include "pullerrors_p.h"

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

JobError registryJobError(const RegistryError &error, const QString &notFoundCode)
{
    using Reason = RegistryError::Reason;
    using Kind = JobError::Kind;
    switch (error.reason) {
    case Reason::NotFound:
        return {Kind::Invalid, notFoundCode, error.message, {}};
    case Reason::AuthRequired:
        return {Kind::Invalid, RegistryAuthRequired, error.message, {}};
    case Reason::AuthFailed:
        return {Kind::Invalid, RegistryAuthFailed, error.message, {}};
    case Reason::AuthUnavailable:
        return {Kind::Infra, RegistryAuthUnavailable, error.message, {}};
    case Reason::Unreachable:
        return {Kind::Infra, RegistryUnreachable, error.message, {}};
    case Reason::ServerError:
    case Reason::Unexpected:
        break;
    }
    return {Kind::Infra, RegistryFailed, error.message, {}};
}

JobError digestMismatch(const QString &what, const QString &expected, const QString &got)
{
    return {JobError::Kind::Invalid, BlobDigestMismatch,
            u"%1 is not what its descriptor says: expected %2, got %3"_s.arg(what, expected, got), {}};
}

} // namespace Sandflow::Internal
