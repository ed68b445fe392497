/*
 * Tongban's SM2 addon (GB/T 32918.2 signatures, GB/T 32918.4 public-key encryption).
 *
 * Built against the OpenSSL that Node ships and resolved from the node binary at load time,
 * so no second libcrypto is involved. The arithmetic mirrors OpenSSL's own crypto/sm2
 * (sm2_sign.c, sm2_crypt.c): EC_POINT_mul on the NID_sm2 group (a constant-time ladder for
 * secret scalars), BN_mod_* for the scalar part. Unlike OpenSSL's EVP interface it accepts a
 * fixed k, so the published test vectors run through this very code.
 *
 * The digest e = SM3(Z_A || M) is computed by the caller (TypeScript): the addon signs and
 * verifies digests. Encryption and decryption are complete here (KDF and C3 included), so the
 * plaintext of a failed C3 check never leaves this file.
 *
 * Exports (all byte arguments are Buffers or Uint8Arrays):
 *   signDigest(d32, e32, k32?)        -> Buffer(64) r||s
 *   verifyDigest(point65, e32, sig64) -> boolean (false for any malformed input)
 *   encrypt(point65, msg, k32?)       -> Buffer C1(65)||C3(32)||C2
 *   decrypt(d32, c1c3c2)              -> Buffer (throws ERR_SM2_DECRYPT on any failure)
 *   publicFromPrivate(d32)            -> Buffer(65) 04||x||y
 *   generatePrivate()                 -> Buffer(32), d in [1, n-2]
 *   isOnCurve(point65)                -> boolean
 */
#include <node_api.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FIELD 32
#define POINT 65
#define HASH 32

typedef struct {
  EC_GROUP *group;
  const BIGNUM *order;
  BIGNUM *order_minus_1; /* private keys live in [1, n-2] */
  BN_CTX *ctx;
  EVP_MD *sm3;
  EVP_MD_CTX *mctx;
} sm2_state;

/* ---------------------------------------------------------------- N-API helpers */

#define CHECK(call)                                             \
  do {                                                          \
    if ((call) != napi_ok) {                                    \
      napi_throw_error(env, "ERR_SM2_NATIVE", "N-API failure"); \
      return NULL;                                              \
    }                                                           \
  } while (0)

static sm2_state *state_of(napi_env env) {
  void *data = NULL;
  if (napi_get_instance_data(env, &data) != napi_ok) return NULL;
  return (sm2_state *)data;
}

/* Reads a Buffer / Uint8Array argument; *ok = 0 when it is neither. */
static void bytes_of(napi_env env, napi_value v, const uint8_t **p, size_t *len, int *ok) {
  bool is;
  *ok = 0;
  if (napi_is_buffer(env, v, &is) == napi_ok && is) {
    void *data;
    if (napi_get_buffer_info(env, v, &data, len) != napi_ok) return;
    *p = (const uint8_t *)data;
    *ok = 1;
    return;
  }
  if (napi_is_typedarray(env, v, &is) == napi_ok && is) {
    napi_typedarray_type type;
    void *data;
    napi_value ab;
    size_t off;
    if (napi_get_typedarray_info(env, v, &type, len, &data, &ab, &off) != napi_ok) return;
    if (type != napi_uint8_array) return;
    *p = (const uint8_t *)data;
    *ok = 1;
  }
}

static napi_value new_buffer(napi_env env, const uint8_t *p, size_t len) {
  napi_value out;
  void *dst;
  if (napi_create_buffer_copy(env, len, p, &dst, &out) != napi_ok) return NULL;
  return out;
}

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, "ERR_SM2_INPUT", msg);
  return NULL;
}

static napi_value boolean(napi_env env, int b) {
  napi_value v;
  napi_get_boolean(env, b ? true : false, &v);
  return v;
}

/* Is arg `i` present and not undefined? */
static int present(napi_env env, napi_value *argv, size_t argc, size_t i) {
  napi_valuetype t;
  if (i >= argc) return 0;
  if (napi_typeof(env, argv[i], &t) != napi_ok) return 0;
  return t != napi_undefined && t != napi_null;
}

/* ---------------------------------------------------------------- SM2 helpers */

