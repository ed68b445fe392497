/*
 * Tongban's SM2 addon (GB/T 32918.2 signatures, GB/T 32918.4 public-key encryption): the N-API
 * side. The arithmetic is in sm2_core.c.
 *
 * Built against the OpenSSL that Node ships and resolved from the node binary at load time,
 * so no second libcrypto is involved.
 *
 * The digest e = SM3(Z_A || M) is computed by the caller (TypeScript): the addon signs and
 * verifies digests. Encryption and decryption are complete here (KDF and C3 included), so the
 * plaintext of a failed C3 check never leaves the addon.
 *
 * Exports (all byte arguments are Buffers or Uint8Arrays):
 *   signDigest(d32, e32, k32?)        -> Buffer(64) r||s
 *   verifyDigest(point65, e32, sig64) -> boolean (false for any malformed input)
 *   encrypt(point65, msg, k32?)       -> Buffer C1(65)||C3(32)||C2
 *   decrypt(d32, c1c3c2)              -> Buffer (throws ERR_SM2_DECRYPT on any failure)
 *   signDigestAsync, verifyDigestAsync, encryptAsync, decryptAsync
 *                                     -> the same, as a Promise, computed on libuv's threadpool;
 *                                        rejected with the error (and code) the sync one throws
 *   publicFromPrivate(d32)            -> Buffer(65) 04||x||y
 *   generatePrivate()                 -> Buffer(32), d in [1, n-2]
 *   isOnCurve(point65)                -> boolean
 */
#include <node_api.h>
#include <openssl/crypto.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "sm2_core.h"

#define FIELD SM2_FIELD
#define POINT SM2_POINT
#define HASH SM2_HASH

/* Per environment (main thread or worker). The curve is read by the threadpool too; the BN_CTX
   and digest context serve the synchronous exports only, which run on the environment's thread.
   An async work in flight holds a reference, so the curve outlives the environment if need be. */
typedef struct {
  sm2_curve *curve;
  BN_CTX *ctx;
  EVP_MD_CTX *mctx;
  atomic_int refs;
} sm2_env;

static void env_release(sm2_env *st) {
  if (st == NULL || atomic_fetch_sub(&st->refs, 1) != 1) return;
  EVP_MD_CTX_free(st->mctx);
  BN_CTX_free(st->ctx);
  sm2_curve_free(st->curve);
  free(st);
}

/* ---------------------------------------------------------------- N-API helpers */

#define CHECK(call)                                             \
  do {                                                          \
    if ((call) != napi_ok) {                                    \
      napi_throw_error(env, "ERR_SM2_NATIVE", "N-API failure"); \
      return NULL;                                              \
    }                                                           \
  } while (0)

static sm2_env *state_of(napi_env env) {
  void *data = NULL;
  if (napi_get_instance_data(env, &data) != napi_ok) return NULL;
  return (sm2_env *)data;
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
  if (napi_get_boolean(env, b ? true : false, &v) != napi_ok) return NULL;
  return v;
}

/* An Error (or TypeError) with a `code`, as napi_throw_error would throw it; NULL on failure. */
static napi_value make_error(napi_env env, int type_error, const char *code, const char *msg) {
  napi_value c, m, err;
  if (napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &c) != napi_ok ||
      napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m) != napi_ok)
    return NULL;
  if ((type_error ? napi_create_type_error : napi_create_error)(env, c, m, &err) != napi_ok) return NULL;
  return err;
}

/* Is arg `i` present and not undefined? */
static int present(napi_env env, napi_value *argv, size_t argc, size_t i) {
  napi_valuetype t;
  if (i >= argc) return 0;
  if (napi_typeof(env, argv[i], &t) != napi_ok) return 0;
  return t != napi_undefined && t != napi_null;
}

/* ---------------------------------------------------------------- arguments and results */

enum { PARSE_OK, PARSE_BAD, PARSE_NAPI };

/* Reads the arguments of sign / verify / encrypt / decrypt. The pointers in `in` point into
   JavaScript memory: valid during this call only. PARSE_BAD sets *why (an ERR_SM2_INPUT). */
