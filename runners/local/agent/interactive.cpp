#include "interactive.h"

#include "accountfile.h"
#include "number.h"

#include <unistd.h>

#include <string>
#include <string_view>
#include <vector>

extern char **environ;

namespace Sandflow::Agent {

namespace {

struct Account {
    std::string name;
    std::string home;
    std::string shell;
};

/// The /etc/passwd entry of `uid`; empty fields when it has none.
Account accountOf(uid_t uid)
{
    Account account;
    forEachAccountEntry("/etc/passwd", [&](const std::vector<std::string_view> &entry) {
        if (entry.size() < 7 || parseNumber<unsigned>(entry[2]) != uid)
            return true;
        account = {std::string(entry[0]), std::string(entry[5]), std::string(entry[6])};
        return false;
    });
    return account;
}

/// A login shell that turns people away is what passwd gives accounts like `nobody`; a
/// terminal opened as them still wants a shell.
bool admitsPeople(std::string_view shell)
{
    const std::string_view name = shell.substr(shell.rfind('/') + 1);
    return name != "nologin" && name != "false";
}

std::string shellFor(const Account &account)
{
    if (account.shell.starts_with('/') && admitsPeople(account.shell) && access(account.shell.c_str(), X_OK) == 0)
        return account.shell;
    if (access("/bin/bash", X_OK) == 0)
        return "/bin/bash";
    return "/bin/sh";
}

void setDefault(std::vector<std::string> &env, std::string_view name, std::string_view value)
{
    for (const std::string &entry : env) {
        if (entry.size() > name.size() && entry.starts_with(name) && entry[name.size()] == '=')
            return;
    }
    env.push_back(std::string(name) + '=' + std::string(value));
}

} // namespace

void completeInteractiveRequest(ExecRequest &request)
{
    if (!request.interactiveShell && !request.pty)
        return;
    if (!request.env) {
        std::vector<std::string> inherited;
        for (char **entry = environ; *entry; ++entry)
            inherited.emplace_back(*entry);
        request.env = std::move(inherited);
    }
    std::vector<std::string> &env = *request.env;
    if (request.interactiveShell) {
        const Account account = accountOf(request.uid.value_or(geteuid()));
        const std::string shell = shellFor(account);
        request.argv = {shell, "-i"};
        setDefault(env, "HOME", account.home.empty() ? "/" : account.home);
        if (!account.name.empty())
            setDefault(env, "USER", account.name);
        setDefault(env, "SHELL", shell);
    }
    if (request.pty)
        setDefault(env, "TERM", "xterm-256color");
}

} // namespace Sandflow::Agent
