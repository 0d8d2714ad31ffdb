// Files the app offers for download: object URLs that the links keep, freed when they are replaced.
export interface DownloadLink {
  name: string;
  href: string;
  bytes: number;
}

export function downloadLink(name: string, data: Uint8Array | string, type: string): DownloadLink {
  const blob = new Blob([typeof data === 'string' ? data : new Uint8Array(data)], { type });
  return { name, href: URL.createObjectURL(blob), bytes: blob.size };
}

export function revoke(links: readonly DownloadLink[]): void {
  for (const link of links) URL.revokeObjectURL(link.href);
}

export function formatBytes(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} kB` : `${n} B`;
}
