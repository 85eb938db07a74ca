#include "sandboxlayout_p.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QStandardPaths>

#include <climits>
#include <unistd.h>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

QString bwrapProgram()
{
    const QString found = QStandardPaths::findExecutable(u"bwrap"_s);
    return found.isEmpty() ? u"bwrap"_s : found;
}

// What a symbolic link says, unresolved: QFileInfo only gives the target resolved on the
// host, which for a link in a rootfs is not where it points inside the sandbox.
static QString symbolicLinkText(const QString &path)
{
    QByteArray text(PATH_MAX, '\0');
    const ssize_t length = ::readlink(QFile::encodeName(path).constData(), text.data(), size_t(text.size()));
    return length < 0 ? QString() : QFile::decodeName(text.left(length));
}

// The host's top-level system directories: symbolic links on merged-/usr systems (Debian
// 12), real directories elsewhere. Either way the sandbox sees the same shape.
static void addSystemTree(QStringList *args)
{
    args->append({u"--ro-bind"_s, u"/usr"_s, u"/usr"_s});
    for (const QString &top : {u"/bin"_s, u"/sbin"_s, u"/lib"_s, u"/lib32"_s, u"/lib64"_s, u"/libx32"_s}) {
        const QFileInfo info(top);
        if (info.isSymLink())
            args->append({u"--symlink"_s, symbolicLinkText(top), top});
        else if (info.isDir())
            args->append({u"--ro-bind"_s, top, top});
    }
}

// What ordinary programs read from /etc: users and groups by name, name resolution, time
// zone, TLS roots, the dynamic linker's cache and Debian's alternatives links. Nothing
// that holds credentials.
static void addEtc(QStringList *args)
{
    static const QStringList entries = {
        u"passwd"_s, u"group"_s, u"hosts"_s, u"resolv.conf"_s, u"nsswitch.conf"_s, u"host.conf"_s,
        u"gai.conf"_s, u"localtime"_s, u"timezone"_s, u"ssl"_s, u"ca-certificates"_s, u"alternatives"_s,
        u"ld.so.cache"_s, u"ld.so.conf"_s, u"ld.so.conf.d"_s, u"mime.types"_s, u"protocols"_s, u"services"_s,
        u"debian_version"_s, u"os-release"_s, u"profile"_s, u"bash.bashrc"_s, u"inputrc"_s,
    };
    args->append({u"--dir"_s, u"/etc"_s});
    for (const QString &entry : entries) {
        const QString path = u"/etc/"_s + entry;
        // ro-bind-try: a host without the file simply does not pass it on.
        args->append({u"--ro-bind-try"_s, path, path});
    }
}

// An unpacked root filesystem without an overlay. Bound read-only as `/` itself, it would
// leave bwrap no place for the mount points it must create when the rootfs lacks them
// (/workspace, /.sandflow, volume paths): a read-only directory cannot gain entries. So the
// root stays a directory of bwrap's or the sandbox's own and gets each top-level entry of
// the rootfs: directories and files bound read-only,
// symbolic links recreated as written (they are meant to resolve inside the rootfs, as
// `bin -> usr/bin` does). What the sandbox gets anew anyway is left out.
static void addRootfs(const QString &rootfs, QStringList *args)
{
    static const QStringList replaced = {u"proc"_s, u"dev"_s, u"tmp"_s, u"workspace"_s, u".sandflow"_s};
    const QFileInfoList entries = QDir(rootfs).entryInfoList(QDir::AllEntries | QDir::Hidden | QDir::System
                                                             | QDir::NoDotAndDotDot, QDir::Name);
    for (const QFileInfo &entry : entries) {
        if (replaced.contains(entry.fileName()))
            continue;
        const QString target = u'/' + entry.fileName();
        if (entry.isSymLink())
            args->append({u"--symlink"_s, symbolicLinkText(entry.filePath()), target});
        else if (entry.isDir() || entry.isFile())
            args->append({u"--ro-bind"_s, entry.filePath(), target});
    }
}

