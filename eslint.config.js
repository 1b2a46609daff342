import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      'no-empty': ['error', { allowEmptyCatch: true }],
      'no-control-regex': 'off',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // The server's engine/ is the one owner of its store and key layout (docs/design/server.md):
    // handlers parse, call the engine and format, and never reach the store or paths.ts.
    files: ['packages/server/src/handlers/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@bucketdb/store',
              allowImportNames: ['bareEtag', 'mapConcurrent'],
              message: 'handlers reach the store only through engine/ (bareEtag and mapConcurrent are allowed).',
            },
          ],
          patterns: [{ group: ['**/paths', '**/paths.js'], message: 'the key layout belongs to engine/.' }],
        },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[property.name='store']",
          message: 'handlers reach the store only through engine/ (ctx.state.objects, buckets, uploads).',
        },
      ],
    },
  },
);
