// The user namespace of local sandboxes. bubblewrap's own --unshare-user maps one id, so
// root in the sandbox could never switch to another user or hand a file to one. A runner
// running as root instead makes one namespace that maps the ids 0-65535 to the same ids
// outside, as a container runtime does, and every sandbox's bubblewrap enters it
// (`--userns FD`) and makes its other namespaces there. Sharing it costs no isolation: the
// sandboxes' processes, mounts and networks are still apart, and root in a sandbox keeps
// only capabilities over its own files and users.
#pragma once

#include <QString>

namespace Sandflow::Internal {

class MappedUserNamespace
{
public:
    /// Makes the namespace; isValid() is false where that is not possible (not root, or user
    /// namespaces disabled), with `error` saying why.
    static MappedUserNamespace create(QString *error);

    MappedUserNamespace() = default;
    MappedUserNamespace(MappedUserNamespace &&other) noexcept;
    MappedUserNamespace &operator=(MappedUserNamespace &&other) noexcept;
    MappedUserNamespace(const MappedUserNamespace &) = delete;
    MappedUserNamespace &operator=(const MappedUserNamespace &) = delete;
    ~MappedUserNamespace();

    bool isValid() const { return m_fd >= 0; }
    /// An open descriptor of the namespace (close-on-exec; see inheritAcrossExec).
    int fd() const { return m_fd; }

    /// How many ids the namespace maps.
    static constexpr unsigned MappedIds = 65536;

private:
    int m_fd = -1;
};

} // namespace Sandflow::Internal
