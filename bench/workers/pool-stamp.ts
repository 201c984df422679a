/** The raw pool's twin of `bench.stamp`: the moment the task ran, on the clock every thread shares. */
export default function stamp(): number {
  return performance.timeOrigin + performance.now();
}
