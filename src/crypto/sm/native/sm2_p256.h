/*
 * Point multiplication on the SM2 curve (GB/T 32918.5) in 64-bit limbs: the scalar
 * multiplications of sm2_core.c and the inverse mod n a signature needs; sm2_core.c keeps OpenSSL
 * for everything else (point validation, the other scalar operations mod n, SM3, random numbers).
 *
 * Field elements are four 64-bit limbs in Montgomery form, reduced with no multiplication by
 * using p's form (p ≡ -1 mod 2^64: each step's multiplier is the lowest word itself, and m·p is
 * shifts of m); points are homogeneous projective
 * and are added with the complete formula for a = -3 of Renes, Costello and Batina ("Complete
 * addition formulas for prime order elliptic curves", 2016, algorithm 4): no input is an
 * exception, the point at infinity and doubling included. The runs of doublings of a variable
 * point's multiplication are in Jacobian coordinates ("dbl-2001-b"), which has no exception on a
 * curve without points of order 2. Secret scalars go through fixed windows with every table
 * entry read (no branch and no memory address depends on them; the masks derived from them pass
 * through an empty asm so that no compiler makes them branches; test/crypto/native/sm2-ct.c
 * checks the compiled code under valgrind).
 *
 * The curve's constants (p, b, G) are read from OpenSSL's NID_sm2 group once, and checked: the
 * arithmetic needs p = 2^256 - 2^224 - 2^96 + 2^64 - 1's form (p ≡ -1 mod 2^64) and a = -3.
 */
#ifndef TONGBAN_SM2_P256_H
#define TONGBAN_SM2_P256_H

#include <openssl/ec.h>
#include <stdint.h>

/* The fixed-base table of G (64 windows of 16 multiples), built once, then read-only. */
typedef struct sm2p_curve sm2p_curve;

/* Builds the tables from OpenSSL's group; NULL when the group is not the SM2 curve. */
sm2p_curve *sm2p_new(const EC_GROUP *group);
void sm2p_free(sm2p_curve *c);

/* out = x || y (32 bytes each, big-endian) of k·G; k is 32 bytes big-endian. 0 when k·G is infinity. Constant time in k. */
int sm2p_mul_base(const sm2p_curve *c, const uint8_t k[32], uint8_t out[64]);

/* out = x || y of k·P, P = x || y a point on the curve (checked by the caller). 0 for infinity. Constant time in k. */
int sm2p_mul(const sm2p_curve *c, const uint8_t k[32], const uint8_t p[64], uint8_t out[64]);

/*
 * Public keys met again and again (partners' signing and encryption keys) get a table of their
 * own, as G has, the first SM2P_KEY_TABLES of them (98 KiB each, kept while the curve lives):
 * a multiplication by such a key then costs what one by G does. Never for points a sender
 * chooses per message (a ciphertext's C1): those go through sm2p_mul.
 */
#define SM2P_KEY_TABLES 32

/* out = x || y of k·P for a known public key P (checked by the caller). 0 for infinity. Constant time in k. */
int sm2p_mul_known(sm2p_curve *c, const uint8_t k[32], const uint8_t p[64], uint8_t out[64]);

/* out = x || y of s·G + t·P, P a known public key (signature verification). 0 for infinity. */
int sm2p_mul2(sm2p_curve *c, const uint8_t s[32], const uint8_t t[32], const uint8_t p[64], uint8_t out[64]);

/* out = a^-1 mod n (the group's order), a and out 32 bytes big-endian; 0 when a is not in [1, n-1].
   Constant time in a (signing inverts 1 + d). */
int sm2p_scalar_inv(const sm2p_curve *c, const uint8_t a[32], uint8_t out[32]);

#endif
