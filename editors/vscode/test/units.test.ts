// What runs without VS Code: settings mapping, partial accepts, status text, agent steps.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';

import { AgentTasks, imageFromClipboard, imageName, stepLabel } from '../src/agentTasks';
import { serverSettings } from '../src/settings';
import { statusText } from '../src/status';
import { ShownSuggestion, nextLineLength, nextWordLength } from '../src/suggestion';

test('settings map to the server sections, leaving empty ones to its defaults', () => {
  const values: Record<string, unknown> = {
    'model.name': 'qwen2.5-coder-1.5b', 'model.path': '', 'completion.maxLines': 4,
    'agent.approvalPolicy': 'untrusted',
  };
  assert.deepEqual(serverSettings((key) => values[key]), {
    model: { name: 'qwen2.5-coder-1.5b' },
    completion: { maxLines: 4 },
    agent: { approvalPolicy: 'untrusted' },
  });
});

test('accepting a word, then a line, reports the lengths kept', () => {
  assert.equal(nextWordLength('  return a + b'), 8);
  assert.equal(nextLineLength('a + b\nc'), 6);
  const suggestion = new ShownSuggestion('id1', 'total = sum(x)\nreturn total');
  assert.equal(suggestion.take('word'), 5);
  assert.equal(suggestion.take('line'), 15);
  assert.equal(suggestion.take('line'), 27);
  assert.equal(suggestion.take('word'), 27);
});

test('the status bar says loading, ready with latency, busy or the fix', () => {
  assert.match(statusText({ modelState: 'loading', busy: false }).text, /loading~spin/);
  assert.equal(statusText({ modelState: 'ready', busy: false, lastLatencyMs: 212.4 }).text, '$(check) treellama 212 ms');
  assert.match(statusText({ modelState: 'ready', busy: true }).text, /sync~spin/);
  const error = statusText({ modelState: 'unavailable', busy: false, message: 'not installed', fix: 'run treellama model install' });
  assert.equal(error.text, '$(error) treellama');
  assert.match(error.tooltip, /Fix: run treellama model install/);
});

test('agent events become steps of their task', () => {
  const tasks = new AgentTasks();
  tasks.started('t1', 'fix add');
  tasks.onEvent({ taskId: 't1', kind: 'tool_call', step: 1, maxSteps: 12, message: 'run_tests ' });
  tasks.onEvent({ taskId: 't1', kind: 'tool_result', step: 1, maxSteps: 12, message: '$ (exit code 1, 1.0 s)',
    data: { ok: false, text: '$ (exit code 1, 1.0 s)\nF\n1 failed in 0.01s\n' } });
  assert.equal(tasks.running, true);
  tasks.onEvent({ taskId: 't1', kind: 'done', step: 3, maxSteps: 12, message: 'add() adds' });
  const [task] = tasks.list();
  assert.deepEqual(task.steps, ['[1/12] run_tests ', '✗ $ (exit code 1, 1.0 s) 1 failed in 0.01s', 'done: add() adds']);
  assert.equal(task.status, 'done');
  assert.equal(tasks.running, false);
  assert.equal(stepLabel({ taskId: 't2', kind: 'failed', step: 2, maxSteps: 12, message: 'cancelled by the user' }),
    'failed: cancelled by the user');
  tasks.onEvent({ taskId: 't2', kind: 'failed', step: 2, maxSteps: 12, message: 'cancelled by the user' });
  assert.equal(tasks.list()[0].status, 'cancelled');
});

test('the pipeline stages of a task read as steps', () => {
  const event = (kind: string, message: string, data?: { green?: boolean }) =>
    stepLabel({ taskId: 't3', kind, step: 2, maxSteps: 9, message, data });
  assert.equal(event('reproduce', 'pytest: 0 passed, 1 failed'), '[2/9] reproduce: pytest: 0 passed, 1 failed');
  assert.equal(event('candidate', 'candidate 1/3\nmore'), '[2/9] candidate: candidate 1/3');
  assert.equal(event('validate', 'candidate 1: 1 passed, 0 failed', { green: true }), '✓ candidate 1: 1 passed, 0 failed');
  assert.equal(event('validate', 'candidate 2: 0 passed, 1 failed', { green: false }), '✗ candidate 2: 0 passed, 1 failed');
});

test('an image comes from the clipboard as a path or a data URI, and is shown back', () => {
  assert.deepEqual(imageFromClipboard(' /home/me/Pictures/crash.PNG\n'), { path: '/home/me/Pictures/crash.PNG' });
  assert.deepEqual(imageFromClipboard('file:///tmp/a%20b.jpg'), { path: '/tmp/a b.jpg' });
  assert.deepEqual(imageFromClipboard('data:image/png;base64,iVBORw0KGgo='),
    { dataUri: 'data:image/png;base64,iVBORw0KGgo=', name: 'clipboard image' });
  assert.equal(imageFromClipboard('def add(a, b):\n    return a + b'), undefined);
  assert.equal(imageFromClipboard('/etc/passwd'), undefined);
  assert.equal(imageName({ path: '/tmp/shots/crash.png' }), 'crash.png');
  assert.equal(stepLabel({ taskId: 't4', kind: 'image', step: 0, maxSteps: 9,
    message: 'crash.png (800x200 PNG, 9000 bytes): 8 lines of text read' }),
  'image: crash.png (800x200 PNG, 9000 bytes): 8 lines of text read');
});
