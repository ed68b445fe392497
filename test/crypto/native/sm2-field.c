/*
 * The field arithmetic of sm2_p256.c against OpenSSL's BIGNUM, which shares no code with it
 * (test/crypto/sm2-field.test.ts compiles this twice: with the x86-64 carry intrinsics where the
 * machine has them, and with -DSM2P_GENERIC, the portable 128-bit path).
 *
 * The operands are random, and built from limbs where carries go wrong: 0, 1, 2^32 - 1, 2^32,
 * 2^63, 2^64 - 1 and p's own limbs and their neighbours, so that long runs of carries and
 * borrows, and results next to p, are met. Each check compares the limbs exactly:
 *   fe_reduce(t) = t·R^-1 mod p        for t < p·R (R = 2^256), random and edge t, p·R - 1 among them
 *   fe_mul(a, b) = a·b·R^-1 mod p      fe_sqr(a) = fe_mul(a, a)
 *   fe_add(a, b) = a + b mod p         fe_sub(a, b) = a - b mod p
 *   fe_mul(fe_inv(a), a) = R mod p     (1 in Montgomery form), fe_inv(0) = 0
 *   sm2p_scalar_inv(a) = a^-1 mod n    (the group's order; BN_mod_inverse), refused for 0 and a >= n
 * Prints "ok <checks>" and exits 0, or the first mismatch and exits 1.
 */
#include "sm2_p256.c"

#include <openssl/bn.h>
#include <openssl/obj_mac.h>
#include <openssl/rand.h>
#include <stdio.h>

static BN_CTX *ctx;
static BIGNUM *bp, *bR, *bRinv;
static const BIGNUM *bn_order;
static sm2p_curve *curve;
static long checks;

static BIGNUM *bn_of(const uint64_t *w, int n) {
  uint8_t b[64];
  for (int i = 0; i < n; i++)
    for (int j = 0; j < 8; j++) b[(n - 1 - i) * 8 + j] = (uint8_t)(w[i] >> (56 - 8 * j));
  return BN_bin2bn(b, n * 8, NULL);
}

static void limbs_from_bn(uint64_t *w, int n, const BIGNUM *v) {
  uint8_t b[64];
  if (BN_bn2binpad(v, b, n * 8) != n * 8) abort();
  for (int i = 0; i < n; i++) {
    uint64_t x = 0;
    for (int j = 0; j < 8; j++) x = (x << 8) | b[(n - 1 - i) * 8 + j];
    w[i] = x;
  }
}

static void fail(const char *what, const uint64_t *a, const uint64_t *b) {
  printf("mismatch in %s: a = %016llx %016llx %016llx %016llx", what, (unsigned long long)a[3], (unsigned long long)a[2],
         (unsigned long long)a[1], (unsigned long long)a[0]);
  if (b != NULL)
    printf(", b = %016llx %016llx %016llx %016llx", (unsigned long long)b[3], (unsigned long long)b[2], (unsigned long long)b[1],
           (unsigned long long)b[0]);
  printf("\n");
  exit(1);
}

static void expect(const char *what, const fe got, const BIGNUM *want, const uint64_t *a, const uint64_t *b) {
  fe w;
  limbs_from_bn(w, 4, want);
  checks++;
  if (memcmp(got, w, sizeof w) != 0) fail(what, a, b);
}

static const uint64_t EDGE[] = {0, 1, 2, 0xFFFFFFFFULL, 0x100000000ULL, 0x8000000000000000ULL, 0xFFFFFFFFFFFFFFFFULL, 0xFFFFFFFFFFFFFFFEULL,
                                0xFFFFFFFF00000000ULL, 0xFFFFFFFF00000001ULL, 0xFFFFFFFEFFFFFFFFULL, 0xFFFFFFFF00000000ULL - 1, 0xFFFFFFFEFFFFFFFFULL + 1};
#define EDGES (sizeof EDGE / sizeof EDGE[0])

static uint64_t rnd64(void) {
  uint64_t v;
  if (RAND_bytes((unsigned char *)&v, sizeof v) != 1) abort();
  return v;
}

/* n limbs, each an edge limb or random; kind 0: all random, 1: all edge, 2: mixed */
static void operand(uint64_t *w, int n, int kind) {
  for (int i = 0; i < n; i++) {
    int edge = kind == 1 || (kind == 2 && (rnd64() & 1));
    w[i] = edge ? EDGE[rnd64() % EDGES] : rnd64();
  }
}

/* a field element < p, of the given kind (p - 1 - x when x >= p, to keep the edges near p). */
static void element(fe a, int kind) {
  operand(a, 4, kind);
  BIGNUM *x = bn_of(a, 4);
  if (BN_cmp(x, bp) >= 0) {
    BN_mod(x, x, bp, ctx);
    if (kind != 0) BN_sub(x, bp, x), BN_sub_word(x, 1);
  }
  limbs_from_bn(a, 4, x);
  BN_free(x);
}

static void check_reduce(const uint64_t t[8]) {
  BIGNUM *x = bn_of(t, 8), *want = BN_new();
  BN_mod_mul(want, x, bRinv, bp, ctx);
  fe got;
  fe_reduce(got, t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7]);
  expect("fe_reduce", got, want, t + 4, t);
  BN_free(x), BN_free(want);
}