/* d as a BIGNUM, checked to lie in [1, n-2]. Returns NULL otherwise. */
static BIGNUM *private_scalar(sm2_state *st, const uint8_t *d, size_t len) {
  if (len != FIELD) return NULL;
  BIGNUM *bn = BN_secure_new();
  if (bn == NULL) return NULL;
  BN_set_flags(bn, BN_FLG_CONSTTIME);
  if (BN_bin2bn(d, (int)len, bn) == NULL || BN_is_zero(bn) || BN_cmp(bn, st->order_minus_1) >= 0) {
    BN_clear_free(bn);
    return NULL;
  }
  return bn;
}

/* Parses an uncompressed point; OpenSSL checks that it lies on the curve. */
static EC_POINT *public_point(sm2_state *st, const uint8_t *p, size_t len) {
  if (len != POINT || p[0] != 0x04) return NULL;
  EC_POINT *pt = EC_POINT_new(st->group);
  if (pt == NULL) return NULL;
  if (!EC_POINT_oct2point(st->group, pt, p, len, st->ctx) || EC_POINT_is_at_infinity(st->group, pt)) {
    EC_POINT_free(pt);
    return NULL;
  }
  return pt;
}

/* KDF of GB/T 32918.4 §5.4.3 (identical to ANSI X9.63 with SM3): SM3(Z || ct) for ct = 1, 2, ... */
static int kdf(sm2_state *st, const uint8_t *z, size_t zlen, uint8_t *out, size_t outlen) {
  uint32_t ct = 1;
  uint8_t block[HASH];
  while (outlen > 0) {
    uint8_t ctr[4] = {(uint8_t)(ct >> 24), (uint8_t)(ct >> 16), (uint8_t)(ct >> 8), (uint8_t)ct};
    unsigned int n = 0;
    if (!EVP_DigestInit_ex(st->mctx, st->sm3, NULL) || !EVP_DigestUpdate(st->mctx, z, zlen) ||
        !EVP_DigestUpdate(st->mctx, ctr, 4) || !EVP_DigestFinal_ex(st->mctx, block, &n))
      return 0;
    size_t take = outlen < HASH ? outlen : HASH;
    memcpy(out, block, take);
    out += take;
    outlen -= take;
    ct++;
  }
  OPENSSL_cleanse(block, sizeof block);
  return 1;
}

/* C3 = SM3(x2 || M || y2) */
static int c3_of(sm2_state *st, const uint8_t *x2y2, const uint8_t *m, size_t mlen, uint8_t *out) {
  unsigned int n = 0;
  return EVP_DigestInit_ex(st->mctx, st->sm3, NULL) && EVP_DigestUpdate(st->mctx, x2y2, FIELD) &&
         EVP_DigestUpdate(st->mctx, m, mlen) && EVP_DigestUpdate(st->mctx, x2y2 + FIELD, FIELD) &&
         EVP_DigestFinal_ex(st->mctx, out, &n);
}

static int all_zero(const uint8_t *p, size_t len) {
  uint8_t acc = 0;
  for (size_t i = 0; i < len; i++) acc |= p[i];
  return acc == 0;
}

/* x || y of an affine point, 32 bytes each. */
static int affine_bytes(sm2_state *st, const EC_POINT *pt, uint8_t *out64) {
  int ok = 0;
  BN_CTX_start(st->ctx);
  BIGNUM *x = BN_CTX_get(st->ctx), *y = BN_CTX_get(st->ctx);
  if (y != NULL && EC_POINT_get_affine_coordinates(st->group, pt, x, y, st->ctx) &&
      BN_bn2binpad(x, out64, FIELD) == FIELD && BN_bn2binpad(y, out64 + FIELD, FIELD) == FIELD)
    ok = 1;
  BN_CTX_end(st->ctx);
  return ok;
}

/* ---------------------------------------------------------------- signDigest */

