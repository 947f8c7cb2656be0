/**
 * Every token-shaped rule (src/mask/token-rules.ts) with examples that must be
 * masked and look-alikes that must not: hashes, UUIDs, commit SHAs and ids
 * people need stay as they are. Values are generated (test/helpers/fake-secrets.ts).
 */
import { createHash, randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { maskText, type Hits } from "../../src/mask/mask.js";
import { shannonEntropy, TOKEN_RULES } from "../../src/mask/token-rules.js";
import { B64, fake, j, rand, UPPER_B32 } from "../helpers/fake-secrets.js";

const onlyRules = { secrets: [] };
const mask = (text: string) => {
  const hits: Hits = {};
  return { text: maskText(text, onlyRules, hits), hits };
};

/** rule id → a generator of a value it must mask, and the kind it reports. */
const POSITIVE: Record<string, { make: () => string; kind: string; secret?: (v: string) => string }> = {
  "private-key": { make: fake.pem, kind: "private-key" },
  "downscope:private-key-truncated": {
    make: () => fake.pem().split("\n").slice(0, 4).join("\n"),
    kind: "private-key",
  },
  "downscope:aws-secret-key-near-id": {
    make: () => `${fake.awsKeyId()}  ${fake.awsSecret()}`,
    kind: "aws-secret-key",
  },
  "downscope:aws-secret-key-named": {
    make: () => `aws_secret_access_key = ${fake.awsSecret()}`,
    kind: "aws-secret-key",
  },
  "downscope:aws-session-token": {
    make: () => `"SessionToken": "${rand(300, B64)}"`,
    kind: "aws-session-token",
  },
  "downscope:aws-session-token-prefix": { make: fake.awsSessionToken, kind: "aws-session-token" },
  "github-fine-grained-pat": { make: fake.githubFineGrained, kind: "github-fine-grained-pat" },
  "github-pat": { make: fake.githubPat, kind: "github-pat" },
  "github-oauth": { make: fake.githubOauth, kind: "github-oauth" },
  "github-app-token": { make: fake.githubApp, kind: "github-app" },
  "github-refresh-token": { make: fake.githubRefresh, kind: "github-refresh" },
  "gitlab-pat": { make: fake.gitlab, kind: "gitlab-pat" },
  "anthropic-admin-api-key": { make: fake.anthropicAdmin, kind: "anthropic-admin-key" },
  "anthropic-api-key": { make: fake.anthropic, kind: "anthropic-key" },
  "openai-api-key": { make: fake.openai, kind: "openai-key" },
  "slack-config-access-token": { make: fake.slackConfigAccess, kind: "slack-token" },
  "slack-config-refresh-token": { make: fake.slackConfigRefresh, kind: "slack-token" },
  "slack-bot-token": { make: fake.slackBot, kind: "slack-token" },
  "slack-user-token": { make: fake.slackUser, kind: "slack-token" },
  "slack-app-token": { make: fake.slackApp, kind: "slack-token" },
  "slack-legacy-token": { make: fake.slackLegacy, kind: "slack-token" },
  "slack-legacy-bot-token": { make: fake.slackLegacyBot, kind: "slack-token" },
  "slack-legacy-workspace-token": { make: fake.slackWorkspace, kind: "slack-token" },
  "slack-webhook-url": { make: fake.slackWebhook, kind: "slack-webhook" },
  "npm-access-token": { make: fake.npm, kind: "npm-token" },
  "stripe-access-token": { make: fake.stripe, kind: "stripe-key" },
  "gcp-api-key": { make: fake.gcpApiKey, kind: "gcp-api-key" },
  "downscope:google-oauth-access-token": { make: fake.googleAccess, kind: "google-token" },
  jwt: { make: fake.jwt, kind: "jwt" },
  "aws-access-token": { make: fake.awsKeyId, kind: "aws-key-id" },
};

/** Contexts a token shows up in: plain, quoted in JSON, after a JSON `\n` escape, an assignment, a URL. */
const CONTEXTS: { json?: true; wrap: (t: string) => string }[] = [
  { wrap: (t) => t },
  { wrap: (t) => `value: ${t}\nnext line` },
  { json: true, wrap: (t) => JSON.stringify({ data: { token: t, n: 1 } }) },
  { json: true, wrap: (t) => JSON.stringify(`line one\n${t}\nline three`) },
  { wrap: (t) => `export TOKEN='${t}';` },
];

describe("token-shaped rules", () => {
  it("every rule has a positive example here, and every example's source is recorded", () => {
    expect(Object.keys(POSITIVE).sort()).toEqual(TOKEN_RULES.map((r) => r.id).sort());
    for (const r of TOKEN_RULES) expect(r.source, r.id).toMatch(/gitleaks v8\.30\.1|^downscope:/);
  });

  for (const rule of TOKEN_RULES) {
    const p = POSITIVE[rule.id]!;
    it(`${rule.id}: masked in every context, as [masked:${p.kind}] or shorter, never lengthening`, () => {
      for (const context of CONTEXTS) {
        const value = p.make();
        const text = context.wrap(value);
        const r = mask(text);
        // The secret part is gone (for context rules, the part after the name).
        const secret = rule.id.includes("near-id")
          ? value.split("  ")[1]!
          : value.replace(/^.*[=:] "?/, "").replace(/"$/, "");
        expect(r.text, `${rule.id} in ${JSON.stringify(text).slice(0, 120)}`).not.toContain(secret.slice(-24));
        expect(Object.keys(r.hits)).toContain(p.kind);
        expect(r.text.length).toBeLessThanOrEqual(text.length);
        // Masking inside JSON text leaves it valid JSON of the same shape.
        if (context.json) expect(typeof JSON.parse(r.text)).toBe(typeof JSON.parse(text));
      }
    });
  }

  const sha1 = () => createHash("sha1").update(rand(20)).digest("hex");
  const sha256 = () => createHash("sha256").update(rand(20)).digest("hex");
  const NEGATIVE: [string, () => string][] = [
    ["a git commit SHA", sha1],
    ["a sha256 hex digest", sha256],
    ["a sha256 with its algorithm", () => `sha256:${sha256()}`],
    ["a UUID", () => randomUUID()],
    ["an upper-case UUID", () => randomUUID().toUpperCase()],
    ["a published AWS example key id", () => j("AKIA", "IOSFODNN7", "EXAMPLE")],
    ["ghp_ with one character too few", () => j("gh", "p_", rand(35), " ")],
    ["a key id in lower case", () => j("akia", rand(16, UPPER_B32).toLowerCase())],
    ["a low-entropy ghp_ run", () => j("gh", "p_", "a".repeat(36))],
    ["a base64 blob without a name", () => rand(40, B64)],
    ["an npm package version", () => "npm_config_cache=/home/u/.npm and npm@10.8.2"],
    ["a docker image digest", () => `sha256:${sha256()}@ghcr.io/org/image`],
    [
      "a PEM certificate (public)",
      () => j("-----BEGIN ", "CERTIFICATE-----\n", rand(64, B64), "\n-----END CERTIFICATE-----"),
    ],
    ["a PEM public key", () => j("-----BEGIN ", "PUBLIC KEY-----\n", rand(64, B64), "\n-----END PUBLIC KEY-----")],
    ["a short eyJ string", () => "eyJhbGciOi.eyJzdWIi.abc"],
    ["an ISO date and a version", () => "2026-12-08T00:31:12Z v8.30.1 build 7f3a9c2"],
    ["a Kubernetes resource version and uid", () => `resourceVersion: "123456789" uid: ${randomUUID()}`],
  ];
  for (const [name, make] of NEGATIVE)
    it(`not masked: ${name}`, () => {
      for (let i = 0; i < 5; i++) {
        const text = `x ${make()} y`;
        expect(mask(text).text).toBe(text);
      }
    });

  it("a commit SHA next to an access key id is not taken for its secret key", () => {
    const sha = sha1();
    const r = mask(`${fake.awsKeyId()} ${sha}`);
    expect(r.text).toBe(`[masked:aws-key-id] ${sha}`);
  });

  it("entropy is gitleaks' Shannon entropy", () => {
    expect(shannonEntropy("")).toBe(0);
    expect(shannonEntropy("aaaa")).toBe(0);
    expect(shannonEntropy("abcd")).toBe(2);
  });

  it("runs in linear time on adversarial input (no catastrophic backtracking)", () => {
    const big = 200_000;
    const inputs = [
      "ey".repeat(big / 2),
      `ey${"a".repeat(big)}`,
      `${"AKIA".repeat(big / 4)}`,
      `AKIA${"A".repeat(16)}${" ".repeat(big)}`,
      `-----BEGIN PRIVATE KEY-----${"A".repeat(big)}`,
      "-----BEGIN PRIVATE KEY-----".repeat(big / 30),
      "xoxb-1234567890-".repeat(big / 16),
      "hooks.slack.com/services/".repeat(big / 25),
      `aws_secret_access_key=${"a".repeat(big)}`,
      `SessionToken: ${"A".repeat(big)}`,
      "sk-ant-api03-".repeat(big / 13),
    ];
    for (const input of inputs) {
      const t0 = performance.now();
      mask(input);
      // Generous: a quadratic pattern takes minutes here, a linear one milliseconds.
      expect(performance.now() - t0, input.slice(0, 30)).toBeLessThan(2000);
    }
  });
});
