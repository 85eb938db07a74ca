#include "sha256_p.h"

#include <QByteArray>

#include <openssl/evp.h>

namespace Sandflow::Internal {

using namespace Qt::StringLiterals;

void Sha256::ContextDeleter::operator()(evp_md_ctx_st *context) const
{
    EVP_MD_CTX_free(context);
}

Sha256::Sha256()
    : m_context(EVP_MD_CTX_new())
{
    // Only fails when out of memory, as QByteArray would.
    if (!m_context || EVP_DigestInit_ex(m_context.get(), EVP_sha256(), nullptr) != 1)
        qFatal("cannot set up SHA-256");
}

Sha256::~Sha256() = default;

QString Sha256::of(QByteArrayView data)
{
    Sha256 hash;
    hash.addData(data);
    return hash.digest();
}

void Sha256::addData(QByteArrayView data)
{
    EVP_DigestUpdate(m_context.get(), data.data(), size_t(data.size()));
}

QString Sha256::digest() const
{
    // Finished on a copy, so that this one can go on.
    std::unique_ptr<evp_md_ctx_st, ContextDeleter> copy(EVP_MD_CTX_new());
    unsigned char result[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (!copy || EVP_MD_CTX_copy_ex(copy.get(), m_context.get()) != 1
        || EVP_DigestFinal_ex(copy.get(), result, &length) != 1)
        qFatal("cannot finish SHA-256");
    return u"sha256:"_s + QString::fromLatin1(QByteArray(reinterpret_cast<const char *>(result), length).toHex());
}

} // namespace Sandflow::Internal
