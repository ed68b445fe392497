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
  /* The group's order n, for sm2p_scalar_inv: n, -n^-1 mod 2^64, R^2 mod n (read from OpenSSL). */
  fe n, n_r2;
  uint64_t n0;
  /* Tables of known keys, added and never removed while the curve lives (so a reader holds no
     lock while it uses one); at most SM2P_KEY_TABLES of them, the first keys met. */
  pthread_mutex_t lock;
  int keys;
  key_table *key[SM2P_KEY_TABLES];
};

/* ---------------------------------------------------------------- field */

/*
 * Carries. On x86-64 the compiler's add-with-carry intrinsics keep the carry in the flag (adc,
 * sbb); elsewhere 128-bit sums. Both compute the same: (out, carry out) = a + b + carry in, and
 * (out, borrow out) = a - b - borrow in, carries 0 or 1. (SM2P_GENERIC forces the portable path,
 * which the field test builds too.)
 */
#if defined(__GNUC__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE inline
#endif

#if defined(__x86_64__) && !defined(SM2P_GENERIC)
#include <x86intrin.h>
typedef unsigned char carry_t;
static inline carry_t addc(carry_t c, uint64_t a, uint64_t b, uint64_t *out) {
  unsigned long long o;
  c = _addcarry_u64(c, a, b, &o);
  *out = o;
  return c;
}
static inline carry_t subb(carry_t c, uint64_t a, uint64_t b, uint64_t *out) {
  unsigned long long o;
  c = _subborrow_u64(c, a, b, &o);
  *out = o;
  return c;
}
#else
typedef uint64_t carry_t;
static inline carry_t addc(carry_t c, uint64_t a, uint64_t b, uint64_t *out) {
  u128 v = (u128)a + b + c;
  *out = (uint64_t)v;
  return (carry_t)(v >> 64);
}
static inline carry_t subb(carry_t c, uint64_t a, uint64_t b, uint64_t *out) {
  u128 d = (u128)a - b - c;
  *out = (uint64_t)d;
  return (carry_t)((d >> 64) & 1);
}
#endif

/* v, hidden from the optimiser: a mask derived from a secret stays a value, never a branch
   (clang at -O1/-Os turned pt_select's "j == idx" into one). */
static ALWAYS_INLINE uint64_t opaque(uint64_t v) {
#if defined(__GNUC__)
  __asm__("" : "+r"(v));
#endif
  return v;
}

/* r = t - m if that does not borrow past the top word `hi` (0 or 1), else t: constant time
   (m is p, or the group's order n). */
static inline void reduce_once(fe r, uint64_t t0, uint64_t t1, uint64_t t2, uint64_t t3, uint64_t hi, const fe m) {
  uint64_t s0, s1, s2, s3, rest;
  carry_t b = subb(0, t0, m[0], &s0);
  b = subb(b, t1, m[1], &s1);
  b = subb(b, t2, m[2], &s2);
  b = subb(b, t3, m[3], &s3);
  b = subb(b, hi, 0, &rest);
  uint64_t keep = opaque(0 - (uint64_t)b); /* all ones: t < m, keep t */
  r[0] = (t0 & keep) | (s0 & ~keep);
  r[1] = (t1 & keep) | (s1 & ~keep);
  r[2] = (t2 & keep) | (s2 & ~keep);
  r[3] = (t3 & keep) | (s3 & ~keep);
}

/*
 * One step of the Montgomery reduction below, at the word holding m: adding m·p there clears
 * that word and adds, from the next word up, V = m·(2^192 - 2^160 - 2^32 + 1) = m·2^192 + m -
 * (m·2^160 + m·2^32), whose four words come from m, m << 32 and m >> 32 (V >= 0, so the last
 * borrow is 0). *top carries into w4: the previous step's carry out, then this one's (at most 2).
 */
static inline void reduce_step(uint64_t m, uint64_t *w1, uint64_t *w2, uint64_t *w3, uint64_t *w4, uint64_t *top) {
  const uint64_t hi = m >> 32, lo = m << 32;
  uint64_t v0, v1, v2, v3, s;
  carry_t b = subb(0, m, lo, &v0);
  b = subb(b, 0, hi, &v1);
  b = subb(b, 0, lo, &v2);
  (void)subb(b, m, hi, &v3);
  carry_t c = addc(0, *w1, v0, w1);
  c = addc(c, *w2, v1, w2);
  c = addc(c, *w3, v2, w3);
  c = addc(c, *w4, v3, w4);
  carry_t c2 = addc(0, *w4, *top, w4);
  addc(c2, (uint64_t)c, 0, &s);
  *top = s;
}