static int parse(napi_env env, napi_callback_info info, sm2_op op, sm2_in *in, size_t *e_len, size_t *sig_len, const char **why) {
  size_t argc = 3;
  napi_value argv[3];
  const uint8_t *p0 = NULL, *p1 = NULL, *p2 = NULL;
  size_t l0 = 0, l1 = 0, l2 = 0;
  int ok0 = 0, ok1 = 0, ok2 = 1;
  memset(in, 0, sizeof *in);
  *e_len = *sig_len = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return PARSE_NAPI;
  static const char *const usage[] = {"signDigest(d, e, k?)", "verifyDigest(point, e, sig)", "encrypt(point, msg, k?)", "decrypt(d, ciphertext)"};
  if (argc < (op == SM2_OP_VERIFY ? 3u : 2u)) {
    *why = usage[op];
    return PARSE_BAD;
  }
  bytes_of(env, argv[0], &p0, &l0, &ok0);
  bytes_of(env, argv[1], &p1, &l1, &ok1);
  int third = op == SM2_OP_VERIFY || ((op == SM2_OP_SIGN || op == SM2_OP_ENCRYPT) && present(env, argv, argc, 2));
  if (third) bytes_of(env, argv[2], &p2, &l2, &ok2);
  switch (op) {
    case SM2_OP_SIGN:
      if (!ok0 || !ok1 || !ok2 || l1 != HASH || (third && l2 != FIELD)) {
        *why = "signDigest: bad argument";
        return PARSE_BAD;
      }
      in->d = p0, in->d_len = l0, in->e = p1, in->k = third ? p2 : NULL;
      *e_len = l1;
      return PARSE_OK;
    case SM2_OP_VERIFY:
      if (!ok0 || !ok1 || !ok2) {
        *why = "verifyDigest: arguments must be bytes";
        return PARSE_BAD;
      }
      in->point = p0, in->point_len = l0, in->e = p1, in->sig = p2;
      *e_len = l1, *sig_len = l2;
      return PARSE_OK;
    case SM2_OP_ENCRYPT:
      if (!ok0 || !ok1 || !ok2 || (third && l2 != FIELD)) {
        *why = "encrypt: bad argument";
        return PARSE_BAD;
      }
      if (l1 == 0) {
        *why = "encrypt: empty plaintext";
        return PARSE_BAD;
      }
      in->point = p0, in->point_len = l0, in->data = p1, in->data_len = l1, in->k = third ? p2 : NULL;
      return PARSE_OK;
    case SM2_OP_DECRYPT:
      if (!ok0 || !ok1) {
        *why = "decrypt: arguments must be bytes";
        return PARSE_BAD;
      }
      in->d = p0, in->d_len = l0, in->data = p1, in->data_len = l1;
      return PARSE_OK;
  }
  return PARSE_NAPI;
}

/* verifyDigest answers false without computing when e or the signature has the wrong length. */
static int verify_lengths_bad(sm2_op op, size_t e_len, size_t sig_len) {
  return op == SM2_OP_VERIFY && (e_len != HASH || sig_len != SM2_SIG);
}

/* The JavaScript value of a result, or the error the operation throws (*is_error = 1). Both
   paths, sync and async, go through here, so they answer alike. NULL on an N-API failure. */
static napi_value settle(napi_env env, sm2_op op, int fixed_k, const sm2_out *out, int *is_error) {
  *is_error = 1;
  switch (out->status) {
    case SM2_OK:
      *is_error = 0;
      if (op == SM2_OP_SIGN) return new_buffer(env, out->sig, SM2_SIG);
      if (op == SM2_OP_VERIFY) return boolean(env, out->valid);
      return new_buffer(env, out->data, out->data_len);
    case SM2_BAD_KEY:
      return make_error(env, 1, "ERR_SM2_INPUT", op == SM2_OP_SIGN ? "signDigest: private key out of range" : "decrypt: private key out of range");
    case SM2_BAD_POINT:
      return make_error(env, 1, "ERR_SM2_INPUT", "encrypt: public key is not a point on the curve");
    case SM2_FAILED:
      break;
  }
  if (op == SM2_OP_SIGN) return make_error(env, 0, "ERR_SM2_SIGN", fixed_k ? "SM2 signing failed for the given k" : "SM2 signing failed");
  if (op == SM2_OP_ENCRYPT) return make_error(env, 0, "ERR_SM2_ENCRYPT", "SM2 encryption failed");
  if (op == SM2_OP_DECRYPT) return make_error(env, 0, "ERR_SM2_DECRYPT", "SM2 decryption failed");
  return make_error(env, 0, "ERR_SM2_NATIVE", "SM2 operation failed");
}

