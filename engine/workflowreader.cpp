#include "workflowreader_p.h"

#include "units.h"

#include <QRegularExpression>

#include <algorithm>
#include <cmath>

#include <limits>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

WorkflowReader::WorkflowReader(const YamlSource &source, const StepTypeRegistry &stepTypes, Workflow *workflow)
    : m_source(source)
    , m_stepTypes(stepTypes)
    , m_workflow(workflow)
{
}

void WorkflowReader::read(const YAML::Node &root)
{
    MappingReader map(m_source, root, u"the workflow"_s);
    if (!map.isValid())
        return;

    const YAML::Node version = map.required(u"version"_s);
    if (version.IsDefined()) {
        if (!version.IsScalar() || version.Scalar() != "1")
            m_source.error(version, u"unsupported workflow version `%1` (this Sandflow reads version 1)"_s
                                        .arg(QString::fromStdString(version.IsScalar() ? version.Scalar() : "?")));
    }

    const YAML::Node name = map.required(u"name"_s);
    if (name.IsDefined()) {
        const Text nameText = text(name, u"`name`"_s);
        m_workflow->name = nameText.source();
        m_workflow->namePos = nameText.pos;
        if (nameText.isSet && m_workflow->name.trimmed().isEmpty())
            m_source.error(name, u"`name` must not be empty"_s);
    }

    const YAML::Node runner = map.value(u"runner"_s);
    if (runner.IsDefined()) {
        const QStringList runners = runnerNames();
        const QString value = text(runner, u"`runner`"_s).source();
        if (runner.IsNull())
            m_source.error(map.keyPosition(u"runner"_s), u"`runner` must be `local` or `opensandbox`"_s);
        else if (runner.IsScalar() && !runners.contains(value))
            m_source.error(runner, u"unknown runner `%1` (expected `local` or `opensandbox`)"_s.arg(value));
        else if (runner.IsScalar())
            m_workflow->runner = value;
    }

    readServer(map.value(u"server"_s));
    m_workflow->vars = textMap(map.value(u"vars"_s), u"`vars`"_s);
    m_workflow->env = envMap(map.value(u"env"_s));

    readSecrets(map.value(u"secrets"_s));

    readVolumes(map.value(u"volumes"_s));
    readNetworks(map.value(u"networks"_s));
    readSandboxes(map.value(u"sandboxes"_s));
    readJobs(map.required(u"jobs"_s));
    map.finish();
}

void WorkflowReader::recordExpressions(Text *value, const YAML::Node &node,
                                       const QList<Template::ParseError> &errors, bool bare)
{
    for (const Template::ParseError &error : errors)
        m_source.error(m_source.positionInScalar(node, error.offset), error.message);
    int index = 0;
    for (const Template::Segment &segment : value->value.segments()) {
        if (!segment.expression.isValid())
            continue;
        if (bare) {
            value->expressionPos.append(m_source.positionInScalar(node, segment.offset));
        } else {
            SourcePos pos = m_source.positionOfExpression(node, index);
            pos.column += 3;   // past `${{`
            value->expressionPos.append(pos);
        }
        ++index;
    }
}

Text WorkflowReader::text(const YAML::Node &node, const QString &what)
{
    Text result;
    if (!node.IsDefined())
        return result;
    result.pos = m_source.position(node);
    if (!node.IsScalar() && !node.IsNull()) {
        m_source.error(node, u"%1 must be a string, not %2"_s.arg(what, describeNode(node)));
        return result;
    }
    QList<Template::ParseError> errors;
    result.value = Template::parse(node.IsNull() ? QString() : QString::fromStdString(node.Scalar()), &errors);
    result.isSet = true;
    recordExpressions(&result, node, errors, false);
    return result;
}

Text WorkflowReader::condition(const YAML::Node &node, const QString &what)
{
    Text result;
    if (!node.IsDefined())
        return result;
    result.pos = m_source.position(node);
    if (!node.IsScalar()) {
        m_source.error(node, u"%1 must be an expression, not %2"_s.arg(what, describeNode(node)));
        return result;
    }
    QList<Template::ParseError> errors;
    const QString source = QString::fromStdString(node.Scalar());
    const bool bare = !source.contains(u"${{"_s);
    result.value = bare ? Template::fromExpression(source, &errors) : Template::parse(source, &errors);
    result.isSet = true;
    recordExpressions(&result, node, errors, bare);
    if (errors.isEmpty())
        lintCondition(result.value, node);
    return result;
}

