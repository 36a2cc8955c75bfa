/**
 * The status line under a page's controls: an informative text, or an error that says what was
 * wrong and what to do.
 *
 * Errors are kept by kind ('settings', 'training', ...) so that fixing one clears it: a settings
 * error must disappear as soon as a valid value is entered, while a training error stays until
 * it is resolved. The line shows the most recent error still standing, or else the info text.
 */

/** One page's status line. @example const note = new StatusNote(document.getElementById('note')!); */
export class StatusNote {
  private text = '';
  private readonly errors = new Map<string, string>();

  constructor(private readonly el: HTMLElement) {
    this.text = el.textContent ?? '';
  }

  /**
   * Sets the text shown when no error stands.
   *
   * @example
   * note.info('2,048 training images loaded.');
   */
  info(text: string): void {
    this.text = text;
    this.render();
  }

  /**
   * Shows an error of a kind, replacing an earlier one of that kind.
   *
   * @example
   * note.error('settings', 'The learning rate must be a positive number, such as 0.001.');
   */
  error(kind: string, message: string): void {
    this.errors.delete(kind); // re-inserted last: the newest error is the one shown
    this.errors.set(kind, message);
    this.render();
  }

  /** Clears the error of a kind (nothing happens if there is none). @example note.clear('settings'); */
  clear(kind: string): void {
    if (this.errors.delete(kind)) this.render();
  }

  /** The error of a kind, if it stands. @example if (note.has('settings')) return; */
  has(kind: string): boolean {
    return this.errors.has(kind);
  }

  private render(): void {
    const shown = [...this.errors.values()].at(-1);
    this.el.textContent = shown ?? this.text;
    this.el.classList.toggle('error', shown !== undefined);
    if (shown !== undefined) this.el.setAttribute('role', 'alert');
    else this.el.removeAttribute('role');
  }
}

/**
 * Checks a learning rate typed by the user: a finite number above zero. Returns the error to
 * show, or null when it is fine.
 *
 * @example
 * const problem = learningRateProblem(input.value, 0.001);
 */
export function learningRateProblem(raw: string, example: number): string | null {
  const v = Number(raw);
  if (raw.trim() !== '' && Number.isFinite(v) && v > 0) return null;
  const got = raw.trim() === '' ? 'the field is empty' : `got ${raw.trim()}`;
  return `Settings: the learning rate must be a positive number, such as ${example} (${got}). Nothing was changed.`;
}
