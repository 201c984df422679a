/**
 * The raw pool's payload task (Piscina): one pass over the array, as the
 * engine's `bench.payload` task does, and hands it back, moved or copied.
 */
import { move } from "piscina";
import { scaleInPlace } from "../cpu.js";

export default function payload({
  values,
  moveBack,
}: {
  values: Float64Array;
  moveBack: boolean;
}): unknown {
  scaleInPlace(values);
  return moveBack ? move(values) : values;
}
