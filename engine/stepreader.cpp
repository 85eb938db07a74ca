// Steps: the common settings, then exactly one action (run, upload, download, write, uses).
#include "workflowreader_p.h"

#include "units.h"

#include <QJsonObject>
#include <QRegularExpression>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

static const QStringList &actionKeys()
{
    static const QStringList keys = {u"run"_s, u"upload"_s, u"download"_s, u"write"_s, u"uses"_s};
    return keys;
}

Step WorkflowReader::readStep(const YAML::Node &node, const QString &what)
{
    Step step;
    step.pos = m_source.position(node);
    MappingReader map(m_source, node, what);
    if (!map.isValid())
        return step;

    const YAML::Node id = map.value(u"id"_s);
    if (id.IsDefined()) {
        step.id = QString::fromStdString(id.IsScalar() ? id.Scalar() : std::string());
        step.idPos = m_source.position(id);
        if (!id.IsScalar() || !isValidName(step.id, NameKind::Id)) {
            m_source.error(id, u"invalid step id `%1` (use letters, digits, `-` and `_`, starting with a "
                               u"letter or `_`)"_s.arg(step.id));
            step.id.clear();
        }
    }
    step.name = text(map.value(u"name"_s), u"`name`"_s);
    step.condition = condition(map.value(u"if"_s), u"`if`"_s);
    step.env = envMap(map.value(u"env"_s));
    step.cwd = text(map.value(u"cwd"_s), u"`cwd`"_s);
    if (step.cwd.isSet && step.cwd.isLiteral() && !step.cwd.source().startsWith(u'/'))
        m_source.error(step.cwd.pos, u"working directory `%1` must be absolute"_s.arg(step.cwd.source()));
    step.shell = text(map.value(u"shell"_s), u"`shell`"_s);
    step.user = text(map.value(u"user"_s), u"`user`"_s);
    step.timeout = durationSetting(map.value(u"timeout"_s), u"`timeout`"_s);
    step.retry = readRetry(map.value(u"retry"_s), u"`retry`"_s);
    step.continueOnError = boolSetting(map.value(u"continue-on-error"_s), u"`continue-on-error`"_s);
    step.background = boolean(map.value(u"background"_s), u"`background`"_s).value_or(false);
    step.grade = boolean(map.value(u"grade"_s), u"`grade`"_s).value_or(false);

    readStepAction(map, &step, what);
    map.finish();
    return step;
}

void WorkflowReader::readStepAction(MappingReader &map, Step *step, const QString &what)
{
    QStringList present;
    for (const QString &key : actionKeys()) {
        if (map.has(key))
            present.append(key);
    }
    map.accept(actionKeys());
    map.accept({u"with"_s});
    if (present.isEmpty()) {
        m_source.error(map.node(), u"%1 needs one of `run`, `upload`, `download`, `write` or `uses`"_s.arg(what));
        return;
    }
    if (present.size() > 1) {
        m_source.error(map.keyPosition(present.at(1)), u"%1 has both `%2` and `%3`; a step does one thing"_s
                                                            .arg(what, present.at(0), present.at(1)));
        return;
    }
    const QString action = present.first();
    const YAML::Node value = map.value(action);
    if (action == u"run"_s) {
        step->kind = Step::Kind::Run;
        step->run = text(value, u"`run`"_s);
        if (step->run.isSet && step->run.source().trimmed().isEmpty())
            m_source.error(step->run.pos, u"`run` must not be empty"_s);
    } else if (action == u"upload"_s || action == u"download"_s) {
        step->kind = action == u"upload"_s ? Step::Kind::Upload : Step::Kind::Download;
        readTransfer(value, step, u"`%1`"_s.arg(action));
    } else if (action == u"write"_s) {
        step->kind = Step::Kind::Write;
        readWrite(value, step, u"`write`"_s);
    } else {
        step->kind = Step::Kind::Uses;
        readUses(map, step);
    }
    if (step->kind != Step::Kind::Uses && map.has(u"with"_s))
        m_source.error(map.keyPosition(u"with"_s), u"`with` is only for `uses` steps"_s);
    if (step->kind != Step::Kind::Run) {
        for (const QString &key : {u"background"_s, u"shell"_s, u"user"_s}) {
            if (map.has(key))
                m_source.error(map.keyPosition(key), u"`%1` is only for `run` steps"_s.arg(key));
        }
    }
    if (step->kind != Step::Kind::Run && step->kind != Step::Kind::Uses) {
        for (const QString &key : {u"grade"_s, u"cwd"_s}) {
            if (map.has(key))
                m_source.error(map.keyPosition(key), u"`%1` is only for `run` and `uses` steps"_s.arg(key));
        }
    }
}

