#include "workflowvalidator_p.h"

#include <QDir>
#include <QFileInfo>
#include <QSet>

#include <functional>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

WorkflowValidator::WorkflowValidator(const QString &fileName, Workflow *workflow, Diagnostics *diagnostics)
    : m_fileName(fileName)
    , m_workflow(workflow)
    , m_diagnostics(diagnostics)
{
}

void WorkflowValidator::error(SourcePos pos, const QString &message)
{
    m_diagnostics->error(m_fileName, pos, message);
}

void WorkflowValidator::validate()
{
    const ExpressionScopeInfo base = workflowScope();
    ExpressionScopeInfo constants = base;
    constants.contexts = {};
    checkTexts(m_workflow->vars, constants);
    checkTexts(m_workflow->env, base);
    checkText(m_workflow->server.url, base);
    checkText(m_workflow->server.apiKey, base);
    for (const Volume &volume : std::as_const(m_workflow->volumes)) {
        checkText(volume.hostPath, base);
        checkTexts(volume.options, base);
    }
    for (const NetworkPolicy &network : std::as_const(m_workflow->networks)) {
        for (const NetworkRule &rule : network.egress)
            checkText(rule.target, base);
    }
    // Templates used by jobs are checked in each job's scope; unused ones here.
    QSet<QString> used;
    for (const Job &job : std::as_const(m_workflow->jobs))
        used.insert(job.sandboxName);
    for (const SandboxSpec &spec : std::as_const(m_workflow->sandboxes)) {
        if (!used.contains(spec.name))
            checkSandbox(spec, base);
    }
    resolveSandboxes();
    checkNeeds();
    checkCycles();
    for (const Job &job : std::as_const(m_workflow->jobs))
        checkJob(job);
}

void WorkflowValidator::resolveSandboxes()
{
    QStringList names;
    for (const SandboxSpec &spec : std::as_const(m_workflow->sandboxes))
        names.append(spec.name);
    for (Job &job : m_workflow->jobs) {
        if (job.sandboxName.isEmpty())
            continue;
        if (const SandboxSpec *spec = m_workflow->sandboxTemplate(job.sandboxName))
            job.sandbox = *spec;
        else
            error(job.sandboxPos, u"unknown sandbox `%1`%2"_s.arg(job.sandboxName, didYouMean(job.sandboxName, names)));
    }
}

void WorkflowValidator::checkSandbox(const SandboxSpec &spec, const ExpressionScopeInfo &scope)
{
    for (const Text *text : {&spec.image, &spec.rootfs, &spec.cpu, &spec.memory, &spec.gpu,
                             &spec.timeout.expression})
        checkText(*text, scope);
    for (const Text &part : spec.entrypoint)
        checkText(part, scope);
    checkTexts(spec.env, scope);
    checkTexts(spec.metadata, scope);
    if (!spec.networkName.isEmpty() && !m_workflow->network(spec.networkName)) {
        QStringList names;
        for (const NetworkPolicy &network : std::as_const(m_workflow->networks))
            names.append(network.name);
        error(spec.networkPos, u"unknown network `%1`%2"_s.arg(spec.networkName, didYouMean(spec.networkName, names)));
    }
    QStringList volumeNames;
    for (const Volume &volume : std::as_const(m_workflow->volumes))
        volumeNames.append(volume.name);
    QStringList mountPaths;
    for (const Mount &mount : spec.mounts) {
        if (!mount.volume.isEmpty() && !m_workflow->volume(mount.volume))
            error(mount.volumePos, u"unknown volume `%1`%2"_s.arg(mount.volume, didYouMean(mount.volume, volumeNames)));
        checkText(mount.path, scope);
        checkText(mount.subPath, scope);
        const QString path = QDir::cleanPath(mount.path.source());
        if (mount.path.isLiteral() && mountPaths.contains(path))
            error(mount.path.pos, u"two mounts at `%1`"_s.arg(path));
        mountPaths.append(path);
    }
}