// Conditions that are valid but cannot mean what they say: text beside a `${{ }}` makes a
// non-empty string, which is always true; a plain `false` never lets anything run.
void WorkflowReader::lintCondition(const Template &condition, const YAML::Node &node)
{
    const QList<Template::Segment> &segments = condition.segments();
    const bool hasExpression = std::any_of(segments.cbegin(), segments.cend(),
                                           [](const Template::Segment &s) { return s.expression.isValid(); });
    const bool hasText = std::any_of(segments.cbegin(), segments.cend(), [](const Template::Segment &s) {
        return !s.expression.isValid() && !s.literal.trimmed().isEmpty();
    });
    if (hasExpression && hasText) {
        m_source.warning(node, u"this `if` is always true: the text outside `${{ }}` makes it a non-empty string; "
                               u"write the whole condition inside one, e.g. `${{ a == 'b' }}`"_s);
    }
    const QString source = condition.source().trimmed();
    static const QRegularExpression alwaysFalse(u"^(\\$\\{\\{\\s*)?false(\\s*\\}\\})?$"_s);
    if (alwaysFalse.match(source).hasMatch())
        m_source.warning(node, u"this `if` is always false: what it guards never runs"_s);
}

TextMap WorkflowReader::textMap(const YAML::Node &node, const QString &what)
{
    TextMap result;
    forEachEntry(node, what, [&](const MappingReader::Entry &entry) {
        const Text value = entry.value.IsNull() ? Text{{}, m_source.position(entry.keyNode), {}, true}
                                                : text(entry.value, u"`%1` in %2"_s.arg(entry.key, what));
        result.append({entry.key, m_source.position(entry.keyNode), value});
    });
    return result;
}

TextMap WorkflowReader::envMap(const YAML::Node &node)
{
    TextMap env = textMap(node, u"`env`"_s);
    for (const TextEntry &entry : std::as_const(env)) {
        if (!isValidName(entry.key, NameKind::EnvironmentVariable))
            m_source.error(entry.keyPos, u"invalid environment variable name `%1` (use letters, digits and `_`, "
                                         u"not starting with a digit)"_s.arg(entry.key));
    }
    return env;
}

QList<Text> WorkflowReader::textList(const YAML::Node &node, const QString &what)
{
    QList<Text> result;
    if (!node.IsDefined())
        return result;
    if (!node.IsSequence()) {
        m_source.error(node, u"%1 must be a list of strings, not %2"_s.arg(what, describeNode(node)));
        return result;
    }
    for (const YAML::Node &item : node)
        result.append(text(item, u"an item of %1"_s.arg(what)));
    return result;
}

std::optional<QString> WorkflowReader::identifier(const YAML::Node &node, const QString &what)
{
    if (!node.IsScalar()) {
        m_source.error(node, u"%1 must be a string, not %2"_s.arg(what, describeNode(node)));
        return std::nullopt;
    }
    const QString value = QString::fromStdString(node.Scalar());
    if (!isValidName(value, NameKind::EnvironmentVariable)) {
        m_source.error(node, u"invalid %1 `%2` (use letters, digits and `_`, not starting with a digit)"_s
                                 .arg(what, value));
        return std::nullopt;
    }
    return value;
}

std::optional<bool> WorkflowReader::boolean(const YAML::Node &node, const QString &what)
{
    if (!node.IsDefined())
        return std::nullopt;
    if (const auto value = plainBoolean(node))
        return value;
    m_source.error(node, u"%1 must be `true` or `false`, not %2"_s.arg(what, describeNode(node)));
    return std::nullopt;
}

Setting<bool> WorkflowReader::boolSetting(const YAML::Node &node, const QString &what)
{
    Setting<bool> result;
    if (!node.IsDefined())
        return result;
    result.pos = m_source.position(node);
    if (const auto value = plainBoolean(node)) {
        result.literal = value;
    } else if (node.IsScalar() && node.Scalar().find("${{") != std::string::npos) {
        result.expression = text(node, what);
    } else {
        m_source.error(node, u"%1 must be `true`, `false` or an expression, not %2"_s.arg(what, describeNode(node)));
    }
    return result;
}

