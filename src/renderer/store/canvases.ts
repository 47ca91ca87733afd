/** The canvases that can be exported to PNG, registered by the components that draw them. */
const canvases = new Map<string, HTMLCanvasElement>();

export function registerCanvas(which: string, canvas: HTMLCanvasElement | null): void {
  if (canvas) canvases.set(which, canvas);
  else canvases.delete(which);
}

export function canvasFor(which: string): HTMLCanvasElement | undefined {
  return canvases.get(which);
}