static napi_value sign_digest(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sm2_state *st = state_of(env);
  const uint8_t *dp, *ep, *kp = NULL;
  size_t dl, el, kl = 0;
  int ok1, ok2, ok3 = 1;
  if (argc < 2) return throw_type(env, "signDigest(d, e, k?)");
  bytes_of(env, argv[0], &dp, &dl, &ok1);
  bytes_of(env, argv[1], &ep, &el, &ok2);
  int fixed_k = present(env, argv, argc, 2);
  if (fixed_k) bytes_of(env, argv[2], &kp, &kl, &ok3);
  if (!ok1 || !ok2 || !ok3 || el != HASH || (fixed_k && kl != FIELD)) return throw_type(env, "signDigest: bad argument");

  BIGNUM *d = private_scalar(st, dp, dl);
  if (d == NULL) return throw_type(env, "signDigest: private key out of range");

  uint8_t out[2 * FIELD];
  int done = 0, failed = 0;
  EC_POINT *kG = EC_POINT_new(st->group);
  BN_CTX_start(st->ctx);
  BIGNUM *e = BN_CTX_get(st->ctx), *k = BN_CTX_get(st->ctx), *x1 = BN_CTX_get(st->ctx);
  BIGNUM *r = BN_CTX_get(st->ctx), *s = BN_CTX_get(st->ctx), *tmp = BN_CTX_get(st->ctx);
  BIGNUM *rk = BN_CTX_get(st->ctx);
  if (kG == NULL || rk == NULL || BN_bin2bn(ep, HASH, e) == NULL) failed = 1;
  if (!failed) {
    BN_set_flags(k, BN_FLG_CONSTTIME);
    BN_set_flags(s, BN_FLG_CONSTTIME);
  }

  /* A3–A6 of GB/T 32918.2 §6.1, as OpenSSL's sm2_sig_gen. */
  while (!failed && !done) {
    if (fixed_k) {
      if (BN_bin2bn(kp, FIELD, k) == NULL || BN_is_zero(k) || BN_cmp(k, st->order) >= 0) { failed = 1; break; }
    } else {
      do {
        if (!BN_priv_rand_range_ex(k, st->order, 0, st->ctx)) { failed = 1; break; }
      } while (BN_is_zero(k));
      if (failed) break;
    }
    if (!EC_POINT_mul(st->group, kG, k, NULL, NULL, st->ctx) ||
        !EC_POINT_get_affine_coordinates(st->group, kG, x1, NULL, st->ctx) ||
        !BN_mod_add(r, e, x1, st->order, st->ctx) || !BN_add(rk, r, k)) { failed = 1; break; }
    if (BN_is_zero(r) || BN_cmp(rk, st->order) == 0) {
      if (fixed_k) failed = 1;
      continue;
    }
    /* s = (1 + d)^-1 * (k - r*d) mod n */
    if (!BN_add(s, d, BN_value_one()) || BN_mod_inverse(s, s, st->order, st->ctx) == NULL ||
        !BN_mod_mul(tmp, d, r, st->order, st->ctx) || !BN_mod_sub(tmp, k, tmp, st->order, st->ctx) ||
        !BN_mod_mul(s, s, tmp, st->order, st->ctx)) { failed = 1; break; }
    if (BN_is_zero(s)) {
      if (fixed_k) failed = 1;
      continue;
    }
    if (BN_bn2binpad(r, out, FIELD) != FIELD || BN_bn2binpad(s, out + FIELD, FIELD) != FIELD) { failed = 1; break; }
    done = 1;
  }
  if (rk != NULL) { /* all of the frame was allocated */
    BN_clear(k);
    BN_clear(tmp);
  }
  BN_CTX_end(st->ctx);
  EC_POINT_clear_free(kG);
  BN_clear_free(d);
  if (!done) {
    napi_throw_error(env, "ERR_SM2_SIGN", fixed_k ? "SM2 signing failed for the given k" : "SM2 signing failed");
    return NULL;
  }
  return new_buffer(env, out, sizeof out);
}

/* ---------------------------------------------------------------- verifyDigest */

