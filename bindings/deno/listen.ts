/** Deno: workers bind TCP listeners with reusePort (the kernel spreads connections). */
import { reusePortBinding } from '../listen-shared.ts';

export const denoListen = reusePortBinding('deno');
