// Types for the part of ml-regression the models use (the package ships none).
declare module 'ml-regression' {
  export class MultivariateLinearRegression {
    constructor(x: number[][], y: number[][], options?: { intercept?: boolean; statistics?: boolean });
    predict(x: number[][]): number[][];
    weights: number[][];
  }
}