static napi_value verify_digest(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sm2_state *st = state_of(env);
  const uint8_t *pp, *ep, *sp;
  size_t pl, el, sl;
  int ok1 = 0, ok2 = 0, ok3 = 0;
  if (argc < 3) return throw_type(env, "verifyDigest(point, e, sig)");
  bytes_of(env, argv[0], &pp, &pl, &ok1);
  bytes_of(env, argv[1], &ep, &el, &ok2);
  bytes_of(env, argv[2], &sp, &sl, &ok3);
  if (!ok1 || !ok2 || !ok3) return throw_type(env, "verifyDigest: arguments must be bytes");
  if (el != HASH || sl != 2 * FIELD) return boolean(env, 0);

  EC_POINT *P = public_point(st, pp, pl);
  if (P == NULL) return boolean(env, 0);
  int valid = 0;
  EC_POINT *pt = EC_POINT_new(st->group);
  BN_CTX_start(st->ctx);
  BIGNUM *r = BN_CTX_get(st->ctx), *s = BN_CTX_get(st->ctx), *t = BN_CTX_get(st->ctx);
  BIGNUM *e = BN_CTX_get(st->ctx), *x1 = BN_CTX_get(st->ctx), *R = BN_CTX_get(st->ctx);
  /* B1, B2: r, s in [1, n-1]; B5: t = r + s mod n, t != 0; B6: (x1, y1) = [s]G + [t]P; B7: R = e + x1 mod n == r */
  if (pt != NULL && R != NULL && BN_bin2bn(sp, FIELD, r) != NULL && BN_bin2bn(sp + FIELD, FIELD, s) != NULL &&
      !BN_is_zero(r) && !BN_is_zero(s) && BN_cmp(r, st->order) < 0 && BN_cmp(s, st->order) < 0 &&
      BN_mod_add(t, r, s, st->order, st->ctx) && !BN_is_zero(t) && BN_bin2bn(ep, HASH, e) != NULL &&
      EC_POINT_mul(st->group, pt, s, P, t, st->ctx) && !EC_POINT_is_at_infinity(st->group, pt) &&
      EC_POINT_get_affine_coordinates(st->group, pt, x1, NULL, st->ctx) &&
      BN_mod_add(R, e, x1, st->order, st->ctx))
    valid = BN_cmp(R, r) == 0;
  BN_CTX_end(st->ctx);
  EC_POINT_free(pt);
  EC_POINT_free(P);
  return boolean(env, valid);
}

/* ---------------------------------------------------------------- encrypt */

static napi_value encrypt(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sm2_state *st = state_of(env);
  const uint8_t *pp, *mp, *kp = NULL;
  size_t pl, ml, kl = 0;
  int ok1, ok2, ok3 = 1;
  if (argc < 2) return throw_type(env, "encrypt(point, msg, k?)");
  bytes_of(env, argv[0], &pp, &pl, &ok1);
  bytes_of(env, argv[1], &mp, &ml, &ok2);
  int fixed_k = present(env, argv, argc, 2);
  if (fixed_k) bytes_of(env, argv[2], &kp, &kl, &ok3);
  if (!ok1 || !ok2 || !ok3 || (fixed_k && kl != FIELD)) return throw_type(env, "encrypt: bad argument");
  if (ml == 0) return throw_type(env, "encrypt: empty plaintext");
  EC_POINT *P = public_point(st, pp, pl);
  if (P == NULL) return throw_type(env, "encrypt: public key is not a point on the curve");

  size_t outlen = POINT + HASH + ml;
  uint8_t *out = malloc(outlen);
  uint8_t x2y2[2 * FIELD];
  int done = 0, failed = out == NULL;
  EC_POINT *C1 = EC_POINT_new(st->group), *kP = EC_POINT_new(st->group);
  BN_CTX_start(st->ctx);
  BIGNUM *k = BN_CTX_get(st->ctx);
  if (C1 == NULL || kP == NULL || k == NULL) failed = 1;
  if (!failed) BN_set_flags(k, BN_FLG_CONSTTIME);

  /* A1–A8 of GB/T 32918.4 §6.1, as OpenSSL's ossl_sm2_encrypt (h = 1, so S = [h]P is P). */
  while (!failed && !done) {
    if (fixed_k) {
      if (BN_bin2bn(kp, FIELD, k) == NULL || BN_is_zero(k) || BN_cmp(k, st->order) >= 0) { failed = 1; break; }
    } else {
      do {
        if (!BN_priv_rand_range_ex(k, st->order, 0, st->ctx)) { failed = 1; break; }
      } while (BN_is_zero(k));
      if (failed) break;
    }
    if (!EC_POINT_mul(st->group, C1, k, NULL, NULL, st->ctx) ||
        EC_POINT_point2oct(st->group, C1, POINT_CONVERSION_UNCOMPRESSED, out, POINT, st->ctx) != POINT ||
        !EC_POINT_mul(st->group, kP, NULL, P, k, st->ctx) || !affine_bytes(st, kP, x2y2) ||
        !kdf(st, x2y2, sizeof x2y2, out + POINT + HASH, ml)) { failed = 1; break; }
    /* A5: an all-zero t means a new k. */
    if (all_zero(out + POINT + HASH, ml)) {
      if (fixed_k) failed = 1;
      continue;
    }
    for (size_t i = 0; i < ml; i++) out[POINT + HASH + i] ^= mp[i];
    if (!c3_of(st, x2y2, mp, ml, out + POINT)) { failed = 1; break; }
    done = 1;
  }
  if (k != NULL) BN_clear(k);
  BN_CTX_end(st->ctx);
  OPENSSL_cleanse(x2y2, sizeof x2y2);
  EC_POINT_clear_free(kP);
  EC_POINT_free(C1);
  EC_POINT_free(P);
  napi_value result = NULL;
  if (done) result = new_buffer(env, out, outlen);
  else napi_throw_error(env, "ERR_SM2_ENCRYPT", "SM2 encryption failed");
  free(out);
  return result;
}