// What container runtimes hide in /proc (runc's masked paths): the host's memory, kernel
// keys, timers and devices, none of a sandbox's business; and the kernel's knobs, which
// runc makes read-only. bwrap covers /proc/sys only when it finds the directory itself
// writable, which it never is, while the files in it are to whoever the kernel takes for
// root. A sandbox's /proc shows the same kernel as the runner's, so what exists here exists
// there.
static void maskProc(QStringList *args)
{
    args->append({u"--ro-bind"_s, u"/proc/sys"_s, u"/proc/sys"_s});
    static const QStringList files = {u"kcore"_s, u"keys"_s, u"latency_stats"_s, u"timer_list"_s,
                                      u"timer_stats"_s, u"sched_debug"_s, u"sysrq-trigger"_s};
    static const QStringList directories = {u"acpi"_s, u"asound"_s, u"scsi"_s};
    for (const QString &file : files) {
        const QString path = u"/proc/"_s + file;
        if (QFileInfo::exists(path))
            args->append({u"--ro-bind"_s, u"/dev/null"_s, path});
    }
    for (const QString &directory : directories) {
        const QString path = u"/proc/"_s + directory;
        if (QFileInfo(path).isDir())
            args->append({u"--perms"_s, u"0555"_s, u"--size"_s, u"4096"_s, u"--tmpfs"_s, path, u"--remount-ro"_s, path});
    }
}

// What a container's root has and programs expect to write to: apt's and dpkg's state under
// /var, root's home, sockets and pid files under /run. Made in the writable root where the
// system tree or the image lacks them.
static const QStringList &usualDirectories()
{
    static const QStringList directories = {u"/var"_s, u"/home"_s, u"/run"_s, u"/opt"_s, u"/srv"_s, u"/mnt"_s, u"/root"_s};
    return directories;
}

static void addUsualDirectories(QStringList *args)
{
    for (const QString &directory : usualDirectories()) {
        if (directory == u"/root"_s)
            args->append({u"--perms"_s, u"0700"_s});
        args->append({u"--dir"_s, directory});
    }
}

QString SandboxLayout::effectiveWorkingDirectory() const
{
    return workingDirectory.isEmpty() ? u"/workspace"_s : workingDirectory;
}

QStringList SandboxLayout::mountPoints() const
{
    QStringList points = QStringList{u"/proc"_s, u"/dev"_s, u"/tmp"_s, u"/workspace"_s,
                                     QString::fromLatin1(AgentPathInSandbox), effectiveWorkingDirectory()}
                         + usualDirectories();
    for (const BindMount &mount : mounts)
        points.append(mount.target);
    return points;
}

// A tmpfs of `size` bytes (0: the kernel's default, half the machine's memory).
static void addTmpfs(const QString &path, const QString &perms, qint64 size, QStringList *args)
{
    args->append({u"--perms"_s, perms});
    if (size > 0)
        args->append({u"--size"_s, QString::number(size)});
    args->append({u"--tmpfs"_s, path});
}

// Over the root tmpfs while it is still writable, so that bwrap can create the mount points.
// From descriptors: a path would be looked up again as bwrap mounts it, after whatever a
// sandbox holding the volume renamed in the meantime.
static void addMounts(const std::vector<BindMount> &mounts, QStringList *args)
{
    for (const BindMount &mount : mounts) {
        const int bound = mount.idmapped.isValid() ? mount.idmapped.get() : mount.source.get();
        args->append({mount.readOnly ? u"--ro-bind-fd"_s : u"--bind-fd"_s, QString::number(bound), mount.target});
    }
}

std::vector<int> SandboxLayout::inheritedDescriptors() const
{
    std::vector<int> descriptors = {enterNamespaceFd, sandboxNamespaceFd, seccompProgram.get(), resolvConf.get()};
    for (const BindMount &mount : mounts)
        descriptors.push_back(mount.idmapped.isValid() ? mount.idmapped.get() : mount.source.get());
    return descriptors;
}

QString pathOfDescriptor(int fd)
{
    return QFile::symLinkTarget(u"/proc/self/fd/%1"_s.arg(fd));
}

std::vector<IdmappedAttachment> SandboxLayout::idmappedAttachments() const
{
    std::vector<IdmappedAttachment> attachments;
    if (rootfsIdmapped.isValid())
        attachments.push_back({QFile::encodeName(rootfs), rootfsSource.get(), rootfsIdmapped.get()});
    for (const BindMount &mount : mounts) {
        if (mount.idmapped.isValid())
            attachments.push_back({QFile::encodeName(pathOfDescriptor(mount.source.get())), mount.source.get(),
                                   mount.idmapped.get()});
    }
    return attachments;
}

