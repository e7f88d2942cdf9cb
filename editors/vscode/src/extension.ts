// The treellama extension: starts `treellama serve`, lets vscode-languageclient handle the
// standard features (inline completion, code actions, progress, approvals as native dialogs,
// workspace edits), and adds what LSP leaves to the editor: partial-accept feedback, a status
// bar item, the agent view with diff review, and commands for the server's extensions.

import * as vscode from 'vscode';
import {
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
} from 'vscode-languageclient/node';

import { AgentEvent, AgentTasks, ImageRef, TaskView, imageFromClipboard, imageName } from './agentTasks';
import { serverSettings } from './settings';
import { statusText } from './status';
import { ShownSuggestion } from './suggestion';

let client: LanguageClient | undefined;
const tasks = new AgentTasks();
const afterTexts = new Map<string, string>();
let shown: ShownSuggestion | undefined;
let lastLatencyMs: number | undefined;

async function execute<T = unknown>(command: string, args: unknown = undefined): Promise<T> {
  if (!client) {
    throw new Error('treellama is not running');
  }
  return client.sendRequest(ExecuteCommandRequest.type, {
    command,
    arguments: args === undefined ? [] : [args],
  }) as Promise<T>;
}

function settingsForServer() {
  const config = vscode.workspace.getConfiguration('treellama');
  return { treellama: serverSettings((key) => config.get(key)) };
}

class AgentView implements vscode.TreeDataProvider<TaskView | string> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;

  refresh(): void {
    this.changed.fire();
  }

  getTreeItem(element: TaskView | string): vscode.TreeItem {
    if (typeof element === 'string') {
      return new vscode.TreeItem(element);
    }
    const item = new vscode.TreeItem(element.instruction, vscode.TreeItemCollapsibleState.Expanded);
    item.description = `${element.status} · ${element.id}`;
    return item;
  }

  getChildren(element?: TaskView | string): (TaskView | string)[] {
    if (element === undefined) {
      return tasks.list();
    }
    return typeof element === 'string' ? [] : element.steps;
  }
}

function currentTask(): string {
  if (!tasks.current) {
    throw new Error('no agent task yet: run "treellama: Start an agent task"');
  }
  return tasks.current;
}

async function openText(content: string, language: string): Promise<void> {
  const document = await vscode.workspace.openTextDocument({ content, language });
  await vscode.window.showTextDocument(document, { preview: true });
}

function selectionArgs(editor: vscode.TextEditor) {
  const { start, end } = editor.selection;
  return {
    uri: editor.document.uri.toString(),
    range: { start: { line: start.line, character: 0 }, end: { line: end.line, character: 0 } },
  };
}

interface Change {
  path: string;
  before: string | null;
  after: string | null;
}

async function review(): Promise<void> {
  const id = currentTask();
  const status = await execute<{ changes: Change[]; status: string }>('treellama.agent.status', { taskId: id });
  if (status.changes.length === 0) {
    void vscode.window.showInformationMessage(`treellama: the task changed no files (${status.status})`);
    return;
  }
  const root = vscode.workspace.workspaceFolders?.[0]?.uri;
  for (const change of status.changes) {
    const after = vscode.Uri.from({ scheme: 'treellama-after', path: `/${id}/${change.path}` });
    const before = vscode.Uri.from({ scheme: 'treellama-after', path: `/${id}/before/${change.path}` });
    afterTexts.set(after.toString(), change.after ?? '');
    afterTexts.set(before.toString(), change.before ?? '');
    const left = change.before !== null && root ? vscode.Uri.joinPath(root, change.path) : before;
    await vscode.commands.executeCommand('vscode.diff', left, after, `${change.path} (treellama agent)`);
  }
}

function register(context: vscode.ExtensionContext, command: string, run: () => Promise<unknown>): void {
  context.subscriptions.push(
    vscode.commands.registerCommand(command, async () => {
      try {
        await run();
      } catch (error) {
        void vscode.window.showWarningMessage(`treellama: ${(error as Error).message}`);
      }
    }),
  );
}

async function acceptPart(unit: 'word' | 'line'): Promise<void> {
  const action = unit === 'word' ? 'acceptNextWord' : 'acceptNextLine';
  await vscode.commands.executeCommand(`editor.action.inlineSuggest.${action}`);
  if (shown && client) {
    const acceptedLength = shown.take(unit);
    await client.sendNotification('treellama/didAcceptCompletion', { id: shown.id, acceptedLength });
  }
}

