import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(js.configs.recommended, ...tseslint.configs.recommended, {
  // The end-to-end driver is plain Node.js, run outside VS Code.
  files: ['e2e/**/*.mjs'],
  languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
});
