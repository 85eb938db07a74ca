#include "workflowloader.h"

#include "workflowreader_p.h"
#include "workflowvalidator_p.h"

#include <QFile>
#include <QFileInfo>

namespace Sandflow {

using namespace Qt::StringLiterals;
using namespace Internal;

WorkflowLoader::WorkflowLoader(const StepTypeRegistry &stepTypes)
    : m_stepTypes(stepTypes)
{
}

void WorkflowLoader::setVariable(const QString &name, const QString &value)
{
    m_variables.insert(name, value);
}

LoadResult WorkflowLoader::loadFile(const QString &path) const
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        LoadResult result;
        result.diagnostics.error(path, {}, u"cannot read workflow: %1"_s.arg(file.errorString()));
        return result;
    }
    return loadData(file.readAll(), path, QFileInfo(path).path());
}

// yaml-cpp's messages for a tab in the indentation do not say so; the hint does.
static void reportSyntaxError(const YamlSource &source, SourcePos pos, const QString &problem)
{
    const QString message = u"invalid YAML: %1"_s.arg(problem);
    if (const auto tab = source.indentationTab(pos.line))
        source.error(*tab, message + u" (indent with spaces: YAML does not allow tabs)"_s);
    else
        source.error(pos, message);
}

// yaml-cpp reports syntax errors by exception; they stop at this boundary as diagnostics.
static std::optional<YAML::Node> parseDocument(const QByteArray &text, const YamlSource &source)
{
    if (const auto problem = checkNestingLimits(text)) {
        source.error(problem->first, problem->second);
        return std::nullopt;
    }
    try {
        const ParsedYaml parsed = parseYaml(text);
        if (parsed.syntaxError) {
            reportSyntaxError(source, parsed.syntaxError->first, parsed.syntaxError->second);
            return std::nullopt;
        }
        if (parsed.documentCount > 1) {
            source.error(parsed.secondDocument, u"a workflow file holds one YAML document"_s);
            return std::nullopt;
        }
        if (parsed.root.IsNull() || !parsed.root.IsDefined()) {
            source.error(SourcePos{1, 1}, u"the workflow file is empty"_s);
            return std::nullopt;
        }
        return parsed.root;
    } catch (const YAML::Exception &e) {
        reportSyntaxError(source, source.position(e.mark), QString::fromStdString(e.msg));
        return std::nullopt;
    }
}

void WorkflowLoader::setRunner(const QString &runner)
{
    m_runner = runner;
}

LoadResult WorkflowLoader::loadData(const QByteArray &text, const QString &fileName, const QString &baseDirectory) const
{
    LoadResult result;
    const YamlSource source(fileName, text, &result.diagnostics);
    const std::optional<YAML::Node> root = parseDocument(text, source);
    if (!root)
        return result;

    Workflow workflow;
    workflow.file = fileName;
    workflow.baseDirectory = baseDirectory;
    WorkflowReader(source, m_stepTypes, &workflow).read(*root);
    for (auto it = m_variables.cbegin(); it != m_variables.cend(); ++it) {
        if (it.value().contains(u"${{"_s)) {
            result.diagnostics.error(fileName, {}, u"--var %1: values given on the command line are plain text and "
                                                   u"cannot hold `${{`"_s.arg(it.key()));
            continue;
        }
        QList<Template::ParseError> none;
        const Text value{Template::parse(it.value(), &none), {}, {}, true};
        const auto existing = std::find_if(workflow.vars.begin(), workflow.vars.end(),
                                           [&](const TextEntry &e) { return e.key == it.key(); });
        if (existing != workflow.vars.end())
            existing->value = value;
        else
            result.diagnostics.error(fileName, {}, u"--var %1: the workflow declares no variable `%1` under `vars`"_s
                                                       .arg(it.key()));
    }
    if (!m_runner.isEmpty())
        workflow.runner = m_runner;
    WorkflowValidator(fileName, &workflow, &result.diagnostics).validate();
    result.diagnostics.sort();
    if (!result.diagnostics.hasErrors())
        result.workflow = std::move(workflow);
    return result;
}

} // namespace Sandflow
