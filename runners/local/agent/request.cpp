#include "request.h"

#include "json.h"

#include <csignal>

namespace Sandflow::Agent {

namespace {

using Json::Value;

bool fieldError(std::string &error, std::string_view field, std::string_view problem)
{
    error = '"' + std::string(field) + "\" " + std::string(problem);
    return false;
}

bool hasNul(std::string_view text)
{
    return text.find('\0') != std::string_view::npos;
}

/// A value of [min, max] into `out`; false with an error otherwise.
bool integerIn(const Value &value, std::string_view field, std::int64_t min, std::int64_t max,
               std::int64_t &out, std::string &error)
{
    if (value.kind != Value::Kind::Integer)
        return fieldError(error, field, "must be an integer");
    if (value.integer < min || value.integer > max)
        return fieldError(error, field, "is out of range");
    out = value.integer;
    return true;
}

/// A user or group id; -1 is excluded because set*id() reads it as "leave unchanged".
bool id(const Value &value, std::string_view field, std::int64_t &out, std::string &error)
{
    return integerIn(value, field, 0, 0xFFFFFFFE, out, error);
}

bool windowDimension(std::string_view field, std::int64_t value, unsigned short &out, std::string &error)
{
    if (value < 1 || value > MaxWindowSize)
        return fieldError(error, field, "is out of range");
    out = static_cast<unsigned short>(value);
    return true;
}

bool windowSize(const Value &value, std::string_view field, WindowSize &size, std::string &error)
{
    if (value.kind != Value::Kind::IntegerObject)
        return fieldError(error, field, "must be an object of integers");
    bool hasColumns = false, hasRows = false;
    for (const auto &[name, number] : value.numbers) {
        if (name != "columns" && name != "rows")
            return fieldError(error, name, "is not a field of \"" + std::string(field) + '"');
        if (!windowDimension(name, number, name == "columns" ? size.columns : size.rows, error))
            return false;
        (name == "columns" ? hasColumns : hasRows) = true;
    }
    if (!hasColumns || !hasRows)
        return fieldError(error, hasColumns ? "rows" : "columns", "is required");
    return true;
}

bool boolean(const Value &value, std::string_view field, bool &out, std::string &error)
{
    if (value.kind != Value::Kind::Bool)
        return fieldError(error, field, "must be a boolean");
    out = value.boolean;
    return true;
}

bool execField(std::string_view name, const Value &value, ExecRequest &exec, std::string &error)
{
    if (name == "argv") {
        if (value.kind != Value::Kind::StringArray)
            return fieldError(error, name, "must be an array of strings");
        if (value.strings.empty() || value.strings.front().empty())
            return fieldError(error, name, "must name a program");
        for (const std::string &argument : value.strings) {
            if (hasNul(argument))
                return fieldError(error, name, "must not contain NUL characters");
        }
        exec.argv = value.strings;
        return true;
    }
    if (name == "env") {
        if (value.kind != Value::Kind::StringObject)
            return fieldError(error, name, "must be an object of strings");
        std::vector<std::string> env;
        for (const auto &[key, text] : value.members) {
            if (key.empty() || key.find('=') != std::string::npos || hasNul(key) || hasNul(text))
                return fieldError(error, name, "has an invalid variable \"" + key + '"');
            env.push_back(key + '=' + text);
        }
        exec.env = std::move(env);
        return true;
    }
    if (name == "cwd" || name == "output") {
        if (value.kind != Value::Kind::String)
            return fieldError(error, name, "must be a string");
        if (value.string.empty() || hasNul(value.string))
            return fieldError(error, name, "must be a path");
        (name == "cwd" ? exec.cwd : exec.output) = value.string;
        return true;
    }
    std::int64_t number = 0;
    if (name == "uid") {
        if (!id(value, name, number, error))
            return false;
        exec.uid = uid_t(number);
        return true;
    }
    if (name == "gid") {
        if (!id(value, name, number, error))
            return false;
        exec.gid = gid_t(number);
        return true;
    }
    if (name == "timeoutMs")
        return integerIn(value, name, 0, INT64_MAX, exec.timeoutMs, error);
    if (name == "stdin")
        return boolean(value, name, exec.stdinPipe, error);
    if (name == "interactiveShell")
        return boolean(value, name, exec.interactiveShell, error);
    if (name == "pty") {
        WindowSize size;
        if (!windowSize(value, name, size, error))
            return false;
        exec.pty = size;
        return true;
    }
    return fieldError(error, name, "is not a field of \"exec\"");
}

bool signalField(std::string_view name, const Value &value, SignalRequest &signal, std::string &error)
{
    std::int64_t number = 0;
    if (name == "target") {
        if (!integerIn(value, name, 0, UINT32_MAX, number, error))
            return false;
        signal.target = std::uint32_t(number);
        return true;
    }
    if (name == "signal") {
        if (!integerIn(value, name, 1, NSIG - 1, number, error))
            return false;
        signal.signal = int(number);
        return true;
    }
    return fieldError(error, name, "is not a field of \"signal\"");
}

bool resizeField(std::string_view name, const Value &value, ResizeRequest &resize, std::string &error)
{
    std::int64_t number = 0;
    if (name == "target") {
        if (!integerIn(value, name, 1, UINT32_MAX, number, error))
            return false;
        resize.target = std::uint32_t(number);
        return true;
    }
    if (name == "columns" || name == "rows") {
        if (value.kind != Value::Kind::Integer)
            return fieldError(error, name, "must be an integer");
        return windowDimension(name, value.integer, name == "columns" ? resize.size.columns : resize.size.rows, error);
    }
    return fieldError(error, name, "is not a field of \"resize\"");
}

} // namespace

bool parseRequest(std::string_view payload, Request &request, std::string &error)
{
    Json::Object object;
    if (!Json::parseObject(payload, object, error)) {
        error = "invalid JSON: " + error;
        return false;
    }

    const Value *op = nullptr;
    for (const auto &[name, value] : object) {
        if (name == "op")
            op = &value;
    }
    if (!op || op->kind != Value::Kind::String)
        return fieldError(error, "op", "must be a string");
    if (op->string == "ping")
        request.op = Request::Op::Ping;
    else if (op->string == "exec")
        request.op = Request::Op::Exec;
    else if (op->string == "signal")
        request.op = Request::Op::Signal;
    else if (op->string == "resize")
        request.op = Request::Op::Resize;
    else if (op->string == "shutdown")
        request.op = Request::Op::Shutdown;
    else
        return fieldError(error, "op", "is unknown: \"" + op->string + '"');

    bool hasTarget = false, hasSignal = false;
    for (const auto &[name, value] : object) {
        if (name == "op" || value.kind == Value::Kind::Null)
            continue;
        switch (request.op) {
        case Request::Op::Exec:
            if (!execField(name, value, request.exec, error))
                return false;
            break;
        case Request::Op::Signal:
            if (!signalField(name, value, request.signal, error))
                return false;
            hasTarget = hasTarget || name == "target";
            hasSignal = hasSignal || name == "signal";
            break;
        case Request::Op::Resize:
            if (!resizeField(name, value, request.resize, error))
                return false;
            break;
        case Request::Op::Ping:
        case Request::Op::Shutdown:
            return fieldError(error, name, "is not a field of \"" + op->string + '"');
        }
    }

    if (request.op == Request::Op::Exec) {
        if (request.exec.argv.empty() == !request.exec.interactiveShell)
            return request.exec.interactiveShell ? fieldError(error, "argv", "cannot be combined with \"interactiveShell\"")
                                                 : fieldError(error, "argv", "is required");
        if (request.exec.gid && !request.exec.uid)
            return fieldError(error, "gid", "needs \"uid\" as well");
        if (request.exec.output && (request.exec.stdinPipe || request.exec.pty))
            return fieldError(error, "output", request.exec.pty ? "cannot be combined with \"pty\""
                                                                : "cannot be combined with \"stdin\"");
        if (request.exec.pty && request.exec.stdinPipe)
            return fieldError(error, "stdin", "cannot be combined with \"pty\", whose input is always fed");
    }
    if (request.op == Request::Op::Resize) {
        const ResizeRequest &resize = request.resize;
        if (!resize.target || !resize.size.columns || !resize.size.rows)
            return fieldError(error, !resize.target ? "target" : !resize.size.columns ? "columns" : "rows", "is required");
    }
    if (request.op == Request::Op::Signal && (!hasTarget || !hasSignal))
        return fieldError(error, hasTarget ? "signal" : "target", "is required");
    return true;
}

} // namespace Sandflow::Agent
