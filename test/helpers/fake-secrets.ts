/**
 * Token-shaped test values built at run time from a seeded generator, so no
 * test file holds a string a secret scanner would flag (and none is real).
 */
const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
export const UPPER_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
export const LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789";
export const B64 = `${ALNUM}/+`;
export const URLSAFE = `${ALNUM}-_`;
export const DIGITS = "0123456789";

/** mulberry32: small, seeded, good enough to spread characters. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let counter = 1;
/** `n` characters of `alphabet`, different on every call (deterministic across runs). */
export function rand(n: number, alphabet = ALNUM, seed = counter++): string {
  const r = rng(seed * 2654435761);
  let s = "";
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(r() * alphabet.length)];
  return s;
}

/** A string joined from parts, so the literal never appears in the source. */
export const j = (...parts: string[]) => parts.join("");

export const fake = {
  githubPat: () => j("gh", "p_", rand(36)),
  githubOauth: () => j("gh", "o_", rand(36)),
  githubApp: () => j("gh", "s_", rand(36)),
  githubUser: () => j("gh", "u_", rand(36)),
  githubRefresh: () => j("gh", "r_", rand(36)),
  githubFineGrained: () => j("github", "_pat_", rand(22), "_", rand(59)),
  awsKeyId: () => j("AK", "IA", rand(16, UPPER_B32)),
  awsTempKeyId: () => j("AS", "IA", rand(16, UPPER_B32)),
  awsSecret: () => {
    for (;;) {
      const s = rand(40, B64);
      if (/[A-Z]/.test(s) && /[a-z]/.test(s) && /[0-9]/.test(s)) return s;
    }
  },
  awsSessionToken: () => j("IQoJb3Jp", "Z2luX2VjE", rand(300, B64)),
  gitlab: () => j("gl", "pat-", rand(20, URLSAFE)),
  anthropic: () => j("sk-ant-", "api03-", rand(93, URLSAFE), "AA"),
  anthropicAdmin: () => j("sk-ant-", "admin01-", rand(93, URLSAFE), "AA"),
  openai: () => j("sk-", "proj-", rand(74, URLSAFE), "T3Blbk", "FJ", rand(74, URLSAFE)),
  openaiLegacy: () => j("sk-", rand(20), "T3Blbk", "FJ", rand(20)),
  slackBot: () => j("xo", "xb-", rand(12, DIGITS), "-", rand(12, DIGITS), "-", rand(24)),
  slackUser: () =>
    j("xo", "xp-", rand(12, DIGITS), "-", rand(12, DIGITS), "-", rand(12, DIGITS), "-", rand(32, LOWER_ALNUM)),
  slackApp: () => j("xa", "pp-1-A", rand(10, UPPER_B32), "-", rand(13, DIGITS), "-", rand(64, LOWER_ALNUM)),
  slackLegacy: () =>
    j("xo", "xs-", rand(10, DIGITS), "-", rand(10, DIGITS), "-", rand(12, DIGITS), "-", rand(20, "0123456789abcdef")),
  slackLegacyBot: () => j("xo", "xb-", rand(10, DIGITS), "-", rand(22)),
  slackWorkspace: () => j("xo", "xa-2-", rand(30)),
  slackConfigAccess: () => j("xoxe.", "xoxp-1-", rand(164, `${UPPER_B32}01`)),
  slackConfigRefresh: () => j("xo", "xe-1-", rand(146, `${UPPER_B32}01`)),
  slackWebhook: () =>
    j("https://hooks.", "slack.com/services/T", rand(8, UPPER_B32), "/B", rand(8, UPPER_B32), "/", rand(24)),
  npm: () => j("np", "m_", rand(36, LOWER_ALNUM)),
  stripe: () => j("sk", "_live_", rand(24)),
  gcpApiKey: () => j("AI", "za", rand(35, URLSAFE)),
  googleAccess: () => j("ya", "29.", rand(120, URLSAFE)),
  jwt: () => {
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
    return j(
      b64({ alg: "RS256", kid: rand(20) }),
      ".",
      b64({ iss: "kubernetes/serviceaccount", sub: rand(30) }),
      ".",
      rand(86, URLSAFE),
    );
  },
  pem: () =>
    j(
      "-----BEGIN RSA ",
      "PRIVATE KEY-----\n",
      Array.from({ length: 6 }, () => rand(64, B64)).join("\n"),
      "\n-----END RSA PRIVATE KEY-----",
    ),
};
