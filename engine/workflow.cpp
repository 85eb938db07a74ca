#include "workflow.h"

namespace Sandflow {

using namespace Qt::StringLiterals;

QStringList runnerNames()
{
    return {u"local"_s, u"opensandbox"_s};
}

QString Step::displayId(int index) const
{
    return id.isEmpty() ? u"step-%1"_s.arg(index + 1) : id;
}

template <typename T, typename Key>
static const T *findByKey(const QList<T> &items, const QString &key, Key T::*member)
{
    for (const T &item : items) {
        if (item.*member == key)
            return &item;
    }
    return nullptr;
}

QStringList Workflow::secretNames() const
{
    QStringList names;
    for (const Secret &secret : secrets)
        names.append(secret.name);
    return names;
}

const Job *Workflow::job(const QString &id) const
{
    return findByKey(jobs, id, &Job::id);
}

const SandboxSpec *Workflow::sandboxTemplate(const QString &templateName) const
{
    return findByKey(sandboxes, templateName, &SandboxSpec::name);
}

const Volume *Workflow::volume(const QString &volumeName) const
{
    return findByKey(volumes, volumeName, &Volume::name);
}

const NetworkPolicy *Workflow::network(const QString &networkName) const
{
    return findByKey(networks, networkName, &NetworkPolicy::name);
}

} // namespace Sandflow
