// Type-aware linting. import-x/no-cycle and the restricted-paths zones keep
// the dependency direction of docs/architecture.md: cli → hook | exec | mcp →
// policy, credentials; nothing imports cli/; only exec/ reaches credentials/.
import tseslint from "typescript-eslint";
import importX from "eslint-plugin-import-x";

export default tseslint.config(
  {
    ignores: [
      "dist/**",
      "node_modules/**",
      "test/fixtures/**",
      "test/.e2e/**",
      "coverage/**",
      "bin/**",
      "**/*.mjs",
      "**/*.cjs",
      "eslint.config.js",
      "vitest.config.ts",
    ],
  },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { "import-x": importX },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/switch-exhaustiveness-check": "error",
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/require-await": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "import-x/no-cycle": "error",
      "import-x/no-restricted-paths": [
        "error",
        {
          zones: [
            {
              target: "./src/!(cli)/**",
              from: "./src/cli/!(io.ts)",
              message: "nothing imports cli/ (except the Io type)",
            },
            {
              target: "./src/policy/**",
              from: ["./src/hook", "./src/exec", "./src/mcp", "./src/credentials", "./src/shell"],
              message: "policy/ is the pure core",
            },
            {
              target: "./src/shell/**",
              from: ["./src/hook", "./src/exec", "./src/mcp", "./src/credentials", "./src/policy"],
              message: "shell/ is pure",
            },
            {
              target: ["./src/hook/**", "./src/mcp/**", "./src/policy/**", "./src/shell/**"],
              from: "./src/credentials",
              message: "only exec/ (and the credential-process command) call credentials/",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["test/**", "bench/**"],
    rules: {
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-non-null-assertion": "off",
    },
  },
);
