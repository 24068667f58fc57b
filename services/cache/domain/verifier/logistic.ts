/**
 * L2-regularised logistic regression on standardised features: the hit verifier's model. Prediction is
 * a dot product; the fit (Adam on the mean log-loss, full batch) runs only in the training script, on
 * a few thousand rows and a few dozen features, where it converges in well under a second.
 */
export interface LogisticModel {
  features: string[];
  mean: number[];
  std: number[];
  weights: number[];
  bias: number;
}

export function predictLogistic(model: LogisticModel, x: readonly number[]): number {
  let z = model.bias;
  for (let j = 0; j < model.weights.length; j++) {
    const std = model.std[j] as number;
    z += (model.weights[j] as number) * (((x[j] as number) - (model.mean[j] as number)) / std);
  }
  return 1 / (1 + Math.exp(-z));
}

export interface FitOptions {
  l2?: number;
  iterations?: number;
  learningRate?: number;
}

export function fitLogistic(names: readonly string[], rows: readonly (readonly number[])[], labels: readonly boolean[], options: FitOptions = {}): LogisticModel {
  const d = names.length;
  const n = rows.length;
  if (n === 0 || labels.length !== n) throw new Error("fitLogistic: one label per row, at least one row");
  const mean = new Array<number>(d).fill(0);
  const std = new Array<number>(d).fill(0);
  for (const r of rows) for (let j = 0; j < d; j++) mean[j] = (mean[j] as number) + (r[j] as number) / n;
  for (const r of rows) for (let j = 0; j < d; j++) std[j] = (std[j] as number) + ((r[j] as number) - (mean[j] as number)) ** 2 / n;
  // A constant feature is left at weight 0 (std 1 avoids dividing by zero).
  for (let j = 0; j < d; j++) std[j] = Math.sqrt(std[j] as number) || 1;
  const xs = rows.map((r) => r.map((v, j) => (v - (mean[j] as number)) / (std[j] as number)));
  const l2 = options.l2 ?? 1e-3;
  const iterations = options.iterations ?? 1500;
  const lr = options.learningRate ?? 0.05;
  const w = new Array<number>(d + 1).fill(0);
  const m = new Array<number>(d + 1).fill(0);
  const v = new Array<number>(d + 1).fill(0);
  const grad = new Array<number>(d + 1);
  for (let t = 1; t <= iterations; t++) {
    grad.fill(0);
    for (let i = 0; i < n; i++) {
      const x = xs[i] as number[];
      let z = w[d] as number;
      for (let j = 0; j < d; j++) z += (w[j] as number) * (x[j] as number);
      const err = 1 / (1 + Math.exp(-z)) - (labels[i] ? 1 : 0);
      for (let j = 0; j < d; j++) grad[j] = (grad[j] as number) + (err * (x[j] as number)) / n;
      grad[d] = (grad[d] as number) + err / n;
    }
    for (let j = 0; j < d; j++) grad[j] = (grad[j] as number) + l2 * (w[j] as number);
    for (let j = 0; j <= d; j++) {
      const g = grad[j] as number;
      m[j] = 0.9 * (m[j] as number) + 0.1 * g;
      v[j] = 0.999 * (v[j] as number) + 0.001 * g * g;
      const mh = (m[j] as number) / (1 - 0.9 ** t);
      const vh = (v[j] as number) / (1 - 0.999 ** t);
      w[j] = (w[j] as number) - (lr * mh) / (Math.sqrt(vh) + 1e-8);
    }
  }
  return { features: [...names], mean, std, weights: w.slice(0, d), bias: w[d] as number };
}
