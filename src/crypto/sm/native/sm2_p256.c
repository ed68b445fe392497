/*
 * SM2 point multiplication in 64-bit limbs (see sm2_p256.h for what and why).
 */
#include "sm2_p256.h"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned __int128 u128;
typedef uint64_t fe[4]; /* little-endian limbs, Montgomery form, value in [0, p) */

typedef struct {
  fe X, Y, Z;
} pt; /* homogeneous projective: x = X/Z, y = Y/Z; infinity is (0 : 1 : 0) */

#define WINDOWS 64 /* 4-bit windows of a 256-bit scalar */

/* p = 2^256 - 2^224 - 2^96 + 2^64 - 1, checked against OpenSSL's group when a curve is built. */
static const fe P = {0xFFFFFFFFFFFFFFFFULL, 0xFFFFFFFF00000000ULL, 0xFFFFFFFFFFFFFFFFULL, 0xFFFFFFFEFFFFFFFFULL};

/* The same windows for a public key the gateway meets often (a partner's): x || y and its table. */
typedef struct {
  uint8_t point[64];
  pt table[WINDOWS][16];
} key_table;

struct sm2p_curve {
  fe one;      /* 1 in Montgomery form (R mod p) */
  fe r2;       /* R^2 mod p, to enter Montgomery form */
  fe b;        /* the curve's b, Montgomery form */
  pt base[WINDOWS][16]; /* base[i][j] = j·16^i·G */
  /* Tables of known keys, added and never removed while the curve lives (so a reader holds no
     lock while it uses one); at most SM2P_KEY_TABLES of them, the first keys met. */
  pthread_mutex_t lock;
  int keys;
  key_table *key[SM2P_KEY_TABLES];
};

/* ---------------------------------------------------------------- field */

/* r = t - p if that does not borrow past the top word `hi`, else t: constant time. */
static inline void reduce_once(fe r, uint64_t t0, uint64_t t1, uint64_t t2, uint64_t t3, uint64_t hi) {
  u128 d;
  uint64_t s0, s1, s2, s3, borrow;
  d = (u128)t0 - P[0], s0 = (uint64_t)d, borrow = (uint64_t)(d >> 64) & 1;
  d = (u128)t1 - P[1] - borrow, s1 = (uint64_t)d, borrow = (uint64_t)(d >> 64) & 1;
  d = (u128)t2 - P[2] - borrow, s2 = (uint64_t)d, borrow = (uint64_t)(d >> 64) & 1;
  d = (u128)t3 - P[3] - borrow, s3 = (uint64_t)d, borrow = (uint64_t)(d >> 64) & 1;
  uint64_t keep = 0 - (uint64_t)(hi < borrow); /* all ones: t < p, keep t */
  r[0] = (t0 & keep) | (s0 & ~keep);
  r[1] = (t1 & keep) | (s1 & ~keep);
  r[2] = (t2 & keep) | (s2 & ~keep);
  r[3] = (t3 & keep) | (s3 & ~keep);
}

/* r = a·b·R^-1 mod p (CIOS; -p^-1 mod 2^64 is 1 because p ≡ -1 mod 2^64). */
static inline void fe_mul(fe r, const fe a, const fe b) {
  const uint64_t a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
  uint64_t t0 = 0, t1 = 0, t2 = 0, t3 = 0, t4 = 0;
  for (int i = 0; i < 4; i++) {
    const uint64_t bi = b[i];
    u128 acc;
    uint64_t carry, t5;
    acc = (u128)a0 * bi + t0, t0 = (uint64_t)acc, carry = (uint64_t)(acc >> 64);
    acc = (u128)a1 * bi + t1 + carry, t1 = (uint64_t)acc, carry = (uint64_t)(acc >> 64);
    acc = (u128)a2 * bi + t2 + carry, t2 = (uint64_t)acc, carry = (uint64_t)(acc >> 64);
    acc = (u128)a3 * bi + t3 + carry, t3 = (uint64_t)acc, carry = (uint64_t)(acc >> 64);
    acc = (u128)t4 + carry, t4 = (uint64_t)acc, t5 = (uint64_t)(acc >> 64);
    const uint64_t m = t0;
    acc = (u128)m * P[0] + t0, carry = (uint64_t)(acc >> 64);
    acc = (u128)m * P[1] + t1 + carry, t0 = (uint64_t)acc, carry = (uint64_t)(acc >> 64);
    acc = (u128)m * P[2] + t2 + carry, t1 = (uint64_t)acc, carry = (uint64_t)(acc >> 64);
    acc = (u128)m * P[3] + t3 + carry, t2 = (uint64_t)acc, carry = (uint64_t)(acc >> 64);
    acc = (u128)t4 + carry, t3 = (uint64_t)acc, t4 = t5 + (uint64_t)(acc >> 64);
  }
  /* (t4 : t3..t0) < 2p */
  reduce_once(r, t0, t1, t2, t3, t4);
}

