// The errors of a pull, one code per thing a caller may act on differently. The job adds
// the image and the registry to each (PullImageJob::fail); the parts here say what failed.
#pragma once

#include "asyncjob.h"
#include "registrysession_p.h"

namespace Sandflow::Internal {

/// Codes, with their kind:
inline const QString ImageNotFound = QStringLiteral("IMAGE_NOT_FOUND");                // Invalid
inline const QString BlobNotFound = QStringLiteral("BLOB_NOT_FOUND");                  // Invalid
inline const QString RegistryUnreachable = QStringLiteral("REGISTRY_UNREACHABLE");     // Infra
inline const QString RegistryFailed = QStringLiteral("REGISTRY_ERROR");                // Infra
inline const QString RegistryAuthRequired = QStringLiteral("REGISTRY_AUTH_REQUIRED");  // Invalid
inline const QString RegistryAuthFailed = QStringLiteral("REGISTRY_AUTH_FAILED");      // Invalid
inline const QString RegistryAuthUnavailable = QStringLiteral("REGISTRY_AUTH_UNAVAILABLE"); // Infra
inline const QString BlobDigestMismatch = QStringLiteral("BLOB_DIGEST_MISMATCH");      // Invalid
inline const QString ManifestUnsupported = QStringLiteral("MANIFEST_UNSUPPORTED");     // Invalid
inline const QString PlatformNotFound = QStringLiteral("PLATFORM_NOT_FOUND");          // Invalid
inline const QString ImageStoreFailed = QStringLiteral("IMAGE_STORE_FAILED");          // Infra

/// The job error for a failed request; `notFoundCode` is what a 404 means there
/// (ImageNotFound for a manifest, BlobNotFound for a blob).
JobError registryJobError(const RegistryError &error, const QString &notFoundCode);

/// Content that is not what its digest says: names both digests.
JobError digestMismatch(const QString &what, const QString &expected, const QString &got);

} // namespace Sandflow::Internal