/* ---------------------------------------------------------------- synchronous exports */

static napi_value run_sync(napi_env env, napi_callback_info info, sm2_op op) {
  sm2_env *st = state_of(env);
  sm2_in in;
  size_t e_len, sig_len;
  const char *why = NULL;
  int parsed = parse(env, info, op, &in, &e_len, &sig_len, &why);
  if (parsed == PARSE_BAD) return throw_type(env, why);
  if (parsed != PARSE_OK || st == NULL) {
    napi_throw_error(env, "ERR_SM2_NATIVE", "N-API failure");
    return NULL;
  }
  if (verify_lengths_bad(op, e_len, sig_len)) return boolean(env, 0);
  sm2_out out;
  sm2_run(st->curve, st->ctx, st->mctx, op, &in, &out);
  int is_error;
  napi_value v = settle(env, op, in.k != NULL, &out, &is_error);
  sm2_out_clear(op, &out);
  if (v == NULL) {
    napi_throw_error(env, "ERR_SM2_NATIVE", "N-API failure");
    return NULL;
  }
  if (is_error) {
    napi_throw(env, v);
    return NULL;
  }
  return v;
}

static napi_value sign_digest(napi_env env, napi_callback_info info) { return run_sync(env, info, SM2_OP_SIGN); }
static napi_value verify_digest(napi_env env, napi_callback_info info) { return run_sync(env, info, SM2_OP_VERIFY); }
static napi_value encrypt(napi_env env, napi_callback_info info) { return run_sync(env, info, SM2_OP_ENCRYPT); }
static napi_value decrypt(napi_env env, napi_callback_info info) { return run_sync(env, info, SM2_OP_DECRYPT); }

/* ---------------------------------------------------------------- asynchronous exports */

/* One call on the threadpool. Its inputs are copied here on the JavaScript thread (the caller may
   reuse its buffers at once); private key, k and plaintext are wiped when the work is freed. */
typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  sm2_env *st;
  sm2_op op;
  sm2_in in; /* points into the copies below */
  sm2_out out;
  uint8_t d[FIELD], e[HASH], k[FIELD], point[POINT], sig[SM2_SIG];
  uint8_t *data; /* plaintext (encrypt: secure heap) or ciphertext (decrypt) */
  size_t data_len;
} sm2_work;

static void work_free(sm2_work *w) {
  if (w == NULL) return;
  if (w->data != NULL) {
    if (w->op == SM2_OP_ENCRYPT) OPENSSL_secure_clear_free(w->data, w->data_len);
    else free(w->data);
  }
  sm2_out_clear(w->op, &w->out);
  sm2_env *st = w->st;
  OPENSSL_cleanse(w, sizeof *w);
  free(w);
  env_release(st);
}

static sm2_work *work_new(sm2_op op, const sm2_in *src) {
  sm2_work *w = calloc(1, sizeof *w);
  if (w == NULL) return NULL;
  w->op = op;
  /* A key or point of the wrong length is not copied: the core refuses it by its length. */
  w->in.d_len = src->d_len;
  if (src->d != NULL && src->d_len == FIELD) memcpy(w->d, src->d, FIELD), w->in.d = w->d;
  if (src->e != NULL) memcpy(w->e, src->e, HASH), w->in.e = w->e;
  if (src->k != NULL) memcpy(w->k, src->k, FIELD), w->in.k = w->k;
  w->in.point_len = src->point_len;
  if (src->point != NULL && src->point_len == POINT) memcpy(w->point, src->point, POINT), w->in.point = w->point;
  if (src->sig != NULL) memcpy(w->sig, src->sig, SM2_SIG), w->in.sig = w->sig;
  if (src->data != NULL && src->data_len > 0) {
    w->data = op == SM2_OP_ENCRYPT ? OPENSSL_secure_malloc(src->data_len) : malloc(src->data_len);
    if (w->data == NULL) {
      work_free(w);
      return NULL;
    }
    memcpy(w->data, src->data, src->data_len);
    w->data_len = src->data_len;
    w->in.data = w->data;
    w->in.data_len = src->data_len;
  }
  return w;
}

