import argon2 from 'argon2'

/**
 * Operators' passwords: argon2id (RFC 9106) through the maintained `argon2` binding, stored as
 * its PHC string. The parameters are RFC 9106 §4's second recommended option (64 MiB, 3 passes),
 * which costs about 0.1 s here; a stored hash carries its own parameters, so they may rise later.
 */
const OPTIONS = { type: argon2.argon2id, memoryCost: 65_536, timeCost: 3, parallelism: 4 } as const

/** The rules a new password must meet (checked before hashing; the reason is said to the operator). */
export function passwordFault(password: string): string | undefined {
  if ([...password].length < 12) return 'a password has at least 12 characters'
  if ([...password].length > 256) return 'a password has at most 256 characters'
  if (/^(.)\1*$/u.test(password)) return 'a password is not one character repeated'
  return undefined
}

/** Hashes a password with argon2id (a fresh salt each time). */
export async function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, OPTIONS)
}

/** Checks a password against its stored hash; false for a wrong one or a malformed hash. */
export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password)
  } catch {
    return false
  }
}

/**
 * A hash of nothing anyone knows, verified when the username does not exist, so that an unknown
 * name takes as long to refuse as a wrong password (no account probing by timing).
 */
let decoy: Promise<string> | undefined
export async function spendPasswordTime(password: string): Promise<void> {
  decoy ??= argon2.hash('tongban-decoy-password-never-valid', OPTIONS)
  await verifyPassword(await decoy, password)
}