static void check_pair(const fe a, const fe b) {
  BIGNUM *x = bn_of(a, 4), *y = bn_of(b, 4), *want = BN_new();
  fe got;
  BN_mod_mul(want, x, y, bp, ctx), BN_mod_mul(want, want, bRinv, bp, ctx);
  fe_mul(got, a, b);
  expect("fe_mul", got, want, a, b);
  BN_mod_mul(want, x, x, bp, ctx), BN_mod_mul(want, want, bRinv, bp, ctx);
  fe_sqr(got, a);
  expect("fe_sqr", got, want, a, NULL);
  BN_mod_add(want, x, y, bp, ctx);
  fe_add(got, a, b);
  expect("fe_add", got, want, a, b);
  BN_mod_sub(want, x, y, bp, ctx);
  fe_sub(got, a, b);
  expect("fe_sub", got, want, a, b);
  BN_free(x), BN_free(y), BN_free(want);
}

static void check_inv(const fe a) {
  fe inv, prod;
  fe_inv(inv, a);
  if (fe_is_zero(a)) {
    checks++;
    if (!fe_is_zero(inv)) fail("fe_inv(0)", a, NULL);
    return;
  }
  fe_mul(prod, inv, a);
  BIGNUM *one = BN_new();
  BN_mod(one, bR, bp, ctx);
  expect("fe_inv", prod, one, a, NULL);
  BN_free(one);
}

/* a^-1 mod n for a 32-byte a: equal to BN_mod_inverse's, or refused when a is 0 or >= n. */
static void check_scalar_inv(const uint64_t w[4]) {
  uint8_t a[32], got[32], want[32];
  bytes_of(a, w);
  BIGNUM *x = BN_bin2bn(a, 32, NULL), *inv = BN_new();
  int ok = sm2p_scalar_inv(curve, a, got);
  checks++;
  if (BN_is_zero(x) || BN_cmp(x, bn_order) >= 0) {
    if (ok) fail("sm2p_scalar_inv accepted 0 or a >= n", w, NULL);
  } else if (!ok || BN_mod_inverse(inv, x, bn_order, ctx) == NULL || BN_bn2binpad(inv, want, 32) != 32 || memcmp(got, want, 32) != 0) {
    fail("sm2p_scalar_inv", w, NULL);
  }
  BN_free(x), BN_free(inv);
}

int main(int argc, char **argv) {
  long rounds = argc > 1 ? atol(argv[1]) : 20000;
  ctx = BN_CTX_new();
  bp = bn_of(P, 4), bR = BN_new(), bRinv = BN_new();
  BN_set_bit(bR, 256);
  if (BN_mod_inverse(bRinv, bR, bp, ctx) == NULL) abort();
  EC_GROUP *group = EC_GROUP_new_by_curve_name(NID_sm2);
  curve = group == NULL ? NULL : sm2p_new(group);
  if (curve == NULL) abort();
  bn_order = EC_GROUP_get0_order(group);
  /* t near the top of what fe_reduce takes: p·R - 1, p·R - 2^256, (p - 1)^2, and zero */
  BIGNUM *pR = BN_new(), *v = BN_new();
  BN_mul(pR, bp, bR, ctx);
  uint64_t t[8];
  BN_sub(v, pR, BN_value_one()), limbs_from_bn(t, 8, v), check_reduce(t);
  BN_sub(v, pR, bR), limbs_from_bn(t, 8, v), check_reduce(t);
  BN_sub(v, bp, BN_value_one()), BN_sqr(v, v, ctx), limbs_from_bn(t, 8, v), check_reduce(t);
  memset(t, 0, sizeof t), check_reduce(t);
  for (long i = 0; i < rounds; i++) {
    int kind = (int)(i % 3);
    operand(t, 8, kind);
    BIGNUM *x = bn_of(t, 8);
    if (BN_cmp(x, pR) >= 0) BN_mod(x, x, pR, ctx), limbs_from_bn(t, 8, x);
    BN_free(x);
    check_reduce(t);
    fe a, b;
    element(a, kind);
    element(b, (int)((i / 3) % 3));
    check_pair(a, b);
    check_pair(b, a);
    check_pair(a, a);
    if (i % 16 == 0) check_inv(a);
    if (i % 4 == 0) {
      uint64_t w[4];
      operand(w, 4, kind);
      check_scalar_inv(w);
    }
  }
  /* every pair of all-edge elements' extremes: 0, 1, p - 1, p - 2 */
  fe ext[4] = {{0, 0, 0, 0}, {1, 0, 0, 0}, {P[0] - 1, P[1], P[2], P[3]}, {P[0] - 2, P[1], P[2], P[3]}};
  for (int i = 0; i < 4; i++) {
    check_inv(ext[i]);
    for (int j = 0; j < 4; j++) check_pair(ext[i], ext[j]);
  }
  /* scalars at the ends: 0, 1, 2, n - 2, n - 1, n, n + 1, 2^256 - 1 */
  uint64_t nw[4], w[4];
  limbs_from_bn(nw, 4, bn_order);
  const uint64_t low[] = {0, 1, 2}, below[] = {2, 1};
  for (int i = 0; i < 3; i++) memset(w, 0, sizeof w), w[0] = low[i], check_scalar_inv(w);
  for (int i = 0; i < 2; i++) memcpy(w, nw, sizeof w), w[0] -= below[i], check_scalar_inv(w);
  memcpy(w, nw, sizeof w), check_scalar_inv(w);
  w[0] += 1, check_scalar_inv(w);
  memset(w, 0xff, sizeof w), check_scalar_inv(w);
  printf("ok %ld\n", checks);
  return 0;
}