/* ---------------------------------------------------------------- decrypt */

static napi_value decrypt(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sm2_state *st = state_of(env);
  const uint8_t *dp, *cp;
  size_t dl, cl;
  int ok1, ok2;
  if (argc < 2) return throw_type(env, "decrypt(d, ciphertext)");
  bytes_of(env, argv[0], &dp, &dl, &ok1);
  bytes_of(env, argv[1], &cp, &cl, &ok2);
  if (!ok1 || !ok2) return throw_type(env, "decrypt: arguments must be bytes");
  BIGNUM *d = private_scalar(st, dp, dl);
  if (d == NULL) return throw_type(env, "decrypt: private key out of range");

  int done = 0;
  size_t ml = cl > POINT + HASH ? cl - POINT - HASH : 0;
  uint8_t *m = ml > 0 ? OPENSSL_secure_malloc(ml) : NULL;
  uint8_t x2y2[2 * FIELD], c3[HASH];
  EC_POINT *C1 = NULL, *S = EC_POINT_new(st->group);
  /* B1: C1 must be an uncompressed point on the curve, not infinity (public_point checks both). */
  if (m != NULL && S != NULL && (C1 = public_point(st, cp, POINT)) != NULL &&
      /* B3: (x2, y2) = [d]C1 */
      EC_POINT_mul(st->group, S, NULL, C1, d, st->ctx) && affine_bytes(st, S, x2y2) &&
      /* B4: t = KDF(x2 || y2, klen), not all zero */
      kdf(st, x2y2, sizeof x2y2, m, ml) && !all_zero(m, ml)) {
    /* B5: M' = C2 xor t; B6: u = SM3(x2 || M' || y2) must equal C3, compared in constant time. */
    for (size_t i = 0; i < ml; i++) m[i] ^= cp[POINT + HASH + i];
    if (c3_of(st, x2y2, m, ml, c3) && CRYPTO_memcmp(c3, cp + POINT, HASH) == 0) done = 1;
  }
  OPENSSL_cleanse(x2y2, sizeof x2y2);
  EC_POINT_clear_free(S);
  EC_POINT_free(C1);
  BN_clear_free(d);
  napi_value result = NULL;
  if (done) result = new_buffer(env, m, ml);
  else napi_throw_error(env, "ERR_SM2_DECRYPT", "SM2 decryption failed");
  if (m != NULL) OPENSSL_secure_clear_free(m, ml);
  return result;
}

/* ---------------------------------------------------------------- keys */

static napi_value public_from_private(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sm2_state *st = state_of(env);
  const uint8_t *dp;
  size_t dl;
  int ok;
  if (argc < 1) return throw_type(env, "publicFromPrivate(d)");
  bytes_of(env, argv[0], &dp, &dl, &ok);
  if (!ok) return throw_type(env, "publicFromPrivate: argument must be bytes");
  BIGNUM *d = private_scalar(st, dp, dl);
  if (d == NULL) return throw_type(env, "publicFromPrivate: private key out of range");
  uint8_t out[POINT];
  EC_POINT *P = EC_POINT_new(st->group);
  int done = P != NULL && EC_POINT_mul(st->group, P, d, NULL, NULL, st->ctx) &&
             EC_POINT_point2oct(st->group, P, POINT_CONVERSION_UNCOMPRESSED, out, POINT, st->ctx) == POINT;
  EC_POINT_free(P);
  BN_clear_free(d);
  if (!done) {
    napi_throw_error(env, "ERR_SM2_KEY", "SM2 public key derivation failed");
    return NULL;
  }
  return new_buffer(env, out, POINT);
}