static inline void fe_add(fe r, const fe a, const fe b) {
  u128 v;
  uint64_t t0, t1, t2, t3, carry;
  v = (u128)a[0] + b[0], t0 = (uint64_t)v, carry = (uint64_t)(v >> 64);
  v = (u128)a[1] + b[1] + carry, t1 = (uint64_t)v, carry = (uint64_t)(v >> 64);
  v = (u128)a[2] + b[2] + carry, t2 = (uint64_t)v, carry = (uint64_t)(v >> 64);
  v = (u128)a[3] + b[3] + carry, t3 = (uint64_t)v, carry = (uint64_t)(v >> 64);
  reduce_once(r, t0, t1, t2, t3, carry);
}

static inline void fe_sub(fe r, const fe a, const fe b) {
  u128 d;
  uint64_t t0, t1, t2, t3, borrow, carry;
  d = (u128)a[0] - b[0], t0 = (uint64_t)d, borrow = (uint64_t)(d >> 64) & 1;
  d = (u128)a[1] - b[1] - borrow, t1 = (uint64_t)d, borrow = (uint64_t)(d >> 64) & 1;
  d = (u128)a[2] - b[2] - borrow, t2 = (uint64_t)d, borrow = (uint64_t)(d >> 64) & 1;
  d = (u128)a[3] - b[3] - borrow, t3 = (uint64_t)d, borrow = (uint64_t)(d >> 64) & 1;
  const uint64_t mask = 0 - borrow; /* a < b: add p back */
  u128 v;
  v = (u128)t0 + (P[0] & mask), r[0] = (uint64_t)v, carry = (uint64_t)(v >> 64);
  v = (u128)t1 + (P[1] & mask) + carry, r[1] = (uint64_t)v, carry = (uint64_t)(v >> 64);
  v = (u128)t2 + (P[2] & mask) + carry, r[2] = (uint64_t)v, carry = (uint64_t)(v >> 64);
  v = (u128)t3 + (P[3] & mask) + carry, r[3] = (uint64_t)v;
}

/* r = a^(p-2) = a^-1 (0 for 0); the exponent is public, so its bits may steer the loop. */
static void fe_inv(const sm2p_curve *c, fe r, const fe a) {
  fe e, acc;
  memcpy(e, P, sizeof e);
  e[0] -= 2; /* p's low limb is all ones: no borrow */
  memcpy(acc, c->one, sizeof acc);
  for (int i = 255; i >= 0; i--) {
    fe_mul(acc, acc, acc);
    if ((e[i / 64] >> (i % 64)) & 1) fe_mul(acc, acc, a);
  }
  memcpy(r, acc, sizeof acc);
}

/* Big-endian 32 bytes to plain limbs. */
static void limbs_of(fe r, const uint8_t *in) {
  for (int i = 0; i < 4; i++) {
    uint64_t v = 0;
    for (int j = 0; j < 8; j++) v = (v << 8) | in[(3 - i) * 8 + j];
    r[i] = v;
  }
}

static void bytes_of(uint8_t *out, const fe a) {
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 8; j++) out[(3 - i) * 8 + j] = (uint8_t)(a[i] >> (56 - 8 * j));
}

static void fe_from_bytes(const sm2p_curve *c, fe r, const uint8_t *in) {
  fe plain;
  limbs_of(plain, in);
  fe_mul(r, plain, c->r2);
}

