import tseslint from 'typescript-eslint';
import { plugin as patchbay } from './scripts/import-zones.mjs';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'build/**', 'assembly/**', 'test/.tmp/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      'max-lines': ['error', 500],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-imports': 'off',
    },
  },
  {
    // the layers of runtime/: imports point down only (LAYERS in scripts/import-zones.mjs)
    files: ['runtime/**/*.ts'],
    plugins: { patchbay },
    rules: { 'patchbay/import-zones': 'error' },
  },
);
