/** The raw pools' no-op task (Piscina, Tinypool): the floor any engine on a pool sits on. */
export default function noop(): null {
  return null;
}
