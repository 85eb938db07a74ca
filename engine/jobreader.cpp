// Jobs: dependencies, sandbox, strategy (matrix and dataset fan-out), settings and steps.
#include "workflowreader_p.h"

#include <QDir>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

// Matrix values are constants: they are what expressions elsewhere read.
static bool holdsExpression(const YAML::Node &node)
{
    if (node.IsScalar())
        return node.Scalar().find("${{") != std::string::npos;
    for (auto it = node.begin(); it != node.end(); ++it) {
        if (holdsExpression(node.IsMap() ? it->second : *it))
            return true;
    }
    return false;
}

QJsonValue WorkflowReader::jsonValue(const YAML::Node &node)
{
    // Matrix values are small; only aliases nested on aliases could make them huge.
    int budget = 100'000;
    const QJsonValue value = nodeToJson(node, &budget);
    if (budget < 0) {
        m_source.error(node, u"this value expands to more than 100000 nodes through aliases"_s);
    } else if (holdsExpression(node)) {
        m_source.error(node, u"matrix values cannot hold expressions (`${{`); list literal values"_s);
    } else {
        budget = 100'000;
        lintShortenedNumbers(node, &budget);
    }
    return value;
}

// YAML reads `3.10` as the number 3.1, so `python: [3.9, 3.10]` asks for Python 3.1: say so
// wherever a plain number would not read back as written.
void WorkflowReader::lintShortenedNumbers(const YAML::Node &node, int *budget)
{
    if (--*budget < 0)
        return;
    if (node.IsMap() || node.IsSequence()) {
        for (auto it = node.begin(); it != node.end() && *budget >= 0; ++it)
            lintShortenedNumbers(node.IsMap() ? it->second : *it, budget);
        return;
    }
    const QJsonValue value = scalarToJson(node);
    const QString written = QString::fromStdString(node.Scalar());
    if (!value.isDouble() || Expression::toText(value) == written)
        return;
    m_source.warning(node, u"`%1` is the number %2 here; quote it (\"%1\") to keep it as written"_s
                               .arg(written, Expression::toText(value)));
}

void WorkflowReader::readJobs(const YAML::Node &node)
{
    if (!node.IsDefined())
        return;
    MappingReader map(m_source, node, u"`jobs`"_s);
    if (!map.isValid())
        return;
    const QList<MappingReader::Entry> entries = map.entries();
    if (entries.isEmpty())
        m_source.error(node, u"`jobs` must define at least one job"_s);
    for (const MappingReader::Entry &entry : entries) {
        map.accept({entry.key});
        if (!isValidName(entry.key, NameKind::Id)) {
            m_source.error(entry.keyNode, u"invalid job id `%1` (use letters, digits, `-` and `_`, starting "
                                          u"with a letter or `_`)"_s.arg(entry.key));
        }
        m_workflow->jobs.append(readJob(entry.key, entry.keyNode, entry.value));
    }
    map.finish();
}

Job WorkflowReader::readJob(const QString &id, const YAML::Node &keyNode, const YAML::Node &node)
{
    Job job;
    job.id = id;
    job.pos = m_source.position(keyNode);
    const QString what = u"job `%1`"_s.arg(id);
    MappingReader map(m_source, node, what, job.pos);
    if (!map.isValid())
        return job;
    job.name = text(map.value(u"name"_s), u"`name`"_s);
    readNeeds(map.value(u"needs"_s), &job);
    job.condition = condition(map.value(u"if"_s), u"`if`"_s);
    readJobSandbox(map.value(u"sandbox"_s), &job);
    readStrategy(map.value(u"strategy"_s), &job);
    job.timeout = durationSetting(map.value(u"timeout"_s), u"`timeout`"_s);
    job.continueOnError = boolSetting(map.value(u"continue-on-error"_s), u"`continue-on-error`"_s);
    job.env = envMap(map.value(u"env"_s));
    job.outputs = textMap(map.value(u"outputs"_s), u"`outputs`"_s);

    const YAML::Node steps = map.required(u"steps"_s);
    if (steps.IsDefined() && !steps.IsSequence()) {
        m_source.error(steps, u"`steps` of %1 must be a list, not %2"_s.arg(what, describeNode(steps)));
    } else if (steps.IsDefined() && steps.size() == 0) {
        m_source.error(steps, u"%1 has no steps"_s.arg(what));
    } else if (steps.IsDefined()) {
        int index = 0;
        for (const YAML::Node &step : steps)
            job.steps.append(readStep(step, u"step %1 of %2"_s.arg(++index).arg(what)));
    }
    map.finish();
    return job;
}

void WorkflowReader::readNeeds(const YAML::Node &node, Job *job)
{
    if (!node.IsDefined())
        return;
    const auto add = [&](const YAML::Node &item) {
        if (!item.IsScalar()) {
            m_source.error(item, u"`needs` must name jobs, not %1"_s.arg(describeNode(item)));
            return;
        }
        const QString needed = QString::fromStdString(item.Scalar());
        if (job->needs.contains(needed)) {
            m_source.error(item, u"job `%1` is listed twice in `needs`"_s.arg(needed));
            return;
        }
        job->needs.append(needed);
        job->needsPos.append(m_source.position(item));
    };
    if (node.IsSequence()) {
        for (const YAML::Node &item : node)
            add(item);
    } else {
        add(node);
    }
}

void WorkflowReader::readJobSandbox(const YAML::Node &node, Job *job)
{
    if (!node.IsDefined())
        return;
    job->sandboxPos = m_source.position(node);
    if (node.IsScalar())
        job->sandboxName = QString::fromStdString(node.Scalar());
    else if (node.IsMap())
        job->sandbox = readSandbox(node, u"the sandbox of job `%1`"_s.arg(job->id));
    else
        m_source.error(node, u"`sandbox` must be a template name or a sandbox mapping, not %1"_s.arg(describeNode(node)));
}