/*
 * r = t·R^-1 mod p for the 512-bit t = (t7 … t0) < p·R, R = 2^256: Montgomery reduction with
 * no multiplication. p ≡ -1 mod 2^64, so each step's multiplier is its lowest word itself.
 * The result before the last subtraction, (top : t7..t4) = (t + Σ m_i·p·2^(64i)) / R, is < 2p.
 */
static inline void fe_reduce(fe r, uint64_t t0, uint64_t t1, uint64_t t2, uint64_t t3, uint64_t t4, uint64_t t5, uint64_t t6,
                             uint64_t t7) {
  uint64_t top = 0;
  reduce_step(t0, &t1, &t2, &t3, &t4, &top);
  reduce_step(t1, &t2, &t3, &t4, &t5, &top);
  reduce_step(t2, &t3, &t4, &t5, &t6, &top);
  reduce_step(t3, &t4, &t5, &t6, &t7, &top);
  reduce_once(r, t4, t5, t6, t7, top, P);
}

/* (hi, lo) = a·b + c + d: never overflows 128 bits. */
static ALWAYS_INLINE uint64_t mac(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t *lo) {
  u128 v = (u128)a * b + c + d;
  *lo = (uint64_t)v;
  return (uint64_t)(v >> 64);
}

/* t = a·b, 512 bits, row by row. */
static ALWAYS_INLINE void mul_wide(uint64_t t[8], const fe a, const fe b) {
  const uint64_t a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
  uint64_t c;
  c = mac(a0, b[0], 0, 0, &t[0]);
  c = mac(a1, b[0], c, 0, &t[1]);
  c = mac(a2, b[0], c, 0, &t[2]);
  t[4] = mac(a3, b[0], c, 0, &t[3]);
  c = mac(a0, b[1], t[1], 0, &t[1]);
  c = mac(a1, b[1], t[2], c, &t[2]);
  c = mac(a2, b[1], t[3], c, &t[3]);
  t[5] = mac(a3, b[1], t[4], c, &t[4]);
  c = mac(a0, b[2], t[2], 0, &t[2]);
  c = mac(a1, b[2], t[3], c, &t[3]);
  c = mac(a2, b[2], t[4], c, &t[4]);
  t[6] = mac(a3, b[2], t[5], c, &t[5]);
  c = mac(a0, b[3], t[3], 0, &t[3]);
  c = mac(a1, b[3], t[4], c, &t[4]);
  c = mac(a2, b[3], t[5], c, &t[5]);
  t[7] = mac(a3, b[3], t[6], c, &t[6]);
}

/* t = a^2, 512 bits: the six cross products once, doubled, plus the four squares (10 of mul_wide's 16 multiplications). */
static ALWAYS_INLINE void sqr_wide(uint64_t t[8], const fe a) {
  const uint64_t a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
  uint64_t t1, t2, t3, t4, t5, t6, t7, c, s0, s1, s2, s3, s4, s5, s6, s7;
  /* the cross products a_i·a_j, i < j, at word i + j */
  c = mac(a0, a1, 0, 0, &t1);
  c = mac(a0, a2, c, 0, &t2);
  t4 = mac(a0, a3, c, 0, &t3);
  c = mac(a1, a2, t3, 0, &t3);
  t5 = mac(a1, a3, t4, c, &t4);
  t6 = mac(a2, a3, t5, 0, &t5);
  /* doubled */
  t7 = t6 >> 63;
  t6 = (t6 << 1) | (t5 >> 63);
  t5 = (t5 << 1) | (t4 >> 63);
  t4 = (t4 << 1) | (t3 >> 63);
  t3 = (t3 << 1) | (t2 >> 63);
  t2 = (t2 << 1) | (t1 >> 63);
  t1 = t1 << 1;
  /* plus the squares a_i^2 at word 2i */
  s1 = mac(a0, a0, 0, 0, &s0);
  s3 = mac(a1, a1, 0, 0, &s2);
  s5 = mac(a2, a2, 0, 0, &s4);
  s7 = mac(a3, a3, 0, 0, &s6);
  t[0] = s0;
  carry_t k = addc(0, t1, s1, &t[1]);
  k = addc(k, t2, s2, &t[2]);
  k = addc(k, t3, s3, &t[3]);
  k = addc(k, t4, s4, &t[4]);
  k = addc(k, t5, s5, &t[5]);
  k = addc(k, t6, s6, &t[6]);
  (void)addc(k, t7, s7, &t[7]); /* a^2 < 2^512: no carry out */
}

/* r = a·b·R^-1 mod p */
static inline void fe_mul(fe r, const fe a, const fe b) {
  uint64_t t[8];
  mul_wide(t, a, b);
  fe_reduce(r, t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7]);
}

/* r = a^2·R^-1 mod p */
static inline void fe_sqr(fe r, const fe a) {
  uint64_t t[8];
  sqr_wide(t, a);
  fe_reduce(r, t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7]);
}

