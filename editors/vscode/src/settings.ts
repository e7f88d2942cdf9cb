// VS Code settings (`treellama.*`) as the server's configuration: the same sections and
// keys as treellama.toml, sent as initializationOptions under "treellama". Empty strings are
// left out so that the server's own defaults apply.

export const SETTING_KEYS = [
  'model.name',
  'model.path',
  'completion.enabled',
  'completion.maxLines',
  'completion.maxTokens',
  'completion.suggestions',
  'completion.promptLayout',
  'index.retrieval',
  'agent.approvalPolicy',
  'agent.effort',
  'agent.sandbox',
  'web.enabled',
] as const;

export type ServerSettings = Record<string, Record<string, unknown>>;

export function serverSettings(get: (key: string) => unknown): ServerSettings {
  const settings: ServerSettings = {};
  for (const key of SETTING_KEYS) {
    const value = get(key);
    if (value === undefined || value === null || value === '') {
      continue;
    }
    const [section, name] = key.split('.');
    settings[section] = { ...(settings[section] ?? {}), [name]: value };
  }
  return settings;
}
