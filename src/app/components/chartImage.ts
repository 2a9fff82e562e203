/**
 * A drawn chart as a file of its own: its <svg> serialized with a white background, the title above
 * and the legend below (recharts draws the legend in HTML, outside the <svg>), and that SVG drawn
 * onto a canvas for a PNG. Everything happens in the page; the Content-Security-Policy in
 * vite.config.ts allows the blob: image this needs.
 */
import type { Series } from './chartTypes';

const SVG_NS = 'http://www.w3.org/2000/svg';
const TITLE_HEIGHT = 20;
const LEGEND_HEIGHT = 20;

function element(name: string, attributes: Record<string, string | number>, text?: string): SVGElement {
  const node = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** The chart as standalone SVG text, `width` × `height` plus the title and legend rows. */
export function chartSvgText(svg: SVGSVGElement, title: string, series: readonly Series[]): string {
  const width = svg.width.baseVal.value;
  const height = svg.height.baseVal.value;
  const total = TITLE_HEIGHT + height + LEGEND_HEIGHT;
  const root = element('svg', {
    xmlns: SVG_NS,
    width,
    height: total,
    viewBox: `0 0 ${width} ${total}`,
    'font-family': getComputedStyle(svg).fontFamily,
    'font-size': 12,
  });
  root.append(element('rect', { width, height: total, fill: '#ffffff' }));
  root.append(element('text', { x: 4, y: 14, 'font-weight': 600 }, title));
  const plot = svg.cloneNode(true) as SVGSVGElement;
  plot.setAttribute('y', String(TITLE_HEIGHT));
  root.append(plot);
  // Legend entries side by side, each about as wide as its name at 12 px.
  let x = 8;
  const y = TITLE_HEIGHT + height + 14;
  for (const s of series) {
    root.append(element('line', { x1: x, y1: y - 4, x2: x + 14, y2: y - 4, stroke: s.colour, 'stroke-width': 2 }));
    root.append(element('text', { x: x + 18, y, fill: '#333333' }, s.name));
    x += 30 + 7 * s.name.length;
  }
  return new XMLSerializer().serializeToString(root);
}

/** The SVG text drawn at `scale` × its size onto a white canvas, as PNG bytes. */
export async function svgToPng(svgText: string, scale = 2): Promise<ArrayBuffer> {
  const url = URL.createObjectURL(new Blob([svgText], { type: 'image/svg+xml' }));
  try {
    const image = new Image();
    image.src = url;
    await image.decode();
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(image.naturalWidth * scale);
    canvas.height = Math.round(image.naturalHeight * scale);
    const context = canvas.getContext('2d');
    if (!context) throw new Error('this browser gives no 2D canvas to draw the PNG on');
    context.drawImage(image, 0, 0, canvas.width, canvas.height);
    const png = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
    if (!png) throw new Error('the browser could not encode the chart as PNG');
    return await png.arrayBuffer();
  } finally {
    URL.revokeObjectURL(url);
  }
}