// Where the cursor rests, for the server to read that prompt into the model's cache before
// the first keystroke there (as llama.vim warms its cache on entering a buffer).
const REST_MS = 400;
let restTimer: ReturnType<typeof setTimeout> | undefined;

function noteCursorRest(editor: vscode.TextEditor | undefined): void {
  if (restTimer) {
    clearTimeout(restTimer);
  }
  if (!editor || editor.document.uri.scheme !== 'file' || !client) {
    return;
  }
  restTimer = setTimeout(() => {
    const position = editor.selection.active;
    void client?.sendNotification('treellama/didRestCursor', {
      uri: editor.document.uri.toString(),
      position: { line: position.line, character: position.character },
    });
  }, REST_MS);
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const config = vscode.workspace.getConfiguration('treellama');
  const serverOptions: ServerOptions = {
    command: config.get<string>('serverPath') || 'treellama',
    args: ['serve'],
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: 'file' }],
    initializationOptions: settingsForServer(),
    // Not `synchronize.configurationSection`: that sends VS Code's raw section, with the
    // extension's own keys (serverPath) and empty strings for unset settings, which the server
    // would rightly call bad configuration. Changes and pulls get the mapped settings instead.
    middleware: {
      workspace: {
        configuration: (params) =>
          params.items.map((item) => (item.section === 'treellama' ? settingsForServer().treellama : null)),
      },
      provideInlineCompletionItems: async (document, position, completionContext, token, next) => {
        const started = Date.now();
        const result = await next(document, position, completionContext, token);
        lastLatencyMs = Date.now() - started;
        const items = Array.isArray(result) ? result : (result?.items ?? []);
        const first = items[0];
        const id = first?.command?.arguments?.[0];
        if (first && typeof id === 'string' && client) {
          const text = typeof first.insertText === 'string' ? first.insertText : first.insertText.value;
          shown = new ShownSuggestion(id, text);
          void client.sendNotification('treellama/didShowCompletion', { id });
        }
        return result;
      },
    },
  };
  client = new LanguageClient('treellama', 'treellama', serverOptions, clientOptions);
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('treellama') && client) {
        void client.sendNotification(DidChangeConfigurationNotification.type, { settings: settingsForServer() });
      }
    }),
  );

  context.subscriptions.push(
    vscode.window.onDidChangeTextEditorSelection((event) => noteCursorRest(event.textEditor)),
    vscode.window.onDidChangeActiveTextEditor((editor) => noteCursorRest(editor)),
  );

  const view = new AgentView();
  context.subscriptions.push(vscode.window.registerTreeDataProvider('treellama.agent', view));
  context.subscriptions.push(
    vscode.workspace.registerTextDocumentContentProvider('treellama-after', {
      provideTextDocumentContent: (uri) => afterTexts.get(uri.toString()) ?? '',
    }),
  );
  client.onNotification('treellama/agentEvent', (event: AgentEvent) => {
    tasks.onEvent(event);
    view.refresh();
  });

  const status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Right, 100);
  status.command = 'treellama.showStats';
  context.subscriptions.push(status);
  const refreshStatus = async () => {
    let model: { state?: string; message?: string; fix?: string } = {};
    try {
      model = (await execute<{ model: typeof model }>('treellama.status')).model;
    } catch {
      model = {};
    }
    const shownStatus = statusText({ modelState: model.state, message: model.message, fix: model.fix,
      busy: tasks.running, lastLatencyMs });
    status.text = shownStatus.text;
    status.tooltip = shownStatus.tooltip;
    status.show();
  };
  const timer = setInterval(() => void refreshStatus(), 3000);
  context.subscriptions.push({ dispose: () => clearInterval(timer) });

  register(context, 'treellama.agentStart', async () => {
    const instruction = await vscode.window.showInputBox({ prompt: 'What should the agent do?' });
    if (!instruction) {
      return;
    }
    const effort = await vscode.window.showQuickPick(['low', 'medium', 'high'], { placeHolder: 'Effort' });
    const images = pendingImages.splice(0);
    const started = await execute<{ taskId: string; status: string; message: string }>(
      'treellama.agent.start', { instruction, effort: effort ?? 'medium', images });
    tasks.started(started.taskId, instruction, started.status === 'refused' ? 'refused' : 'running');
    if (started.status === 'refused') {
      void vscode.window.showWarningMessage(`treellama: ${started.message}`);
    }
    view.refresh();
  });
  // Images wait here until the next task starts, which takes them all.
  const pendingImages: ImageRef[] = [];
  register(context, 'treellama.agentAttachImage', async () => {
    const fromFile = 'From a file…';
    const fromClipboard = 'From the clipboard (an image file\'s path, or a data: URI)';
    const source = await vscode.window.showQuickPick([fromFile, fromClipboard],
      { placeHolder: 'Attach an image to the next agent task' });
    let found: ImageRef[] = [];
    if (source === fromFile) {
      const picked = await vscode.window.showOpenDialog({
        canSelectMany: true, openLabel: 'Attach',
        filters: { Images: ['png', 'jpg', 'jpeg', 'gif', 'bmp', 'webp', 'tif', 'tiff'] },
      });
      found = (picked ?? []).map((uri) => ({ path: uri.fsPath }));
    } else if (source === fromClipboard) {
      const image = imageFromClipboard(await vscode.env.clipboard.readText());
      if (!image) {
        void vscode.window.showWarningMessage('treellama: the clipboard holds no image path or data: URI');
      }
      found = image ? [image] : [];
    }
    if (found.length) {
      pendingImages.push(...found);
      void vscode.window.showInformationMessage(
        `treellama: ${pendingImages.map(imageName).join(', ')} will go with the next agent task`);
    }
  });
  register(context, 'treellama.agentSteer', async () => {
    const message = await vscode.window.showInputBox({ prompt: 'A message for the running agent' });
    if (message) {
      await execute('treellama.agent.steer', { taskId: currentTask(), message });
    }
  });
  register(context, 'treellama.agentCancel', async () => {
    await execute('treellama.agent.cancel', { taskId: currentTask() });
    tasks.setStatus(currentTask(), 'cancelled');
    view.refresh();
  });
  register(context, 'treellama.agentReview', review);
  register(context, 'treellama.agentApply', async () => {
    const result = await execute<{ applied: boolean; skipped: string[] }>('treellama.agent.apply',
      { taskId: currentTask() });
    if (result.applied) {
      tasks.setStatus(currentTask(), 'applied');
    }
    const skipped = result.skipped.length ? ` (skipped: ${result.skipped.join(', ')})` : '';
    void vscode.window.showInformationMessage(`treellama: ${result.applied ? 'applied' : 'not applied'}${skipped}`);
    view.refresh();
  });
  register(context, 'treellama.agentDiscard', async () => {
    await execute('treellama.agent.discard', { taskId: currentTask() });
    tasks.setStatus(currentTask(), 'discarded');
    view.refresh();
  });
  register(context, 'treellama.agentLog', async () => {
    const log = await execute<{ text: string }>('treellama.agent.log', { taskId: currentTask() });
    await openText(log.text, 'log');
  });
  register(context, 'treellama.showPrompt', async () => {
    await openText(JSON.stringify(await execute('treellama.showLastPrompt'), null, 2), 'json');
  });
  register(context, 'treellama.openInBrowser', async () => {
    const status = await execute<{ web: { url: string } | null }>('treellama.status');
    if (!status.web) {
      throw new Error('the web page is off: set "treellama.web.enabled" to true and reload');
    }
    // asExternalUri maps the loopback address to one the user's browser reaches (code-server's
    // /proxy/PORT/, a forwarded port in a remote window); it drops the query, so the token is
    // put back after it.
    const url = new URL(status.web.url);
    const token = url.searchParams.get('token') ?? '';
    const external = await vscode.env.asExternalUri(vscode.Uri.parse(`${url.origin}/`));
    await vscode.env.openExternal(external.with({ query: `token=${token}` }));
  });
  register(context, 'treellama.showStats', async () => {
    await openText(JSON.stringify(await execute('treellama.stats'), null, 2), 'json');
  });
  register(context, 'treellama.explainSelection', async () => {
    const editor = vscode.window.activeTextEditor;
    if (editor) {
      const result = await execute<{ markdown: string }>('treellama.explain', selectionArgs(editor));
      await openText(result.markdown, 'markdown');
    }
  });
  register(context, 'treellama.rewriteSelection', async () => {
    const editor = vscode.window.activeTextEditor;
    const instruction = editor && (await vscode.window.showInputBox({ prompt: 'Rewrite the selection how?' }));
    if (editor && instruction) {
      await execute('treellama.rewrite', { ...selectionArgs(editor), instruction });
    }
  });
  register(context, 'treellama.acceptWord', () => acceptPart('word'));
  register(context, 'treellama.acceptLine', () => acceptPart('line'));

  await client.start();
  await refreshStatus();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
