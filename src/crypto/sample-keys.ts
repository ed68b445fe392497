/**
 * Fingerprints (keyFileFingerprint in keyring.ts) of every private key and secret published in
 * certs-example/: a gateway holding one of them refuses to serve (GatewayKeyring.sampleKeys).
 * Committed, so that a copied sample is caught where certs-example/ is not shipped;
 * test/crypto/sample-keys.test.ts keeps the list equal to the folder (it prints the new list when
 * certs-example/make.sh has been run again).
 */
export const SAMPLE_KEYS: ReadonlyMap<string, string> = new Map([
  ['posEicCYT2dGQ9t3wyQJobSjaamHazlmuonymDI9EYw', 'certs-example/ca/p256-root.key.pem'],
  ['OVrMIK0J-tvzsbSibjwGbzm9IuvROGJ8o5t_25cTkQE', 'certs-example/ca/sm2-root.key.pem'],
  ['NUgYGF51aL-9ACyYijMg9bqSQqCXCdvKtooaEBRbP1A', 'certs-example/gateway/enc-ec.key.pem'],
  ['s2pH4wnf4HNU9rnlON9Xewv9t-X_w-mRcMdYJsRxe9A', 'certs-example/gateway/enc-rsa.key.pem'],
  ['NXD0AJi_AAGnDiMj8CNPmwkIIPE7YpS-KS0k-oouLiI', 'certs-example/gateway/enc-sm2.key.pem'],
  ['FmvN_1foQOHcfylWkVdc3Sp4L1BAgJit6XCgp-rgKuo', 'certs-example/gateway/partners/TAX_231221.secret'],
  ['cLOG2MKnhlLUoLkWp3xj-N5ZVi2_soLYiDLeu6_Gf1Y', 'certs-example/gateway/sign-es256.key.pem'],
  ['kCO4jSyQxVe3WxwdFtLWj4LvZbIJJyxr253LCYfFQT4', 'certs-example/gateway/sign-sm2.key.pem'],
  ['L_S_Ub81B7H_DFabLRo0Dh6JImxb9rYc-XLFcBJ6QV8', 'certs-example/gateway/store.key'],
  ['ZMMdDR19ZXM0-grOuvHc9WPKFyh6eYp08bfCqBRG82k', 'certs-example/gateway/token.key'],
  ['7wPm1ku_LER9K52Gzbj6tHHsuCEmgV7eutuvQzMfntY', 'certs-example/participants/BANK_91230100MA1B2C3D49_suihua/enc-rsa.key.pem'],
  ['xEqhiXnRPwA_axElwJt1584Q9zZxUPnGIDPX0FrLjHw', 'certs-example/participants/BANK_91230100MA1B2C3D49_suihua/enc-sm2.key.pem'],
  ['11mUAlgMVCAEZAUARNqSrjDaTXsM8WwH2IC-OdXfcb8', 'certs-example/participants/BANK_91230100MA1B2C3D49_suihua/sign-es256.key.pem'],
  ['0fztZkJ6KAmXolzynIPZbLhMDpgEL8PSr5xnUVZ9Lxw', 'certs-example/participants/BANK_91230100MA1B2C3D49_suihua/sign-sm2.key.pem'],
  ['BoQtF-1mA0pFbbIfX6j34J4hp4MPrb44lDPEZ0uVnBU', 'certs-example/participants/HOUSING_231200/enc-rsa.key.pem'],
  ['DM0OTX54bgReod8tujxsSXrn6Wxz_Y4QDpWoaejphMM', 'certs-example/participants/HOUSING_231200/enc-sm2.key.pem'],
  ['Eqb25tAsJ8zOS9J3-xiw7XPnGENlil_oymb5Ow742Fg', 'certs-example/participants/HOUSING_231200/sign-es256.key.pem'],
  ['kY3UMnqK3Vn4iZ5ddDnFu9VRsM2STbhLLjc75qURxiU', 'certs-example/participants/HOUSING_231200/sign-sm2.key.pem'],
  ['jTMsYG21LeXf6-0RK0Gb0DLuvTwzZ-_bqlTgRmKtGN8', 'certs-example/participants/COURT_11231202MB00123459/enc-rsa.key.pem'],
  ['Brr_DfvKWyxlDohXwkJsyHhCvPaRTZhR8duJ7cdxSYw', 'certs-example/participants/COURT_11231202MB00123459/enc-sm2.key.pem'],
  ['kICs2OQQBZnt79Spyu3Fp-06wMiyE6ZUiadxMpugB3I', 'certs-example/participants/COURT_11231202MB00123459/sign-es256.key.pem'],
  ['QZXpPIEEGt09pcxw5wnIbPuDYTuoBfJ8iw4GWBewRyo', 'certs-example/participants/COURT_11231202MB00123459/sign-sm2.key.pem'],
  ['Gel81DDM42j07gQcbw-9n2zF3uDzFdKy4OzSXDngsXo', 'certs-example/participants/OPS_demo-operator/sign-es256.key.pem'],
  ['_iuGqNV9pvrkV0alTjoRWjt4uVKzF5sT7pWKFcpdslU', 'certs-example/participants/OPS_demo-operator/sign-sm2.key.pem'],
  ['Uhq4rFivlnoh2yDPv0fpb6LRwaMgq8YyxncVZTTHtfg', 'certs-example/participants/REG_231202/enc-rsa.key.pem'],
  ['W_quXZHiVMs1Ov-LsUq_iXhhwdiyPsA5ibFc3SAfTD8', 'certs-example/participants/REG_231202/enc-sm2.key.pem'],
  ['tqw7Pm3T5om_G0sQzOgkrrCAVB6Kt0DLkmuFLK1d2Lo', 'certs-example/participants/REG_231202/sign-es256.key.pem'],
  ['XOQm3HwmWnX2TTvzjJ6viy5Tpy2KlOzAL6-9PDOeoxk', 'certs-example/participants/REG_231202/sign-sm2.key.pem'],
  ['Ra8ICBLyehyoV73Y2Cu8Y2yaUfNRqLVP9qt1zC-r0_g', 'certs-example/participants/REG_231221/enc-rsa.key.pem'],
  ['H1PnWG5-RkERVWVedxFLmESbKvH9oLzwlVOx0aCSUJs', 'certs-example/participants/REG_231221/enc-sm2.key.pem'],
  ['qCMrS2Syc-wgTI6-waKpcEqF9skpKS0uBwiufQBka4k', 'certs-example/participants/REG_231221/sign-es256.key.pem'],
  ['JPxbf_btHUhL4D-x1-od9BSzZK0jp3QehE0PLVtvVns', 'certs-example/participants/REG_231221/sign-sm2.key.pem'],
  ['08ht7xV6Vf-_F3pNPzEAwGXIahM7SU0_RnS2DOg-liY', 'certs-example/participants/TAX_231202/enc-rsa.key.pem'],
  ['Fs5j0cIm04bu8vMQpnrkJjhSiv5hI86VLsG4eV9ZVx4', 'certs-example/participants/TAX_231202/enc-sm2.key.pem'],
  ['ClWHX9loUKNaFCbQ-iXDOzKIGRXNeAfp5ur7rlTxRns', 'certs-example/participants/TAX_231202/sign-es256.key.pem'],
  ['uBZNia4ITvnHedWOUxOVL22PuQL9WPvLuJvNsHyQE80', 'certs-example/participants/TAX_231202/sign-sm2.key.pem'],
  ['osNBx9mqU1blZcKmd79VvrTXkxZm13eCZYql_mVlSGE', 'certs-example/participants/TAX_231221/enc-rsa.key.pem'],
  ['gmzH12RKu6Q-CRNJpx6BeWuQ3QWxT9kFqVNTfnCbXU4', 'certs-example/participants/TAX_231221/enc-sm2.key.pem'],
  ['VbDWqoUVAU1v2QkFtDrbdwy9hizi7R00c5EtFDCCP54', 'certs-example/participants/TAX_231221/sign-es256.key.pem'],
  ['8nKp_O433UYZhlfYYcsTLpiUnGH6-lD7wZZ21W3KEKA', 'certs-example/participants/TAX_231221/sign-sm2.key.pem'],
])