static napi_value generate_private(napi_env env, napi_callback_info info) {
  sm2_state *st = state_of(env);
  uint8_t out[FIELD];
  BIGNUM *d = BN_secure_new();
  int done = 0;
  /* [0, n-2] from the RNG, zero rejected: d in [1, n-2] as GB/T 32918.1 §6.1 requires. */
  if (d != NULL) {
    do {
      if (!BN_priv_rand_range_ex(d, st->order_minus_1, 0, st->ctx)) break;
      done = !BN_is_zero(d);
    } while (!done);
  }
  if (done) done = BN_bn2binpad(d, out, FIELD) == FIELD;
  BN_clear_free(d);
  if (!done) {
    napi_throw_error(env, "ERR_SM2_KEY", "SM2 key generation failed");
    return NULL;
  }
  napi_value v = new_buffer(env, out, FIELD);
  OPENSSL_cleanse(out, sizeof out);
  return v;
}

static napi_value is_on_curve(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sm2_state *st = state_of(env);
  const uint8_t *pp;
  size_t pl;
  int ok;
  if (argc < 1) return throw_type(env, "isOnCurve(point)");
  bytes_of(env, argv[0], &pp, &pl, &ok);
  if (!ok) return throw_type(env, "isOnCurve: argument must be bytes");
  EC_POINT *P = public_point(st, pp, pl);
  EC_POINT_free(P);
  return boolean(env, P != NULL);
}

/* ---------------------------------------------------------------- module */

static void free_state(napi_env env, void *data, void *hint) {
  sm2_state *st = (sm2_state *)data;
  if (st == NULL) return;
  EVP_MD_CTX_free(st->mctx);
  EVP_MD_free(st->sm3);
  BN_CTX_free(st->ctx);
  BN_free(st->order_minus_1);
  EC_GROUP_free(st->group);
  free(st);
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  sm2_state *st = calloc(1, sizeof *st);
  if (st == NULL) return NULL;
  st->group = EC_GROUP_new_by_curve_name(NID_sm2);
  st->ctx = BN_CTX_new();
  st->sm3 = EVP_MD_fetch(NULL, "SM3", NULL);
  st->mctx = EVP_MD_CTX_new();
  st->order_minus_1 = BN_new();
  if (st->group == NULL || st->ctx == NULL || st->sm3 == NULL || st->mctx == NULL || st->order_minus_1 == NULL ||
      (st->order = EC_GROUP_get0_order(st->group)) == NULL || !BN_sub(st->order_minus_1, st->order, BN_value_one())) {
    free_state(env, st, NULL);
    napi_throw_error(env, "ERR_SM2_NATIVE", "OpenSSL has no SM2 curve or SM3 digest");
    return NULL;
  }
  /* One BN_CTX and digest context per environment (main thread or worker): N-API calls on one
     environment never run concurrently. */
  if (napi_set_instance_data(env, st, free_state, NULL) != napi_ok) {
    free_state(env, st, NULL);
    return NULL;
  }
  napi_property_descriptor props[] = {
      {"signDigest", NULL, sign_digest, NULL, NULL, NULL, napi_enumerable, NULL},
      {"verifyDigest", NULL, verify_digest, NULL, NULL, NULL, napi_enumerable, NULL},
      {"encrypt", NULL, encrypt, NULL, NULL, NULL, napi_enumerable, NULL},
      {"decrypt", NULL, decrypt, NULL, NULL, NULL, napi_enumerable, NULL},
      {"publicFromPrivate", NULL, public_from_private, NULL, NULL, NULL, napi_enumerable, NULL},
      {"generatePrivate", NULL, generate_private, NULL, NULL, NULL, napi_enumerable, NULL},
      {"isOnCurve", NULL, is_on_curve, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