void WorkflowValidator::checkNeeds()
{
    QStringList ids;
    for (const Job &job : std::as_const(m_workflow->jobs))
        ids.append(job.id);
    for (const Job &job : std::as_const(m_workflow->jobs)) {
        for (qsizetype i = 0; i < job.needs.size(); ++i) {
            const QString &needed = job.needs.at(i);
            if (needed == job.id)
                error(job.needsPos.at(i), u"job `%1` needs itself"_s.arg(job.id));
            else if (!ids.contains(needed))
                error(job.needsPos.at(i), u"job `%1` needs unknown job `%2`%3"_s.arg(job.id, needed, didYouMean(needed, ids)));
        }
    }
}

void WorkflowValidator::checkCycles()
{
    // Depth-first search; a job met again while on the current path closes a cycle.
    enum class Mark { None, OnPath, Done };
    QMap<QString, Mark> marks;
    QStringList path;
    const std::function<void(const Job &)> visit = [&](const Job &job) {
        marks[job.id] = Mark::OnPath;
        path.append(job.id);
        for (qsizetype i = 0; i < job.needs.size(); ++i) {
            const Job *needed = m_workflow->job(job.needs.at(i));
            if (!needed || needed == &job)
                continue;
            const Mark mark = marks.value(needed->id, Mark::None);
            if (mark == Mark::OnPath) {
                QStringList cycle = path.mid(path.indexOf(needed->id));
                cycle.append(needed->id);
                error(job.needsPos.at(i), u"dependency cycle: %1"_s.arg(cycle.join(u" -> "_s)));
            } else if (mark == Mark::None) {
                visit(*needed);
            }
        }
        path.removeLast();
        marks[job.id] = Mark::Done;
    };
    for (const Job &job : std::as_const(m_workflow->jobs)) {
        if (marks.value(job.id, Mark::None) == Mark::None)
            visit(job);
    }
}

void WorkflowValidator::checkJob(const Job &job)
{
    ExpressionScopeInfo scope = jobScope(job);
    ExpressionScopeInfo conditionScope = scope;
    conditionScope.statusFunctions = true;
    checkText(job.name, scope);
    checkText(job.condition, conditionScope, true);
    checkSandbox(job.sandbox, scope);
    checkText(job.timeout.expression, scope);
    checkText(job.continueOnError.expression, scope);
    checkText(job.strategy.maxParallel.expression, scope);
    checkText(job.strategy.failFast.expression, scope);
    checkTexts(job.env, scope);
    if (m_workflow->runner == u"opensandbox"_s && !job.sandbox.image.isSet)
        error(job.sandboxPos.line ? job.sandboxPos : job.pos,
              u"job `%1` needs a sandbox `image` on the opensandbox runner"_s.arg(job.id));

    // Outputs are read after every step, so any step may be named.
    ExpressionScopeInfo outputScope = scope;
    outputScope.contexts.append(u"steps"_s);
    for (const Step &step : job.steps) {
        if (!step.id.isEmpty())
            outputScope.stepIds.append(step.id);
    }
    checkTexts(job.outputs, outputScope);
    checkSteps(job, scope);
}