/* On a threadpool thread: no N-API calls here, and contexts of its own. */
static void execute(napi_env env, void *data) {
  sm2_work *w = (sm2_work *)data;
  BN_CTX *ctx = BN_CTX_new();
  EVP_MD_CTX *mctx = w->op == SM2_OP_ENCRYPT || w->op == SM2_OP_DECRYPT ? EVP_MD_CTX_new() : NULL;
  /* Out of memory: a verification answers no, anything else fails. */
  if (ctx == NULL) w->out.status = w->op == SM2_OP_VERIFY ? SM2_OK : SM2_FAILED, w->out.valid = 0;
  else sm2_run(w->st->curve, ctx, mctx, w->op, &w->in, &w->out);
  EVP_MD_CTX_free(mctx);
  BN_CTX_free(ctx);
}

/* Settles a promise now; returns it (or NULL when even that failed). */
static napi_value settle_now(napi_env env, napi_deferred deferred, napi_value promise, napi_value v, int is_error) {
  if (v == NULL) v = make_error(env, 0, "ERR_SM2_NATIVE", "N-API failure"), is_error = 1;
  if (v == NULL || (is_error ? napi_reject_deferred : napi_resolve_deferred)(env, deferred, v) != napi_ok) return NULL;
  return promise;
}

/* Back on the JavaScript thread. */
static void complete(napi_env env, napi_status status, void *data) {
  sm2_work *w = (sm2_work *)data;
  int is_error = 1;
  napi_value v = NULL;
  if (status == napi_ok) v = settle(env, w->op, w->in.k != NULL, &w->out, &is_error);
  else v = make_error(env, 0, "ERR_SM2_NATIVE", status == napi_cancelled ? "SM2 work cancelled" : "N-API failure");
  settle_now(env, w->deferred, NULL, v, is_error);
  napi_delete_async_work(env, w->work);
  work_free(w);
}

static napi_value run_async(napi_env env, napi_callback_info info, sm2_op op) {
  sm2_env *st = state_of(env);
  napi_value promise, name;
  napi_deferred deferred;
  CHECK(napi_create_promise(env, &deferred, &promise));
  sm2_in in;
  size_t e_len, sig_len;
  const char *why = NULL;
  int parsed = parse(env, info, op, &in, &e_len, &sig_len, &why);
  if (parsed == PARSE_BAD) return settle_now(env, deferred, promise, make_error(env, 1, "ERR_SM2_INPUT", why), 1);
  if (parsed != PARSE_OK || st == NULL) return settle_now(env, deferred, promise, NULL, 1);
  if (verify_lengths_bad(op, e_len, sig_len)) return settle_now(env, deferred, promise, boolean(env, 0), 0);
  sm2_work *w = work_new(op, &in);
  if (w == NULL) return settle_now(env, deferred, promise, make_error(env, 0, "ERR_SM2_NATIVE", "out of memory"), 1);
  w->deferred = deferred;
  if (napi_create_string_utf8(env, "tongban:sm2", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, execute, complete, w, &w->work) != napi_ok) {
    work_free(w);
    return settle_now(env, deferred, promise, NULL, 1);
  }
  atomic_fetch_add(&st->refs, 1);
  w->st = st;
  if (napi_queue_async_work(env, w->work) != napi_ok) {
    napi_delete_async_work(env, w->work);
    work_free(w);
    return settle_now(env, deferred, promise, NULL, 1);
  }
  return promise;
}