void WorkflowReader::readTransfer(const YAML::Node &node, Step *step, const QString &what)
{
    MappingReader map(m_source, node, what);
    if (!map.isValid())
        return;
    step->from = text(map.required(u"from"_s), u"`from`"_s);
    step->to = text(map.required(u"to"_s), u"`to`"_s);
    // The sandbox side must be absolute: there is no working directory to be relative to.
    const Text &inside = step->kind == Step::Kind::Upload ? step->to : step->from;
    if (inside.isSet && inside.isLiteral() && !inside.source().startsWith(u'/'))
        m_source.error(inside.pos, u"sandbox path `%1` must be absolute"_s.arg(inside.source()));
    map.finish();
}

void WorkflowReader::readWrite(const YAML::Node &node, Step *step, const QString &what)
{
    MappingReader map(m_source, node, what);
    if (!map.isValid())
        return;
    step->path = text(map.required(u"path"_s), u"`path`"_s);
    if (step->path.isSet && step->path.isLiteral() && !step->path.source().startsWith(u'/'))
        m_source.error(step->path.pos, u"sandbox path `%1` must be absolute"_s.arg(step->path.source()));
    step->content = text(map.required(u"content"_s), u"`content`"_s);
    // The raw text is read, so `mode: 0644` means octal even unquoted (YAML reads it as 644).
    step->mode = text(map.value(u"mode"_s), u"`mode`"_s);
    static const QRegularExpression octal(u"^[0-7]{3,4}$"_s);
    const YAML::Node mode = map.value(u"mode"_s);
    if (step->mode.isSet && step->mode.isLiteral()) {
        if (!octal.match(step->mode.source()).hasMatch())
            m_source.error(mode, u"file mode `%1` must be octal digits, e.g. \"0644\""_s.arg(step->mode.source()));
        else if (mode.Tag() != "!")   // plain: YAML 1.2 reads 0644 as the decimal number 644
            m_source.error(mode, u"quote the file mode: \"%1\" (unquoted, YAML reads it as a decimal number)"_s
                                     .arg(step->mode.source()));
    }
    map.finish();
}

// A literal `with:` value checked against the type its plugin declares.
static bool matchesInputType(const YAML::Node &value, const QString &type)
{
    const QJsonValue json = scalarToJson(value);
    if (type == u"integer"_s)
        return json.isDouble() && json.toDouble() == double(qint64(json.toDouble()));
    if (type == u"number"_s)
        return json.isDouble();
    if (type == u"boolean"_s)
        return json.isBool();
    if (type == u"duration"_s)
        return !isBareNumber(QString::fromStdString(value.Scalar()))
            && parseDuration(QString::fromStdString(value.Scalar())).value_or(0) > 0;
    return true;
}

