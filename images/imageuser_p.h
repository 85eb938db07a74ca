// The user an image's config names (`User`: "uid", "uid:gid", "name", "name:group"), as the
// ids a sandbox of the image runs its commands as by default. Names are looked up in the
// image's own /etc/passwd and /etc/group, read below its root as the sandbox would see them:
// a link there resolves inside the root, never to the host's files.
#pragma once

#include <QString>

#include <optional>

#include <sys/types.h>

namespace Sandflow::Internal {

struct ImageUser
{
    uid_t uid = 0;
    gid_t gid = 0;
};

/// The ids `user` names in the image unpacked at `root`; a user without a group gets its
/// passwd entry's group (0 when it is a bare id without one). std::nullopt with `error`
/// set when a name is unknown to the image or the text is malformed.
std::optional<ImageUser> resolveImageUser(const QString &user, const QString &root, QString *error);

/// Where the image unpacked at `root` has bash, `/bin/bash` or `/usr/bin/bash`, looked up as
/// the sandbox would (links resolved inside the root); empty when it has none.
QString imageBashPath(const QString &root);

} // namespace Sandflow::Internal
