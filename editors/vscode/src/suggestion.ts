// How much of an inline suggestion "accept word" and "accept line" take, so that partial
// accepts can be reported to the server with the length the user kept.

export function nextWordLength(rest: string): number {
  const match = /^\s*[^\s]+/.exec(rest);
  return match ? match[0].length : rest.length;
}

export function nextLineLength(rest: string): number {
  const newline = rest.indexOf('\n');
  return newline < 0 ? rest.length : newline + 1;
}

/** The suggestion being shown, and how much of it was accepted so far. */
export class ShownSuggestion {
  accepted = 0;

  constructor(
    readonly id: string,
    readonly text: string,
  ) {}

  get rest(): string {
    return this.text.slice(this.accepted);
  }

  /** Accepts the next word or line; returns the total accepted length. */
  take(unit: 'word' | 'line'): number {
    const length = unit === 'word' ? nextWordLength(this.rest) : nextLineLength(this.rest);
    this.accepted = Math.min(this.text.length, this.accepted + length);
    return this.accepted;
  }
}