void WorkflowReader::readUses(MappingReader &map, Step *step)
{
    const YAML::Node uses = map.value(u"uses"_s);
    step->uses = text(uses, u"`uses`"_s).source();
    step->usesPos = m_source.position(uses);
    const StepTypeInfo *type = m_stepTypes.find(step->uses);
    if (!type) {
        m_source.error(uses, u"unknown step type `%1`%2"_s.arg(step->uses, didYouMean(step->uses, m_stepTypes.stepTypes())));
        return;
    }
    const YAML::Node with = map.value(u"with"_s);
    QJsonObject literals;
    if (with.IsDefined()) {
        MappingReader inputs(m_source, with, u"`with`"_s);
        if (!inputs.isValid())
            return;
        for (const MappingReader::Entry &entry : inputs.entries()) {
            inputs.accept({entry.key});
            const StepInput *input = type->input(entry.key);
            if (!input) {
                m_source.error(entry.keyNode, u"`%1` is not an input of step type `%2`%3"_s
                                                  .arg(entry.key, type->name, didYouMean(entry.key, type->inputNames())));
                continue;
            }
            const Text value = text(entry.value, u"`with.%1`"_s.arg(entry.key));
            step->with.append({entry.key, m_source.position(entry.keyNode), value});
            if (!value.isSet || !value.isLiteral())
                continue;
            if (!matchesInputType(entry.value, input->type))
                m_source.error(entry.value, u"input `%1` of `%2` must be %3 %4, not `%5`"_s
                                                .arg(entry.key, type->name,
                                                     QStringView(u"aeiou").contains(input->type.front()) ? u"an"_s : u"a"_s,
                                                     input->type, value.source()));
            else
                literals.insert(entry.key, scalarToJson(entry.value));
        }
        inputs.finish();
    }
    const auto given = [&](const QString &name) {
        return std::any_of(step->with.cbegin(), step->with.cend(), [&](const TextEntry &e) { return e.key == name; });
    };
    for (const StepInput &input : type->inputs) {
        if (input.required && !given(input.name))
            m_source.error(step->usesPos, u"step type `%1` needs input `%2` under `with`"_s.arg(type->name, input.name));
    }
    const auto problems = m_stepTypes.plugin(step->uses)->checkInputs(step->uses, literals);
    for (const auto &problem : problems) {
        const auto entry = std::find_if(step->with.cbegin(), step->with.cend(),
                                        [&](const TextEntry &e) { return e.key == problem.first; });
        m_source.error(entry != step->with.cend() ? entry->value.pos : step->usesPos, problem.second);
    }
}

RetryPolicy WorkflowReader::readRetry(const YAML::Node &node, const QString &what)
{
    RetryPolicy retry;
    if (!node.IsDefined())
        return retry;
    retry.pos = m_source.position(node);
    // The scheduler plans retries before a step runs, so these are literals, not expressions.
    const auto literal = [&](const YAML::Node &value, const QString &what) {
        if (value.IsScalar() && value.Scalar().find("${{") != std::string::npos) {
            m_source.error(value, u"%1 must be a literal value, not an expression"_s.arg(what));
            return false;
        }
        return true;
    };
    if (node.IsScalar()) {   // `retry: 3` is short for `retry: {attempts: 3}`
        if (literal(node, u"`retry`"_s))
            retry.attempts = intSetting(node, u"`retry`"_s, 1).valueOr(1);
        return retry;
    }
    MappingReader map(m_source, node, what);
    if (!map.isValid())
        return retry;
    const YAML::Node attempts = map.required(u"attempts"_s);
    if (literal(attempts, u"`attempts`"_s))
        retry.attempts = intSetting(attempts, u"`attempts`"_s, 1).valueOr(1);
    const YAML::Node backoff = map.value(u"backoff"_s);
    if (literal(backoff, u"`backoff`"_s))
        retry.backoff = durationSetting(backoff, u"`backoff`"_s).valueOr(retry.backoff);
    const YAML::Node on = map.value(u"on"_s);
    if (on.IsDefined()) {
        const auto addCondition = [&](const YAML::Node &item) {
            const QJsonValue value = scalarToJson(item);
            if (item.IsScalar() && value.isString() && value.toString() == u"infra"_s)
                retry.onInfra = true;
            else if (item.IsScalar() && value.isDouble() && value.toDouble() >= 0 && value.toDouble() <= 255
                     && value.toDouble() == double(int(value.toDouble())))
                retry.exitCodes.append(int(value.toDouble()));
            else
                m_source.error(item, u"`on` takes exit codes (0-255) and `infra`, not `%1`"_s
                                         .arg(QString::fromStdString(item.IsScalar() ? item.Scalar() : "?")));
        };
        if (on.IsSequence() && on.size() == 0) {
            m_source.error(on, u"`on` must name at least one exit code or `infra` (leave it out to retry "
                               u"every failure)"_s);
        } else if (on.IsSequence()) {
            for (const YAML::Node &item : on)
                addCondition(item);
        } else {
            addCondition(on);
        }
    }
    map.finish();
    return retry;
}

} // namespace Sandflow::Internal