QStringList bwrapArguments(const SandboxLayout &layout)
{
    QStringList args = {
        u"--unshare-pid"_s, u"--unshare-ipc"_s, u"--unshare-uts"_s, u"--unshare-cgroup-try"_s,
        // The agent is the sandbox's pid 1, with no bubblewrap process inside beside it: that
        // one would hold the runner's pipes as a process commands may open through /proc,
        // while init ignores the signals commands could stop or kill it with. The agent
        // reaps orphans itself.
        u"--as-pid-1"_s,
        // As root, bwrap would otherwise keep nearly every capability inside.
        u"--cap-drop"_s, u"ALL"_s,
        u"--die-with-parent"_s,
        // A new session: commands cannot inject input into the runner's terminal (TIOCSTI).
        u"--new-session"_s,
        u"--hostname"_s, layout.id,
    };
    if (layout.enterNamespaceFd >= 0) {
        args.append({u"--userns"_s, QString::number(layout.enterNamespaceFd)});
        if (layout.sandboxNamespaceFd >= 0)
            args.append({u"--userns2"_s, QString::number(layout.sandboxNamespaceFd)});
        // What Docker grants a container's root by default, minus what needs the network
        // or devices: enough to act as root on the sandbox's own files and users.
        for (const QString &capability : {u"CAP_CHOWN"_s, u"CAP_DAC_OVERRIDE"_s, u"CAP_FOWNER"_s, u"CAP_KILL"_s,
                                          u"CAP_SETGID"_s, u"CAP_SETUID"_s})
            args.append({u"--cap-add"_s, capability});
    } else {
        args.append(u"--unshare-user"_s);
    }
    if (layout.seccompProgram.isValid())
        args.append({u"--seccomp"_s, QString::number(layout.seccompProgram.get())});
    if (layout.rootLayer)
        args.append({u"--bind"_s, layout.rootLayer->root, u"/"_s});
    if (layout.rootfs.isEmpty()) {
        addSystemTree(&args);
        addEtc(&args);
    } else if (!layout.rootLayer || !layout.rootLayer->overlay) {
        addRootfs(layout.rootfs, &args);
    }
    if (layout.rootLayer)
        addUsualDirectories(&args);
    args.append({u"--proc"_s, u"/proc"_s});
    maskProc(&args);
    args.append({u"--dev"_s, u"/dev"_s});
    // Sticky and writable by all, as /tmp is everywhere, for commands run as other users.
    addTmpfs(u"/tmp"_s, u"1777"_s, layout.tmpfsSizeBytes, &args);
    addTmpfs(u"/workspace"_s, u"0755"_s, layout.tmpfsSizeBytes, &args);
    args.append({u"--ro-bind"_s, layout.agentPath, QString::fromLatin1(AgentPathInSandbox)});
    if (layout.resolvConf.isValid())
        args.append({u"--ro-bind-data"_s, QString::number(layout.resolvConf.get()), u"/etc/resolv.conf"_s});
    addMounts(layout.mounts, &args);
    // Last, for a root of bwrap's own: its tmpfs (with /etc and the mount points in it) turns
    // read-only; the mounts on it (/tmp, /workspace, volumes) stay as they are.
    if (!layout.rootLayer)
        args.append({u"--remount-ro"_s, u"/"_s});
    const QString workingDirectory = layout.effectiveWorkingDirectory();
    if (workingDirectory != u"/workspace"_s && layout.rootLayer)
        args.append({u"--dir"_s, workingDirectory});
    args.append({u"--chdir"_s, workingDirectory, u"--clearenv"_s});
    for (const QString &assignment : layout.env) {
        const qsizetype equals = assignment.indexOf(u'=');
        args.append({u"--setenv"_s, assignment.left(equals), assignment.mid(equals + 1)});
    }
    args.append({u"--"_s, QString::fromLatin1(AgentPathInSandbox)});
    return args;
}

} // namespace Sandflow::Internal