static void fe_to_bytes(uint8_t *out, const fe a) {
  static const fe one_plain = {1, 0, 0, 0};
  fe plain;
  fe_mul(plain, a, one_plain);
  bytes_of(out, plain);
}

static int fe_is_zero(const fe a) {
  return (a[0] | a[1] | a[2] | a[3]) == 0;
}

/* ---------------------------------------------------------------- points */

/* r = a + b, complete (RCB 2016, algorithm 4, a = -3); r may alias a or b. */
static void pt_add(const sm2p_curve *c, pt *r, const pt *a, const pt *b) {
  fe t0, t1, t2, t3, t4, x3, y3, z3;
  fe_mul(t0, a->X, b->X);
  fe_mul(t1, a->Y, b->Y);
  fe_mul(t2, a->Z, b->Z);
  fe_add(t3, a->X, a->Y);
  fe_add(t4, b->X, b->Y);
  fe_mul(t3, t3, t4);
  fe_add(t4, t0, t1);
  fe_sub(t3, t3, t4);
  fe_add(t4, a->Y, a->Z);
  fe_add(x3, b->Y, b->Z);
  fe_mul(t4, t4, x3);
  fe_add(x3, t1, t2);
  fe_sub(t4, t4, x3);
  fe_add(x3, a->X, a->Z);
  fe_add(y3, b->X, b->Z);
  fe_mul(x3, x3, y3);
  fe_add(y3, t0, t2);
  fe_sub(y3, x3, y3);
  fe_mul(z3, c->b, t2);
  fe_sub(x3, y3, z3);
  fe_add(z3, x3, x3);
  fe_add(x3, x3, z3);
  fe_sub(z3, t1, x3);
  fe_add(x3, t1, x3);
  fe_mul(y3, c->b, y3);
  fe_add(t1, t2, t2);
  fe_add(t2, t1, t2);
  fe_sub(y3, y3, t2);
  fe_sub(y3, y3, t0);
  fe_add(t1, y3, y3);
  fe_add(y3, t1, y3);
  fe_add(t1, t0, t0);
  fe_add(t0, t1, t0);
  fe_sub(t0, t0, t2);
  fe_mul(t1, t4, y3);
  fe_mul(t2, t0, y3);
  fe_mul(y3, x3, z3);
  fe_add(y3, y3, t2);
  fe_mul(x3, t3, x3);
  fe_sub(x3, x3, t1);
  fe_mul(z3, t4, z3);
  fe_mul(t1, t3, t0);
  fe_add(z3, z3, t1);
  memcpy(r->X, x3, sizeof x3);
  memcpy(r->Y, y3, sizeof y3);
  memcpy(r->Z, z3, sizeof z3);
}

static void pt_infinity(const sm2p_curve *c, pt *r) {
  memset(r, 0, sizeof *r);
  memcpy(r->Y, c->one, sizeof r->Y);
}

/* r = table[idx] for idx in [0, 16), reading every entry (constant time in idx). */
static void pt_select(pt *r, const pt table[16], uint64_t idx) {
  memset(r, 0, sizeof *r);
  for (uint64_t j = 0; j < 16; j++) {
    uint64_t mask = 0 - (((j ^ idx) - 1) >> 63); /* all ones when j == idx */
    const uint64_t *src = (const uint64_t *)&table[j];
    uint64_t *dst = (uint64_t *)r;
    for (size_t w = 0; w < sizeof(pt) / 8; w++) dst[w] |= src[w] & mask;
  }
}

/* The 4-bit window i (0 = least significant) of a 32-byte big-endian scalar. */
static uint64_t nibble(const uint8_t k[32], int i) {
  uint8_t byte = k[31 - i / 2];
  return (uint64_t)((i & 1) ? byte >> 4 : byte & 15);
}

/* x || y of a projective point; 0 for infinity. */
static int pt_affine(const sm2p_curve *c, const pt *a, uint8_t out[64]) {
  if (fe_is_zero(a->Z)) return 0;
  fe zinv, x, y;
  fe_inv(c, zinv, a->Z);
  fe_mul(x, a->X, zinv);
  fe_mul(y, a->Y, zinv);
  fe_to_bytes(out, x);
  fe_to_bytes(out + 32, y);
  return 1;
}