Setting<int> WorkflowReader::intSetting(const YAML::Node &node, const QString &what, int minimum)
{
    Setting<int> result;
    if (!node.IsDefined())
        return result;
    result.pos = m_source.position(node);
    const QJsonValue value = scalarToJson(node);
    if (node.IsScalar() && node.Scalar().find("${{") != std::string::npos) {
        result.expression = text(node, what);
    } else if (!node.IsScalar() || !value.isDouble() || !std::isfinite(value.toDouble())
               || value.toDouble() != std::trunc(value.toDouble())) {
        // Checked without converting: a double beyond qint64 has no integer to compare with.
        m_source.error(node, u"%1 must be a whole number or an expression, not %2"_s.arg(what, describeNode(node)));
    } else if (value.toDouble() < minimum) {
        m_source.error(node, u"%1 must be at least %2"_s.arg(what).arg(minimum));
    } else if (value.toDouble() > std::numeric_limits<int>::max()) {
        m_source.error(node, u"%1 must be at most %2"_s.arg(what).arg(std::numeric_limits<int>::max()));
    } else {
        result.literal = int(value.toDouble());
    }
    return result;
}

Setting<Duration> WorkflowReader::durationSetting(const YAML::Node &node, const QString &what, bool allowNone)
{
    Setting<Duration> result;
    if (!node.IsDefined())
        return result;
    result.pos = m_source.position(node);
    if (!node.IsScalar()) {
        m_source.error(node, u"%1 must be a duration, not %2"_s.arg(what, describeNode(node)));
        return result;
    }
    const QString value = QString::fromStdString(node.Scalar());
    if (value.contains(u"${{"_s)) {
        result.expression = text(node, what);
    } else if (allowNone && value == u"none"_s) {
        result.literal = NoExpiry;
    } else if (isBareNumber(value)) {
        // GitHub's timeout-minutes counts minutes, a bare number elsewhere seconds: which one
        // the author meant is anybody's guess, so ask.
        m_source.error(node, u"`%1` for %2 needs a unit: `%1s` for seconds or `%1m` for minutes"_s
                                 .arg(value.trimmed(), what));
    } else if (const auto milliseconds = parseDuration(value); milliseconds && *milliseconds > 0) {
        result.literal = *milliseconds;
    } else {
        m_source.error(node, u"invalid duration `%1` for %2 (use e.g. 500ms, 30s, 5m, 2h%3)"_s
                                 .arg(value, what, allowNone ? u" or none"_s : QString()));
    }
    return result;
}

void WorkflowReader::checkQuantity(const Text &value, const QString &what)
{
    if (value.isSet && value.isLiteral() && !parseQuantity(value.source()))
        m_source.error(value.pos, u"invalid quantity `%1` for %2 (use e.g. 500m, 2, 512Mi, 2Gi)"_s
                                      .arg(value.source(), what));
}

void WorkflowReader::readServer(const YAML::Node &node)
{
    if (!node.IsDefined())
        return;
    MappingReader map(m_source, node, u"`server`"_s);
    if (!map.isValid())
        return;
    m_workflow->server.url = text(map.value(u"url"_s), u"`server.url`"_s);
    m_workflow->server.apiKey = text(map.value(u"apiKey"_s), u"`server.apiKey`"_s);
    m_workflow->server.useServerProxy = boolean(map.value(u"useServerProxy"_s), u"`server.useServerProxy`"_s);
    map.finish();
}

// A list of names, or a mapping of names to `{required: true}` (GitHub's form for the secrets
// of a reusable workflow).
void WorkflowReader::readSecrets(const YAML::Node &node)
{
    if (!node.IsDefined() || node.IsNull())
        return;
    if (node.IsSequence()) {
        for (const YAML::Node &secret : node) {
            if (const auto name = identifier(secret, u"secret name"_s))
                m_workflow->secrets.append({*name, false, m_source.position(secret)});
        }
        return;
    }
    if (!node.IsMap()) {
        m_source.error(node, u"`secrets` must be a list of environment variable names, or a mapping of them to "
                             u"`{required: true}`, not %1"_s.arg(describeNode(node)));
        return;
    }
    forEachEntry(node, u"`secrets`"_s, [this](const MappingReader::Entry &entry) {
        const std::optional<QString> name = identifier(entry.keyNode, u"secret name"_s);
        bool required = false;
        if (!entry.value.IsNull()) {
            MappingReader options(m_source, entry.value, u"secret `%1`"_s.arg(entry.key));
            required = boolean(options.value(u"required"_s), u"`required`"_s).value_or(false);
            options.value(u"description"_s);
            options.finish();
        }
        if (name)
            m_workflow->secrets.append({*name, required, m_source.position(entry.keyNode)});
    });
}

} // namespace Sandflow::Internal
