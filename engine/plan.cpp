#include "plan.h"

#include "units.h"

#include <QJsonArray>
#include <QSet>

namespace Sandflow {

using namespace Qt::StringLiterals;

namespace {

/// What planning knows: constants, the instance's matrix values and dataset row. Secrets
/// are never read while planning; anything that only exists at run time stays unresolved.
/// The contexts that are the same for every instance, worked out once per plan.
struct PlanConstants
{
    QJsonObject vars;
    QJsonObject secrets;

    static PlanConstants of(const Workflow &workflow);
};

class PlanScope final : public ExpressionScope
{
public:
    PlanScope(const PlanConstants &constants, const QJsonObject &matrix, const QJsonObject &task)
        : m_constants(constants)
        , m_matrix(matrix)
        , m_task(task)
    {
    }

    std::optional<QJsonValue> context(const QString &name) const override
    {
        if (name == u"vars"_s)
            return m_constants.vars;
        if (name == u"secrets"_s)
            return m_constants.secrets;
        if (name == u"matrix"_s)
            return m_matrix;
        if (name == u"task"_s)
            return m_task;
        return std::nullopt;
    }

    /// The text as far as planning can tell: unresolved parts are shown as written.
    QString evaluate(const Text &text) const
    {
        if (!text.isSet)
            return {};
        const EvaluationResult result = text.value.evaluate(*this);
        if (result.state == EvaluationResult::State::Value)
            return Expression::toText(result.value);
        if (result.state == EvaluationResult::State::Error)
            return u"<error: %1>"_s.arg(result.error);
        return text.source();
    }

private:
    const PlanConstants &m_constants;
    QJsonObject m_matrix;
    QJsonObject m_task;
};

PlanConstants PlanConstants::of(const Workflow &workflow)
{
    PlanConstants constants;
    // Secrets are never read while planning.
    for (const Secret &secret : workflow.secrets)
        constants.secrets.insert(secret.name, u"***"_s);
    // Variables read no context, so an empty scope evaluates them.
    const PlanConstants none;
    const PlanScope scope(none, {}, {});
    for (const TextEntry &entry : workflow.vars)
        constants.vars.insert(entry.key, scope.evaluate(entry.value));
    return constants;
}

QJsonObject textMapToJson(const TextMap &map, const PlanScope &scope)
{
    QJsonObject object;
    for (const TextEntry &entry : map)
        object.insert(entry.key, scope.evaluate(entry.value));
    return object;
}

QJsonObject networkToJson(const NetworkPolicy &policy, const PlanScope &scope)
{
    QJsonArray egress;
    for (const NetworkRule &rule : policy.egress)
        egress.append(QJsonObject{{u"action"_s, rule.action}, {u"target"_s, scope.evaluate(rule.target)}});
    QJsonObject object{{u"defaultAction"_s, policy.defaultAction}, {u"egress"_s, egress}};
    if (!policy.name.isEmpty())
        object.insert(u"name"_s, policy.name);
    return object;
}

QJsonObject sandboxToJson(const Workflow &workflow, const SandboxSpec &spec, const PlanScope &scope)
{
    QJsonObject object;
    if (!spec.name.isEmpty())
        object.insert(u"template"_s, spec.name);
    object.insert(u"image"_s, spec.image.isSet ? scope.evaluate(spec.image) : QJsonValue(QJsonValue::Null));
    if (spec.rootfs.isSet)
        object.insert(u"rootfs"_s, scope.evaluate(spec.rootfs));
    QJsonArray entrypoint;
    for (const Text &part : spec.entrypoint)
        entrypoint.append(scope.evaluate(part));
    if (entrypoint.isEmpty())
        entrypoint = QJsonArray{u"tail"_s, u"-f"_s, u"/dev/null"_s};
    object.insert(u"entrypoint"_s, entrypoint);
    QJsonObject resources;
    if (spec.cpu.isSet)
        resources.insert(u"cpu"_s, scope.evaluate(spec.cpu));
    if (spec.memory.isSet)
        resources.insert(u"memory"_s, scope.evaluate(spec.memory));
    if (spec.gpu.isSet)
        resources.insert(u"gpu"_s, scope.evaluate(spec.gpu));
    object.insert(u"resources"_s, resources);
    object.insert(u"env"_s, textMapToJson(spec.env, scope));
    object.insert(u"metadata"_s, textMapToJson(spec.metadata, scope));
    if (spec.timeout.literal)
        object.insert(u"timeout"_s, *spec.timeout.literal == NoExpiry ? u"none"_s : formatDuration(*spec.timeout.literal));
    else if (spec.timeout.expression.isSet)
        object.insert(u"timeout"_s, scope.evaluate(spec.timeout.expression));
    if (spec.networkInline)
        object.insert(u"network"_s, networkToJson(*spec.networkInline, scope));
    else if (const NetworkPolicy *policy = workflow.network(spec.networkName))
        object.insert(u"network"_s, networkToJson(*policy, scope));
    QJsonArray mounts;
    for (const Mount &mount : spec.mounts) {
        QJsonObject m{{u"volume"_s, mount.volume}, {u"path"_s, scope.evaluate(mount.path)},
                      {u"readOnly"_s, mount.readOnly}};
        if (mount.subPath.isSet)
            m.insert(u"subPath"_s, scope.evaluate(mount.subPath));
        mounts.append(m);
    }
    object.insert(u"mounts"_s, mounts);
    return object;
}

QString stepKind(Step::Kind kind)
{
    switch (kind) {
    case Step::Kind::Run: return u"run"_s;
    case Step::Kind::Upload: return u"upload"_s;
    case Step::Kind::Download: return u"download"_s;
    case Step::Kind::Write: return u"write"_s;
    case Step::Kind::Uses: return u"uses"_s;
    }
    return {};
}

} // namespace

JobInstance PlannedJob::instance(qsizetype index) const
{
    JobInstance result;
    const qsizetype combinationCount = combinations.isEmpty() ? 1 : combinations.size();
    if (!combinations.isEmpty())
        result.combination = int(index % combinationCount);
    if (job->strategy.hasDataset())
        result.row = index / combinationCount;
    return result;
}

QString PlannedJob::instanceName(const JobInstance &instance) const
{
    QStringList parts;
    if (instance.row >= 0)
        parts.append(job->strategy.dataset.id(instance.row));
    if (instance.combination >= 0) {
        const QJsonObject combination = combinations.at(instance.combination);
        // Axis order, then keys only include added, as a reader of the file expects.
        for (const QString &key : matrixKeys(job->strategy.matrix)) {
            if (combination.contains(key))
                parts.append(Expression::toText(combination.value(key)));
        }
    }
    return parts.isEmpty() ? job->id : u"%1 (%2)"_s.arg(job->id, parts.join(u", "_s));
}

QString PlannedJob::uniqueInstanceName(const QString &evaluated, qsizetype index, QSet<QString> *taken) const
{
    QString name = evaluated.isEmpty() ? instanceName(instance(index)) : evaluated;
    if (taken->contains(name))
        name += u" #%1"_s.arg(index + 1);
    taken->insert(name);
    return name;
}

Plan Plan::build(const Workflow &workflow)
{
    Plan plan;
    plan.m_workflow = &workflow;
    // Validation rejected cycles, so longest-path levelling terminates.
    QMap<QString, int> stageOf;
    bool changed = true;
    while (changed) {
        changed = false;
        for (const Job &job : workflow.jobs) {
            int stage = 0;
            for (const QString &needed : job.needs)
                stage = std::max(stage, stageOf.value(needed, 0) + 1);
            if (stageOf.value(job.id, -1) != stage) {
                stageOf.insert(job.id, stage);
                changed = true;
            }
        }
    }
    for (const Job &job : workflow.jobs) {
        PlannedJob planned;
        planned.job = &job;
        planned.stage = stageOf.value(job.id);
        if (job.strategy.hasMatrix())
            planned.combinations = expandMatrix(job.strategy.matrix);
        const qsizetype combinations = job.strategy.hasMatrix() ? planned.combinations.size() : 1;
        const qsizetype rows = job.strategy.hasDataset() ? job.strategy.dataset.size() : 1;
        planned.instanceCount = combinations * rows;
        plan.m_jobs.append(planned);
    }
    return plan;
}

QList<QList<const PlannedJob *>> Plan::stages() const
{
    QList<QList<const PlannedJob *>> result;
    for (const PlannedJob &job : m_jobs) {
        if (result.size() <= job.stage)
            result.resize(job.stage + 1);
        result[job.stage].append(&job);
    }
    return result;
}

qsizetype Plan::instanceCount() const
{
    qsizetype count = 0;
    for (const PlannedJob &job : m_jobs)
        count += job.instanceCount;
    return count;
}

static PlanScope scopeFor(const PlanConstants &constants, const PlannedJob &job, const JobInstance &instance)
{
    return PlanScope(constants,
                     instance.combination >= 0 ? job.combinations.at(instance.combination) : QJsonObject(),
                     instance.row >= 0 ? job.job->strategy.dataset.row(instance.row) : QJsonObject());
}

// The name the run will give the instance, from its `name` where planning can evaluate it.
static QString plannedName(const PlannedJob &planned, qsizetype index, const PlanScope &scope, QSet<QString> *taken)
{
    QString evaluated;
    if (planned.job->name.isSet) {
        const EvaluationResult result = planned.job->name.value.evaluate(scope);
        if (result.state == EvaluationResult::State::Value)
            evaluated = Expression::toText(result.value).simplified();
    }
    return planned.uniqueInstanceName(evaluated, index, taken);
}

QJsonObject Plan::toJson() const
{
    const PlanConstants constants = PlanConstants::of(*m_workflow);
    QJsonArray stageArray;
    for (const auto &stage : stages()) {
        QJsonArray ids;
        for (const PlannedJob *job : stage)
            ids.append(job->job->id);
        stageArray.append(ids);
    }
    QJsonArray jobArray;
    QSet<QString> names;
    for (const PlannedJob &planned : m_jobs) {
        const Job &job = *planned.job;
        QJsonArray steps;
        for (qsizetype i = 0; i < job.steps.size(); ++i)
            steps.append(QJsonObject{{u"id"_s, job.steps.at(i).displayId(int(i))},
                                     {u"kind"_s, stepKind(job.steps.at(i).kind)}});
        QJsonArray instances;
        for (qsizetype i = 0; i < planned.instanceCount; ++i) {
            const JobInstance instance = planned.instance(i);
            const PlanScope scope = scopeFor(constants, planned, instance);
            QJsonObject object{{u"name"_s, plannedName(planned, i, scope, &names)},
                               {u"sandbox"_s, sandboxToJson(*m_workflow, job.sandbox, scope)}};
            if (instance.combination >= 0)
                object.insert(u"matrix"_s, planned.combinations.at(instance.combination));
            if (instance.row >= 0)
                object.insert(u"task"_s, job.strategy.dataset.id(instance.row));
            instances.append(object);
        }
        QJsonObject strategy;
        if (job.strategy.maxParallel.literal)
            strategy.insert(u"maxParallel"_s, *job.strategy.maxParallel.literal);
        strategy.insert(u"failFast"_s, job.strategy.failFast.valueOr(!job.strategy.hasDataset()));
        if (job.strategy.hasDataset())
            strategy.insert(u"dataset"_s, job.strategy.datasetPath);
        jobArray.append(QJsonObject{{u"id"_s, job.id},
                                    {u"stage"_s, planned.stage + 1},
                                    {u"needs"_s, QJsonArray::fromStringList(job.needs)},
                                    {u"strategy"_s, strategy},
                                    {u"instanceCount"_s, planned.instanceCount},
                                    {u"instances"_s, instances},
                                    {u"steps"_s, steps}});
    }
    return QJsonObject{{u"workflow"_s, m_workflow->name},
                       {u"file"_s, m_workflow->file},
                       {u"runner"_s, m_workflow->runner},
                       {u"stages"_s, stageArray},
                       {u"jobs"_s, jobArray},
                       {u"totals"_s, QJsonObject{{u"jobs"_s, m_jobs.size()},
                                                 {u"instances"_s, instanceCount()},
                                                 {u"sandboxes"_s, instanceCount()}}}};
}

static QString describeSandbox(const QJsonObject &sandbox)
{
    QStringList parts;
    parts.append(sandbox.value(u"image"_s).isNull() ? u"host system tree"_s
                                                    : u"image %1"_s.arg(sandbox.value(u"image"_s).toString()));
    const QJsonObject resources = sandbox.value(u"resources"_s).toObject();
    for (auto it = resources.begin(); it != resources.end(); ++it)
        parts.append(u"%1 %2"_s.arg(it.key(), it.value().toString()));
    const QJsonObject network = sandbox.value(u"network"_s).toObject();
    if (!network.isEmpty())
        parts.append(u"network %1"_s.arg(network.value(u"name"_s).toString(u"inline"_s)));
    const qsizetype mounts = sandbox.value(u"mounts"_s).toArray().size();
    if (mounts > 0)
        parts.append(u"%1 mount%2"_s.arg(mounts).arg(mounts == 1 ? QString() : u"s"_s));
    return parts.join(u", "_s);
}

QString Plan::toText(bool colour) const
{
    const PlanConstants constants = PlanConstants::of(*m_workflow);
    const auto bold = [&](const QString &text) { return colour ? u"\x1b[1m%1\x1b[0m"_s.arg(text) : text; };
    const auto dim = [&](const QString &text) { return colour ? u"\x1b[2m%1\x1b[0m"_s.arg(text) : text; };
    // Enough to see the shape of a fan-out; --json lists every instance.
    constexpr qsizetype shownInstances = 8;

    QString out = u"%1 %2 (%3, runner %4)\n"_s.arg(u"Workflow"_s, bold(m_workflow->name), m_workflow->file,
                                                    m_workflow->runner);
    const auto allStages = stages();
    QSet<QString> names;
    for (qsizetype s = 0; s < allStages.size(); ++s) {
        out += u"\nStage %1\n"_s.arg(s + 1);
        for (const PlannedJob *planned : allStages.at(s)) {
            const Job &job = *planned->job;
            QString line = u"  %1"_s.arg(bold(job.id));
            if (!job.needs.isEmpty())
                line += dim(u"  needs %1"_s.arg(job.needs.join(u", "_s)));
            QStringList fanout;
            if (job.strategy.hasMatrix())
                fanout.append(u"matrix %1"_s.arg(planned->combinations.size()));
            if (job.strategy.hasDataset())
                fanout.append(u"dataset %1 rows"_s.arg(job.strategy.dataset.size()));
            if (job.strategy.maxParallel.literal)
                fanout.append(u"max-parallel %1"_s.arg(*job.strategy.maxParallel.literal));
            line += u"  %1 instance%2"_s.arg(planned->instanceCount).arg(planned->instanceCount == 1 ? QString() : u"s"_s);
            if (!fanout.isEmpty())
                line += u" (%1)"_s.arg(fanout.join(u", "_s));
            line += u", %1 step%2\n"_s.arg(job.steps.size()).arg(job.steps.size() == 1 ? QString() : u"s"_s);
            out += line;
            const qsizetype shown = std::min(planned->instanceCount, shownInstances);
            for (qsizetype i = 0; i < shown; ++i) {
                const PlanScope scope = scopeFor(constants, *planned, planned->instance(i));
                const QJsonObject sandbox = sandboxToJson(*m_workflow, job.sandbox, scope);
                out += u"    %1  %2\n"_s.arg(plannedName(*planned, i, scope, &names),
                                            dim(u"sandbox: "_s + describeSandbox(sandbox)));
            }
            if (planned->instanceCount > shown)
                out += dim(u"    ... and %1 more\n"_s.arg(planned->instanceCount - shown));
        }
    }
    out += u"\n%1 job%2, %3 instance%4, %3 sandbox%5\n"_s
               .arg(m_jobs.size()).arg(m_jobs.size() == 1 ? QString() : u"s"_s)
               .arg(instanceCount()).arg(instanceCount() == 1 ? QString() : u"s"_s)
               .arg(instanceCount() == 1 ? QString() : u"es"_s);
    return out;
}

} // namespace Sandflow
