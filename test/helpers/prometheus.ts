/** A sample's value in Prometheus text (`name` with its labels, as written), NaN when absent. */
export function metricValue (text: string, name: string): number {
  return Number(text.split('\n').find(l => l.startsWith(name + ' '))?.slice(name.length + 1))
}