static inline void fe_add(fe r, const fe a, const fe b) {
  uint64_t t0, t1, t2, t3;
  carry_t c = addc(0, a[0], b[0], &t0);
  c = addc(c, a[1], b[1], &t1);
  c = addc(c, a[2], b[2], &t2);
  c = addc(c, a[3], b[3], &t3);
  reduce_once(r, t0, t1, t2, t3, (uint64_t)c, P);
}

static inline void fe_sub(fe r, const fe a, const fe b) {
  uint64_t t0, t1, t2, t3;
  carry_t bw = subb(0, a[0], b[0], &t0);
  bw = subb(bw, a[1], b[1], &t1);
  bw = subb(bw, a[2], b[2], &t2);
  bw = subb(bw, a[3], b[3], &t3);
  const uint64_t mask = opaque(0 - (uint64_t)bw); /* a < b: add p back */
  carry_t c = addc(0, t0, P[0] & mask, &r[0]);
  c = addc(c, t1, P[1] & mask, &r[1]);
  c = addc(c, t2, P[2] & mask, &r[2]);
  (void)addc(c, t3, P[3] & mask, &r[3]);
}

/* r = a^(2^n)·b: n squarings, then one multiplication (r may alias a or b). */
static void fe_sqr_n_mul(fe r, const fe a, int n, const fe b) {
  fe t;
  memcpy(t, a, sizeof t);
  for (int i = 0; i < n; i++) fe_sqr(t, t);
  fe_mul(r, t, b);
}

/*
 * r = a^(p-2) = a^-1 (0 for 0), by an addition chain (257 squarings, 15 multiplications; the
 * square-and-multiply it replaces made 222 multiplications). The exponent is public. From the top,
 * p - 2 is 31 ones, a zero, 128 ones, 32 zeros, 62 ones, a zero and a one; x_k below is a^(2^k - 1).
 */
static void fe_inv(fe r, const fe a) {
  fe x2, x3, x6, x12, x15, x30, x31, x32, acc;
  fe_sqr_n_mul(x2, a, 1, a);
  fe_sqr_n_mul(x3, x2, 1, a);
  fe_sqr_n_mul(x6, x3, 3, x3);
  fe_sqr_n_mul(x12, x6, 6, x6);
  fe_sqr_n_mul(x15, x12, 3, x3);
  fe_sqr_n_mul(x30, x15, 15, x15);
  fe_sqr_n_mul(x31, x30, 1, a);
  fe_sqr_n_mul(x32, x30, 2, x2);
  /* 31 ones, then a zero and 128 ones (4 × 32) */
  fe_sqr(acc, x31);
  for (int i = 0; i < 4; i++) fe_sqr_n_mul(acc, acc, 32, x32);
  /* 32 zeros and 62 ones (32 + 30) */
  fe_sqr_n_mul(acc, acc, 64, x32);
  fe_sqr_n_mul(acc, acc, 30, x30);
  /* a zero and a one */
  fe_sqr(acc, acc);
  fe_sqr_n_mul(r, acc, 1, a);
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
    uint64_t mask = opaque(0 - (((j ^ idx) - 1) >> 63)); /* all ones when j == idx */
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
  fe_inv(zinv, a->Z);
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
  fe_sqr(delta, a->Z);
  fe_sqr(gamma, a->Y);
  fe_mul(beta, a->X, gamma);
  fe_sub(t0, a->X, delta);
  fe_add(t1, a->X, delta);
  fe_mul(alpha, t0, t1);
  fe_add(t0, alpha, alpha);
  fe_add(alpha, t0, alpha); /* alpha = 3(X - delta)(X + delta) */
  fe_add(t0, a->Y, a->Z);
  fe_sqr(t0, t0);
  fe_sub(t0, t0, gamma);
  fe_sub(z3, t0, delta); /* Z3 = (Y + Z)^2 - gamma - delta */
  fe_add(t1, beta, beta);
  fe_add(t1, t1, t1); /* 4 beta */
  fe_sqr(t0, alpha);
  fe_sub(t0, t0, t1);
  fe_sub(x3, t0, t1); /* X3 = alpha^2 - 8 beta */
  fe_sub(t1, t1, x3);
  fe_mul(t1, alpha, t1);
  fe_sqr(t0, gamma);
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
  fe_sqr(z2, a->Z);
  fe_mul(r->X, a->X, a->Z);
  fe_mul(r->Y, a->Y, z2);
  memcpy(r->Z, a->Z, sizeof r->Z);
}

