/** The raw pools' CPU task: the same function the engine's `bench.fib` task runs. */
import { fibonacci } from "../cpu.js";

export default function fib(n: number): number {
  return fibonacci(n);
}