static void pt_from_bytes(const sm2p_curve *c, pt *r, const uint8_t in[64]) {
  fe_from_bytes(c, r->X, in);
  fe_from_bytes(c, r->Y, in + 32);
  memcpy(r->Z, c->one, sizeof r->Z);
}

/* r = k·P from P's windows (windows[i][j] = j·16^i·P): one addition per window, no doubling. */
static void mul_windows(const sm2p_curve *c, pt *r, const uint8_t k[32], const pt windows[WINDOWS][16]) {
  pt acc, q;
  pt_infinity(c, &acc);
  for (int i = 0; i < WINDOWS; i++) {
    pt_select(&q, windows[i], nibble(k, i));
    pt_add(c, &acc, &acc, &q);
  }
  *r = acc;
  OPENSSL_cleanse(&q, sizeof q);
}

static void mul_base(const sm2p_curve *c, pt *r, const uint8_t k[32]) {
  mul_windows(c, r, k, c->base);
}

/* windows[i][j] = j·16^i·P */
static void build_windows(const sm2p_curve *c, pt windows[WINDOWS][16], const pt *P) {
  pt g = *P;
  for (int i = 0; i < WINDOWS; i++) {
    pt_infinity(c, &windows[i][0]);
    windows[i][1] = g;
    for (int j = 2; j < 16; j++) pt_add(c, &windows[i][j], &windows[i][j - 1], &g);
    pt_add(c, &g, &windows[i][15], &g); /* 16^(i+1)·P */
  }
}

/* The table of p among the known keys, or NULL; called with the lock held. */
static key_table *find_key(const sm2p_curve *c, const uint8_t p[64]) {
  for (int i = 0; i < c->keys; i++)
    if (memcmp(c->key[i]->point, p, 64) == 0) return c->key[i];
  return NULL;
}

/* The table of a known public key: found, or built (when there is room), or NULL. */
static const key_table *key_table_of(sm2p_curve *c, const uint8_t p[64]) {
  pthread_mutex_lock(&c->lock);
  const key_table *found = find_key(c, p);
  int full = c->keys >= SM2P_KEY_TABLES;
  pthread_mutex_unlock(&c->lock);
  if (found != NULL || full) return found;
  /* Built outside the lock (about a millisecond); another thread may have built it meanwhile. */
  key_table *t = malloc(sizeof *t);
  if (t == NULL) return NULL;
  memcpy(t->point, p, 64);
  pt P;
  pt_from_bytes(c, &P, p);
  build_windows(c, t->table, &P);
  pthread_mutex_lock(&c->lock);
  const key_table *use = find_key(c, p);
  if (use == NULL && c->keys < SM2P_KEY_TABLES) c->key[c->keys++] = t, use = t;
  pthread_mutex_unlock(&c->lock);
  if (use != t) free(t);
  return use;
}

/* Jacobian coordinates (x = X/Z^2, y = Y/Z^3), for the runs of doublings of mul_point only. */
typedef struct {
  fe X, Y, Z;
} jac;

/* r = 2a, Jacobian, a = -3 ("dbl-2001-b": 3M + 5S, about half the complete doubling); r may alias a.
   Z = 0 stays 0, and the curve has no point of order 2, so no input is an exception. */
static void jac_double(jac *r, const jac *a) {
  fe delta, gamma, beta, alpha, t0, t1, x3, y3, z3;
  fe_mul(delta, a->Z, a->Z);
  fe_mul(gamma, a->Y, a->Y);
  fe_mul(beta, a->X, gamma);
  fe_sub(t0, a->X, delta);
  fe_add(t1, a->X, delta);
  fe_mul(alpha, t0, t1);
  fe_add(t0, alpha, alpha);
  fe_add(alpha, t0, alpha); /* alpha = 3(X - delta)(X + delta) */
  fe_add(t0, a->Y, a->Z);
  fe_mul(t0, t0, t0);
  fe_sub(t0, t0, gamma);
  fe_sub(z3, t0, delta); /* Z3 = (Y + Z)^2 - gamma - delta */
  fe_add(t1, beta, beta);
  fe_add(t1, t1, t1); /* 4 beta */
  fe_mul(t0, alpha, alpha);
  fe_sub(t0, t0, t1);
  fe_sub(x3, t0, t1); /* X3 = alpha^2 - 8 beta */
  fe_sub(t1, t1, x3);
  fe_mul(t1, alpha, t1);
  fe_mul(t0, gamma, gamma);
  fe_add(t0, t0, t0);
  fe_add(t0, t0, t0);
  fe_add(t0, t0, t0); /* 8 gamma^2 */
  fe_sub(y3, t1, t0); /* Y3 = alpha (4 beta - X3) - 8 gamma^2 */
  memcpy(r->X, x3, sizeof x3);
  memcpy(r->Y, y3, sizeof y3);
  memcpy(r->Z, z3, sizeof z3);
}