void WorkflowValidator::checkSteps(const Job &job, ExpressionScopeInfo scope)
{
    scope.contexts.append(u"steps"_s);
    QMap<QString, SourcePos> seen;
    const Step *gradeStep = nullptr;
    for (const Step &step : job.steps) {
        // A grade on other kinds of step is reported where the step is read.
        const bool grades = step.grade && (step.kind == Step::Kind::Run || step.kind == Step::Kind::Uses);
        if (grades && gradeStep)
            error(step.pos, u"job `%1` has a second `grade` step (the first is at line %2); one step decides "
                            u"pass or fail"_s.arg(job.id).arg(gradeStep->pos.line));
        else if (grades)
            gradeStep = &step;
        if (step.id.isEmpty())
            continue;
        if (seen.contains(step.id))
            error(step.idPos, u"duplicate step id `%1` (first at line %2)"_s.arg(step.id).arg(seen.value(step.id).line));
        else
            seen.insert(step.id, step.idPos);
        scope.laterStepIds.append(step.id);
    }
    for (const Step &step : job.steps) {
        ExpressionScopeInfo stepScope = scope;
        for (const TextEntry &entry : step.env)
            stepScope.envKeys.append(entry.key);
        ExpressionScopeInfo conditionScope = stepScope;
        conditionScope.statusFunctions = true;
        checkText(step.condition, conditionScope, true);
        for (const Text *text : {&step.name, &step.cwd, &step.shell, &step.user, &step.timeout.expression,
                                 &step.continueOnError.expression, &step.run, &step.from, &step.to, &step.path,
                                 &step.content, &step.mode}) {
            checkText(*text, stepScope);
        }
        checkTexts(step.env, stepScope);
        checkTexts(step.with, stepScope);
        checkLiteralSettings(step);
        if (!step.id.isEmpty()) {
            scope.stepIds.append(step.id);
            scope.laterStepIds.removeOne(step.id);
        }
    }
}

// What a step's literal settings name must exist before anything runs: the shell, the user,
// the file an upload sends. (Settings from expressions are checked when the step runs.)
void WorkflowValidator::checkLiteralSettings(const Step &step)
{
    if (step.shell.isSet && step.shell.isLiteral()) {
        const QString shell = step.shell.source().trimmed();
        if (shell != u"bash"_s && shell != u"sh"_s && !shell.contains(u"{0}"_s))
            error(step.shell.pos, u"unknown shell `%1`: use `bash`, `sh`, or a command with `{0}` for the "
                                  u"script's file, e.g. `%1 {0}`"_s.arg(shell));
    }
    if (step.user.isSet && step.user.isLiteral()) {
        bool numeric = false;
        step.user.source().toUInt(&numeric);
        if (!numeric)
            error(step.user.pos, u"unknown user `%1`: give a uid number (user names are not supported)"_s
                                     .arg(step.user.source()));
    }
    if (step.kind == Step::Kind::Upload && step.from.isSet && step.from.isLiteral()
        && !m_workflow->baseDirectory.isEmpty()) {
        const QString path = QDir(m_workflow->baseDirectory).absoluteFilePath(step.from.source());
        if (!QFileInfo::exists(path))
            error(step.from.pos, u"`%1` does not exist (an upload's `from` is relative to the workflow's "
                                 u"directory)"_s.arg(step.from.source()));
    }
}

ExpressionScopeInfo WorkflowValidator::workflowScope() const
{
    ExpressionScopeInfo scope;
    scope.contexts = {u"vars"_s, u"env"_s, u"secrets"_s, u"run"_s};
    for (const TextEntry &entry : std::as_const(m_workflow->env))
        scope.envKeys.append(entry.key);
    return scope;
}

ExpressionScopeInfo WorkflowValidator::jobScope(const Job &job) const
{
    ExpressionScopeInfo scope = workflowScope();
    scope.contexts += {u"matrix"_s, u"task"_s, u"needs"_s, u"job"_s};
    scope.jobId = job.id;
    for (const TextEntry &entry : job.env)
        scope.envKeys.append(entry.key);
    scope.hasMatrix = job.strategy.hasMatrix();
    scope.matrixKeys = matrixKeys(job.strategy.matrix);
    scope.hasDataset = job.strategy.hasDataset();
    scope.taskFields = job.strategy.dataset.fields();
    for (const QString &needed : job.needs) {
        QStringList outputs;
        if (const Job *neededJob = m_workflow->job(needed)) {
            for (const TextEntry &entry : neededJob->outputs)
                outputs.append(entry.key);
        }
        scope.needs.insert(needed, outputs);
    }
    return scope;
}

} // namespace Sandflow::Internal
