// Kubernetes label rules, which the lifecycle server applies to sandbox metadata: upstream
// stores metadata as container or pod labels, so a key or value that Kubernetes would refuse
// is refused at creation and in PATCH, whatever the runtime.
#pragma once

#include <QString>

namespace Sandflow::Internal {

/// Whether `key` is one of the server's own labels (`opensandbox.io/id`,
/// `opensandbox.io/expires-at`, ...), which users may neither set nor remove.
bool isReservedLabelKey(const QString &key);

/// Why `key` is not a label key, as a phrase ("the name part is longer than 63
/// characters"); empty when it is one. A key is `name` or `prefix/name`: the name has 1 to
/// 63 letters, digits, '-', '_' and '.', beginning and ending with a letter or digit; the
/// prefix is a lowercase DNS subdomain of at most 253 characters.
QString labelKeyProblem(const QString &key);

/// Why `value` is not a label value; empty when it is one. A value is empty, or follows the
/// rule of a key's name part. So spaces are refused.
QString labelValueProblem(const QString &value);

/// The message of a 400 INVALID_METADATA_LABEL for the entry `key`: `value`, or an empty
/// string when the entry may be stored. A reserved key is reported before anything else.
QString metadataEntryProblem(const QString &key, const QString &value);

/// The same for a key whose removal is asked: only reserved keys are refused, as removing a
/// key that cannot exist changes nothing.
QString metadataRemovalProblem(const QString &key);

} // namespace Sandflow::Internal
