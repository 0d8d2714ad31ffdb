/** Shown when the browser has no WebGPU: memories still work, models cannot run. */
export function NoWebGpuNotice({ reason }: { reason: string }) {
  return (
    <section className="panel notice error" aria-labelledby="no-webgpu-title">
      <h2 id="no-webgpu-title">This browser cannot run the models</h2>
      <p>{reason}</p>
      <p>Memory-R1 runs its language models on your GPU through WebGPU. It works in:</p>
      <ul>
        <li>Chrome or Edge 113 or newer on Windows, macOS and ChromeOS (on by default).</li>
        <li>Chrome on Linux or Android: open <code>chrome://flags/#enable-unsafe-webgpu</code>, enable it, and restart.</li>
        <li>Safari 26 or newer on macOS and iOS.</li>
        <li>Firefox 141 or newer on Windows (other systems: set <code>dom.webgpu.enabled</code> in <code>about:config</code>).</li>
      </ul>
      <p>Your memories, their history and backups work without WebGPU: open the Memory page.</p>
    </section>
  );
}
