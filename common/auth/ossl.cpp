#include "common/auth/ossl.h"

namespace cdn::auth::ossl {

const EVP_MD* sha256() {
  static const Md md(EVP_MD_fetch(nullptr, "SHA256", nullptr));
  return md.get();
}

std::string sha256_digest(std::string_view data) {
  std::string out(32, '\0');
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(out.data()), &len,
                 sha256(), nullptr) != 1 ||
      len != 32)
    return {};
  return out;
}

}  // namespace cdn::auth::ossl
