/*
 * The SM2 arithmetic of Tongban's addon, free of N-API so that it can run on libuv's threadpool
 * (see sm2.c for the JavaScript side).
 *
 * Threads: an sm2_curve (EC_GROUP, order, fetched SM3) is only read once built, and OpenSSL 3
 * allows read-only sharing of those between threads; its sm2_p256.c tables are read-only too,
 * except the list of known keys' tables, which grows under its own mutex. A BN_CTX or
 * EVP_MD_CTX is not shareable: every core call takes its own, and a caller on another thread
 * brings its own.
 */
#ifndef TONGBAN_SM2_CORE_H
#define TONGBAN_SM2_CORE_H

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#define SM2_FIELD 32
#define SM2_POINT 65
#define SM2_HASH 32
#define SM2_SIG (2 * SM2_FIELD)

/* The curve, built once, then read-only. */
typedef struct {
  EC_GROUP *group;
  const BIGNUM *order;
  BIGNUM *order_minus_1; /* private keys live in [1, n-2] */
  EVP_MD *sm3;
  struct sm2p_curve *fast; /* sm2_p256.c: the point multiplications */
} sm2_curve;

typedef enum { SM2_OP_SIGN, SM2_OP_VERIFY, SM2_OP_ENCRYPT, SM2_OP_DECRYPT } sm2_op;

typedef enum {
  SM2_OK = 0,
  SM2_BAD_KEY,   /* d outside [1, n-2] (an input error) */
  SM2_BAD_POINT, /* a public key that is not a point on the curve (an input error) */
  SM2_FAILED,    /* the operation failed: bad k, bad ciphertext, out of memory */
} sm2_status;

/* The inputs of one operation; lengths are checked by the cores before any byte is read. */
typedef struct {
  const uint8_t *d; /* sign, decrypt */
  size_t d_len;
  const uint8_t *e; /* sign, verify: SM2_HASH bytes */
  const uint8_t *k; /* sign, encrypt: SM2_FIELD bytes, or NULL for a random k */
  const uint8_t *point; /* verify, encrypt */
  size_t point_len;
  const uint8_t *sig; /* verify: SM2_SIG bytes */
  const uint8_t *data; /* encrypt: plaintext; decrypt: C1||C3||C2 */
  size_t data_len;
} sm2_in;

/* The result of one operation. `data` is owned by the result: free it with sm2_out_clear. */
typedef struct {
  sm2_status status;
  int valid;              /* verify */
  uint8_t sig[SM2_SIG];   /* sign: r||s */
  uint8_t *data;          /* encrypt: C1||C3||C2 (malloc); decrypt: plaintext (secure heap) */
  size_t data_len;
} sm2_out;

/* Builds the curve; NULL when OpenSSL lacks SM2 or SM3. */
sm2_curve *sm2_curve_new(void);
void sm2_curve_free(sm2_curve *c);

/* Runs one operation with the caller's own contexts (mctx may be NULL for sign and verify). */
void sm2_run(const sm2_curve *c, BN_CTX *ctx, EVP_MD_CTX *mctx, sm2_op op, const sm2_in *in, sm2_out *out);

/* Frees and, for a plaintext, wipes the data of a result. */
void sm2_out_clear(sm2_op op, sm2_out *out);

/* d·G as 04||x||y into out; SM2_BAD_KEY or SM2_FAILED otherwise. */
sm2_status sm2_public_from_private(const sm2_curve *c, BN_CTX *ctx, const uint8_t *d, size_t d_len, uint8_t out[SM2_POINT]);

/* A new private key d in [1, n-2]; returns 1 on success. */
int sm2_generate_private(const sm2_curve *c, BN_CTX *ctx, uint8_t out[SM2_FIELD]);

/* True when p is an uncompressed point on the curve, not infinity. */
int sm2_is_on_curve(const sm2_curve *c, BN_CTX *ctx, const uint8_t *p, size_t len);

#endif
