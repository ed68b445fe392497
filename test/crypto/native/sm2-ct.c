/*
 * Constant time in secret values, checked by valgrind's memcheck (the "ctgrind" method): the
 * secrets are marked undefined, and memcheck reports any conditional jump or memory address that
 * depends on them ("depends on uninitialised value(s)", "Use of uninitialised value"). Run by
 * test/crypto/sm2-field.test.ts as `valgrind --error-exitcode=1 sm2-ct`, with both carry paths.
 *
 * Secret here: the scalar of each multiplication (a private key d, a signature's or an
 * encryption's k), the field elements derived from it (the inversion's input, the projective Z
 * of a result), and the 1 + d a signature inverts mod n. Public: the points multiplied (G, a
 * partner's key, a ciphertext's C1), the tables built from them, the exponents p - 2 and n - 2.
 * What is not covered, and why: the public entry points around these functions. sm2p_mul_base,
 * sm2p_mul, sm2p_mul_known and sm2p_mul2 end in pt_affine, whose check for the point at infinity
 * branches on the result (k·P is infinity only for k ≡ 0 mod n, which no caller passes); this
 * file runs what comes before (the multiplications) and after (the inversion and the products)
 * that check. sm2p_scalar_inv checks its input's range first (an input error, never met by a
 * signer's 1 + d); this file runs sc_inv, which does the work. OpenSSL's own code (sm2_core.c's
 * other scalar operations mod n) is OpenSSL's to keep constant time.
 * The harness is compiled as the addon is (-O3); a compiler that turned a mask into a branch
 * would be caught here, which is why every secret-derived mask goes through opaque().
 *
 * Prints "ok" and exits 0 (memcheck adds its own exit code 1 on any report).
 */
#include "sm2_p256.c"

#include <openssl/obj_mac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <valgrind/memcheck.h>

#define SECRET(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))

int main(void) {
  EC_GROUP *group = EC_GROUP_new_by_curve_name(NID_sm2);
  sm2p_curve *c = group == NULL ? NULL : sm2p_new(group);
  if (c == NULL) return 2;
  uint8_t k[32], q[64];
  if (RAND_bytes(k, sizeof k) != 1) return 2;
  k[0] &= 0x7f; /* below n */
  /* a public point and its table (a partner's key) */
  if (!sm2p_mul_base(c, k, q)) return 2;
  const key_table *known = key_table_of(c, q);
  if (known == NULL) return 2;
  pt P, r;
  pt_from_bytes(c, &P, q);

  for (int round = 0; round < 3; round++) {
    if (RAND_bytes(k, sizeof k) != 1) return 2;
    k[0] &= 0x7f;
    SECRET(k, sizeof k);
    /* k·G (signatures, an encryption's C1, public keys) */
    mul_base(c, &r, k);
    /* k·P, P known (an encryption to a partner) */
    mul_windows(c, &r, k, known->table);
    /* d·C1, C1 new (a decryption) */
    mul_point(c, &r, k, &P);
    /* leaving projective coordinates: Z^-1 of a secret-dependent Z, and the two products */
    fe zinv, x;
    fe_inv(zinv, r.Z);
    fe_mul(x, r.X, zinv);
    uint8_t out[32];
    fe_to_bytes(out, x);
    /* the field operations on their own, secret operands */
    fe a, b;
    limbs_of(a, k);
    a[3] &= 0x7fffffffffffffffULL; /* below p */
    fe_sqr(b, a);
    fe_add(b, b, a);
    fe_sub(b, b, a);
    fe_mul(b, b, a);
    fe_from_bytes(c, b, k);
    /* (1 + d)^-1 mod n of a signature: k stands for it (in [1, n-1]) */
    fe s;
    limbs_of(s, k);
    sc_inv(c, s, s);
    PUBLIC(out, sizeof out);
    PUBLIC(&r, sizeof r);
    PUBLIC(b, sizeof b);
    PUBLIC(s, sizeof s);
    PUBLIC(k, sizeof k);
  }
  printf("ok\n");
  return 0;
}
