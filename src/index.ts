/** Library exports: the policy engine and the Agent SDK hook. */
export { decide, decideWithPolicy, describeDecision, loadPolicy } from "./policy/index.js";
export type { Decision, Grant, Invocation, Policy, Layer, LayerName } from "./policy/index.js";
export { ConfigSchema, type Config, type Rule, type Service } from "./policy/schema.js";
export { downscopeHook, downscopeHooks, downscopeMaskHook, type DownscopeHookOptions } from "./agent-sdk.js";