/* Projective (X : Y : Z) to Jacobian (X·Z, Y·Z^2, Z): the same point (infinity becomes (0, 0, 0)). */
static void jac_from_pt(jac *r, const pt *a) {
  fe z2;
  fe_mul(z2, a->Z, a->Z);
  fe_mul(r->X, a->X, a->Z);
  fe_mul(r->Y, a->Y, z2);
  memcpy(r->Z, a->Z, sizeof r->Z);
}

/* Jacobian to projective (X·Z : Y : Z^3); Z = 0 becomes (0 : 1 : 0), selected in constant time. */
static void pt_from_jac(const sm2p_curve *c, pt *r, const jac *a) {
  fe z2;
  fe_mul(z2, a->Z, a->Z);
  fe_mul(r->X, a->X, a->Z);
  uint64_t z = a->Z[0] | a->Z[1] | a->Z[2] | a->Z[3];
  uint64_t inf = 0 - (((z | (0 - z)) >> 63) ^ 1); /* all ones when Z = 0 */
  for (int i = 0; i < 4; i++) r->Y[i] = (a->Y[i] & ~inf) | (c->one[i] & inf);
  fe_mul(r->Z, z2, a->Z);
}

/* r = k·P: fixed 4-bit windows, most significant first, over a table of 0·P … 15·P; the four
   doublings between windows in Jacobian coordinates, each addition complete. */
static void mul_point(const sm2p_curve *c, pt *r, const uint8_t k[32], const pt *P) {
  pt table[16], acc, q;
  jac j;
  pt_infinity(c, &table[0]);
  table[1] = *P;
  for (int t = 2; t < 16; t++) pt_add(c, &table[t], &table[t - 1], P);
  pt_infinity(c, &acc);
  for (int i = WINDOWS - 1; i >= 0; i--) {
    if (i != WINDOWS - 1) {
      jac_from_pt(&j, &acc);
      for (int d = 0; d < 4; d++) jac_double(&j, &j);
      pt_from_jac(c, &acc, &j);
    }
    pt_select(&q, table, nibble(k, i));
    pt_add(c, &acc, &acc, &q);
  }
  *r = acc;
  OPENSSL_cleanse(table, sizeof table);
  OPENSSL_cleanse(&q, sizeof q);
  OPENSSL_cleanse(&j, sizeof j);
}

int sm2p_mul_base(const sm2p_curve *c, const uint8_t k[32], uint8_t out[64]) {
  pt r;
  mul_base(c, &r, k);
  int ok = pt_affine(c, &r, out);
  OPENSSL_cleanse(&r, sizeof r);
  return ok;
}

int sm2p_mul(const sm2p_curve *c, const uint8_t k[32], const uint8_t p[64], uint8_t out[64]) {
  pt P, r;
  pt_from_bytes(c, &P, p);
  mul_point(c, &r, k, &P);
  int ok = pt_affine(c, &r, out);
  OPENSSL_cleanse(&r, sizeof r);
  return ok;
}

int sm2p_mul_known(sm2p_curve *c, const uint8_t k[32], const uint8_t p[64], uint8_t out[64]) {
  const key_table *t = key_table_of(c, p);
  if (t == NULL) return sm2p_mul(c, k, p, out);
  pt r;
  mul_windows(c, &r, k, t->table);
  int ok = pt_affine(c, &r, out);
  OPENSSL_cleanse(&r, sizeof r);
  return ok;
}

