/*
 * `npm run bench:sm2-count`'s program: runs N point multiplications of one kind, either with the
 * addon's sm2_p256.c or with OpenSSL's EC_POINT_mul on NID_sm2, so that valgrind's callgrind can
 * count the instructions each takes (repeatable, whatever else the machine is doing).
 *
 *   sm2-count ours|openssl base|point|known|verify N
 *     base    k·G                    (a signature; an encryption's C1)
 *     point   k·P, P new each time   (a decryption's d·C1)
 *     known   k·P, P met before      (an encryption to a partner's key)
 *     verify  s·G + t·P, P known     (a verification)
 */
#include "sm2_p256.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  if (argc != 4) return 2;
  const char *impl = argv[1], *what = argv[2];
  int n = atoi(argv[3]);
  EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_sm2);
  BN_CTX *ctx = BN_CTX_new();
  sm2p_curve *c = sm2p_new(g);
  if (g == NULL || ctx == NULL || c == NULL) return 1;
  uint8_t k[32], t[32], q[64], out[64];
  for (int i = 0; i < 32; i++) k[i] = (uint8_t)(i * 7 + 1), t[i] = (uint8_t)(i * 13 + 5);
  k[0] &= 0x7f, t[0] &= 0x7f; /* below n */
  if (!sm2p_mul_base(c, t, q)) return 1;
  BIGNUM *kb = BN_new(), *tb = BN_new();
  EC_POINT *Q = EC_POINT_new(g), *R = EC_POINT_new(g);
  uint8_t q65[65] = {0x04};
  memcpy(q65 + 1, q, 64);
  if (kb == NULL || tb == NULL || Q == NULL || R == NULL || !EC_POINT_oct2point(g, Q, q65, 65, ctx)) return 1;
  BN_set_flags(kb, BN_FLG_CONSTTIME);
  int ours = strcmp(impl, "ours") == 0;
  for (int i = 0; i < n; i++) {
    k[31] ^= (uint8_t)i; /* a new scalar each time */
    if (ours) {
      int ok = 0;
      if (!strcmp(what, "base")) ok = sm2p_mul_base(c, k, out);
      else if (!strcmp(what, "point")) ok = sm2p_mul(c, k, q, out);
      else if (!strcmp(what, "known")) ok = sm2p_mul_known(c, k, q, out);
      else if (!strcmp(what, "verify")) ok = sm2p_mul2(c, k, t, q, out);
      if (!ok) return 1;
    } else {
      BN_bin2bn(k, 32, kb);
      BN_bin2bn(t, 32, tb);
      int ok = 0;
      if (!strcmp(what, "base")) ok = EC_POINT_mul(g, R, kb, NULL, NULL, ctx);
      else if (!strcmp(what, "point") || !strcmp(what, "known")) ok = EC_POINT_mul(g, R, NULL, Q, kb, ctx);
      else if (!strcmp(what, "verify")) ok = EC_POINT_mul(g, R, kb, Q, tb, ctx);
      /* to affine, as sm2_p256.c's results are */
      if (!ok || !EC_POINT_get_affine_coordinates(g, R, kb, tb, ctx)) return 1;
    }
  }
  return 0;
}
