// The status bar item's text: model loading, ready, busy or error, with the last latency.

export interface StatusInput {
  modelState: string | undefined; // from treellama.status: loading, ready, unavailable, ...
  message?: string;
  fix?: string;
  busy: boolean; // an agent task or a completion is running
  lastLatencyMs?: number;
}

export function statusText(input: StatusInput): { text: string; tooltip: string } {
  const latency = input.lastLatencyMs !== undefined ? ` ${Math.round(input.lastLatencyMs)} ms` : '';
  switch (input.modelState) {
    case undefined:
      return { text: '$(circle-slash) treellama', tooltip: 'treellama: the server is not running' };
    case 'loading':
    case 'not_loaded':
      return { text: '$(loading~spin) treellama', tooltip: 'treellama: loading the model' };
    case 'ready':
      return input.busy
        ? { text: `$(sync~spin) treellama${latency}`, tooltip: 'treellama: working' }
        : { text: `$(check) treellama${latency}`, tooltip: `treellama: ${input.message ?? 'ready'}` };
    default:
      return {
        text: '$(error) treellama',
        tooltip: `treellama: ${input.message ?? input.modelState}${input.fix ? `. Fix: ${input.fix}` : ''}`,
      };
  }
}