int sm2p_mul2(sm2p_curve *c, const uint8_t s[32], const uint8_t t[32], const uint8_t p[64], uint8_t out[64]) {
  pt a, b;
  mul_base(c, &a, s);
  const key_table *kt = key_table_of(c, p);
  if (kt != NULL) {
    mul_windows(c, &b, t, kt->table);
  } else {
    pt P;
    pt_from_bytes(c, &P, p);
    mul_point(c, &b, t, &P);
  }
  pt_add(c, &a, &a, &b);
  return pt_affine(c, &a, out);
}

/* ---------------------------------------------------------------- the curve */

void sm2p_free(sm2p_curve *c) {
  if (c == NULL) return;
  for (int i = 0; i < c->keys; i++) free(c->key[i]);
  pthread_mutex_destroy(&c->lock);
  free(c);
}

/* 32 big-endian bytes of a BIGNUM < 2^256 into plain limbs. */
static int limbs_of_bn(fe r, const BIGNUM *bn) {
  uint8_t b[32];
  if (BN_bn2binpad(bn, b, 32) != 32) return 0;
  limbs_of(r, b);
  return 1;
}

sm2p_curve *sm2p_new(const EC_GROUP *group) {
  sm2p_curve *c = calloc(1, sizeof *c);
  if (c != NULL && pthread_mutex_init(&c->lock, NULL) != 0) {
    free(c);
    c = NULL;
  }
  BN_CTX *ctx = BN_CTX_new();
  BIGNUM *p = BN_new(), *a = BN_new(), *b = BN_new(), *x = BN_new(), *y = BN_new(), *t = BN_new();
  int ok = c != NULL && ctx != NULL && t != NULL && EC_GROUP_get_curve(group, p, a, b, ctx) && BN_num_bits(p) == 256 &&
           /* a = -3 (the formulas' assumption) */
           BN_add_word(a, 3) && BN_cmp(a, p) == 0 &&
           EC_POINT_get_affine_coordinates(group, EC_GROUP_get0_generator(group), x, y, ctx);
  /* the group's p is the P above (whose form Montgomery reduction relies on: p ≡ -1 mod 2^64) */
  fe gp;
  ok = ok && limbs_of_bn(gp, p) && memcmp(gp, P, sizeof gp) == 0;
  /* R mod p and R^2 mod p (R = 2^256) */
  if (ok) {
    BN_zero(t);
    ok = BN_set_bit(t, 256) && BN_mod(t, t, p, ctx) && limbs_of_bn(c->one, t);
  }
  if (ok) {
    BN_zero(t);
    ok = BN_set_bit(t, 512) && BN_mod(t, t, p, ctx) && limbs_of_bn(c->r2, t);
  }
  uint8_t buf[64];
  if (ok) {
    ok = BN_bn2binpad(b, buf, 32) == 32;
    fe_from_bytes(c, c->b, buf);
    ok = ok && BN_bn2binpad(x, buf, 32) == 32 && BN_bn2binpad(y, buf + 32, 32) == 32;
  }
  if (ok) {
    pt g;
    pt_from_bytes(c, &g, buf);
    build_windows(c, c->base, &g);
    /* A self-check against OpenSSL: 2·G, from the table and from G's own windows, as OpenSSL has it. */
    uint8_t two[32] = {0}, got[64], want[65];
    two[31] = 2;
    EC_POINT *twoG = EC_POINT_new(group);
    BN_set_word(t, 2);
    ok = twoG != NULL && EC_POINT_mul(group, twoG, t, NULL, NULL, ctx) &&
         EC_POINT_point2oct(group, twoG, POINT_CONVERSION_UNCOMPRESSED, want, 65, ctx) == 65 && sm2p_mul_base(c, two, got) &&
         memcmp(got, want + 1, 64) == 0 && sm2p_mul(c, two, buf, got) && memcmp(got, want + 1, 64) == 0;
    EC_POINT_free(twoG);
  }
  BN_free(p), BN_free(a), BN_free(b), BN_free(x), BN_free(y), BN_free(t);
  BN_CTX_free(ctx);
  if (!ok) {
    sm2p_free(c);
    return NULL;
  }
  return c;
}
