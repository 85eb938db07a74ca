// SHA-256 as blobs are hashed while they arrive: OpenSSL's, which uses the CPU's SHA
// instructions where there are any and hashes several times faster than
// QCryptographicHash, whose portable code would otherwise be what limits a pull's speed.
#pragma once

#include <QByteArrayView>
#include <QString>

#include <memory>

struct evp_md_ctx_st;

namespace Sandflow::Internal {

class Sha256
{
public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256 &) = delete;
    Sha256 &operator=(const Sha256 &) = delete;

    /// "sha256:<hex>" of `data`.
    static QString of(QByteArrayView data);

    void addData(QByteArrayView data);
    /// "sha256:<hex>" of what was added so far; more may be added after.
    QString digest() const;

private:
    struct ContextDeleter
    {
        void operator()(evp_md_ctx_st *context) const;
    };
    std::unique_ptr<evp_md_ctx_st, ContextDeleter> m_context;
};

} // namespace Sandflow::Internal