static napi_value sign_digest_async(napi_env env, napi_callback_info info) { return run_async(env, info, SM2_OP_SIGN); }
static napi_value verify_digest_async(napi_env env, napi_callback_info info) { return run_async(env, info, SM2_OP_VERIFY); }
static napi_value encrypt_async(napi_env env, napi_callback_info info) { return run_async(env, info, SM2_OP_ENCRYPT); }
static napi_value decrypt_async(napi_env env, napi_callback_info info) { return run_async(env, info, SM2_OP_DECRYPT); }

/* ---------------------------------------------------------------- keys */

static napi_value public_from_private(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sm2_env *st = state_of(env);
  const uint8_t *dp = NULL;
  size_t dl = 0;
  int ok;
  if (argc < 1) return throw_type(env, "publicFromPrivate(d)");
  bytes_of(env, argv[0], &dp, &dl, &ok);
  if (!ok) return throw_type(env, "publicFromPrivate: argument must be bytes");
  uint8_t out[POINT];
  sm2_status s = sm2_public_from_private(st->curve, st->ctx, dp, dl, out);
  if (s == SM2_BAD_KEY) return throw_type(env, "publicFromPrivate: private key out of range");
  if (s != SM2_OK) {
    napi_throw_error(env, "ERR_SM2_KEY", "SM2 public key derivation failed");
    return NULL;
  }
  return new_buffer(env, out, POINT);
}

static napi_value generate_private(napi_env env, napi_callback_info info) {
  sm2_env *st = state_of(env);
  uint8_t out[FIELD];
  if (!sm2_generate_private(st->curve, st->ctx, out)) {
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
  sm2_env *st = state_of(env);
  const uint8_t *pp = NULL;
  size_t pl = 0;
  int ok;
  if (argc < 1) return throw_type(env, "isOnCurve(point)");
  bytes_of(env, argv[0], &pp, &pl, &ok);
  if (!ok) return throw_type(env, "isOnCurve: argument must be bytes");
  return boolean(env, sm2_is_on_curve(st->curve, st->ctx, pp, pl));
}

/* ---------------------------------------------------------------- module */

static void finalize_env(napi_env env, void *data, void *hint) { env_release((sm2_env *)data); }

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  sm2_env *st = calloc(1, sizeof *st);
  if (st == NULL) return NULL;
  atomic_init(&st->refs, 1);
  st->curve = sm2_curve_new();
  st->ctx = BN_CTX_new();
  st->mctx = EVP_MD_CTX_new();
  if (st->curve == NULL || st->ctx == NULL || st->mctx == NULL) {
    env_release(st);
    napi_throw_error(env, "ERR_SM2_NATIVE", "OpenSSL has no SM2 curve or SM3 digest");
    return NULL;
  }
  if (napi_set_instance_data(env, st, finalize_env, NULL) != napi_ok) {
    env_release(st);
    return NULL;
  }
  napi_property_descriptor props[] = {
      {"signDigest", NULL, sign_digest, NULL, NULL, NULL, napi_enumerable, NULL},
      {"verifyDigest", NULL, verify_digest, NULL, NULL, NULL, napi_enumerable, NULL},
      {"encrypt", NULL, encrypt, NULL, NULL, NULL, napi_enumerable, NULL},
      {"decrypt", NULL, decrypt, NULL, NULL, NULL, napi_enumerable, NULL},
      {"signDigestAsync", NULL, sign_digest_async, NULL, NULL, NULL, napi_enumerable, NULL},
      {"verifyDigestAsync", NULL, verify_digest_async, NULL, NULL, NULL, napi_enumerable, NULL},
      {"encryptAsync", NULL, encrypt_async, NULL, NULL, NULL, napi_enumerable, NULL},
      {"decryptAsync", NULL, decrypt_async, NULL, NULL, NULL, napi_enumerable, NULL},
      {"publicFromPrivate", NULL, public_from_private, NULL, NULL, NULL, napi_enumerable, NULL},
      {"generatePrivate", NULL, generate_private, NULL, NULL, NULL, napi_enumerable, NULL},
      {"isOnCurve", NULL, is_on_curve, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
