import tseslint from 'typescript-eslint';

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
);
