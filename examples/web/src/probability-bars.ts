/** The predicted probability of each digit as a horizontal bar, the most likely one highlighted. */

/** Ten labelled bars, created once and updated with each prediction. */
export class ProbabilityBars {
  private readonly fills: HTMLElement[] = [];
  private readonly values: HTMLElement[] = [];
  private readonly rows: HTMLElement[] = [];

  constructor(container: HTMLElement, labels: readonly string[]) {
    for (const label of labels) {
      const row = element('div', 'bar-row');
      const track = element('div', 'bar-track');
      const fill = element('div', 'bar-fill');
      const value = element('span', 'bar-value');
      track.append(fill);
      row.append(element('span', 'bar-label', label), track, value);
      container.append(row);
      this.rows.push(row);
      this.fills.push(fill);
      this.values.push(value);
    }
    this.show(undefined);
  }

  /** Shows `probabilities` (one per label), or empty bars when undefined. */
  show(probabilities: ArrayLike<number> | undefined): void {
    let best = -1;
    if (probabilities !== undefined) {
      for (let i = 0; i < probabilities.length; i++) {
        if (best < 0 || probabilities[i]! > probabilities[best]!) best = i;
      }
    }
    this.fills.forEach((fill, i) => {
      const p = probabilities?.[i] ?? 0;
      fill.style.width = `${(p * 100).toFixed(1)}%`;
      this.values[i]!.textContent = probabilities === undefined ? '' : `${(p * 100).toFixed(1)}%`;
      this.rows[i]!.classList.toggle('best', i === best);
    });
  }
}

function element(tag: string, className: string, text?: string): HTMLElement {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}
