/**
 * Unicode helpers shared by the password and email rules. Internal: not re-exported from `cloakroom/auth`.
 */

// With the `u` flag a well-formed surrogate pair is one astral code point, so \p{Cs} matches only LONE surrogates.
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * True when the string holds an unpaired UTF-16 surrogate. Node encodes one as U+FFFD when it turns the string into
 * UTF-8, so "a\uD800" and "a\uDBFF" would hash alike (SECURITY-CHECKLIST §5.11): such input is refused, never hashed.
 */
export function hasLoneSurrogate(value: string): boolean {
  return LONE_SURROGATE.test(value);
}

/** Length in Unicode code points, not UTF-16 units: one emoji counts as one (NIST SP 800-63B-4 §3.1.1.2). */
export function countCodePoints(value: string): number {
  let count = 0;
  // for…of iterates code points; no array of the whole string is built.
  for (const _ of value) count += 1;
  return count;
}
