/**
 * The live loss/accuracy chart, drawn by uPlot: loss on the left axis, training and test
 * accuracy on the right (0–1), against the number of training samples seen.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { TrainingPoint } from './chunked-training.js';

const CHART_HEIGHT = 240;

/** A uPlot chart that grows by one {@link TrainingPoint} at a time. */
export class TrainingChart {
  private readonly plot: uPlot;
  private samples: number[] = [];
  private losses: number[] = [];
  private accuracies: number[] = [];
  private testAccuracies: (number | null)[] = [];

  constructor(container: HTMLElement) {
    const options: uPlot.Options = {
      width: container.clientWidth,
      height: CHART_HEIGHT,
      scales: { x: { time: false }, accuracy: { range: [0, 1] } },
      series: [
        { label: 'samples' },
        { label: 'loss', scale: 'loss', stroke: '#d9480f', width: 2 },
        { label: 'train accuracy', scale: 'accuracy', stroke: '#1971c2', width: 2 },
        // Evaluated every few chunks only: points joined across the chunks in between.
        { label: 'test accuracy', scale: 'accuracy', stroke: '#2f9e44', width: 2, spanGaps: true },
      ],
      axes: [
        { label: 'training samples' },
        { scale: 'loss', label: 'loss' },
        { scale: 'accuracy', label: 'accuracy', side: 1, grid: { show: false } },
      ],
    };
    this.plot = new uPlot(options, this.columns(), container);
    new ResizeObserver(() =>
      this.plot.setSize({ width: container.clientWidth, height: CHART_HEIGHT }),
    ).observe(container);
  }

  /** Appends a point and redraws. */
  add(point: TrainingPoint): void {
    this.samples.push(point.samples);
    this.losses.push(point.loss);
    this.accuracies.push(point.accuracy);
    this.testAccuracies.push(point.testAccuracy ?? null);
    this.plot.setData(this.columns());
  }

  /** Forgets every point (after the weights were reset). */
  clear(): void {
    this.samples = [];
    this.losses = [];
    this.accuracies = [];
    this.testAccuracies = [];
    this.plot.setData(this.columns());
  }

  private columns(): uPlot.AlignedData {
    return [this.samples, this.losses, this.accuracies, this.testAccuracies];
  }
}