/* Jacobian to projective (X·Z : Y : Z^3); Z = 0 becomes (0 : 1 : 0), selected in constant time. */
static void pt_from_jac(const sm2p_curve *c, pt *r, const jac *a) {
  fe z2;
  fe_sqr(z2, a->Z);
  fe_mul(r->X, a->X, a->Z);
  uint64_t z = a->Z[0] | a->Z[1] | a->Z[2] | a->Z[3];
  uint64_t inf = opaque(0 - (((z | (0 - z)) >> 63) ^ 1)); /* all ones when Z = 0 */
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

/* ---------------------------------------------------------------- scalars mod n */

/* One step of sc_reduce at word i: adds m·n there, m = t_i·(-n^-1) mod 2^64, which clears t_i;
   *top carries into word i + 4 (the previous step's carry out, then this one's). */
static ALWAYS_INLINE void sc_reduce_step(const sm2p_curve *c, uint64_t *t, uint64_t *top) {
  const uint64_t m = t[0] * c->n0;
  uint64_t lo, k, s;
  k = mac(m, c->n[0], t[0], 0, &lo); /* lo = 0 */
  k = mac(m, c->n[1], t[1], k, &t[1]);
  k = mac(m, c->n[2], t[2], k, &t[2]);
  k = mac(m, c->n[3], t[3], k, &t[3]);
  carry_t c1 = addc(0, t[4], k, &t[4]);
  carry_t c2 = addc(0, t[4], *top, &t[4]);
  addc(c2, (uint64_t)c1, 0, &s);
  *top = s;
}

/* r = a·b·R^-1 mod n (Montgomery multiplication; n has no special form, so each step multiplies). Constant time. */
static void sc_mul(const sm2p_curve *c, fe r, const fe a, const fe b) {
  uint64_t t[8], top = 0;
  if (a == b) sqr_wide(t, a);
  else mul_wide(t, a, b);
  sc_reduce_step(c, t, &top);
  sc_reduce_step(c, t + 1, &top);
  sc_reduce_step(c, t + 2, &top);
  sc_reduce_step(c, t + 3, &top);
  reduce_once(r, t[4], t[5], t[6], t[7], top, c->n); /* < 2n */
}

/* r = x^-1 mod n for x in [1, n-1] (plain limbs in and out): x^(n-2) by fixed 4-bit windows. The
   exponent is public, so its windows may pick table entries; nothing branches on x. */
static void sc_inv(const sm2p_curve *c, fe r, const fe x) {
  static const fe one_plain = {1, 0, 0, 0};
  fe e, acc, table[16];
  sc_mul(c, table[1], x, c->n_r2); /* Montgomery form */
  sc_mul(c, table[0], one_plain, c->n_r2);
  for (int i = 2; i < 16; i++) sc_mul(c, table[i], table[i - 1], table[1]);
  memcpy(e, c->n, sizeof e);
  e[0] -= 2; /* n is odd and its low limb is above 2 (checked when the curve is built): no borrow */
  memcpy(acc, table[0], sizeof acc);
  for (int i = WINDOWS - 1; i >= 0; i--) {
    for (int j = 0; j < 4; j++) sc_mul(c, acc, acc, acc);
    sc_mul(c, acc, acc, table[(e[i / 16] >> (4 * (i % 16))) & 15]);
  }
  sc_mul(c, r, acc, one_plain); /* out of Montgomery form */
  OPENSSL_cleanse(acc, sizeof acc);
  OPENSSL_cleanse(table, sizeof table);
}

int sm2p_scalar_inv(const sm2p_curve *c, const uint8_t a[32], uint8_t out[32]) {
  fe x, r;
  limbs_of(x, a);
  /* a must lie in [1, n-1] (an input check: a signer's 1 + d always does) */
  uint64_t d;
  carry_t below = subb(0, x[0], c->n[0], &d);
  below = subb(below, x[1], c->n[1], &d);
  below = subb(below, x[2], c->n[2], &d);
  below = subb(below, x[3], c->n[3], &d);
  if (!below || fe_is_zero(x)) return 0;
  sc_inv(c, r, x);
  bytes_of(out, r);
  OPENSSL_cleanse(x, sizeof x);
  OPENSSL_cleanse(r, sizeof r);
  return 1;
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
  /* n, -n^-1 mod 2^64 and R^2 mod n for sm2p_scalar_inv */
  const BIGNUM *order = ok ? EC_GROUP_get0_order(group) : NULL;
  if (ok) ok = order != NULL && BN_num_bits(order) == 256 && BN_is_odd(order) && limbs_of_bn(c->n, order) && c->n[0] > 2;
  if (ok) {
    uint64_t inv = 1; /* n^-1 mod 2^64 by Newton's iteration: each step doubles the correct low bits */
    for (int i = 0; i < 6; i++) inv *= 2 - c->n[0] * inv;
    c->n0 = 0 - inv;
    BN_zero(t);
    ok = BN_set_bit(t, 512) && BN_mod(t, t, order, ctx) && limbs_of_bn(c->n_r2, t);
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
