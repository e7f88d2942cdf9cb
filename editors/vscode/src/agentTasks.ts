// Agent tasks as the extension sees them: what was started, and the steps that arrived as
// `treellama/agentEvent` notifications. Plain data, shown by the agent view.

export interface AgentEvent {
  taskId: string;
  kind: string;
  step: number;
  maxSteps: number;
  message: string;
  data?: { ok?: boolean; text?: string; [key: string]: unknown };
}

export interface TaskView {
  id: string;
  instruction: string;
  status: string; // running, done, failed, cancelled, applied, discarded
  steps: string[];
}

export function stepLabel(event: AgentEvent): string | undefined {
  const first = (text: string | undefined) => (text ?? '').split('\n')[0];
  switch (event.kind) {
    case 'tool_call':
      return `[${event.step}/${event.maxSteps}] ${first(event.message)}`;
    case 'tool_result': {
      const text = event.data?.text ?? event.message;
      const lines = text.split('\n').filter((line) => line.trim() !== '');
      const tail = first(text).startsWith('$ (') && lines.length > 1 ? ` ${lines[lines.length - 1]}` : '';
      return `${event.data?.ok ? '✓' : '✗'} ${first(text)}${tail}`;
    }
    case 'image':
      return `image: ${first(event.message)}`;
    case 'reproduce':
    case 'localize':
    case 'candidate':
    case 'chosen':
      return `[${event.step}/${event.maxSteps}] ${event.kind}: ${first(event.message)}`;
    case 'validate':
      return `${event.data?.green ? '✓' : '✗'} ${first(event.message)}`;
    case 'done':
    case 'failed':
      return `${event.kind}: ${event.message}`;
    default:
      return `${event.kind}: ${first(event.message)}`;
  }
}

export class AgentTasks {
  private readonly tasks = new Map<string, TaskView>();
  current: string | undefined;

  started(id: string, instruction: string, status = 'running'): TaskView {
    const task = this.tasks.get(id) ?? { id, instruction, status, steps: [] };
    task.instruction = instruction;
    task.status = status;
    this.tasks.set(id, task);
    this.current = id;
    return task;
  }

  onEvent(event: AgentEvent): TaskView {
    const task = this.tasks.get(event.taskId) ?? this.started(event.taskId, '(started elsewhere)');
    const label = stepLabel(event);
    if (label) {
      task.steps.push(label);
    }
    if (event.kind === 'done' || event.kind === 'failed') {
      task.status = event.kind === 'failed' && event.message.includes('cancelled') ? 'cancelled' : event.kind;
    }
    return task;
  }

  setStatus(id: string, status: string): void {
    const task = this.tasks.get(id);
    if (task) {
      task.status = status;
    }
  }

  get running(): boolean {
    return [...this.tasks.values()].some((task) => task.status === 'running');
  }

  list(): TaskView[] {
    return [...this.tasks.values()].reverse();
  }
}

// An image for the next task, as treellama.agent.start takes it.
export type ImageRef = { path: string } | { dataUri: string; name?: string };

const IMAGE_FILE = /\.(png|jpe?g|gif|bmp|webp|tiff?)$/i;

// What the clipboard holds, where it can name an image: VS Code's clipboard API reads text
// only, so an image copied as a file path or a data URI is taken; anything else is not.
export function imageFromClipboard(text: string): ImageRef | undefined {
  const value = text.trim();
  if (/^data:image\/[\w.+-]+;base64,/.test(value)) {
    return { dataUri: value, name: 'clipboard image' };
  }
  const path = value.startsWith('file://') ? decodeURIComponent(value.slice('file://'.length)) : value;
  return !path.includes('\n') && IMAGE_FILE.test(path) ? { path } : undefined;
}

export function imageName(image: ImageRef): string {
  return 'path' in image ? image.path.split(/[\\/]/).pop() ?? image.path : image.name ?? 'image';
}