void WorkflowReader::readStrategy(const YAML::Node &node, Job *job)
{
    if (!node.IsDefined())
        return;
    MappingReader map(m_source, node, u"`strategy`"_s);
    if (!map.isValid())
        return;
    readMatrix(map.value(u"matrix"_s), job);

    const YAML::Node dataset = map.value(u"dataset"_s);
    if (dataset.IsDefined()) {
        const Text path = text(dataset, u"`dataset`"_s);
        job->strategy.datasetPos = path.pos;
        if (path.isSet && !path.isLiteral()) {
            m_source.error(path.pos, u"`dataset` must be a path, not an expression"_s);
        } else if (path.isSet && path.source().isEmpty()) {
            m_source.error(path.pos, u"`dataset` must not be empty"_s);
        } else if (path.isSet) {
            // Shown to the user relative to where they are, as the workflow file is.
            const QString shown = QDir::cleanPath(QDir(m_workflow->baseDirectory).filePath(path.source()));
            job->strategy.datasetPath = QFileInfo(shown).absoluteFilePath();
            // A dataset that cannot be read at all is a problem of the workflow's `dataset:`
            // line; problems of rows stay located in the dataset file.
            Diagnostics problems;
            job->strategy.dataset = Dataset::load(shown, &problems);
            for (const Diagnostic &problem : problems.items()) {
                if (problem.pos.line > 0)
                    m_source.diagnostics()->add(problem);
                else
                    m_source.error(path.pos, u"%1: %2"_s.arg(path.source(), problem.message));
            }
        }
    }
    job->strategy.maxParallel = intSetting(map.value(u"max-parallel"_s), u"`max-parallel`"_s, 1);
    job->strategy.failFast = boolSetting(map.value(u"fail-fast"_s), u"`fail-fast`"_s);
    map.finish();
    if (!map.has(u"matrix"_s) && !map.has(u"dataset"_s))
        m_source.error(node, u"`strategy` needs a `matrix` or a `dataset`"_s);
}

void WorkflowReader::readMatrix(const YAML::Node &node, Job *job)
{
    if (!node.IsDefined())
        return;
    MatrixSpec &matrix = job->strategy.matrix;
    job->strategy.matrixPos = m_source.position(node);
    if (node.IsScalar() && node.Scalar().find("${{") != std::string::npos) {
        m_source.error(node, u"a matrix from an expression is not supported; list the values"_s);
        return;
    }
    MappingReader map(m_source, node, u"`matrix`"_s);
    if (!map.isValid())
        return;
    QStringList axes;
    for (const MappingReader::Entry &entry : map.entries()) {
        if (entry.key == u"include"_s || entry.key == u"exclude"_s)
            continue;
        map.accept({entry.key});
        axes.append(entry.key);
        if (!entry.value.IsSequence()) {
            m_source.error(entry.value, u"matrix axis `%1` must be a list of values, not %2"_s
                                            .arg(entry.key, describeNode(entry.value)));
        } else if (entry.value.size() == 0) {
            m_source.error(entry.value, u"matrix axis `%1` is empty"_s.arg(entry.key));
        } else {
            matrix.axes.append({entry.key, jsonValue(entry.value).toArray()});
        }
    }
    // A product this large is a mistake, and expanding it would exhaust memory; fan out
    // over a dataset instead.
    constexpr qint64 maxCombinations = 10'000;
    qint64 combinations = 1;
    for (const auto &axis : std::as_const(matrix.axes))
        combinations = std::min(combinations * axis.second.size(), maxCombinations + 1);
    if (combinations > maxCombinations) {
        m_source.error(node, u"`matrix` has more than %1 combinations; use `strategy.dataset` for large "
                             u"fan-outs"_s.arg(maxCombinations));
        matrix.axes.clear();
    }
    matrix.include = readMatrixEntries(map.value(u"include"_s), u"`include`"_s, nullptr);

    // Exclude entries must name axes, or they silently match nothing.
    matrix.exclude = readMatrixEntries(map.value(u"exclude"_s), u"`exclude`"_s, &axes);
    map.finish();
    if (map.entries().isEmpty() || (axes.isEmpty() && matrix.include.isEmpty()))
        m_source.error(node, u"`matrix` is empty"_s);
    else if (!matrix.axes.isEmpty() && expandMatrix(matrix).isEmpty())
        m_source.error(node, u"`exclude` removes every combination of the matrix"_s);
}

QList<QJsonObject> WorkflowReader::readMatrixEntries(const YAML::Node &node, const QString &what,
                                                    const QStringList *allowedKeys)
{
    QList<QJsonObject> entries;
    if (!node.IsDefined())
        return entries;
    if (!node.IsSequence()) {
        m_source.error(node, u"%1 must be a list of mappings, not %2"_s.arg(what, describeNode(node)));
        return entries;
    }
    for (const YAML::Node &item : node) {
        if (!item.IsMap()) {
            m_source.error(item, u"an entry of %1 must be a mapping, not %2"_s.arg(what, describeNode(item)));
            continue;
        }
        const MappingReader entry(m_source, item, u"an entry of %1"_s.arg(what));
        for (const MappingReader::Entry &key : entry.entries()) {
            if (allowedKeys && !allowedKeys->contains(key.key))
                m_source.error(key.keyNode, u"%1 names `%2`, which is not a matrix axis%3"_s
                                                .arg(what, key.key, didYouMean(key.key, *allowedKeys)));
        }
        entries.append(jsonValue(item).toObject());
    }
    return entries;
}

} // namespace Sandflow::Internal
